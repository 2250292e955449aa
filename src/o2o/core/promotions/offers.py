"""Offers: what a promotion or a coupon gives, and exactly how many fen that is on a cart.

Each offer is a frozen value checked when built (bad fields raise a bilingual ValueError).
:meth:`evaluate` looks at the lines the offer may touch (``idxs``: the covered lines the
stacking rules leave it, in cart order) **as the earlier stages left them**, and returns an
:class:`Effect`: the discount per line, whether the delivery fee is waived, whether a gift
is due -- or the bilingual reason it does not apply (threshold not reached, too few units,
nothing left to discount, no fee to waive).

The base
--------
Every threshold and percentage is taken over the **covered payable**: what the covered lines
still have to pay now (after tier, earlier promotions, earlier coupons), never the shelf
price. So a 满100减10 coupon after a 20 % promotion needs ¥100 of what is left.

The offers
----------
* :class:`AmountOff` -- 满 ``threshold`` 减 ``off``; with ``repeat`` it is 每满减:
  ``off x floor(base / threshold)``. Capped at the base.
* :class:`TieredAmountOff` -- several 满减 tiers; the best (largest ``off``) reached applies.
* :class:`PercentOff` -- ``percent`` % off the base, rounded down to the fen, capped at
  ``cap_fen``, only from ``threshold_fen``. (``percent`` is the share taken off: 20 = 8折.)
* :class:`BuyXGetY` -- the covered **units** sorted by unit value (high first, then sku_id,
  then line order); in every complete group of ``buy + get`` consecutive units the ``get``
  cheapest are free. Incomplete trailing groups get nothing.
* :class:`FixedPrice` -- covered units cost ``price_fen`` each when that is cheaper; with
  ``max_units``, only that many units (the most expensive ones: most saving first).
* :class:`FreeGift` -- no price change; a gift when the base reaches the threshold.
* :class:`ServiceVoucher` -- a 服务券 worth ``value_fen`` on the covered (service) lines:
  the math of ``AmountOff(value_fen)`` without a threshold.
* :class:`FreeDelivery` -- waives the delivery fee when the base reaches the threshold.

Units and rounding
------------------
All money is integer fen. A line paying ``P`` for ``Q`` units has ``P mod Q`` units worth
``P // Q + 1`` and the rest worth ``P // Q``: the same split as the refund schedule
(:func:`o2o.core.orders.refund_for`), so a line's units add up to exactly ``P`` and a
per-unit discount can never exceed what the line pays. Amount and percent discounts are
split over the covered lines in proportion to what each still pays, by largest remainder
(:func:`o2o.core.orders.allocate`): exact sums, no line below 0. Unit discounts land on
the lines that own the units.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import NamedTuple, Protocol

from o2o.core.orders.checkout import allocate, format_fen
from o2o.core.promotions.checks import is_int, require_int, require_text

__all__ = [
    "NOTHING_LEFT",
    "NO_FEE",
    "OFFER_TYPES",
    "AmountOff",
    "BuyXGetY",
    "Effect",
    "FixedPrice",
    "FreeDelivery",
    "FreeGift",
    "Lines",
    "Offer",
    "PercentOff",
    "ServiceVoucher",
    "TieredAmountOff",
    "spread",
]

NOTHING_LEFT = "无可抵扣金额 Nothing left to discount"
NO_FEE = "无配送费可免 No delivery fee to waive"


def not_reached(threshold_fen: int, base_fen: int) -> str:
    return (
        f"未满{format_fen(threshold_fen)} Spend at least {format_fen(threshold_fen)} on qualifying items "
        f"(now {format_fen(base_fen)})"
    )


def too_few_units(needed: int, have: int) -> str:
    return f"需满{needed}件 Needs {needed} qualifying units (now {have})"


class Lines(Protocol):
    """The cart as the earlier stages left it (what :meth:`evaluate` reads)."""

    payables: list[int]  # per line, what is still to pay
    qtys: tuple[int, ...]
    skus: tuple[int, ...]
    fee: int  # the delivery fee still charged


class Effect(NamedTuple):
    """What an offer gives: ``parts`` (one per cart line, sums to ``amount``), a waiver, a gift, or a reason."""

    parts: list[int] | None
    amount: int = 0
    waive: bool = False
    gift: bool = False
    reason: str | None = None


def _refuse(reason: str) -> Effect:
    return Effect(None, 0, reason=reason)


def _base(lines: Lines, idxs: Sequence[int]) -> int:
    pay = lines.payables
    return sum(pay[i] for i in idxs)


def spread(amount: int, lines: Lines, idxs: Sequence[int]) -> Effect:
    """``amount`` (<= the covered base) split over ``idxs`` by what each still pays."""
    if amount <= 0:
        return _refuse(NOTHING_LEFT)
    pay = lines.payables
    parts = [0] * len(pay)
    for i, part in zip(idxs, allocate(amount, [pay[i] for i in idxs]), strict=True):
        parts[i] = part
    return Effect(parts, sum(parts))


def _unit_runs(lines: Lines, idxs: Sequence[int]) -> list[tuple[int, int, int, int]]:
    """Covered units as runs ``(-unit value, sku_id, line index, count)``, most valuable first."""
    pay, qtys, skus = lines.payables, lines.qtys, lines.skus
    runs = []
    for i in idxs:
        q = qtys[i]
        low, high_count = divmod(pay[i], q)
        if high_count:
            runs.append((-(low + 1), skus[i], i, high_count))
        runs.append((-low, skus[i], i, q - high_count))
    runs.sort()
    return runs


def _unit_effect(parts: list[int]) -> Effect:
    amount = sum(parts)
    return Effect(parts, amount) if amount else _refuse(NOTHING_LEFT)


@dataclass(frozen=True, slots=True)
class AmountOff:
    """满 ``threshold_fen`` 减 ``off_fen``; ``repeat`` makes it 每满减 (once per whole threshold)."""

    off_fen: int
    threshold_fen: int = 0
    repeat: bool = False

    def __post_init__(self) -> None:
        require_int(self.off_fen, "减免金额", "off_fen", 1)
        require_int(self.threshold_fen, "门槛金额", "threshold_fen", 0)
        if not isinstance(self.repeat, bool):
            raise ValueError(f"repeat 必须是布尔值 repeat must be a bool: {self.repeat!r}")
        if self.repeat and self.threshold_fen <= 0:
            raise ValueError("每满减需要大于0的门槛 repeat=True needs threshold_fen > 0")

    def evaluate(self, lines: Lines, idxs: Sequence[int]) -> Effect:
        base = _base(lines, idxs)
        if base < self.threshold_fen:
            return _refuse(not_reached(self.threshold_fen, base))
        amount = self.off_fen * (base // self.threshold_fen) if self.repeat else self.off_fen
        return spread(min(amount, base), lines, idxs)


@dataclass(frozen=True, slots=True)
class TieredAmountOff:
    """Several 满减 tiers ``((threshold, off), ...)``, thresholds strictly increasing; the best reached."""

    tiers: tuple[tuple[int, int], ...]

    def __post_init__(self) -> None:
        shaped = isinstance(self.tiers, tuple | list) and len(self.tiers) > 0
        if not (shaped and all(isinstance(t, tuple | list) and len(t) == 2 for t in self.tiers)):
            raise ValueError(
                f"阶梯满减格式无效 tiers must be ((threshold_fen, off_fen), ...): {self.tiers!r}"
            )
        tiers = tuple((t[0], t[1]) for t in self.tiers)
        for threshold, off in tiers:
            require_int(threshold, "门槛金额", "tier threshold_fen", 0)
            require_int(off, "减免金额", "tier off_fen", 1)
        thresholds = [t for t, _ in tiers]
        if not all(a < b for a, b in zip(thresholds, thresholds[1:], strict=False)):
            raise ValueError(f"阶梯门槛必须严格递增 tier thresholds must strictly increase: {thresholds!r}")
        object.__setattr__(self, "tiers", tiers)

    def evaluate(self, lines: Lines, idxs: Sequence[int]) -> Effect:
        base = _base(lines, idxs)
        reached = [off for threshold, off in self.tiers if base >= threshold]
        if not reached:
            return _refuse(not_reached(self.tiers[0][0], base))
        return spread(min(max(reached), base), lines, idxs)


@dataclass(frozen=True, slots=True)
class PercentOff:
    """``percent`` % off the covered payable (rounded down), at most ``cap_fen``, from ``threshold_fen``."""

    percent: int
    cap_fen: int | None = None
    threshold_fen: int = 0

    def __post_init__(self) -> None:
        require_int(self.percent, "折扣百分比", "percent", 1, 100)
        if self.cap_fen is not None:
            require_int(self.cap_fen, "封顶金额", "cap_fen", 1)
        require_int(self.threshold_fen, "门槛金额", "threshold_fen", 0)

    def evaluate(self, lines: Lines, idxs: Sequence[int]) -> Effect:
        base = _base(lines, idxs)
        if base < self.threshold_fen:
            return _refuse(not_reached(self.threshold_fen, base))
        amount = base * self.percent // 100
        if self.cap_fen is not None:
            amount = min(amount, self.cap_fen)
        return spread(amount, lines, idxs)


@dataclass(frozen=True, slots=True)
class BuyXGetY:
    """买 ``buy`` 送 ``get``: in each complete group of ``buy + get`` units the ``get`` cheapest are free."""

    buy: int
    get: int

    def __post_init__(self) -> None:
        require_int(self.buy, "购买件数", "buy", 1)
        require_int(self.get, "赠送件数", "get", 1)

    def evaluate(self, lines: Lines, idxs: Sequence[int]) -> Effect:
        runs = _unit_runs(lines, idxs)
        group, buy, get = self.buy + self.get, self.buy, self.get
        units = sum(run[3] for run in runs)
        if units < group:
            return _refuse(too_few_units(group, units))
        limit = units // group * group  # positions past this are an incomplete group

        def free_before(pos: int) -> int:  # free positions in [0, pos)
            return pos // group * get + max(0, pos % group - buy)

        parts = [0] * len(lines.payables)
        pos = 0
        for neg_value, _, i, count in runs:
            if pos >= limit:
                break
            end = min(pos + count, limit)
            parts[i] += (free_before(end) - free_before(pos)) * -neg_value
            pos += count
        return _unit_effect(parts)


@dataclass(frozen=True, slots=True)
class FixedPrice:
    """Covered units at ``price_fen`` each where cheaper; at most ``max_units`` units (priciest first)."""

    price_fen: int
    max_units: int | None = None

    def __post_init__(self) -> None:
        require_int(self.price_fen, "一口价", "price_fen", 0)
        if self.max_units is not None:
            require_int(self.max_units, "限购件数", "max_units", 1)

    def evaluate(self, lines: Lines, idxs: Sequence[int]) -> Effect:
        runs = _unit_runs(lines, idxs)
        left = self.max_units if self.max_units is not None else sum(run[3] for run in runs)
        parts = [0] * len(lines.payables)
        for neg_value, _, i, count in runs:
            value = -neg_value
            if value <= self.price_fen or left == 0:
                break  # runs are most valuable first: nothing after saves anything
            take = min(count, left)
            parts[i] += take * (value - self.price_fen)
            left -= take
        return _unit_effect(parts)


@dataclass(frozen=True, slots=True)
class FreeGift:
    """A gift of ``qty`` x ``sku_id`` once the covered payable reaches ``threshold_fen``; no price change."""

    sku_id: int
    qty: int = 1
    threshold_fen: int = 0

    def __post_init__(self) -> None:
        if not is_int(self.sku_id):
            raise ValueError(f"赠品编号必须是整数 gift sku_id must be an integer: {self.sku_id!r}")
        require_int(self.qty, "赠品数量", "qty", 1)
        require_int(self.threshold_fen, "门槛金额", "threshold_fen", 0)

    def evaluate(self, lines: Lines, idxs: Sequence[int]) -> Effect:
        base = _base(lines, idxs)
        if base < self.threshold_fen:
            return _refuse(not_reached(self.threshold_fen, base))
        return Effect(None, 0, gift=True)


@dataclass(frozen=True, slots=True)
class ServiceVoucher:
    """A 服务券 for ``service`` worth up to ``value_fen`` on the covered (service) lines."""

    service: str
    value_fen: int

    def __post_init__(self) -> None:
        require_text(self.service, "服务名称", "service")
        require_int(self.value_fen, "券面值", "value_fen", 1)

    def evaluate(self, lines: Lines, idxs: Sequence[int]) -> Effect:
        return spread(min(self.value_fen, _base(lines, idxs)), lines, idxs)


@dataclass(frozen=True, slots=True)
class FreeDelivery:
    """Waives the delivery fee once the covered payable reaches ``threshold_fen``."""

    threshold_fen: int = 0

    def __post_init__(self) -> None:
        require_int(self.threshold_fen, "门槛金额", "threshold_fen", 0)

    def evaluate(self, lines: Lines, idxs: Sequence[int]) -> Effect:
        if lines.fee == 0:
            return _refuse(NO_FEE)
        base = _base(lines, idxs)
        if base < self.threshold_fen:
            return _refuse(not_reached(self.threshold_fen, base))
        return Effect(None, 0, waive=True)


Offer = (
    AmountOff
    | TieredAmountOff
    | PercentOff
    | BuyXGetY
    | FixedPrice
    | FreeGift
    | ServiceVoucher
    | FreeDelivery
)
OFFER_TYPES = (
    AmountOff,
    TieredAmountOff,
    PercentOff,
    BuyXGetY,
    FixedPrice,
    FreeGift,
    ServiceVoucher,
    FreeDelivery,
)
