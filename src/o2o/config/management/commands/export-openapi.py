"""Write the API's OpenAPI document, or check that the committed one is current."""

from __future__ import annotations

import difflib
import json
from pathlib import Path

from django.core.management.base import BaseCommand, CommandError


def render_openapi() -> str:
    from o2o.config.api import api

    return json.dumps(api.get_openapi_schema(), indent=2, ensure_ascii=False, sort_keys=True) + "\n"


class Command(BaseCommand):
    help = "Export the OpenAPI document (docs/openapi.json); --check fails if the file differs."

    def add_arguments(self, parser):
        parser.add_argument("path", nargs="?", default="docs/openapi.json")
        parser.add_argument("--check", action="store_true", help="compare instead of writing")

    def handle(self, *args, path: str, check: bool, **options):
        text = render_openapi()
        target = Path(path)
        if check:
            current = target.read_text(encoding="utf-8") if target.exists() else ""
            if current != text:
                diff = "".join(difflib.unified_diff(current.splitlines(True), text.splitlines(True),
                                                    str(target), "generated", n=1))
                raise CommandError(f"{target} is out of date; run `make openapi`.\n{diff[:4000]}")
            self.stdout.write(f"{target} is current")
            return
        target.parent.mkdir(parents=True, exist_ok=True)
        target.write_text(text, encoding="utf-8")
        self.stdout.write(f"wrote {target}")
