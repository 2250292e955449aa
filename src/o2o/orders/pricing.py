"""Prices a basket for checkout: each line at the store and channel that apply, then the
discounts, then the customer's delivery fee.

The discounts come from the pricing engine named by ``O2O["PRICING_ENGINE"]`` (a callable, see
:class:`PricingEngine`). The default, :func:`steps_engine`, runs the core's pricing steps listed in
``O2O["PRICING_STEPS"]``; the marketing app's engine (``o2o.marketing.pricing.marketing_engine``)
adds promotions, coupons and points with explicit stacking rules. Either way this flow does not
change: an engine returns the core's ``Totals`` and a dict of extras (the coupons and points it
used) that placing the order stores and hands on (``signals.order_priced``).

Two queries whatever the basket size: the SKUs, and their price overrides (plus the engine's own).
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any, Protocol

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
    extras: dict[str, Any] = field(default_factory=dict)  # what the engine used: coupons, points, gifts...


class PricingEngine(Protocol):
    """Discounts and delivery fee for priced cart lines: ``(Totals, extras)``; ValueError on bad input."""

    def __call__(self, cart: tuple[CartLine, ...], *, skus: Mapping[int, Sku], location_id: int | None,
                 channel: str, at: datetime, modes: list[str],
                 context: Mapping[str, object]) -> tuple[Totals, dict[str, Any]]: ...


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


def steps_engine(cart: tuple[CartLine, ...], *, skus: Mapping[int, Sku], location_id: int | None, channel: str,
                 at: datetime, modes: list[str], context: Mapping[str, object]) -> tuple[Totals, dict[str, Any]]:
    """The plain engine: ``O2O["PRICING_STEPS"]`` in their listed order, then the fee on what is left."""
    chain = steps()
    goods = price(cart, steps=chain, delivery_fee_fen=0, context=context)
    fee = 0 if delivery_waived(chain, context) else delivery_fee(modes, goods.goods_fen - goods.discount_fen)
    return price(cart, steps=chain, delivery_fee_fen=fee, context=context), {}


def engine() -> PricingEngine:
    return import_string(settings.O2O.get("PRICING_ENGINE", "o2o.orders.pricing.steps_engine"))


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
    try:
        totals, extras = engine()(cart, skus=skus, location_id=location_id, channel=channel, at=at,
                                  modes=list(modes), context=context or {})
    except ValueError as exc:
        raise InvalidInput(str(exc), code="invalid_price") from exc
    return PricedBasket(skus=skus, lines=cart, totals=totals, sources={k: v[1] for k, v in prices.items()},
                        extras=extras)


def totals_json(totals: Totals) -> dict:
    return {
        "goods_fen": totals.goods_fen, "discount_fen": totals.discount_fen,
        "delivery_fee_fen": totals.delivery_fee_fen, "total_fen": totals.total_fen,
        "adjustments": [{"kind": a.kind, "label": a.label, "amount_fen": a.amount_fen, "per_line": list(a.per_line)}
                        for a in totals.adjustments],
        "explanation": list(totals.explanation),
    }
