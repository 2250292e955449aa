"""The marketing pricing engine (``O2O["PRICING_ENGINE"] = "o2o.marketing.pricing.marketing_engine"``):
the core's promotion engine (``o2o.core.promotions.price_order``) fed from the database.

What it reads, per basket: the member's tier terms (members), the live promotions (a few rows, with
their scopes), the coupons the customer chose (only the member's own, available and valid now), the
member's spendable points when points are asked for, and the categories of the SKUs (for scopes).

The stacking rules are configuration, ``O2O["PRICING_POLICY"]`` (see :func:`policy`): stage order,
"all" or "best" promotions, coupons per order, whether coupons and the tier discount apply to lines a
promotion already discounted; the points rule is the members app's (``O2O["POINTS"]``).

Delivery: priced twice, first without a fee to learn what the goods come to after discounts (the
free-delivery threshold of ``O2O["DELIVERY_FEES"]`` reads it), then with the fee (which a tier's free
delivery or a free-delivery coupon/promotion may waive).

The extras returned (stored in the order's ``pricing`` and sent with ``order_priced``):
``coupon_ids`` used, ``rejected_coupons`` [{id, reason}], ``promotion_ids`` (stored promotions by number,
an order's extra ones by their own id, e.g. ``group:7``), ``points_used``,
``points_fen``, ``points_balance``, ``gifts`` [{sku_id, qty, source}].
``context["fulfil_location_ids"]``: for a delivery, the stores that ship it (store scopes read them, see
:func:`scope_store`). ``context["extra_promotions"]`` (core ``Promotion`` objects) join the live ones for this basket only: a
group deal's price (``o2o.groupbuy``) is priced this way. With ``context["strict"]`` (placing an order), a chosen coupon the engine rejects is a 409
``coupon_not_applicable``: an order never silently drops a coupon the customer picked.
"""

from __future__ import annotations

import logging
from collections.abc import Mapping
from dataclasses import replace
from datetime import datetime
from typing import Any

from django.conf import settings
from django.core.cache import cache

from o2o.catalog.models import Category, Sku
from o2o.common.errors import Conflict
from o2o.core import promotions as core
from o2o.core.orders import CartLine, Totals
from o2o.marketing.models import Coupon, CouponStatus, CouponTemplate, Promotion
from o2o.members.points import deduction_rule
from o2o.members.pricing_steps import tier_terms
from o2o.members.selectors import available_points
from o2o.orders.pricing import delivery_fee

log = logging.getLogger(__name__)
POLICY_KEYS = ("stages", "promotions", "max_coupons", "coupon_on_promoted_lines", "tier_on_promoted_lines",
               "points_on_delivery")


def policy() -> core.StackingPolicy:
    given = dict(settings.O2O.get("PRICING_POLICY", {}))
    unknown = set(given) - set(POLICY_KEYS)
    if unknown:
        raise ValueError(f"未知的叠加规则 Unknown PRICING_POLICY keys: {sorted(unknown)}")
    if "stages" in given:
        given["stages"] = tuple(given["stages"])
    return core.StackingPolicy(**given, points=deduction_rule())


def _m2m(model: type, rows: list, names: tuple[str, ...]) -> dict[int, dict[str, frozenset[int]]]:
    """Every row's many-to-many ids in one query per relation."""
    out: dict[int, dict[str, set[int]]] = {r.pk: {n: set() for n in names} for r in rows}
    for name in names:
        through = getattr(model, name).through
        own = f"{model._meta.model_name}_id"
        other = [f.attname for f in through._meta.fields if f.attname not in ("id", own)][0]
        for pk, other_id in through.objects.filter(**{f"{own}__in": list(out)}).values_list(own, other):
            out[pk][name].add(other_id)
    return {pk: {n: frozenset(v) for n, v in d.items()} for pk, d in out.items()}


SCOPE_M2M = ("stores", "categories", "skus", "exclude_skus")
PARENTS_KEY = "marketing:category-parents"


def live_promotions(at: datetime) -> tuple[core.Promotion, ...]:
    rows = list(Promotion.objects.filter(active=True, starts_at__lte=at, ends_at__gt=at).order_by("pk"))
    m2m = _m2m(Promotion, rows, SCOPE_M2M)
    out = []
    for r in rows:
        try:
            out.append(core.Promotion(id=str(r.pk), label=f"{r.name} {r.name_en}".strip(), offer=r.core_offer(),
                                      scope=r.core_scope(m2m[r.pk]), priority=r.priority, exclusive=r.exclusive))
        except ValueError as exc:  # one misconfigured row must not stop every checkout: it is left out, loudly
            log.error("promotion %s skipped: %s", r.pk, exc)
    return tuple(out)


def chosen_coupons(member_id: object, coupon_ids: object, at: datetime,
                   ) -> tuple[tuple[core.CouponOffer, ...], list[dict[str, Any]]]:
    """The chosen coupons the engine may consider, and the refused ones with why (not yours, used...)."""
    ids = [i for i in (coupon_ids or ()) if isinstance(i, int) and not isinstance(i, bool)]
    refused: list[dict[str, Any]] = [{"id": i, "reason": "券号无效 Not a coupon id"}
                                     for i in (coupon_ids or ()) if i not in ids]
    if not ids:
        return (), refused
    rows = {c.pk: c for c in Coupon.objects.select_related("template").filter(pk__in=ids, member_id=member_id)}
    templates = {c.template_id: c.template for c in rows.values()}
    m2m = _m2m(CouponTemplate, list(templates.values()), SCOPE_M2M) if templates else {}
    offers = []
    for i in dict.fromkeys(ids):
        c = rows.get(i)
        if c is None:
            refused.append({"id": i, "reason": "不是您的优惠券 Not one of your coupons"})
        elif c.status != CouponStatus.AVAILABLE or not (c.valid_from <= at < c.valid_until):
            refused.append({"id": i, "reason": "优惠券不可用(已使用或不在有效期) Used, or not valid now"})
        elif not c.template.redeem_online:
            refused.append({"id": i, "reason": "该券仅限门店使用 For use in store only"})
        else:
            t = c.template
            try:
                offers.append(core.CouponOffer(id=str(c.pk), label=f"{t.name} {t.name_en}".strip(),
                                               offer=t.core_offer(), scope=t.core_scope(m2m[t.pk]),
                                               template_id=str(t.pk)))
            except ValueError as exc:
                log.error("coupon template %s unusable: %s", t.pk, exc)
                refused.append({"id": i, "reason": "该券配置有误，请联系客服 This coupon is misconfigured"})
    return tuple(offers), refused


def _parents() -> dict[int, int | None]:
    """The category tree (a few hundred rows), cached a minute: the engine runs on every cart change."""
    parents = cache.get(PARENTS_KEY)
    if parents is None:
        parents = dict(Category.objects.values_list("pk", "parent_id"))
        cache.set(PARENTS_KEY, parents, 60)
    return parents


def _ancestors(category_ids: set[int]) -> dict[int, frozenset[int]]:
    parents = _parents()
    out = {}
    for cid in category_ids:
        chain, cur = [], cid
        while cur is not None and cur not in chain:
            chain.append(cur)
            cur = parents.get(cur)
        out[cid] = frozenset(chain)
    return out


def items_of(cart: tuple[CartLine, ...], skus: Mapping[int, Sku]) -> tuple[core.Item, ...]:
    cats = dict(Sku.objects.filter(pk__in=[c.sku_id for c in cart]).values_list("pk", "product__category_id"))
    chains = _ancestors({c for c in cats.values() if c is not None})
    return tuple(core.Item(sku_id=c.sku_id, qty=c.qty, unit_price_fen=c.unit_price_fen,
                           list_price_fen=c.list_price_fen, category_ids=chains.get(cats.get(c.sku_id), frozenset()))
                 for c in cart)


def scope_store(location_id: int | None, context: Mapping[str, object]) -> int | None:
    """The store a store-scoped offer is checked against: the pickup store, or for a delivery the one store
    that ships it (``context["fulfil_location_ids"]``, from the routing); a delivery from several stores (or
    from none named) matches no store scope. The price location a client names never unlocks a scope."""
    routed = context.get("fulfil_location_ids")
    if routed is None:
        return location_id
    ids = set(routed)  # type: ignore[arg-type]
    return next(iter(ids)) if len(ids) == 1 else None


def marketing_engine(cart: tuple[CartLine, ...], *, skus: Mapping[int, Sku], location_id: int | None, channel: str,
                     at: datetime, modes: list[str], context: Mapping[str, object]) -> tuple[Totals, dict[str, Any]]:
    member_id = context.get("member_id")
    terms = tier_terms(member_id)
    tier = (core.TierDiscount(tier=terms[0], label=terms[1], percent=terms[2], free_delivery=terms[3])
            if terms else core.TierDiscount())
    coupons, refused = chosen_coupons(member_id, context.get("coupon_ids"), at) if terms else ((), [])
    wanted = context.get("points") or 0
    balance = available_points(member_id, at) if terms and wanted else 0
    req = core.PricingRequest(items=items_of(cart, skus), channel=channel, store_id=scope_store(location_id, context),
                              tier=tier,
                              promotions=live_promotions(at) + tuple(context.get("extra_promotions") or ()),
                              coupons=coupons, points_balance=balance,
                              points_requested=wanted if isinstance(wanted, int) else 0, delivery_fee_fen=0)
    rules = policy()
    first = core.price_order(req, rules)
    t = first.totals
    # The free-delivery threshold reads the goods after discounts but before points (points are cash: using
    # them must never make the order dearer).
    fee = delivery_fee(modes, t.goods_fen - t.discount_fen + first.points_fen)
    result = core.price_order(replace(req, delivery_fee_fen=fee), rules) if fee else first
    refused += [{"id": int(cid), "reason": why} for cid, why in result.rejected_coupons]
    if context.get("strict") and refused:
        raise Conflict("所选优惠券不可用于本单 A chosen coupon cannot be used on this order",
                       code="coupon_not_applicable", details={"coupons": refused})
    extras = {"coupon_ids": [int(c) for c in result.applied_coupons], "rejected_coupons": refused,
              "promotion_ids": [int(p) if p.isdigit() else p for p in result.applied_promotions],
              "points_used": result.points_used,
              "points_fen": result.points_fen, "points_balance": balance,
              "gifts": [{"sku_id": g.sku_id, "qty": g.qty, "source": g.source} for g in result.gifts]}
    return result.totals, extras

