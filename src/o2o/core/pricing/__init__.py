"""Pricing rules: which price applies to a SKU at a store, on a channel, at a moment."""

from o2o.core.pricing.price import PriceOverride, PriceSource, ResolvedPrice, is_active, resolve_price

__all__ = ["PriceOverride", "PriceSource", "ResolvedPrice", "is_active", "resolve_price"]
