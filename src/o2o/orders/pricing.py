"""Prices a basket for checkout: each line at the store and channel that apply, then the
core's pricing steps (the coupons, points and tier issues add steps through
``O2O["PRICING_STEPS"]``, without changing this flow), then the customer's delivery fee.

Two queries whatever the basket size: the SKUs, and their price overrides.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime

from django.conf import settings
from django.db.models import Q
from django.utils.module_loading import import_string

from o2o.catalog.models import PriceOverride, Sku
from o2o.common.errors import InvalidInput
from o2o.core.orders import CartLine, PricingStep, Totals, price
from o2o.core.pricing import PriceOverride as CoreOverride
from o2o.core.pricing import resolve_price
from o2o.fulfilment.network import load_basket

# What the customer pays for delivery (our cost is the routing plan's, not this). Free above
# ``free_over_fen`` of goods after discounts; pickup is always free.
DEFAULT_FEES = {"pickup": 0, "same_city": 600, "express": 1000, "free_over_fen": 9900}


@dataclass(frozen=True)
class PricedBasket:
    skus: dict[int, Sku]
    lines: tuple[CartLine, ...]
    totals: Totals
    sources: dict[int, str]  # sku_id -> price source (store_channel, store, channel, list)


def steps() -> list[PricingStep]:
    return [import_string(p)() for p in settings.O2O.get("PRICING_STEPS", [])]


def fees() -> dict[str, int]:
    return {**DEFAULT_FEES, **settings.O2O.get("DELIVERY_FEES", {})}


def delivery_fee(modes: Iterable[str], goods_after_discount_fen: int) -> int:
    """One fee per order, by the most expensive mode among its shipments; free above the threshold."""
    table = fees()
    fee = max((table.get(m, 0) for m in modes), default=0)
    return 0 if goods_after_discount_fen >= table["free_over_fen"] else fee


def unit_prices(skus: Sequence[Sku], *, location_id: int | None, channel: str | None,
                at: datetime) -> dict[int, tuple[int, str]]:
    """(price_fen, source) for each SKU at the location and channel (one query for every override)."""
    rows = PriceOverride.objects.filter(sku_id__in=[s.pk for s in skus])
    rows = rows.filter(Q(location__isnull=True) | Q(location_id=location_id)) if location_id else rows.filter(
        location__isnull=True)
    by_sku: dict[int, list[CoreOverride]] = defaultdict(list)
    for r in rows:
        by_sku[r.sku_id].append(CoreOverride(location_id=r.location_id, channel=r.channel, price_fen=r.price_fen,
                                             starts_at=r.starts_at, ends_at=r.ends_at))
    out = {}
    for s in skus:
        resolved = resolve_price(s.list_price_fen, by_sku.get(s.pk, []), location_id=location_id, channel=channel,
                                 at=at)
        out[s.pk] = (resolved.price_fen, resolved.source.value)
    return out


def delivery_waived(chain: Iterable[PricingStep], context: Mapping[str, object]) -> bool:
    """A step may waive the delivery fee (a member tier's free delivery) with ``free_delivery(context)``."""
    return any(getattr(step, "free_delivery", None) is not None and step.free_delivery(context) for step in chain)


def price_basket(lines: Iterable[tuple[int, int]], *, location_id: int | None, channel: str, at: datetime,
                 modes: Iterable[str] = (), context: Mapping[str, object] | None = None,
                 basket: tuple | None = None) -> PricedBasket:
    """Check the lines (422s of the routing quote; or take ``basket``, already checked), price them,
    run the steps, add the delivery fee."""
    basket = load_basket(lines) if basket is None else basket
    skus = {s.pk: s for s in Sku.objects.filter(pk__in=[ln.sku_id for ln in basket])}
    prices = unit_prices(list(skus.values()), location_id=location_id, channel=channel, at=at)
    cart = tuple(CartLine(sku_id=ln.sku_id, qty=ln.qty, unit_price_fen=prices[ln.sku_id][0],
                          list_price_fen=skus[ln.sku_id].list_price_fen) for ln in basket)
    chain, ctx = steps(), context or {}
    try:
        goods = price(cart, steps=chain, delivery_fee_fen=0, context=ctx)
        fee = 0 if delivery_waived(chain, ctx) else delivery_fee(modes, goods.goods_fen - goods.discount_fen)
        totals = price(cart, steps=chain, delivery_fee_fen=fee, context=ctx)
    except ValueError as exc:
        raise InvalidInput(str(exc), code="invalid_price") from exc
    return PricedBasket(skus=skus, lines=cart, totals=totals, sources={k: v[1] for k, v in prices.items()})


def totals_json(totals: Totals) -> dict:
    return {
        "goods_fen": totals.goods_fen, "discount_fen": totals.discount_fen,
        "delivery_fee_fen": totals.delivery_fee_fen, "total_fen": totals.total_fen,
        "adjustments": [{"kind": a.kind, "label": a.label, "amount_fen": a.amount_fen, "per_line": list(a.per_line)}
                        for a in totals.adjustments],
        "explanation": list(totals.explanation),
    }
