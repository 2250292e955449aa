"""Small builders for the promotion tests (no Django)."""

from __future__ import annotations

from collections.abc import Iterable

from o2o.core.promotions import (
    CouponOffer,
    Item,
    Offer,
    PricingRequest,
    PricingResult,
    Promotion,
    Scope,
)


def item(sku: int = 1, qty: int = 1, unit: int = 1000, cats: Iterable[int] = ()) -> Item:
    return Item(sku, qty, unit, unit, frozenset(cats))


def request(*items: Item, channel: str = "online", store_id: int | None = 1, **kw: object) -> PricingRequest:
    return PricingRequest(tuple(items), channel, store_id, **kw)  # type: ignore[arg-type]


def promo(pid: str, offer: Offer, scope: Scope | None = None, **kw: object) -> Promotion:
    return Promotion(pid, f"促销{pid} Promotion {pid}", offer, scope or Scope(), **kw)  # type: ignore[arg-type]


def coupon(cid: str, offer: Offer, scope: Scope | None = None, template: str = "") -> CouponOffer:
    return CouponOffer(cid, f"券{cid} Coupon {cid}", offer, scope or Scope(), template)


def payables(result: PricingResult) -> list[int]:
    return [line.payable_fen for line in result.totals.lines]


def parts(result: PricingResult, kind: str) -> tuple[int, ...]:
    """The per-line split of the adjustment ``kind`` (all zeros when it did not apply)."""
    for adj in result.totals.adjustments:
        if adj.kind == kind:
            return adj.per_line
    return (0,) * len(result.totals.lines)


def total(result: PricingResult) -> int:
    return result.totals.total_fen
