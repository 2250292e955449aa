"""Tier benefits at checkout (``o2o.members.pricing_steps.TierBenefits``): a gold member's quote and
placed order carry the tier discount split over the lines in exact fen, and free delivery; a
normal member's and a visitor's do not."""

from __future__ import annotations

import pytest

from o2o.members.models import TierState
from o2o.members.pricing_steps import TierBenefits
from o2o.orders import pricing
from o2o.orders.models import Order
from tests.factories import member, sku, stock_in
from tests.integration.fulfilment.world import P, build, lines, post

pytestmark = pytest.mark.django_db
STEP = "o2o.members.pricing_steps.TierBenefits"
# Free delivery needs the checkout to ask the steps before it adds the fee (``pricing.delivery_waived``).
needs_waiver_hook = pytest.mark.skipif(not hasattr(pricing, "delivery_waived"),
                                       reason="o2o.orders.pricing has no delivery_waived hook yet")


@pytest.fixture
def w(monkeypatch, settings):
    settings.O2O = {**settings.O2O, "PRICING_STEPS": [STEP]}
    world = build(monkeypatch)
    world.s1 = sku(price_fen=999)  # uneven line amounts
    for loc in (world.a, world.b, world.w):
        stock_in(loc, world.s1, 10)
    return world


def tiered(tier: str) -> tuple:
    m, token = member()
    TierState.objects.create(member=m, tier=tier)
    return m, token


def quote(client, w, token):  # noqa: ANN001
    r = post(client, "/api/v1/checkout/quote", {"lines": lines((w.s1, 2), (w.s2, 1)), "lat": P.lat, "lng": P.lng},
             token)
    assert r.status_code == 200, r.content
    return r.json()


def assert_exact(body: dict, discount: int) -> None:
    assert body["discount_fen"] == discount == sum(ln["discount_fen"] for ln in body["lines"])
    for ln in body["lines"]:
        assert ln["payable_fen"] == ln["subtotal_fen"] - ln["discount_fen"]


def test_a_gold_members_quote_has_the_tier_discount_split_exactly(client, w):
    _, token = tiered("gold")
    body = quote(client, w, token)
    goods = 2 * 999 + w.s2.list_price_fen
    assert body["goods_fen"] == goods
    expected = goods * 5 // 100  # 95折, rounded down
    assert_exact(body, expected)
    (adj,) = body["adjustments"]
    assert adj["kind"] == "tier" and "95折" in adj["label"] and "Gold" in adj["label"]
    assert sum(adj["per_line"]) == adj["amount_fen"] == expected
    for option in body["options"]:
        assert option["detail"]["discount_fen"] == expected
        assert sum(ln["discount_fen"] for ln in option["detail"]["lines"]) == expected


def test_normal_members_and_visitors_pay_the_shelf_price(client, w):
    _, token = tiered("normal")
    for who in (token, member()[1], None):  # a normal member with and without a state row, a visitor
        body = quote(client, w, who)
        assert body["discount_fen"] == 0 and body["adjustments"] == []
        same = next(o for o in body["options"] if o["kind"] == "same_city")
        assert same["delivery_fee_fen"] == 600


@needs_waiver_hook
def test_gold_delivers_free_silver_does_not(client, w):
    _, gold = tiered("gold")
    _, silver = tiered("silver")
    gold_same = next(o for o in quote(client, w, gold)["options"] if o["kind"] == "same_city")
    silver_body = quote(client, w, silver)
    silver_same = next(o for o in silver_body["options"] if o["kind"] == "same_city")
    assert gold_same["delivery_fee_fen"] == 0
    assert silver_same["delivery_fee_fen"] == 600 and silver_body["discount_fen"] == (2 * 999 + 1000) * 2 // 100


def test_a_placed_order_keeps_the_discount_on_its_lines(client, w):
    m, token = tiered("diamond")
    r = post(client, "/api/v1/orders", {"lines": lines((w.s1, 2), (w.s2, 1)), "channel": "h5", "choice": "pickup",
                                        "pickup_location_id": w.a.pk, "lat": P.lat, "lng": P.lng}, token, "tier-1")
    assert r.status_code == 201, r.content
    order = Order.objects.get(pk=r.json()["id"])
    discount = (2 * 999 + w.s2.list_price_fen) * 8 // 100  # 92折
    assert order.discount_fen == discount == sum(order.lines.values_list("discount_fen", flat=True))
    assert order.total_fen == order.goods_fen - discount + order.delivery_fee_fen
    assert [a["kind"] for a in order.pricing["adjustments"]] == ["tier"]


def test_the_step_reads_nothing_without_a_member():
    step = TierBenefits()
    assert step.discount((), {"member_id": None}) is None
    assert step.free_delivery({"member_id": "1"}) is False and step.free_delivery({}) is False
