"""Built-in outbox handlers. Notifications and webhooks (later issues) add their own."""

from __future__ import annotations

import logging

from o2o.outbox.models import OutboxEvent

log = logging.getLogger("o2o.events")


def log_event(event: OutboxEvent) -> None:
    log.info("event %s %s:%s %s", event.topic, event.aggregate, event.aggregate_id, event.payload)
