"""Coupons and points at checkout, through the API: priced by the engine, taken with the order in its
transaction, given back exactly when the order is cancelled or refunded."""

from __future__ import annotations

import pytest
from django.db import transaction

from o2o.marketing.claims import coupon_issue
from o2o.marketing.handlers import on_order_event as marketing_events
from o2o.marketing.models import Coupon, CouponEvent
from o2o.marketing.redemption import coupon_redeem_at_counter
from o2o.members import points as pts
from o2o.members.models import PointsAccount
from o2o.members.selectors import available_points
from o2o.orders import lifecycle
from o2o.orders.actors import system
from o2o.orders.locks import lock_order
from o2o.orders.models import Order, OrderLine
from o2o.outbox.services import events_relay
from tests.e2e.orders.test_returns_support import fake_refunds, handed_over
from tests.factories import assert_error, member, sku, staff, stock_in
from tests.integration.fulfilment.world import P, build, lines, post
from tests.integration.marketing.support import template

pytestmark = pytest.mark.django_db


@pytest.fixture
def w(monkeypatch):
    world = build(monkeypatch)
    world.s3 = sku(price_fen=3333, weight_g=300)  # uneven amounts
    for loc in (world.a, world.b, world.w):
        stock_in(loc, world.s3, 20)
    return world


def coupon(m, **kw) -> Coupon:  # noqa: ANN001
    return coupon_issue(template_id=template(**kw).pk, member=m, source="claim")


def relay() -> None:
    events_relay(handlers=[marketing_events])


def quote(client, w, token, **extra):  # noqa: ANN001, ANN003, ANN201
    body = {"lines": lines((w.s3, 2), (w.s1, 1)), "lat": P.lat, "lng": P.lng, "pickup_location_id": w.a.pk, **extra}
    r = post(client, "/api/v1/checkout/quote", body, token)
    assert r.status_code == 200, r.content
    return r.json()


def place(client, w, token, key, **extra):  # noqa: ANN001, ANN003, ANN201
    body = {"lines": lines((w.s3, 2), (w.s1, 1)), "channel": "h5", "choice": "pickup", "pickup_location_id": w.a.pk,
            "lat": P.lat, "lng": P.lng, **extra}
    return post(client, "/api/v1/orders", body, token, key)


def test_a_coupon_in_the_quote_is_split_over_the_lines_and_placing_uses_it(client, w):
    m, token = member()
    c = coupon(m, amount_fen=1000, threshold_fen=5000)
    goods = 2 * 3333 + w.s1.list_price_fen
    body = quote(client, w, token, coupon_ids=[c.pk])
    assert body["goods_fen"] == goods and body["discount_fen"] == 1000
    assert body["marketing"]["coupon_ids"] == [c.pk] and body["marketing"]["rejected_coupons"] == []
    (adj,) = body["adjustments"]
    assert adj["kind"] == f"coupon:{c.pk}" and sum(adj["per_line"]) == 1000
    pickup = next(o for o in body["options"] if o["kind"] == "pickup")
    r = place(client, w, token, "c1", coupon_ids=[c.pk], expected_total_fen=pickup["total_fen"])
    assert r.status_code == 201, r.content
    order = Order.objects.get(pk=r.json()["id"])
    assert order.discount_fen == 1000 == sum(OrderLine.objects.filter(order=order).values_list("discount_fen",
                                                                                                 flat=True))
    c.refresh_from_db()
    assert c.status == "used" and c.used_order_id == order.pk and c.used_channel == "h5"
    assert order.pricing["coupon_ids"] == [c.pk]
    # The same key again: the first answer, nothing taken twice.
    again = place(client, w, token, "c1", coupon_ids=[c.pk], expected_total_fen=pickup["total_fen"])
    assert again.status_code == 201 and again.json()["id"] == order.pk
    assert CouponEvent.objects.filter(coupon=c, kind="used").count() == 1


def test_a_coupon_below_its_threshold_is_reported_in_the_quote_and_refused_when_placing(client, w):
    m, token = member()
    c = coupon(m, amount_fen=1000, threshold_fen=100_000)
    body = quote(client, w, token, coupon_ids=[c.pk])
    assert body["discount_fen"] == 0
    assert [x["id"] for x in body["marketing"]["rejected_coupons"]] == [c.pk]
    r = place(client, w, token, "c2", coupon_ids=[c.pk])
    assert_error(r, 409, "coupon_not_applicable")
    assert not Order.objects.exists()
    c.refresh_from_db()
    assert c.status == "available"


def test_a_member_cannot_use_another_members_coupon(client, w):
    owner, _ = member()
    _, thief = member()
    c = coupon(owner)
    body = quote(client, w, thief, coupon_ids=[c.pk])
    assert body["discount_fen"] == 0 and body["marketing"]["rejected_coupons"][0]["id"] == c.pk
    assert_error(place(client, w, thief, "steal", coupon_ids=[c.pk]), 409, "coupon_not_applicable")
    c.refresh_from_db()
    assert c.status == "available" and not Order.objects.exists()


def test_points_pay_part_of_the_order_capped_and_are_spent_with_it(client, w):
    m, token = member()
    pts.points_earn(m.pk, 1_000_000, "gift:1", w.now)
    body = quote(client, w, token, points=-1)
    goods = 2 * 3333 + w.s1.list_price_fen
    assert body["marketing"]["points_fen"] == goods * 50 // 100  # at most half of the order
    assert body["marketing"]["points_used"] == body["marketing"]["points_fen"]  # 100 points = ¥1 = 100 fen
    r = place(client, w, token, "p1", points=500)
    assert r.status_code == 201, r.content
    order = Order.objects.get(pk=r.json()["id"])
    assert order.pricing["points_used"] == 500 and order.discount_fen == 500
    assert available_points(m.pk) == 1_000_000 - 500
    assert pts.points_check(PointsAccount.objects.get(member=m)) == ()


def test_cancelling_gives_back_the_coupon_and_every_point(client, w):
    m, token = member()
    pts.points_earn(m.pk, 10_000, "gift:1", w.now)
    c = coupon(m)
    r = place(client, w, token, "x1", coupon_ids=[c.pk], points=300)
    assert r.status_code == 201, r.content
    oid = r.json()["id"]
    assert available_points(m.pk) == 9_700
    cancel = post(client, f"/api/v1/orders/{oid}/cancel", {"reason": "不要了"}, token, "x1c")
    assert cancel.status_code == 200, cancel.content
    relay()
    relay()  # at least once: a second delivery changes nothing
    c.refresh_from_db()
    assert c.status == "available" and c.used_order_id is None
    assert available_points(m.pk) == 10_000
    assert CouponEvent.objects.filter(coupon=c, kind="returned").count() == 1
    assert pts.points_check(PointsAccount.objects.get(member=m)) == ()


def test_a_coupon_used_at_a_counter_meanwhile_fails_the_order_whole(client, w):
    m, token = member()
    c = coupon(m, threshold_fen=0)  # no receipt needed at the counter
    assert quote(client, w, token, coupon_ids=[c.pk])["discount_fen"] == 1000
    coupon_redeem_at_counter(code=c.code, store_id=w.b.pk, user_id=staff("clerk", loc=w.b)[0].pk)
    assert_error(place(client, w, token, "late", coupon_ids=[c.pk]), 409, "coupon_not_applicable")
    assert not Order.objects.exists()


def test_partial_returns_give_points_back_in_proportion_and_the_last_one_exactly(client, w, monkeypatch):
    refunds = fake_refunds(monkeypatch)
    m, token = member()
    pts.points_earn(m.pk, 10_000, "gift:1", w.now)
    # Place with points through the API, then pay and hand over as the returns tests do.
    r = place(client, w, token, "pr", points=777)
    assert r.status_code == 201, r.content
    with transaction.atomic():
        order = lock_order(r.json()["id"])
        lifecycle.order_paid(order, amount_fen=order.total_fen, by=system("test-payment"))
    order = handed_over(order)
    c = coupon(m)  # an unrelated coupon stays untouched
    line = OrderLine.objects.get(order=order, sku=w.s3)
    restored = []
    for i in range(2):
        body = {"order_id": order.pk, "lines": [{"order_line_id": line.pk, "qty": 1}], "method": "store",
                "location_id": w.a.pk, "reason": "不合适"}
        rr = post(client, "/api/v1/returns", body, w.clerk_a, f"ret{i}")
        assert rr.status_code == 201, rr.content
        before = available_points(m.pk)
        relay()
        restored.append(available_points(m.pk) - before)
    order.refresh_from_db()
    first_share = 777 * order.refunded_fen // order.paid_fen
    assert sum(restored) == first_share and restored[0] == 777 * refunds.calls[0][1] // order.paid_fen
    other = OrderLine.objects.get(order=order, sku=w.s1)
    body = {"order_id": order.pk, "lines": [{"order_line_id": other.pk, "qty": 1}], "method": "store",
            "location_id": w.a.pk, "reason": "不合适"}
    assert post(client, "/api/v1/returns", body, w.clerk_a, "ret-last").status_code == 201
    relay()
    assert available_points(m.pk) == 10_000  # all back once everything is refunded
    c.refresh_from_db()
    assert c.status == "available"
    assert pts.points_check(PointsAccount.objects.get(member=m)) == ()
