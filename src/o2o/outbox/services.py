"""Write events into the outbox (inside the caller's transaction) and relay them to handlers."""

from __future__ import annotations

import logging
from collections.abc import Callable, Iterable
from datetime import datetime, timedelta
from typing import Any

from django.conf import settings
from django.db import connection, transaction
from django.utils import timezone
from django.utils.module_loading import import_string

from o2o.outbox.models import OutboxEvent

log = logging.getLogger("o2o.outbox")

Handler = Callable[[OutboxEvent], None]
MAX_BACKOFF_S = 3600


def event_emit(*, topic: str, aggregate: str, aggregate_id: object, payload: dict[str, Any],
               key: str | None = None, now: datetime | None = None) -> OutboxEvent | None:
    """Add an event to the caller's transaction. With ``key``, a second event for the same
    cause is dropped (returns None), so retried work never reports twice."""
    if not connection.in_atomic_block:
        raise RuntimeError("outbox events must be written inside the transaction of their change")
    now = now or timezone.now()
    row = OutboxEvent(topic=topic, aggregate=aggregate, aggregate_id=str(aggregate_id), key=key,
                      payload=payload, created_at=now, available_at=now)
    if key is None:
        row.save(force_insert=True)
        return row
    # INSERT .. ON CONFLICT DO NOTHING: one statement, no savepoint (PostgreSQL and SQLite 3.35+).
    meta, q = OutboxEvent._meta, connection.ops.quote_name
    columns = ("topic", "aggregate", "aggregate_id", "key", "payload", "created_at", "available_at", "attempts",
               "last_error")
    values = [getattr(row, meta.get_field(c).attname) for c in columns]
    values = [meta.get_field(c).get_db_prep_save(v, connection) for c, v in zip(columns, values, strict=True)]
    with connection.cursor() as cur:
        cur.execute(f"INSERT INTO {q(meta.db_table)} ({', '.join(q(c) for c in columns)}) "
                    f"VALUES ({', '.join(['%s'] * len(columns))}) ON CONFLICT ({q('key')}) DO NOTHING RETURNING id",
                    values)
        inserted = cur.fetchone()
    if inserted is None:
        return None
    row.pk = inserted[0]
    row._state.adding = False
    return row


def configured_handlers() -> list[Handler]:
    paths = settings.O2O.get("OUTBOX_HANDLERS", ["o2o.outbox.handlers.log_event"])
    return [import_string(p) for p in paths]


def events_relay(*, handlers: Iterable[Handler] | None = None, limit: int = 200,
                 now: datetime | None = None) -> tuple[int, int]:
    """Hand due events to every handler, oldest first; (dispatched, failed).

    Each event is claimed under a row lock (``SKIP LOCKED`` on PostgreSQL), so several relays
    may run at once without sending an event twice from the same pass. A failing handler
    leaves the event for a later pass, with exponential backoff.
    """
    handlers = list(configured_handlers() if handlers is None else handlers)
    now = now or timezone.now()
    sent = failed = 0
    due = OutboxEvent.objects.filter(dispatched_at__isnull=True, available_at__lte=now).order_by("available_at", "pk")
    for pk in list(due.values_list("pk", flat=True)[:limit]):
        with transaction.atomic():
            qs = OutboxEvent.objects.filter(pk=pk, dispatched_at__isnull=True)
            if connection.vendor == "postgresql":
                qs = qs.select_for_update(skip_locked=True)
            event = qs.first()
            if event is None:
                continue
            try:
                with transaction.atomic():  # a handler's failed write must not poison the relay's transaction
                    for handle in handlers:
                        handle(event)
            except Exception as exc:  # noqa: BLE001 - any handler failure is retried later
                log.warning("outbox event %s failed: %s", pk, exc)
                event.attempts += 1
                event.last_error = f"{type(exc).__name__}: {exc}"[:2000]
                event.available_at = now + timedelta(seconds=min(MAX_BACKOFF_S, 2 ** event.attempts))
                event.save(update_fields=["attempts", "last_error", "available_at"])
                failed += 1
                continue
            event.attempts += 1
            event.dispatched_at = now
            event.save(update_fields=["attempts", "dispatched_at"])
            sent += 1
    return sent, failed
