"""One NinjaAPI subclass for both versions: every operation documents the problem responses."""

from __future__ import annotations

from typing import Any

from ninja import NinjaAPI

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
        "permission": {"type": "string", "description": "The missing permission (403)."},
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
    402: "Over the plan's quota",
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


class TaskscoreAPI(NinjaAPI):
    def get_openapi_schema(self, *args: Any, **kwargs: Any) -> Any:
        schema = super().get_openapi_schema(*args, **kwargs)
        schema.setdefault("components", {}).setdefault("schemas", {})["Problem"] = PROBLEM_SCHEMA
        ref = {"$ref": "#/components/schemas/Problem"}
        for path_item in schema.get("paths", {}).values():
            for operation in path_item.values():
                if not isinstance(operation, dict) or "responses" not in operation:
                    continue
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
