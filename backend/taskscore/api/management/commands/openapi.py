"""`manage.py openapi --api v2 [--check FILE | --output FILE]`: the OpenAPI document, sorted.

The v2 document is committed (backend/openapi/v2.json) and the frontend's types are generated from
it; `--check` exits non-zero when the code and the file differ."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

from django.core.management.base import BaseCommand, CommandError, CommandParser

from taskscore.api.v1 import api as api_v1
from taskscore.api.v2 import api as api_v2

APIS = {"v1": api_v1, "v2": api_v2}


def openapi_document(version: str) -> str:
    schema = APIS[version].get_openapi_schema(path_prefix=f"/api/{version}/")
    return json.dumps(schema, indent=2, sort_keys=True) + "\n"


class Command(BaseCommand):
    help = "Print, write or check an API version's OpenAPI document."

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("--api", choices=sorted(APIS), default="v2")
        group = parser.add_mutually_exclusive_group()
        group.add_argument("--output", type=Path, help="Write the document to this file.")
        group.add_argument("--check", type=Path, help="Fail if this file differs from the code.")

    def handle(self, *args: Any, **options: Any) -> None:
        document = openapi_document(options["api"])
        if options["check"]:
            path: Path = options["check"]
            if not path.exists() or path.read_text() != document:
                raise CommandError(
                    f"{path} is out of date with the code; run `make openapi` and commit it."
                )
            return
        if options["output"]:
            options["output"].write_text(document)
            return
        self.stdout.write(document, ending="")
