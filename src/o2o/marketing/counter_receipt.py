"""The basket a counter 核销 is checked against: the till's sale (a POS order, ``o2o.orders.pos_orders``).

A coupon whose value depends on the basket (a threshold, 满减; a category or SKU scope, or excluded SKUs)
can only be checked against a sale: without a receipt number the counter refuses it (422
``receipt_needed``); a gift, a service voucher or an unconditional amount needs no basket.

With a receipt (``receipt_no``: the POS order with that ``external_ref`` at this store), the sale's lines
are priced by the same core engine as online checkout (``o2o.core.promotions.price_order`` with the
marketing ``PRICING_POLICY``): the till's own discount is the one promotion (so a threshold is taken over
what the sale still costs, as online thresholds are taken over what is left after promotions), the coupons
already used on this sale come first (``max_coupons``, same-template and thresholds over what is left hold
across them), then this coupon. The engine's refusal is a 409 ``coupon_not_applicable`` with its reason.

The sale's row is locked (``FOR NO KEY UPDATE``) for the 核销's transaction, so two coupons redeemed on one
receipt at the same moment are checked one after the other, never both against the untouched sale.
"""

from __future__ import annotations

from django.conf import settings

from o2o.catalog.models import Channel
from o2o.common.errors import Conflict, InvalidInput, NotFound
from o2o.core import promotions as core
from o2o.core.orders import CartLine
from o2o.marketing import pricing
from o2o.marketing.models import Coupon, CouponStatus, CouponTemplate
from o2o.members.pricing_steps import tier_terms
from o2o.orders.models import Order, OrderLine, OrderStatus
from o2o.orders.pos_orders import MAX_RECEIPT

__all__ = ["MAX_RECEIPT", "RECEIPT_PATTERN", "check_on_sale", "needs_receipt", "sale_for_update"]

RECEIPT_PATTERN = rf"^[!-~]{{1,{MAX_RECEIPT}}}$"
GONE = {OrderStatus.CANCELLED, OrderStatus.EXPIRED, OrderStatus.REFUNDED, OrderStatus.PENDING_PAYMENT}  # unpaid too


def needs_receipt(template: CouponTemplate) -> list[str]:
    """Why this template can only be redeemed against a sale: ``threshold``, ``category``, ``sku``,
    ``exclude_sku`` (empty: it can be redeemed without one)."""
    why = []
    if template.threshold_fen > 0:
        why.append("threshold")
    for name, label in (("categories", "category"), ("skus", "sku"), ("exclude_skus", "exclude_sku")):
        if getattr(template, name).exists():
            why.append(label)
    return why


def refuse_without_receipt(coupon: Coupon) -> None:
    why = needs_receipt(coupon.template)
    if why:
        raise InvalidInput("该券有使用门槛或限定商品，请填写小票号 This coupon has a threshold or a product scope: "
                           "give the receipt number of the sale", code="receipt_needed",
                           details={"coupon_id": coupon.pk, "field": "receipt_no", "why": why})


def sale_for_update(store_id: int, receipt_no: str) -> Order:
    """The till's sale with this receipt at this store, locked; 404 ``unknown_receipt``, 409 when refunded."""
    order = (Order.objects.select_for_update(no_key=True)
             .filter(store_id=store_id, channel=Channel.POS, external_ref=receipt_no).first())
    if order is None:
        raise NotFound("本店没有这张小票 No sale with this receipt at this store", code="unknown_receipt",
                       details={"receipt_no": receipt_no, "location_id": store_id})
    if order.status in GONE:
        raise Conflict("该小票已退款或取消 This sale was refunded or cancelled", code="receipt_not_usable",
                       details={"receipt_no": receipt_no, "order_id": order.pk, "status": order.status})
    return order


def _offer(coupon: Coupon, m2m: dict[int, dict[str, frozenset[int]]]) -> core.CouponOffer:
    t = coupon.template
    return core.CouponOffer(id=str(coupon.pk), label=f"{t.name} {t.name_en}".strip(), offer=t.core_offer(),
                            scope=t.core_scope(m2m[t.pk]), template_id=str(t.pk))


def check_on_sale(coupon: Coupon, order: Order) -> None:
    """409 unless the coupon applies to the sale's kept lines (after the till's discount and the coupons
    already used on it), by the core pricing engine; 409 ``receipt_other_member`` for another member's sale."""
    if order.member_id is not None and order.member_id != coupon.member_id:
        raise Conflict("小票属于其他会员 This sale belongs to another member", code="receipt_other_member",
                       details={"coupon_id": coupon.pk, "order_id": order.pk})
    cart, discount = [], 0
    for ln in OrderLine.objects.filter(order=order).order_by("pk"):
        kept = ln.qty - ln.returned_qty
        if kept > 0:
            cart.append(CartLine(ln.sku_id, kept, ln.unit_price_fen, ln.list_price_fen))
            discount += ln.discount_fen * kept // ln.qty
    if not cart:
        raise Conflict("该小票的商品已全部退回 Every unit of this sale was returned", code="receipt_not_usable",
                       details={"order_id": order.pk})
    earlier = list(Coupon.objects.select_related("template").filter(used_order=order, status=CouponStatus.USED)
                   .exclude(pk=coupon.pk).order_by("used_at", "pk"))
    mine = [*earlier, coupon]
    m2m = pricing._m2m(CouponTemplate, list({c.template_id: c.template for c in mine}.values()), pricing.SCOPE_M2M)
    try:
        offers = tuple(_offer(c, m2m) for c in mine)
    except ValueError as exc:
        raise Conflict("该券配置有误 This coupon is misconfigured", code="coupon_not_applicable",
                       details={"coupon_id": coupon.pk, "reason": str(exc)[:200]}) from None
    till = (core.Promotion(id="pos", label="门店优惠 discount at the till", offer=core.AmountOff(off_fen=discount)),
            ) if discount > 0 else ()
    terms = tier_terms(coupon.member_id)
    req = core.PricingRequest(items=pricing.items_of(tuple(cart), {}), channel=Channel.POS, store_id=order.store_id,
                              tier=core.TierDiscount(tier=terms[0]) if terms else core.TierDiscount(),
                              promotions=till, coupons=offers, points_balance=0, points_requested=0,
                              delivery_fee_fen=0)
    result = core.price_order(req, pricing.policy())
    if str(coupon.pk) not in result.applied_coupons:
        reason = dict(result.rejected_coupons).get(str(coupon.pk), "")
        raise Conflict("该券不适用于这张小票 This coupon does not apply to this sale", code="coupon_not_applicable",
                       details={"coupon_id": coupon.pk, "order_id": order.pk, "reason": reason,
                                "max_coupons": settings.O2O.get("PRICING_POLICY", {}).get("max_coupons")})
