"""One NinjaAPI subclass for both versions: every operation documents the problem responses,
and every text a request body carries says that it may not contain U+0000 (Postgres cannot
store it; `InputSchema` refuses it), so the document allows nothing the API refuses."""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

from ninja import NinjaAPI

from taskscore.api.common.links import Link, links_apply
from taskscore.api.common.problems import PROBLEM_CONTENT_TYPE

PROBLEM_SCHEMA: dict[str, Any] = {
    "type": "object",
    "description": "RFC 9457 problem details.",
    "required": ["type", "title", "status"],
    "properties": {
        "type": {"type": "string", "description": "A stable URI reference per error kind."},
        "title": {"type": "string"},
        "status": {"type": "integer"},
        "detail": {"type": "string"},
        "instance": {"type": "string"},
        "request_id": {
            "type": "string",
            "description": "The request's id, as in the `X-Request-ID` header: quote it when "
            "reporting a problem.",
        },
        "permission": {"type": "string", "description": "The missing permission (403)."},
        "feature": {
            "type": "string",
            "description": "The paid feature the org's plan lacks (402 plan-feature-required).",
        },
        "plan": {"type": "string", "description": "The org's plan in force (402)."},
        "required_plan": {
            "type": ["string", "null"],
            "description": "The cheapest plan that includes `feature` (402).",
        },
        "errors": {
            "type": "array",
            "description": "Field errors (422).",
            "items": {
                "type": "object",
                "required": ["field", "message"],
                "properties": {"field": {"type": "string"}, "message": {"type": "string"}},
            },
        },
    },
    "additionalProperties": True,
}

PROBLEM_RESPONSES = {
    400: "Malformed request",
    401: "Not authenticated",
    402: "Over the plan's quota, or a paid feature the plan lacks",
    403: "Missing permission",
    404: "Not found (also another organization's objects)",
    405: "Method not allowed",
    409: "Conflict",
    422: "Invalid input",
    429: "Rate limited",
    500: "Internal error",
    502: "The AI provider refused",
    503: "A dependency is unavailable",
}


URI_TOO_LONG: dict[str, Any] = {
    "description": "The request line is too long (the server refuses it before the API)",
    "content": {"text/html": {"schema": {"type": "string"}}},
}

NO_NUL = "^[^\u0000]*$"


def _request_components(schema: dict[str, Any]) -> set[str]:
    """The component schemas a request body uses, directly or through others."""
    components = schema.get("components", {}).get("schemas", {})
    found: set[str] = set()
    pending = [
        media.get("schema", {})
        for path_item in schema.get("paths", {}).values()
        for operation in path_item.values()
        if isinstance(operation, dict)
        for media in operation.get("requestBody", {}).get("content", {}).values()
    ]
    while pending:
        node = pending.pop()
        if isinstance(node, list):
            pending.extend(node)
        elif isinstance(node, dict):
            ref = node.get("$ref")
            if isinstance(ref, str) and ref.startswith("#/components/schemas/"):
                name = ref.rsplit("/", 1)[1]
                if name not in found:
                    found.add(name)
                    pending.append(components.get(name, {}))
            pending.extend(node.values())
    return found


def _forbid_nul(node: Any) -> None:
    """Every string schema under `node` (but enums and constants, already exact) gets NO_NUL:
    as its pattern, or beside a pattern it has (allOf)."""
    if isinstance(node, list):
        for item in node:
            _forbid_nul(item)
        return
    if not isinstance(node, dict):
        return
    types = node.get("type")
    is_text = types == "string" or (isinstance(types, list) and "string" in types)
    if is_text and "enum" not in node and "const" not in node:
        if "pattern" not in node:
            node["pattern"] = NO_NUL
        elif node["pattern"] != NO_NUL and {"pattern": NO_NUL} not in node.get("allOf", []):
            node.setdefault("allOf", []).append({"pattern": NO_NUL})
    for key, value in node.items():
        if key not in ("allOf", "$ref"):
            _forbid_nul(value)


class TaskscoreAPI(NinjaAPI):
    def __init__(self, *args: Any, links: Iterable[Link] = (), **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.links = list(links)

    def get_openapi_schema(self, *args: Any, **kwargs: Any) -> Any:
        schema = super().get_openapi_schema(*args, **kwargs)
        links_apply(schema, self.links)
        components = schema.setdefault("components", {}).setdefault("schemas", {})
        for name in _request_components(schema):
            _forbid_nul(components[name])
        for path_item in schema.get("paths", {}).values():
            for operation in path_item.values():
                if isinstance(operation, dict):
                    for media in operation.get("requestBody", {}).get("content", {}).values():
                        _forbid_nul(media.get("schema"))
        components["Problem"] = PROBLEM_SCHEMA
        ref = {"$ref": "#/components/schemas/Problem"}
        for path_item in schema.get("paths", {}).values():
            for operation in path_item.values():
                if not isinstance(operation, dict) or "responses" not in operation:
                    continue
                # gunicorn's own answer to a request line past limit_request_line (4,094 bytes),
                # before the API: not problem JSON.
                operation["responses"].setdefault(414, URI_TOO_LONG)
                documented = {int(code) for code in operation["responses"]}
                for status, description in PROBLEM_RESPONSES.items():
                    if status in documented:
                        continue
                    operation["responses"].setdefault(
                        status,
                        {
                            "description": description,
                            "content": {PROBLEM_CONTENT_TYPE: {"schema": ref}},
                        },
                    )
        return schema
