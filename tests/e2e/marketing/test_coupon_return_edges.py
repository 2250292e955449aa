"""Coupons come back on a cancelled order only if still valid: validity is judged at the moment the order
stopped standing (the event's time, ``redemption.coupons_return_for_order``), not when the outbox delivers it.

An expired coupon stays ``used`` on the order and gets one RETURNED event saying it expired; the points
always come back; a redelivered event changes nothing."""

from __future__ import annotations

from datetime import timedelta

import pytest
from django.utils import timezone

from o2o.marketing.claims import coupon_issue
from o2o.marketing.handlers import on_order_event as marketing_events
from o2o.marketing.models import Coupon, CouponEvent
from o2o.marketing.selectors import wallet
from o2o.members import points as pts
from o2o.members.models import PointsAccount
from o2o.members.selectors import available_points
from o2o.orders.models import Order
from o2o.outbox.models import OutboxEvent
from o2o.outbox.services import events_relay
from tests.factories import member, sku, stock_in
from tests.integration.fulfilment.world import P, build, lines, post
from tests.integration.marketing.support import template

pytestmark = pytest.mark.django_db


@pytest.fixture
def w(monkeypatch):
    world = build(monkeypatch)
    world.monkeypatch = monkeypatch
    world.s3 = sku(price_fen=3333, weight_g=300)
    for loc in (world.a, world.b):
        stock_in(loc, world.s3, 20)
    return world


def coupon_until(w, m, until):  # noqa: ANN001, ANN201
    """A coupon valid from a day before the world's clock until ``until`` (a fixed window)."""
    t = template(valid_days=None, valid_from=w.now - timedelta(days=1), valid_until=until)
    return coupon_issue(template_id=t.pk, member=m, source="claim", now=w.now - timedelta(minutes=1))


def place(client, w, token, key, **extra) -> Order:  # noqa: ANN001, ANN003
    """Placed at the world's clock (10:00 today): the coupons' windows are set from it, and checkout judges them
    by the wall clock, so the wall clock stands there for the request (else the test fails after 11:00)."""
    body = {"lines": lines((w.s3, 2), (w.s1, 1)), "channel": "h5", "choice": "pickup", "pickup_location_id": w.a.pk,
            "lat": P.lat, "lng": P.lng, **extra}
    with w.monkeypatch.context() as mp:
        mp.setattr(timezone, "now", lambda: w.now)
        r = post(client, "/api/v1/orders", body, token, key)
    assert r.status_code == 201, r.content
    return Order.objects.get(pk=r.json()["id"])


def cancel(client, token, order: Order, at, monkeypatch) -> None:  # noqa: ANN001
    """The member cancels through the API at ``at`` (the wall clock stands there for the request: the order's
    events are stamped with it, and the handler judges validity at that time)."""
    with monkeypatch.context() as mp:
        mp.setattr(timezone, "now", lambda: at)
        r = post(client, f"/api/v1/orders/{order.pk}/cancel", {"reason": "不要了"}, token, f"cancel-{order.pk}")
    assert r.status_code == 200, r.content
    assert OutboxEvent.objects.get(aggregate="order", aggregate_id=str(order.pk), topic="order.cancelled").created_at == at


def relay(at) -> None:  # noqa: ANN001
    """Deliver the outbox as at ``at`` (the events are due from their time)."""
    events_relay(handlers=[marketing_events], now=at)


def returned_events(c: Coupon) -> list[CouponEvent]:
    return list(CouponEvent.objects.filter(coupon=c, kind="returned"))


def test_a_coupon_that_expired_before_the_cancel_stays_used_and_says_why(client, w, monkeypatch):
    m, token = member()
    pts.points_earn(m.pk, 10_000, "gift:1", w.now - timedelta(days=1))
    c = coupon_until(w, m, w.now + timedelta(hours=1))
    order = place(client, w, token, "e1", coupon_ids=[c.pk], points=300)
    assert order.discount_fen == 1000 + 300 and available_points(m.pk) == 9_700
    cancel(client, token, order, w.now + timedelta(hours=2), monkeypatch)  # the coupon ran out an hour before
    relay(w.now + timedelta(hours=2))
    marketing_events(OutboxEvent.objects.get(topic="order.cancelled", aggregate_id=str(order.pk)))  # redelivered
    c.refresh_from_db()
    assert c.status == "used" and c.used_order_id == order.pk and c.used_at is not None
    (ev,) = returned_events(c)
    assert ev.order_id == order.pk and "expired" in ev.note and "已过期" in ev.note
    assert ev.at == w.now + timedelta(hours=2)
    assert available_points(m.pk) == 10_000  # the points come back regardless
    assert pts.points_check(PointsAccount.objects.get(member=m)) == ()
    # The wallet lists it as used on that order, not as usable.
    (row,) = wallet(m.pk)
    assert row["state"] == "used" and row["used_order_id"] == order.pk


def test_a_coupon_expiring_exactly_at_the_cancel_is_not_returned(client, w, monkeypatch):
    m, token = member()
    until = w.now + timedelta(hours=1)
    c = coupon_until(w, m, until)
    order = place(client, w, token, "e2", coupon_ids=[c.pk])
    cancel(client, token, order, until, monkeypatch)  # valid_until is exclusive
    relay(until)
    c.refresh_from_db()
    assert c.status == "used" and "expired" in returned_events(c)[0].note


def test_a_coupon_still_valid_at_the_cancel_comes_back_even_if_the_event_is_delivered_late(client, w, monkeypatch):
    m, token = member()
    until = w.now + timedelta(hours=1)
    c = coupon_until(w, m, until)
    order = place(client, w, token, "e3", coupon_ids=[c.pk])
    cancel(client, token, order, until - timedelta(seconds=1), monkeypatch)
    relay(until + timedelta(days=1))  # the outbox was down for a day
    c.refresh_from_db()
    assert c.status == "available" and c.used_order_id is None and c.used_at is None
    (ev,) = returned_events(c)
    assert "expired" not in ev.note and ev.note.startswith("退回 returned")
    # Back in the wallet, but no longer usable: it is past its end now.
    (row,) = wallet(m.pk, now=until + timedelta(days=1))
    assert row["state"] == "expired"


def test_a_still_valid_coupon_comes_back_and_can_be_used_again(client, w, monkeypatch):
    m, token = member()
    c = coupon_until(w, m, w.now + timedelta(days=3))
    first = place(client, w, token, "e4", coupon_ids=[c.pk])
    cancel(client, token, first, w.now + timedelta(minutes=5), monkeypatch)
    relay(w.now + timedelta(minutes=5))
    c.refresh_from_db()
    assert c.status == "available" and len(returned_events(c)) == 1
    second = place(client, w, token, "e5", coupon_ids=[c.pk])
    c.refresh_from_db()
    assert c.status == "used" and c.used_order_id == second.pk and second.discount_fen == 1000
    assert CouponEvent.objects.filter(coupon=c, kind="used").count() == 2
