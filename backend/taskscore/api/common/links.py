"""OpenAPI links: how one operation's answer names what another operation takes (a created
task's id → reading, re-scoring and reviewing that task; a created key's id → revoking it; a
page's `next_cursor` → the next page). `TaskscoreAPI` writes them into the document's responses,
so clients and tools (schemathesis' stateful tests) can chain operations; an operation id or a
parameter a link names that does not exist fails the document's generation."""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from typing import Any

# The org of the request that made the resource: every link into an org's resources keeps it.
SAME_ORG = "$request.path.org"


@dataclass(frozen=True)
class Link:
    """`source`'s `status` answer supplies `target`'s parameters: a parameter name (or
    `location.name`) → an OpenAPI runtime expression (`$response.body#/id`, `$request.path.org`)."""

    source: str
    status: int
    target: str
    parameters: Mapping[str, str] = field(default_factory=dict)
    description: str = ""

    @property
    def name(self) -> str:
        return "".join(part.capitalize() for part in self.target.split("_"))


def _operations(document: Mapping[str, Any]) -> dict[str, dict[str, Any]]:
    return {
        operation["operationId"]: operation
        for path_item in document.get("paths", {}).values()
        for operation in path_item.values()
        if isinstance(operation, dict) and "operationId" in operation
    }


def links_apply(document: dict[str, Any], links: Iterable[Link]) -> None:
    """Write `links` into `document`'s responses. Raises ValueError for a link whose source,
    status, target or parameter the document does not have: a renamed operation must not
    leave a link pointing nowhere."""
    operations = _operations(document)
    for link in links:
        source, target = operations.get(link.source), operations.get(link.target)
        if source is None or target is None:
            raise ValueError(f"link {link.source} → {link.target}: no such operation")
        response = source.get("responses", {}).get(link.status)
        if response is None:
            response = source.get("responses", {}).get(str(link.status))
        if response is None:
            raise ValueError(f"link {link.source} → {link.target}: no {link.status} answer")
        accepted = {
            (parameter["in"], parameter["name"]) for parameter in target.get("parameters", [])
        }
        names = {name for _, name in accepted}
        for parameter in link.parameters:
            location, _, name = parameter.rpartition(".")
            if (location and (location, name) not in accepted) or (
                not location and name not in names
            ):
                raise ValueError(
                    f"link {link.source} → {link.target}: {link.target} takes no {parameter}"
                )
        entry: dict[str, Any] = {"operationId": link.target, "parameters": dict(link.parameters)}
        if link.description:
            entry["description"] = link.description
        named: dict[str, Any] = response.setdefault("links", {})
        if link.name in named:
            raise ValueError(f"link {link.source} → {link.target}: named twice")
        named[link.name] = entry
