"""Counter 核销 tied to the till's sale (receipt_no, checked by the pricing engine) and 撤销核销 (reverse):
once, by the store that redeemed it, within the window; the error shape for bad input."""

from __future__ import annotations

from datetime import timedelta

import pytest
from django.core.cache import cache
from django.utils import timezone

from o2o.common.errors import Conflict
from o2o.marketing import claims, pricing, redemption
from o2o.marketing.models import Coupon, CouponEvent
from o2o.orders.actors import By
from o2o.orders.pos_orders import pos_order_record
from tests.factories import assert_error, category, location, member, sku_in, staff
from tests.integration.fulfilment.world import post
from tests.integration.marketing.support import fixed_window, template

pytestmark = pytest.mark.django_db

REDEEM = "/api/v1/coupons/redeem"


def rev(cid: int) -> str:
    return f"/api/v1/coupons/{cid}/reverse"


def coupon(m=None, **kw) -> Coupon:  # noqa: ANN001
    return claims.coupon_issue(template_id=template(**kw).pk, member=m or member()[0], source="claim")


def sale(store, receipt: str, lines: list[tuple], *, paid: int | None = None, m=None):  # noqa: ANN001, ANN201
    goods = sum(q * p for _, q, p in lines)
    order, _ = pos_order_record(location_id=store.pk, receipt_no=receipt, lines=lines,
                                paid_fen=goods if paid is None else paid, payment_method="cash",
                                member_id=m.pk if m else None, occurred_at=timezone.now(), by=By(label="till"))
    return order


def test_a_receipt_ties_the_coupon_to_the_sale_and_the_clerk_reverses_it_once(client):
    store = location()
    clerk = staff("clerk", loc=store)[1]
    m, _ = member()
    c = coupon(m)  # 满50减10
    s = sku_in(category("HOME"), price_fen=3000)
    order = sale(store, "R-1001", [(s.pk, 2, 3000)], m=m)
    r = post(client, REDEEM, {"code": c.code, "location_id": store.pk, "receipt_no": "R-1001"}, clerk, "k1")
    assert r.status_code == 200, r.content
    assert r.json()["state"] == "used" and r.json()["used_order_id"] == order.pk
    assert CouponEvent.objects.get(coupon=c, kind="used").order_id == order.pk
    back = post(client, rev(c.pk), {"location_id": store.pk, "note": "顾客改用现金"}, clerk, "v1")
    assert back.status_code == 200, back.content
    assert back.json()["state"] == "available" and back.json()["returned"] is True
    assert back.json()["used_order_id"] is None and back.json()["used_store_id"] is None
    replay = post(client, rev(c.pk), {"location_id": store.pk, "note": "顾客改用现金"}, clerk, "v1")
    assert replay.status_code == 200 and replay.json() == back.json()  # a retried request: the first answer
    assert_error(post(client, rev(c.pk), {"location_id": store.pk}, clerk, "v1"), 409, "idempotency_key_reused")
    assert_error(post(client, rev(c.pk), {"location_id": store.pk}, clerk, "v2"), 409, "coupon_already_reversed")
    ev = CouponEvent.objects.filter(coupon=c, kind="returned").get()
    assert ev.store_id == store.pk and ev.user is not None and ev.order_id == order.pk and "顾客改用现金" in ev.note
    # Back in the wallet: it can be redeemed again.
    again = post(client, REDEEM, {"code": c.code, "location_id": store.pk, "receipt_no": "R-1001"}, clerk, "k2")
    assert again.status_code == 200, again.content


def test_another_stores_clerk_cannot_reverse(client):
    mine, other = location(), location()
    clerk_mine, clerk_other = staff("clerk", loc=mine), staff("clerk", loc=other)
    c = coupon(threshold_fen=0)
    redemption.coupon_redeem_at_counter(code=c.code, store_id=mine.pk, user_id=clerk_mine[0].pk)
    assert_error(post(client, rev(c.pk), {"location_id": other.pk}, clerk_other[1]), 404, "unknown_coupon")
    assert_error(post(client, rev(c.pk), {"location_id": mine.pk}, clerk_other[1]), 403)
    assert_error(post(client, rev(999_999_999), {"location_id": other.pk}, clerk_other[1]), 404, "unknown_coupon")
    _, token = member()
    assert_error(post(client, rev(c.pk), {"location_id": mine.pk}, token), 403)
    assert Coupon.objects.get(pk=c.pk).status == "used"
    assert not CouponEvent.objects.filter(coupon=c, kind="returned").exists()


def test_the_window_passed_for_a_clerk_but_not_for_a_manager_the_same_china_day(client, settings):
    store = location()
    clerk, manager = staff("clerk", loc=store), staff("store_manager", loc=store)
    c = coupon(threshold_fen=0, **fixed_window())
    redemption.coupon_redeem_at_counter(code=c.code, store_id=store.pk, user_id=clerk[0].pk,
                                        now=timezone.now() - timedelta(minutes=31))
    err = assert_error(post(client, rev(c.pk), {"location_id": store.pk}, clerk[1]), 409, "reverse_window_passed")
    assert err["details"]["window_min"] == 30
    settings.O2O = {**settings.O2O, "COUPON_REVERSE_WINDOW_MIN": 45}
    ok = post(client, rev(c.pk), {"location_id": store.pk}, clerk[1])
    assert ok.status_code == 200, ok.content
    # A manager, later the same China day (function level: the day is fixed, not the test's clock).
    c2 = coupon(threshold_fen=0, **fixed_window())
    noon = timezone.now().astimezone(redemption.CHINA).replace(hour=12, minute=0) - timedelta(days=0)
    noon = max(noon, c2.valid_from + timedelta(minutes=1))
    redemption.coupon_redeem_at_counter(code=c2.code, store_id=store.pk, user_id=clerk[0].pk, now=noon)
    evening = noon.replace(hour=23, minute=30)
    with pytest.raises(Conflict) as e:
        redemption.coupon_reverse_at_counter(coupon_id=c2.pk, store_id=store.pk, user_id=clerk[0].pk, now=evening)
    assert e.value.code == "reverse_window_passed"
    tomorrow = evening + timedelta(hours=1)
    with pytest.raises(Conflict) as e:
        redemption.coupon_reverse_at_counter(coupon_id=c2.pk, store_id=store.pk, user_id=manager[0].pk,
                                             same_day=True, now=tomorrow)
    assert e.value.code == "reverse_window_passed"
    back, returned = redemption.coupon_reverse_at_counter(coupon_id=c2.pk, store_id=store.pk,
                                                          user_id=manager[0].pk, same_day=True, now=evening)
    assert returned and back.status == "available"


def test_an_expired_coupon_stays_used_and_a_second_reverse_is_refused():
    store = location()
    clerk, _ = staff("clerk", loc=store)
    now = timezone.now()
    c = coupon(threshold_fen=0, valid_days=None, valid_from=now - timedelta(days=1),
               valid_until=now + timedelta(minutes=5))
    redemption.coupon_redeem_at_counter(code=c.code, store_id=store.pk, user_id=clerk.pk, now=now)
    later = now + timedelta(minutes=6)  # within the 30 minutes, but the coupon has expired
    got, returned = redemption.coupon_reverse_at_counter(coupon_id=c.pk, store_id=store.pk, user_id=clerk.pk,
                                                         now=later)
    assert returned is False and got.status == "used" and Coupon.objects.get(pk=c.pk).status == "used"
    assert "已过期" in CouponEvent.objects.get(coupon=c, kind="returned").note
    with pytest.raises(Conflict) as e:
        redemption.coupon_reverse_at_counter(coupon_id=c.pk, store_id=store.pk, user_id=clerk.pk, now=later)
    assert e.value.code == "coupon_already_reversed"
    assert CouponEvent.objects.filter(coupon=c, kind="returned").count() == 1


def test_a_threshold_coupon_needs_a_receipt_and_the_sale_must_reach_it(client):
    store = location()
    clerk = staff("clerk", loc=store)[1]
    m, _ = member()
    c = coupon(m)  # 满50减10
    s = sku_in(category("HOME"), price_fen=2000)
    err = assert_error(post(client, REDEEM, {"code": c.code, "location_id": store.pk}, clerk), 422, "receipt_needed")
    assert err["details"]["why"] == ["threshold"] and err["details"]["field"] == "receipt_no"
    sale(store, "R-LOW", [(s.pk, 2, 2000)], m=m)  # ¥40
    err = assert_error(post(client, REDEEM, {"code": c.code, "location_id": store.pk, "receipt_no": "R-LOW"}, clerk),
                       409, "coupon_not_applicable")
    assert "5000" in err["details"]["reason"] or "50" in err["details"]["reason"]
    # ¥60 at the till, ¥15 off there: ¥45 left, below the threshold (taken over what is left, as online).
    sale(store, "R-DISC", [(s.pk, 3, 2000)], paid=4500, m=m)
    assert_error(post(client, REDEEM, {"code": c.code, "location_id": store.pk, "receipt_no": "R-DISC"}, clerk), 409,
                 "coupon_not_applicable")
    assert_error(post(client, REDEEM, {"code": c.code, "location_id": store.pk, "receipt_no": "NOPE"}, clerk), 404,
                 "unknown_receipt")
    other = location()
    sale(other, "R-ELSE", [(s.pk, 5, 2000)], m=m)  # a receipt of another store is not found here
    assert_error(post(client, REDEEM, {"code": c.code, "location_id": store.pk, "receipt_no": "R-ELSE"}, clerk), 404,
                 "unknown_receipt")
    sale(store, "R-THEIRS", [(s.pk, 5, 2000)], m=member()[0])
    assert_error(post(client, REDEEM, {"code": c.code, "location_id": store.pk, "receipt_no": "R-THEIRS"}, clerk),
                 409, "receipt_other_member")
    assert Coupon.objects.get(pk=c.pk).status == "available"
    sale(store, "R-OK", [(s.pk, 3, 2000)])  # ¥60, an anonymous till sale
    ok = post(client, REDEEM, {"code": c.code, "location_id": store.pk, "receipt_no": "R-OK"}, clerk)
    assert ok.status_code == 200, ok.content


def test_a_category_scoped_coupon_with_a_receipt_having_or_not_having_the_category(client):
    store = location()
    clerk = staff("clerk", loc=store)[1]
    paint, tiles = category("PAINT"), category("TILES")
    t = template(threshold_fen=0)
    t.categories.set([paint])
    m, _ = member()
    c = claims.coupon_issue(template_id=t.pk, member=m, source="claim")
    cache.delete(pricing.PARENTS_KEY)  # the category tree is cached a minute; this test just grew it
    in_paint, in_tiles = sku_in(category("PAINT-W", parent=paint), price_fen=5000), sku_in(tiles, price_fen=5000)
    seen = client.get("/api/v1/coupons/lookup", {"code": c.code, "location_id": store.pk},
                      HTTP_AUTHORIZATION=f"Bearer {clerk}")
    assert seen.status_code == 200 and seen.json()["receipt_needed"] == ["category"]
    assert_error(post(client, REDEEM, {"code": c.code, "location_id": store.pk}, clerk), 422, "receipt_needed")
    sale(store, "R-TILES", [(in_tiles.pk, 1, 5000)])
    assert_error(post(client, REDEEM, {"code": c.code, "location_id": store.pk, "receipt_no": "R-TILES"}, clerk),
                 409, "coupon_not_applicable")
    sale(store, "R-PAINT", [(in_tiles.pk, 1, 5000), (in_paint.pk, 1, 5000)])  # a child category counts
    ok = post(client, REDEEM, {"code": c.code, "location_id": store.pk, "receipt_no": "R-PAINT"}, clerk)
    assert ok.status_code == 200, ok.content


def test_unconditional_coupons_need_no_receipt(client):
    store = location()
    clerk = staff("clerk", loc=store)[1]
    flat = coupon(threshold_fen=0)  # 立减¥10
    voucher = coupon(kind="service_voucher", service="甲醛检测", amount_fen=20000, threshold_fen=0)
    for c in (flat, voucher):
        r = post(client, REDEEM, {"code": c.code, "location_id": store.pk}, clerk)
        assert r.status_code == 200, r.content
        assert r.json()["used_order_id"] is None


def test_bad_input_has_the_error_shape(client):
    store = location()
    clerk = staff("clerk", loc=store)[1]
    c = coupon(threshold_fen=0)
    for bad in ("", "x" * 41, "有中文", "a b"):
        assert_error(post(client, REDEEM, {"code": c.code, "location_id": store.pk, "receipt_no": bad}, clerk), 422)
    assert_error(post(client, rev(c.pk), {"location_id": 0}, clerk), 422)
    assert_error(post(client, rev(c.pk), {"location_id": store.pk, "note": "x" * 201}, clerk), 422)
    assert_error(post(client, rev(c.pk), "{oops", clerk), 400)
    assert_error(post(client, rev(c.pk), {"location_id": store.pk}, None), 401)
    assert_error(post(client, rev(c.pk), {"location_id": store.pk}, clerk), 404, "unknown_coupon")  # never redeemed
    assert client.post(f"/api/v1/coupons/{2**70}/reverse", data="{}", content_type="application/json",
                       HTTP_AUTHORIZATION=f"Bearer {clerk}").status_code in (404, 422)
    assert Coupon.objects.get(pk=c.pk).status == "available"
