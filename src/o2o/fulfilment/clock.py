"""The routing clock: local time (Asia/Shanghai), the wall clock the engine's rules read.

One function so that tests can move time (``monkeypatch.setattr(clock, "now", ...)``): the
engine's night surcharge, express cut-off and "this hour's" pick capacity depend on it.
"""

from __future__ import annotations

from datetime import datetime

from django.utils import timezone


def now() -> datetime:
    """Aware local time (``settings.TIME_ZONE``)."""
    return timezone.localtime()
