"""Teaches schemathesis' generator the rules the OpenAPI documents state but JSON Schema cannot
say (docs/decisions/0012, "the contract"), so that the data it generates as valid is valid:

- `x-greater-than` on an object, `{"max": "min"}`: `max` exceeds `min` (each at its schema
  default when absent);
- `x-unique-by` on an array, `"key"`: no two items share a `key`;
- `maxContains` (JSON Schema, which the generator does not honour): at most that many items
  match `contains`;
- `x-opaque` on a query parameter: only a value an earlier answer gave (a page's `next_cursor`)
  is valid, with the order it was made for. A value that is not such a cursor is left out (the
  stateful test follows the `next_cursor` links instead).

Only positive cases are changed: a negative case breaks the schema already. The rules are read
from the document, never from the API's code, so a rule the document forgets stays a failure."""

from __future__ import annotations

import base64
import binascii
import json
import re
from typing import Any

from schemathesis.generation.case import Case
from schemathesis.hooks import HookContext
from schemathesis.schemas import BaseSchema

GREATER_THAN = "x-greater-than"
UNIQUE_BY = "x-unique-by"
OPAQUE = "x-opaque"


def contract_rules_install(schema: BaseSchema) -> None:
    """Register the rules on `schema` (positive cases of every phase, the state machine's too)."""

    def map_case(context: HookContext, case: Case[Any]) -> Case[Any]:
        return contract_rules_apply(case)

    schema.hook(map_case)


def contract_rules_apply(case: Case[Any]) -> Case[Any]:
    meta = case.meta
    if meta is None or not meta.generation.mode.is_positive:
        return case
    operation: dict[str, Any] = case.operation.definition.raw
    root: dict[str, Any] = case.operation.schema.raw_schema
    if case.query:
        _opaque(case, operation, root)
    content = operation.get("requestBody", {}).get("content", {})
    body_schema = content.get("application/json", {}).get("schema")
    if body_schema is not None and isinstance(case.body, dict | list):
        _walk(body_schema, case.body, root)
    return case


def _resolve(node: Any, root: dict[str, Any]) -> Any:
    while isinstance(node, dict) and isinstance(node.get("$ref"), str):
        target: Any = root
        for part in node["$ref"].removeprefix("#/").split("/"):
            target = target[part]
        node = target
    return node


def _consts(node: dict[str, Any], root: dict[str, Any]) -> dict[str, Any]:
    return {
        name: _resolve(sub, root)["const"]
        for name, sub in node.get("properties", {}).items()
        if isinstance(_resolve(sub, root), dict) and "const" in _resolve(sub, root)
    }


def _branch_matches(node: dict[str, Any], value: Any, root: dict[str, Any]) -> bool:
    kind = node.get("type")
    if isinstance(value, dict):
        if kind not in (None, "object"):
            return False
        return all(value.get(name) == const for name, const in _consts(node, root).items())
    if isinstance(value, list):
        return kind in (None, "array")
    return False


def _walk(node: Any, value: Any, root: dict[str, Any]) -> None:
    node = _resolve(node, root)
    if not isinstance(node, dict):
        return
    for keyword in ("anyOf", "oneOf"):
        for branch in node.get(keyword, []):
            branch = _resolve(branch, root)
            if isinstance(branch, dict) and _branch_matches(branch, value, root):
                _walk(branch, value, root)
    for branch in node.get("allOf", []):
        _walk(branch, value, root)
    if isinstance(value, dict):
        for name, sub in node.get("properties", {}).items():
            if name in value:
                _walk(sub, value[name], root)
        if GREATER_THAN in node:
            _greater_than(node, value, root)
    elif isinstance(value, list):
        if "items" in node:
            for item in value:
                _walk(node["items"], item, root)
        if "maxContains" in node and "contains" in node:
            _max_contains(node, value, root)
        if UNIQUE_BY in node:
            _unique_by(node, value, root)


def _is_number(value: Any) -> bool:
    return isinstance(value, int | float) and not isinstance(value, bool)


def _greater_than(node: dict[str, Any], value: dict[str, Any], root: dict[str, Any]) -> None:
    properties = node.get("properties", {})
    for high_name, low_name in node[GREATER_THAN].items():
        high_schema = _resolve(properties.get(high_name, {}), root)
        low_schema = _resolve(properties.get(low_name, {}), root)
        high = value.get(high_name, high_schema.get("default"))
        low = value.get(low_name, low_schema.get("default"))
        if not (_is_number(high) and _is_number(low)) or high > low:
            continue
        low, high = sorted((low, high))
        if low == high:
            if high + 1 <= high_schema.get("maximum", float("inf")):
                high += 1
            else:
                low -= 1
        value[low_name], value[high_name] = low, high


def _max_contains(node: dict[str, Any], value: list[Any], root: dict[str, Any]) -> None:
    contains = _resolve(node["contains"], root)
    at_least = node.get("minItems", 0)
    matching = [i for i, item in enumerate(value) if _branch_matches(contains, item, root)]
    for index in reversed(matching[node["maxContains"] :]):
        if len(value) > at_least:
            del value[index]


def _unique_by(node: dict[str, Any], value: list[Any], root: dict[str, Any]) -> None:
    name = node[UNIQUE_BY]
    seen: set[Any] = set()
    for item in value:
        if not isinstance(item, dict) or name not in item:
            continue
        key = item[name]
        if key in seen and isinstance(key, str):
            # Another value of the same shape: the key's first letters and a number.
            number = 2
            while f"{key[:36]}_{number}" in seen:
                number += 1
            key = item[name] = f"{key[:36]}_{number}"
        seen.add(key)


def _cursor_sort(text: str) -> str | None:
    """The order a cursor the API made continues (None: not such a cursor)."""
    if not re.fullmatch(r"[A-Za-z0-9_-]+", text):
        return None
    try:
        data = json.loads(base64.urlsafe_b64decode(text + "=" * (-len(text) % 4)))
    except (binascii.Error, ValueError):
        return None
    if isinstance(data, list):
        return "-created_at"
    if isinstance(data, dict) and isinstance(data.get("sort"), str):
        return str(data["sort"])
    return None


def _opaque(case: Case[Any], operation: dict[str, Any], root: dict[str, Any]) -> None:
    assert case.query is not None
    parameters = [_resolve(p, root) for p in operation.get("parameters", [])]
    names = {p["name"] for p in parameters if p.get("in") == "query"}
    for parameter in parameters:
        name = parameter.get("name")
        if parameter.get("in") != "query" or not parameter.get("schema", {}).get(OPAQUE):
            continue
        if name not in case.query:
            continue
        sort = _cursor_sort(str(case.query[name]))
        if sort is None:
            del case.query[name]
        elif "sort" in names:
            case.query["sort"] = sort
