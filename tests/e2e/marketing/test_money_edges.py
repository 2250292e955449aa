"""The money edges a review found: a delivered order returned whole gives back every point and the coupon;
points never make an order dearer; a store-scoped coupon is checked against the store that ships; a OneID
merge moves coupons (and its undo moves them back); the counter checks tiers; bad campaign rows."""

from __future__ import annotations

from datetime import date

import pytest
from django.db import IntegrityError, transaction
from django.utils import timezone

from o2o.common.errors import Forbidden
from o2o.marketing import claims, redemption
from o2o.marketing.handlers import on_order_event as marketing_events
from o2o.marketing.models import Coupon, CouponTemplate, MemberReach, Promotion
from o2o.members import points as pts
from o2o.members.merge import member_merge, member_merge_undo
from o2o.members.models import PointsAccount, TierState
from o2o.members.selectors import available_points
from o2o.orders import lifecycle
from o2o.orders.actors import system
from o2o.orders.locks import lock_order
from o2o.orders.models import Order, OrderLine
from o2o.outbox.services import events_relay
from tests.e2e.orders.test_returns_support import fake_refunds, handed_over
from tests.factories import assert_error, location, member, sku, staff, stock_in
from tests.integration.fulfilment.world import P, build, lines, post
from tests.integration.marketing.support import template

pytestmark = pytest.mark.django_db


@pytest.fixture
def w(monkeypatch):
    world = build(monkeypatch)
    world.s3 = sku(price_fen=3333, weight_g=300)
    for loc in (world.a, world.b, world.w):
        stock_in(loc, world.s3, 20)
    return world


def relay() -> None:
    events_relay(handlers=[marketing_events])


def pay(order_id: int) -> Order:
    with transaction.atomic():
        order = lock_order(order_id)
        lifecycle.order_paid(order, amount_fen=order.total_fen, by=system("test-payment"))
    return handed_over(order)


def test_a_delivered_order_returned_whole_gives_back_every_point_and_the_coupon(client, w, monkeypatch):
    refunds = fake_refunds(monkeypatch)
    m, token = member()
    pts.points_earn(m.pk, 10_000, "gift:1", w.now)
    c = claims.coupon_issue(template_id=template(amount_fen=300, threshold_fen=0).pk, member=m, source="claim")
    body = {"lines": lines((w.s3, 1)), "channel": "h5", "choice": "same_city", "lat": P.lat, "lng": P.lng,
            "coupon_ids": [c.pk], "points": 700}
    r = post(client, "/api/v1/orders", body, token, "d1")
    assert r.status_code == 201, r.content
    assert r.json()["delivery_fee_fen"] > 0  # a fee the returns will not refund
    order = pay(r.json()["id"])
    line = OrderLine.objects.get(order=order)
    ret = {"order_id": order.pk, "lines": [{"order_line_id": line.pk, "qty": 1}], "method": "store",
           "location_id": w.a.pk, "reason": "不合适"}
    assert post(client, "/api/v1/returns", ret, w.clerk_a, "ret").status_code == 201
    relay()
    relay()
    order.refresh_from_db()
    assert order.refunded_fen == line.payable_fen < order.paid_fen and refunds.total(order.pk) == line.payable_fen
    assert available_points(m.pk) == 10_000
    c.refresh_from_db()
    assert c.status == "available"
    assert pts.points_check(PointsAccount.objects.get(member=m)) == ()


def test_points_never_make_the_order_dearer(client, w, settings):
    settings.O2O = {**settings.O2O, "DELIVERY_FEES": {**settings.O2O["DELIVERY_FEES"], "free_over_fen": 6000}}
    m, token = member()
    pts.points_earn(m.pk, 10_000, "gift:1", w.now)
    base = {"lines": lines((w.s3, 2)), "lat": P.lat, "lng": P.lng}  # 66.66 of goods: free delivery
    totals = {}
    for points in (0, 200, -1):
        q = post(client, "/api/v1/checkout/quote", {**base, "points": points}, token).json()
        same = next(o for o in q["options"] if o["kind"] == "same_city")
        totals[points] = same["total_fen"]
        assert same["delivery_fee_fen"] == 0
    assert totals[0] > totals[200] > totals[-1]


def test_a_store_scoped_coupon_is_checked_against_the_store_that_ships(client, w):
    m, token = member()
    c = claims.coupon_issue(template_id=template(stores=[w.c], amount_fen=500, threshold_fen=0).pk, member=m,
                            source="claim")
    body = {"lines": lines((w.s3, 1)), "channel": "h5", "choice": "same_city", "lat": P.lat, "lng": P.lng,
            "price_location_id": w.c.pk, "coupon_ids": [c.pk]}  # naming the coupon's store does not unlock it
    q = post(client, "/api/v1/checkout/quote", {k: v for k, v in body.items() if k not in ("channel", "choice")},
             token).json()
    same = next(o for o in q["options"] if o["kind"] == "same_city")
    assert same["detail"]["discount_fen"] == 0 and same["detail"]["marketing"]["rejected_coupons"]
    assert_error(post(client, "/api/v1/orders", body, token, "s1"), 409, "coupon_not_applicable")
    assert Coupon.objects.get(pk=c.pk).status == "available" and not Order.objects.exists()


def test_a_merge_moves_coupons_and_its_undo_moves_them_back():
    t = template(member_limit=1)
    survivor, _ = member()
    merged, _ = member()
    mine = claims.coupon_issue(template_id=t.pk, member=survivor, source="claim")
    theirs = claims.coupon_issue(template_id=t.pk, member=merged, source="claim")
    merge = member_merge(survivor_id=survivor.pk, merged_id=merged.pk, now=timezone.now())
    theirs.refresh_from_db()
    assert theirs.member_id == survivor.pk and theirs.slot == 2 and theirs.member_limit == 2
    assert Coupon.objects.get(pk=mine.pk).slot == 1
    member_merge_undo(merge_id=merge.pk, user=staff("hq_admin")[0], now=timezone.now())
    theirs.refresh_from_db()
    assert (theirs.member_id, theirs.slot, theirs.member_limit) == (merged.pk, 1, 1)


def test_a_merge_keeps_a_birthday_only_the_merged_member_gave_and_its_undo_takes_it_back():
    survivor, _ = member()
    merged, _ = member()
    MemberReach.objects.create(member=survivor, home_lat=31.2, home_lng=121.4)  # places, no birthday
    MemberReach.objects.create(member=merged, birthday=date(1990, 5, 17))
    merge = member_merge(survivor_id=survivor.pk, merged_id=merged.pk, now=timezone.now())
    kept = MemberReach.objects.get(member=survivor)
    assert (kept.birthday, kept.home_lat) == (date(1990, 5, 17), 31.2)
    member_merge_undo(merge_id=merge.pk, user=staff("hq_admin")[0], now=timezone.now())
    assert MemberReach.objects.get(member=survivor).birthday is None
    assert MemberReach.objects.get(member=merged).birthday == date(1990, 5, 17)


def test_the_counter_checks_the_members_tier():
    store = location()
    m, _ = member()
    TierState.objects.create(member=m, tier="gold")
    c = claims.coupon_issue(template_id=template(tiers=["gold"]).pk, member=m, source="claim")
    TierState.objects.filter(member=m).update(tier="silver")  # downgraded since
    with pytest.raises(Forbidden) as e:
        redemption.coupon_redeem_at_counter(code=c.code, store_id=store.pk, user_id=staff("clerk", loc=store)[0].pk)
    assert e.value.code == "coupon_tier_required"


def test_impossible_campaigns_are_refused_by_the_database():
    for bad in ({"kind": "free_gift", "gift_sku": sku(), "gift_qty": 1, "redeem_online": True},
                {"auto_on": "birthday", "claimable": True},
                {"kind": "fixed_price", "amount_fen": 0}):
        with pytest.raises(IntegrityError), transaction.atomic():
            template(**bad)
    now = timezone.now()
    with pytest.raises(IntegrityError), transaction.atomic():
        Promotion.objects.create(name="赠品", kind="free_gift", gift_sku=sku(), gift_qty=1, starts_at=now,
                                 ends_at=now + timezone.timedelta(days=1))
    assert not CouponTemplate.objects.filter(kind="free_gift", redeem_online=True).exists()


def test_a_misconfigured_promotion_is_left_out_not_breaking_checkout(client, w):
    now = timezone.now()
    Promotion.objects.create(name="坏数据", kind="amount_off", amount_fen=100, channels="h5", starts_at=now,
                             ends_at=now + timezone.timedelta(days=1))
    Promotion.objects.create(name="满10减1", kind="amount_off", amount_fen=100, threshold_fen=1000, starts_at=now,
                             ends_at=now + timezone.timedelta(days=1))
    _, token = member()
    q = post(client, "/api/v1/checkout/quote", {"lines": lines((w.s3, 1)), "lat": P.lat, "lng": P.lng}, token)
    assert q.status_code == 200, q.content
    assert q.json()["discount_fen"] == 100  # the good promotion applies; the broken one is skipped
