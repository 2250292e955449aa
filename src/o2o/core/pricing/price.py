"""The price of a SKU at one store, on one channel, at one moment.

A SKU has a list price; price overrides replace it for one store, for one channel, or for
one store on one channel, optionally within a time window. :func:`resolve_price` picks the
override that applies, or the list price when none does. Money is integer fen.

Which override wins (the stated precedence)
-------------------------------------------

Only overrides *active* at ``at`` take part: ``starts_at <= at < ends_at``, where an empty
``starts_at`` means "since forever" and an empty ``ends_at`` means "until further notice".

1. ``store_channel`` -- an override for this store **and** this channel;
2. ``store`` -- an override for this store on any channel (empty channel);
3. ``channel`` -- an override for any store (empty location) on this channel;
4. ``list`` -- no active override applies: the SKU's list price.

The store level beats the channel level on purpose: 线上线下同价 -- the store's shelf price
is what its online customers see too, so a store markdown (say, of short-dated milk) also
applies to mini-program and app orders picked from that store. A channel-wide price (a
Douyin live-stream price) only applies where the store has not set its own.

Within one level, when several overrides are active at once, the one that **started
latest** wins (an open start counts as the earliest possible start): the newest decision
replaces the older, broader one. Remaining ties go to the **lowest price**, so the outcome
never depends on the order in which overrides are given.

An override with neither a store nor a channel is not a valid override (the database
refuses it); it is ignored here rather than treated as a second list price. Without a store
(``location_id=None``) only channel overrides can apply; without a channel
(``channel=None`` or ``""``) only store-wide overrides can apply.

The comparisons use whatever datetimes the caller passes: give aware datetimes throughout
(the Django side always does), never a mix of naive and aware ones.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from datetime import datetime
from enum import StrEnum

__all__ = ["PriceOverride", "PriceSource", "ResolvedPrice", "is_active", "resolve_price"]


class PriceSource(StrEnum):
    """Where a resolved price came from, strongest first."""

    STORE_CHANNEL = "store_channel"
    STORE = "store"
    CHANNEL = "channel"
    LIST = "list"


# Strongest level first; the index is the level's rank.
_LEVELS = (PriceSource.STORE_CHANNEL, PriceSource.STORE, PriceSource.CHANNEL)


@dataclass(frozen=True, slots=True)
class PriceOverride:
    """One override as plain data. ``location_id=None``: every store; ``channel`` empty: every channel."""

    location_id: int | None
    channel: str | None
    price_fen: int
    starts_at: datetime | None = None
    ends_at: datetime | None = None


@dataclass(frozen=True, slots=True)
class ResolvedPrice:
    """The price to charge and why; ``override`` is the override used (None for the list price)."""

    price_fen: int
    source: PriceSource
    override: PriceOverride | None = None


def is_active(override: PriceOverride, at: datetime) -> bool:
    """True when ``at`` falls in the override's window ``[starts_at, ends_at)``."""
    if override.starts_at is not None and at < override.starts_at:
        return False
    return override.ends_at is None or at < override.ends_at


def _level(override: PriceOverride, location_id: int | None, channel: str | None) -> PriceSource | None:
    """The precedence level at which ``override`` applies to (location, channel), or None."""
    o_channel = override.channel or None
    if override.location_id is not None:
        if location_id is None or override.location_id != location_id:
            return None
        if o_channel is None:
            return PriceSource.STORE
        return PriceSource.STORE_CHANNEL if channel and o_channel == channel else None
    if o_channel is None:
        return None  # unscoped: not a valid override
    return PriceSource.CHANNEL if channel and o_channel == channel else None


def _beats(a: PriceOverride, b: PriceOverride) -> bool:
    """Within one level: does ``a`` win over ``b``? Latest start first, then lowest price."""
    if a.starts_at != b.starts_at:
        if a.starts_at is None:
            return False
        if b.starts_at is None:
            return True
        return a.starts_at > b.starts_at
    return a.price_fen < b.price_fen


def resolve_price(
    list_price_fen: int,
    overrides: Iterable[PriceOverride],
    *,
    location_id: int | None,
    channel: str | None,
    at: datetime,
) -> ResolvedPrice:
    """The price of one SKU at ``location_id`` on ``channel`` at ``at`` (see the module docstring)."""
    best: list[PriceOverride | None] = [None] * len(_LEVELS)
    for override in overrides:
        level = _level(override, location_id, channel)
        if level is None or not is_active(override, at):
            continue
        rank = _LEVELS.index(level)
        current = best[rank]
        if current is None or _beats(override, current):
            best[rank] = override
    for rank, winner in enumerate(best):
        if winner is not None:
            return ResolvedPrice(price_fen=winner.price_fen, source=_LEVELS[rank], override=winner)
    return ResolvedPrice(price_fen=list_price_fen, source=PriceSource.LIST)
