"""The transactional outbox: an event exists iff its transaction committed; the relay hands it out once."""

from __future__ import annotations

from datetime import timedelta

import pytest
from django.db import transaction
from django.utils import timezone

from o2o.outbox.models import OutboxEvent
from o2o.outbox.services import event_emit, events_relay

pytestmark = pytest.mark.django_db


class Boom(Exception):
    pass


def test_event_rolls_back_with_its_transaction():
    with pytest.raises(Boom), transaction.atomic():
        event_emit(topic="order.paid", aggregate="order", aggregate_id=1, payload={"n": 1})
        raise Boom
    assert OutboxEvent.objects.count() == 0
    with transaction.atomic():
        event_emit(topic="order.paid", aggregate="order", aggregate_id=1, payload={"n": 1})
    assert OutboxEvent.objects.count() == 1


@pytest.mark.django_db(transaction=True)
def test_emit_outside_a_transaction_is_refused():
    with pytest.raises(RuntimeError):
        event_emit(topic="x", aggregate="order", aggregate_id=1, payload={})


def test_same_cause_gives_one_event():
    with transaction.atomic():
        first = event_emit(topic="order.paid", aggregate="order", aggregate_id=7, payload={}, key="order:7:paid")
        again = event_emit(topic="order.paid", aggregate="order", aggregate_id=7, payload={}, key="order:7:paid")
    assert first is not None and again is None
    assert OutboxEvent.objects.filter(key="order:7:paid").count() == 1


def test_relay_dispatches_once_and_retries_failures_with_backoff():
    with transaction.atomic():
        event_emit(topic="a", aggregate="order", aggregate_id=1, payload={})
        event_emit(topic="b", aggregate="order", aggregate_id=2, payload={})
    seen: list[str] = []

    def flaky(event):  # noqa: ANN001
        if event.topic == "b" and event.attempts == 0:
            raise ConnectionError("down")
        seen.append(event.topic)

    now = timezone.now()
    assert events_relay(handlers=[flaky], now=now) == (1, 1)
    assert seen == ["a"]
    b = OutboxEvent.objects.get(topic="b")
    assert b.dispatched_at is None and b.attempts == 1 and "down" in b.last_error and b.available_at > now
    assert events_relay(handlers=[flaky], now=now) == (0, 0)  # not due yet
    assert events_relay(handlers=[flaky], now=now + timedelta(seconds=5)) == (1, 0)
    assert seen == ["a", "b"]
    assert events_relay(handlers=[flaky], now=now + timedelta(hours=1)) == (0, 0)
    assert OutboxEvent.objects.filter(dispatched_at__isnull=True).count() == 0


@pytest.mark.django_db(transaction=True)
def test_a_handler_whose_database_write_fails_does_not_stop_the_relay():
    from django.db import IntegrityError

    from o2o.orders.models import Cart

    with transaction.atomic():
        event_emit(topic="bad", aggregate="order", aggregate_id=1, payload={})
        event_emit(topic="good", aggregate="order", aggregate_id=2, payload={})
    seen: list[str] = []

    def handler(event):  # noqa: ANN001
        if event.topic == "bad":  # a write the database refuses (the token is UNIQUE)
            Cart.objects.create(token_hash="x" * 64)
            Cart.objects.create(token_hash="x" * 64)
        seen.append(event.topic)

    with pytest.raises(IntegrityError):  # what the handler does on its own
        with transaction.atomic():
            handler(OutboxEvent(topic="bad"))
    assert events_relay(handlers=[handler]) == (1, 1)
    assert seen == ["good"]
    bad = OutboxEvent.objects.get(topic="bad")
    assert bad.attempts == 1 and "IntegrityError" in bad.last_error and bad.dispatched_at is None
    assert Cart.objects.count() == 0  # the failed handler's writes were rolled back with it
