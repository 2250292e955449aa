"""A zero-yuan order (¥0) on purpose, end to end through the API: a coupon (and points) bring the order to
¥0, it is paid at once without any gateway (a 0-fen ``cash`` payment), it can be cancelled, and the coupon
and every point come back; no refund is asked of anyone (nothing was paid)."""

from __future__ import annotations

import pytest

from o2o.marketing.claims import coupon_issue
from o2o.marketing.handlers import on_order_event as marketing_events
from o2o.marketing.models import Coupon, CouponEvent
from o2o.members import points as pts
from o2o.members.models import PointsAccount
from o2o.members.selectors import available_points
from o2o.orders import gateways
from o2o.orders.models import Order, OrderLine, Payment, PaymentNotice, Refund
from o2o.outbox.services import events_relay
from tests.factories import assert_error, member, sku, stock_in
from tests.integration.fulfilment.world import P, build, lines, post
from tests.integration.marketing.support import template

pytestmark = pytest.mark.django_db


@pytest.fixture
def w(monkeypatch):
    world = build(monkeypatch)
    world.s3 = sku(price_fen=3333, weight_g=300)
    stock_in(world.a, world.s3, 20)

    def no_gateway(provider):  # noqa: ANN001, ANN202
        raise AssertionError(f"a zero-yuan order must not reach a payment gateway ({provider})")

    monkeypatch.setattr(gateways, "payment_gateway", no_gateway)
    return world


def coupon(m, **kw) -> Coupon:  # noqa: ANN001, ANN003
    return coupon_issue(template_id=template(**kw).pk, member=m, source="claim")


def basket(w, **extra) -> dict:  # noqa: ANN001, ANN003
    return {"lines": lines((w.s3, 2), (w.s1, 1)), "lat": P.lat, "lng": P.lng, "pickup_location_id": w.a.pk, **extra}


def pickup_total(client, w, token, **extra) -> tuple[int, dict]:  # noqa: ANN001, ANN003
    r = post(client, "/api/v1/checkout/quote", basket(w, **extra), token)
    assert r.status_code == 200, r.content
    body = r.json()
    return next(o for o in body["options"] if o["kind"] == "pickup")["total_fen"], body


def place(client, w, token, key, **extra):  # noqa: ANN001, ANN003, ANN201
    return post(client, "/api/v1/orders", {**basket(w, **extra), "channel": "h5", "choice": "pickup"}, token, key)


def relay() -> None:
    events_relay(handlers=[marketing_events])


def test_a_coupon_and_points_make_it_zero_it_is_paid_at_once_and_cancelling_gives_both_back(client, w, settings):
    # Points may pay everything the coupon leaves (the default caps them at half of it).
    settings.O2O = {**settings.O2O, "POINTS": {**settings.O2O.get("POINTS", {}), "DEDUCTION_MAX_SHARE_PERCENT": 100}}
    m, token = member()
    pts.points_earn(m.pk, 10_000, "gift:1", w.now)
    goods = 2 * 3333 + w.s1.list_price_fen
    c = coupon(m, amount_fen=goods - 3_000, threshold_fen=0)  # leaves ¥30 for the points
    total, body = pickup_total(client, w, token, coupon_ids=[c.pk], points=-1)
    points = body["marketing"]["points_used"]
    assert total == 0 and body["marketing"]["points_fen"] == 3_000 and points > 0
    r = place(client, w, token, "zero", coupon_ids=[c.pk], points=points, expected_total_fen=0, pay_with="wechat")
    assert r.status_code == 201, r.content
    answer = r.json()
    assert answer["payment_error"] is None
    assert answer["payment"]["provider"] == "cash" and answer["payment"]["amount_fen"] == 0
    assert answer["payment"]["status"] == "paid" and answer["payment"]["client_params"] == {}
    order = Order.objects.get(pk=answer["id"])
    assert order.total_fen == 0 and order.paid_fen == 0 and order.discount_fen == goods
    assert order.status == "allocated" and answer["status"] == "allocated"
    assert all(p == 0 for p in OrderLine.objects.filter(order=order).values_list("payable_fen", flat=True))
    assert PaymentNotice.objects.count() == 0 and Payment.objects.filter(order=order).count() == 1
    c.refresh_from_db()
    assert c.status == "used" and c.used_order_id == order.pk
    assert available_points(m.pk) == 10_000 - points
    # Paying again: it is no longer awaiting payment.
    assert_error(post(client, "/api/v1/payments", {"order_id": order.pk, "provider": "alipay"}, token), 409,
                 "order_not_payable")

    cancel = post(client, f"/api/v1/orders/{order.pk}/cancel", {"reason": "不要了"}, token, "zero-cancel")
    assert cancel.status_code == 200, cancel.content
    order.refresh_from_db()
    assert order.status == "cancelled" and order.refunded_fen == 0
    assert not Refund.objects.filter(order=order).exists()  # nothing paid, nothing to refund
    relay()
    c.refresh_from_db()
    assert c.status == "available" and c.used_order_id is None
    assert CouponEvent.objects.filter(coupon=c, kind="returned").count() == 1
    assert available_points(m.pk) == 10_000
    assert pts.points_check(PointsAccount.objects.get(member=m)) == ()


def test_a_coupon_worth_more_than_the_goods_makes_it_zero_never_negative(client, w):
    m, token = member()
    goods = 2 * 3333 + w.s1.list_price_fen
    c = coupon(m, amount_fen=goods + 5_000, threshold_fen=0)
    total, body = pickup_total(client, w, token, coupon_ids=[c.pk])
    assert total == 0 and body["discount_fen"] == goods  # the rest of the coupon is lost, not owed
    r = place(client, w, token, "zero2", coupon_ids=[c.pk], expected_total_fen=0)
    assert r.status_code == 201, r.content
    order = Order.objects.get(pk=r.json()["id"])
    assert order.status == "pending_payment" and order.total_fen == 0
    # Without pay_with, the client asks to pay: answered at once, whatever provider it names.
    pay = post(client, "/api/v1/payments", {"order_id": order.pk, "provider": "alipay"}, token, "pay0")
    assert pay.status_code == 201, pay.content
    assert pay.json()["provider"] == "cash" and pay.json()["status"] == "paid"
    order.refresh_from_db()
    assert order.status == "allocated" and order.paid_fen == 0
    assert post(client, f"/api/v1/orders/{order.pk}/cancel", {"reason": "不要了"}, token, "c2").status_code == 200
    relay()
    relay()
    c.refresh_from_db()
    assert c.status == "available" and CouponEvent.objects.filter(coupon=c, kind="returned").count() == 1
    assert not Refund.objects.filter(order=order).exists()


def test_paying_a_paid_zero_yuan_order_again_with_an_idempotency_key_is_a_409(client, w):
    m, token = member()
    goods = 2 * 3333 + w.s1.list_price_fen
    c = coupon(m, amount_fen=goods, threshold_fen=0)
    r = place(client, w, token, "zero3", coupon_ids=[c.pk], expected_total_fen=0, pay_with="wechat")
    assert r.status_code == 201 and r.json()["status"] == "allocated", r.content
    again = post(client, "/api/v1/payments", {"order_id": r.json()["id"], "provider": "alipay"}, token, "again")
    assert_error(again, 409, "order_not_payable")
