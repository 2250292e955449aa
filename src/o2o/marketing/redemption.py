"""Using coupons: at online checkout (with the order, in its transaction), at the store counter (核销),
and giving them back when the order that used them is cancelled, expires or is refunded in full.

Each use is one conditional UPDATE ``available -> used`` (``WHERE status = 'available' AND the
coupon is in its validity``): of two counters scanning one coupon at the same moment, one updates
the row and the other finds nothing to update and answers 409 ``coupon_used``. Every use and every
return is written to ``CouponEvent`` with the staff member and the store.

A coupon is given back (``used -> available``) only if it is still valid; a coupon that expired
meanwhile stays used, and the event says why. A partial refund keeps the coupon used: the order
it discounted still stands (its discount stays allocated to the lines that were kept).

A gift coupon (``free_gift``: goods for a threshold, or goods bought with points, 积分兑换) hands the
goods over at the counter: the 核销 takes ``gift_qty`` of ``gift_sku`` off that store's stock in the same
transaction (inventory ledger ``sale`` at price 0), so the one stock truth knows the shelf is one unit
lighter; a store without the goods answers 409 ``insufficient_stock`` and the coupon stays available.
"""

from __future__ import annotations

from datetime import datetime

from django.db import transaction
from django.utils import timezone

from o2o.common.errors import Conflict, Forbidden, NotFound
from o2o.inventory.ledger import Who
from o2o.inventory.stock import stock_issue
from o2o.marketing import codes
from o2o.marketing.models import Coupon, CouponEvent, CouponEventKind, CouponStatus
from o2o.marketing.offers import OfferKind
from o2o.members.tiers import current_tier
from o2o.orders.models import Order

COUNTER = "counter"


def coupon_by_code(text: object) -> Coupon:
    code = codes.normalize(text)
    coupon = Coupon.objects.select_related("template", "member").filter(code=code).first() if code else None
    if coupon is None:
        raise NotFound("券码无效 Unknown coupon code", code="unknown_coupon", details={})
    return coupon


def state_of(coupon: Coupon, now: datetime) -> str:
    """available / used / void / expired / not_yet (the stored status plus the clock)."""
    if coupon.status != CouponStatus.AVAILABLE:
        return coupon.status
    if now >= coupon.valid_until:
        return "expired"
    if now < coupon.valid_from:
        return "not_yet"
    return "available"


def offline_refusal(coupon: Coupon, store_id: int, now: datetime) -> tuple[str, str] | None:
    """Why this coupon cannot be used at this store's counter now, as (code, message); None if it can."""
    state = state_of(coupon, now)
    if state == "used":
        return "coupon_used", "券已使用 This coupon was already used"
    if state == "void":
        return "coupon_void", "券已作废 This coupon was voided"
    if state == "expired":
        return "coupon_expired", "券已过期 This coupon has expired"
    if state == "not_yet":
        return "coupon_not_started", "券尚未生效 This coupon is not valid yet"
    t = coupon.template
    if t.tiers and current_tier(coupon.member_id).value not in t.tiers:
        return "coupon_tier_required", "会员等级不符 This coupon is for other member tiers"
    if not t.redeem_offline:
        return "coupon_online_only", "该券仅限线上使用 This coupon is for online orders only"
    if t.channels and "pos" not in t.channels:
        return "coupon_online_only", "该券不适用于门店 This coupon is not valid in stores"
    if t.stores.exists() and not t.stores.filter(pk=store_id).exists():
        return "coupon_not_valid_here", "该券不适用于本店 This coupon is not valid at this store"
    return None


def coupon_redeem_at_counter(*, code: object, store_id: int, user_id: int, now: datetime | None = None,
                             note: str = "") -> Coupon:
    """核销: use the coupon at the store's counter, once; logged with the clerk and the store."""
    now = now or timezone.now()
    coupon = coupon_by_code(code)
    refusal = offline_refusal(coupon, store_id, now)
    if refusal is not None:
        err = Forbidden if refusal[0] in {"coupon_not_valid_here", "coupon_tier_required"} else Conflict
        raise err(refusal[1], code=refusal[0], details={"coupon_id": coupon.pk})
    with transaction.atomic():
        done = Coupon.objects.filter(pk=coupon.pk, status=CouponStatus.AVAILABLE, valid_from__lte=now,
                                     valid_until__gt=now).update(
            status=CouponStatus.USED, used_at=now, used_store_id=store_id, used_by_id=user_id, used_channel=COUNTER)
        if done == 0:
            raise Conflict("券已使用 This coupon was already used", code="coupon_used", details={"coupon_id": coupon.pk})
        CouponEvent.objects.create(coupon=coupon, kind=CouponEventKind.USED, at=now, user_id=user_id,
                                   store_id=store_id, note=(note or "门店核销 counter")[:200])
        _hand_over_gift(coupon, store_id, user_id, now)
    coupon.refresh_from_db()
    return coupon


def _hand_over_gift(coupon: Coupon, store_id: int, user_id: int, now: datetime) -> None:
    """A gift (goods for a threshold, or goods exchanged for points) leaves the store's shelf with the 核销,
    in its transaction: no stock at this store (reserved units do not count) -> 409 ``insufficient_stock``
    and the coupon stays available."""
    t = coupon.template
    if t.kind != OfferKind.FREE_GIFT or t.gift_sku_id is None:
        return
    stock_issue(location_id=store_id, sku_id=t.gift_sku_id, qty=t.gift_qty, who=Who(user_id=user_id),
                reason="赠品核销 gift handed over" if not t.points_price else "积分兑换核销 points exchange handed over",
                key=f"coupon:{coupon.pk}:gift", reference=f"coupon:{coupon.pk}", now=now)


def coupons_use_for_order(order: Order, coupon_ids: list[int], now: datetime) -> None:
    """Take the order's coupons in its transaction (409 ``coupon_unavailable``: the whole order rolls back)."""
    for coupon_id in coupon_ids:
        done = Coupon.objects.filter(pk=coupon_id, member_id=order.member_id, status=CouponStatus.AVAILABLE,
                                     valid_from__lte=now, valid_until__gt=now).update(
            status=CouponStatus.USED, used_at=now, used_order=order, used_channel=order.channel,
            used_store_id=order.store_id)
        if done == 0:
            raise Conflict("优惠券已不可用，请重新确认 A coupon is no longer available; check the order again",
                           code="coupon_unavailable", details={"coupon_id": coupon_id})
        CouponEvent.objects.create(coupon_id=coupon_id, kind=CouponEventKind.USED, at=now, order=order,
                                   store_id=order.store_id, note=f"订单 order {order.number}")


def coupons_return_for_order(order_id: int, now: datetime, reason: str) -> int:
    """Give back the order's coupons that are still valid (idempotent: a returned coupon is no longer the
    order's). Returns how many came back."""
    back = 0
    with transaction.atomic():
        for coupon in Coupon.objects.select_for_update().filter(used_order_id=order_id, status=CouponStatus.USED):
            if coupon.valid_until <= now:
                if not CouponEvent.objects.filter(coupon=coupon, order_id=order_id,
                                                  kind=CouponEventKind.RETURNED).exists():
                    CouponEvent.objects.create(coupon=coupon, kind=CouponEventKind.RETURNED, at=now, order_id=order_id,
                                               note=f"已过期不退回 expired, kept used: {reason}"[:200])
                continue
            Coupon.objects.filter(pk=coupon.pk, status=CouponStatus.USED).update(
                status=CouponStatus.AVAILABLE, used_at=None, used_order=None, used_store=None, used_by=None,
                used_channel="")
            CouponEvent.objects.create(coupon=coupon, kind=CouponEventKind.RETURNED, at=now, order_id=order_id,
                                       note=f"退回 returned: {reason}"[:200])
            back += 1
    return back

