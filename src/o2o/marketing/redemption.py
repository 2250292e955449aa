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

The counter may name the sale (``receipt_no``, the till's POS order at this store): the coupon is checked
against its lines by the pricing engine and tied to it (``used_order``), so refunding that sale in full
returns the coupon like an online order's (``handlers``). A coupon with a threshold or a product scope
needs the receipt (``counter_receipt``).

撤销核销 (``coupon_reverse_at_counter``): the store that redeemed a coupon at its counter may undo it, once,
within ``O2O["COUPON_REVERSE_WINDOW_MIN"]`` minutes (default 30), store managers and HQ the same China day:
``used -> available`` under the coupon's row lock and a conditional UPDATE, only if the coupon is still
valid (else it stays used and the event says why), logged as a ``returned`` event with the staff member
and the store. A gift handed over is not undone here (the goods left the shelf: a return takes them back).
"""

from __future__ import annotations

from datetime import datetime, timedelta
from zoneinfo import ZoneInfo

from django.conf import settings
from django.db import transaction
from django.utils import timezone

from o2o.common.errors import Conflict, Forbidden, NotFound
from o2o.core.access import Role
from o2o.inventory.ledger import Who
from o2o.inventory.stock import stock_issue
from o2o.marketing import codes, counter_receipt
from o2o.marketing.models import Coupon, CouponEvent, CouponEventKind, CouponStatus
from o2o.marketing.offers import OfferKind
from o2o.members.tiers import current_tier
from o2o.orders.models import Order

COUNTER = "counter"
CHINA = ZoneInfo("Asia/Shanghai")
# Roles that may reverse a 核销 all that China day (a clerk: within the window only).
SAME_DAY_ROLES = frozenset({Role.HQ_ADMIN, Role.REGION_MANAGER, Role.STORE_MANAGER})


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
                             note: str = "", receipt_no: str | None = None) -> Coupon:
    """核销: use the coupon at the store's counter, once; logged with the clerk and the store. With
    ``receipt_no`` the coupon is checked against that sale of this store and tied to it (``used_order``);
    without, a coupon with a threshold or a product scope is refused (422 ``receipt_needed``)."""
    now = now or timezone.now()
    coupon = coupon_by_code(code)
    refusal = offline_refusal(coupon, store_id, now)
    if refusal is not None:
        err = Forbidden if refusal[0] in {"coupon_not_valid_here", "coupon_tier_required"} else Conflict
        raise err(refusal[1], code=refusal[0], details={"coupon_id": coupon.pk})
    if not receipt_no:
        counter_receipt.refuse_without_receipt(coupon)
    with transaction.atomic():
        sale = None
        if receipt_no:
            sale = counter_receipt.sale_for_update(store_id, receipt_no)
            counter_receipt.check_on_sale(coupon, sale)
        done = Coupon.objects.filter(pk=coupon.pk, status=CouponStatus.AVAILABLE, valid_from__lte=now,
                                     valid_until__gt=now).update(
            status=CouponStatus.USED, used_at=now, used_store_id=store_id, used_by_id=user_id, used_channel=COUNTER,
            used_order=sale)
        if done == 0:
            raise Conflict("券已使用 This coupon was already used", code="coupon_used", details={"coupon_id": coupon.pk})
        where = f"门店核销 counter, receipt {receipt_no}" if receipt_no else "门店核销 counter"
        CouponEvent.objects.create(coupon=coupon, kind=CouponEventKind.USED, at=now, user_id=user_id,
                                   store_id=store_id, order=sale, note=(note or where)[:200])
        _hand_over_gift(coupon, store_id, user_id, now)
    coupon.refresh_from_db()
    return coupon


def reverse_window_min() -> int:
    return int(settings.O2O.get("COUPON_REVERSE_WINDOW_MIN", 30))


def _reverse_refusal(coupon: Coupon, store_id: int, now: datetime, same_day: bool) -> tuple[str, str] | None:
    """Why this counter use cannot be undone now (the row is locked by the caller); None if it can."""
    last = CouponEvent.objects.filter(coupon=coupon).order_by("-pk").values_list("kind", flat=True).first()
    if last == CouponEventKind.RETURNED:
        return "coupon_already_reversed", "该核销已撤销 This redemption was already reversed"
    if coupon.status != CouponStatus.USED or coupon.used_channel != COUNTER or coupon.used_store_id != store_id:
        return "coupon_not_used_here", "这张券当前不是本店柜台核销的 This coupon is not redeemed at this counter"
    if coupon.template.kind == OfferKind.FREE_GIFT and coupon.template.gift_sku_id is not None:
        return "coupon_gift_handed_over", "赠品已交付，请走退货流程 The gift was handed over: take it back as a return"
    window = timedelta(minutes=reverse_window_min())
    in_window = now - coupon.used_at <= window
    today = now.astimezone(CHINA).date() == coupon.used_at.astimezone(CHINA).date()
    if not (in_window or (same_day and today)):
        return "reverse_window_passed", "已超过可撤销时间 Too late to reverse this redemption"
    return None


def coupon_reverse_at_counter(*, coupon_id: int, store_id: int, user_id: int, same_day: bool = False,
                              now: datetime | None = None, note: str = "") -> tuple[Coupon, bool]:
    """撤销核销: undo a counter use of this store, once, within ``COUPON_REVERSE_WINDOW_MIN`` minutes (or,
    ``same_day``, for store managers and HQ, the same China day). The coupon goes back to the member if it is
    still valid, else it stays used and the event says why. Returns (coupon, returned)."""
    now = now or timezone.now()
    with transaction.atomic():
        coupon = (Coupon.objects.select_for_update(of=("self",)).select_related("template")
                  .filter(pk=coupon_id).first())
        # Only a store that redeemed the coupon at its counter sees it here (another store: 404, as for orders).
        if coupon is None or not CouponEvent.objects.filter(coupon_id=coupon_id, kind=CouponEventKind.USED,
                                                            store_id=store_id, user__isnull=False).exists():
            raise NotFound("券不存在 Unknown coupon", code="unknown_coupon", details={"coupon_id": coupon_id})
        refusal = _reverse_refusal(coupon, store_id, now, same_day)
        if refusal is not None:
            raise Conflict(refusal[1], code=refusal[0], details={
                "coupon_id": coupon.pk, "used_at": coupon.used_at.isoformat() if coupon.used_at else None,
                "window_min": reverse_window_min()})
        order_id = coupon.used_order_id
        if coupon.valid_until <= now:
            CouponEvent.objects.create(coupon=coupon, kind=CouponEventKind.RETURNED, at=now, user_id=user_id,
                                       store_id=store_id, order_id=order_id,
                                       note=f"撤销核销，已过期不退回 reversed, expired: kept used {note}".strip()[:200])
            return coupon, False
        done = Coupon.objects.filter(pk=coupon.pk, status=CouponStatus.USED, used_channel=COUNTER,
                                     used_store_id=store_id, used_at=coupon.used_at).update(
            status=CouponStatus.AVAILABLE, used_at=None, used_order=None, used_store=None, used_by=None,
            used_channel="")
        if done == 0:
            raise Conflict("该核销已撤销 This redemption was already reversed", code="coupon_already_reversed",
                           details={"coupon_id": coupon.pk})
        CouponEvent.objects.create(coupon=coupon, kind=CouponEventKind.RETURNED, at=now, user_id=user_id,
                                   store_id=store_id, order_id=order_id,
                                   note=f"撤销核销 counter redemption reversed {note}".strip()[:200])
    coupon.refresh_from_db()
    return coupon, True


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

