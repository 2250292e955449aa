"""Compute every member's profile tags from the orders of all channels and store them (nightly)::

    15 4 * * *  /srv/o2o/.venv/bin/o2o compute-tags

``--as-of 2024-06-30T23:59:59+08:00`` computes as of another time (orders after it are ignored).
Prints a JSON summary (members, tags written, timings, the fitted CLV models).
"""

from __future__ import annotations

import json
from datetime import datetime

from django.core.management.base import BaseCommand, CommandError

from o2o.profiles.services import tags_compute


class Command(BaseCommand):
    help = "计算会员画像标签 Compute and store every member's profile tags"

    def add_arguments(self, parser) -> None:  # noqa: ANN001
        parser.add_argument("--as-of", default=None, help="ISO datetime with offset; default now")

    def handle(self, *args, **opts) -> None:
        as_of = None
        if opts["as_of"]:
            try:
                as_of = datetime.fromisoformat(opts["as_of"])
            except ValueError as exc:
                raise CommandError(f"--as-of 格式错误 bad ISO datetime: {opts['as_of']}") from exc
            if as_of.tzinfo is None:
                raise CommandError("--as-of 需要时区 needs an offset, e.g. +08:00")
        self.stdout.write(json.dumps(tags_compute(as_of=as_of), ensure_ascii=False))
