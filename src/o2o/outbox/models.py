"""The transactional outbox: events written in the same transaction as the change they report.

A row exists if and only if its transaction committed, so an event is never lost when the
process dies after commit, and never sent for work that rolled back. A relay
(``o2o relay-outbox``) hands undispatched rows to the handlers and marks them dispatched;
delivery is at least once, so handlers are idempotent (``key`` names the cause).
"""

from __future__ import annotations

from django.db import models
from django.db.models import Q
from django.utils import timezone


class OutboxEvent(models.Model):
    topic = models.CharField(max_length=64, help_text="e.g. order.paid")
    aggregate = models.CharField(max_length=32, help_text="e.g. order")
    aggregate_id = models.CharField(max_length=64)
    key = models.CharField(max_length=160, null=True, blank=True, unique=True,
                           help_text="the cause, when one cause must give one event (e.g. order:12:paid)")
    payload = models.JSONField(default=dict, blank=True)
    created_at = models.DateTimeField(default=timezone.now)
    available_at = models.DateTimeField(default=timezone.now, help_text="not handed out before this (retry backoff)")
    dispatched_at = models.DateTimeField(null=True, blank=True)
    attempts = models.PositiveIntegerField(default=0)
    last_error = models.TextField(blank=True)

    class Meta:
        verbose_name = "发件箱事件 outbox event"
        verbose_name_plural = "发件箱事件 outbox events"
        indexes = [
            models.Index(fields=["available_at", "id"], condition=Q(dispatched_at__isnull=True),
                         name="outbox_pending"),
            models.Index(fields=["aggregate", "aggregate_id"], name="outbox_aggregate"),
        ]

    def __str__(self) -> str:
        return f"{self.topic} {self.aggregate}:{self.aggregate_id}"
