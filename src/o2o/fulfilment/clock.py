"""The routing clock: local time (Asia/Shanghai), the wall clock the engine's rules read.

One function so that tests can move time (``monkeypatch.setattr(clock, "now", ...)``): the
engine's night surcharge, express cut-off and "this hour's" pick capacity depend on it.

The engine (``o2o.core.routing``) reads the wall-clock hour and date of the ``now`` it is
given, so every entry point of the fulfilment app (quotes, decisions, re-routes) passes its
``now`` through :func:`local` first: a caller may give any aware time (UTC from
``timezone.now()``, say) and the engine still sees Shanghai hours.
"""

from __future__ import annotations

from datetime import datetime

from django.utils import timezone


def now() -> datetime:
    """Aware local time (``settings.TIME_ZONE``)."""
    return timezone.localtime()


def local(at: datetime | None = None) -> datetime:
    """``at`` as aware local time (the same instant); ``None``: :func:`now`.

    A naive ``at`` is taken as local wall time (the engine's own convention) and made aware.
    """
    if at is None:
        return now()
    if timezone.is_naive(at):
        return timezone.make_aware(at)
    return timezone.localtime(at)
