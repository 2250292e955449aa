"""Checkout totals: cart lines through a sequence of discount steps, to what the customer pays.

Money is integer fen. The pipeline:

1. Each :class:`CartLine` becomes a :class:`PricedLine` with ``subtotal = unit price x qty``
   and nothing discounted yet.
2. The :class:`PricingStep` objects run **in the order given** (the caller decides the
   stacking rule, e.g. tier discount, then coupons, then points); each sees the lines as
   the previous steps left them and may return one :class:`Adjustment`, a discount already
   split over the lines (``per_line``). :func:`allocate` is the helper for that split.
3. The cap: a step's part for a line is cut to what that line still has to pay, so no line
   goes below 0. The cut is dropped, not moved to other lines (a step that wants it moved
   allocates against the current payables itself, as :class:`PercentOff` does); the
   recorded adjustment and the explanation show the amount actually given.
4. ``total = goods - discount + delivery fee``. Steps discount goods only; free delivery is
   a fee of 0 passed in. A total of 0 (everything discounted, no fee) is allowed on
   purpose: a fully covered order still goes through checkout and fulfilment.

Bad input (an empty cart, qty < 1, a negative or non-integer amount, a step breaking its
contract) raises ValueError with a bilingual message: it is a bug or tampering, never
something to price around.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, replace
from types import MappingProxyType
from typing import Protocol

__all__ = [
    "Adjustment",
    "CartLine",
    "PercentOff",
    "PricedLine",
    "PricingStep",
    "Totals",
    "allocate",
    "format_fen",
    "price",
]


def _is_int(x: object) -> bool:
    return isinstance(x, int) and not isinstance(x, bool)


def _require(ok: bool, message: str) -> None:
    if not ok:
        raise ValueError(message)


def format_fen(fen: int) -> str:
    """Fen as yuan text with two decimals: 1250 -> "¥12.50", -5 -> "-¥0.05"."""
    sign = "-" if fen < 0 else ""
    yuan, cents = divmod(abs(fen), 100)
    return f"{sign}¥{yuan}.{cents:02d}"


@dataclass(frozen=True, slots=True)
class CartLine:
    """``qty`` units of ``sku_id`` at ``unit_price_fen`` (the resolved price; list price for display)."""

    sku_id: int
    qty: int
    unit_price_fen: int
    list_price_fen: int


@dataclass(frozen=True, slots=True)
class Adjustment:
    """One discount: ``amount_fen`` >= 0 split over the lines as ``per_line`` (same order, exact sum)."""

    kind: str  # the step's name: "tier", "coupon", "points", ...
    label: str  # what the customer reads, e.g. "会员95折 Member 5% off"
    amount_fen: int
    per_line: tuple[int, ...]

    def __post_init__(self) -> None:
        object.__setattr__(self, "per_line", tuple(self.per_line))
        _require(
            _is_int(self.amount_fen) and self.amount_fen >= 0,
            f"优惠金额必须是非负整数(分) Discount must be a non-negative integer of fen: {self.amount_fen!r}",
        )
        _require(
            all(_is_int(p) and p >= 0 for p in self.per_line),
            f"分摊金额必须是非负整数(分) Per-line parts must be non-negative integers: {self.per_line!r}",
        )
        _require(
            sum(self.per_line) == self.amount_fen,
            f"分摊之和不等于优惠金额 Per-line parts {self.per_line!r} do not sum to {self.amount_fen}",
        )


@dataclass(frozen=True, slots=True)
class PricedLine:
    """A line during and after pricing: ``payable = subtotal - discount`` >= 0."""

    sku_id: int
    qty: int
    unit_price_fen: int
    subtotal_fen: int
    discount_fen: int
    payable_fen: int


@dataclass(frozen=True, slots=True)
class Totals:
    """The priced cart: ``total = goods - discount + delivery fee``; lines and adjustments agree."""

    lines: tuple[PricedLine, ...]
    goods_fen: int
    discount_fen: int
    delivery_fee_fen: int
    total_fen: int
    adjustments: tuple[Adjustment, ...]
    explanation: tuple[str, ...]


class PricingStep(Protocol):
    """A discount rule. ``discount`` returns None (or a zero adjustment) when it does not apply."""

    @property
    def name(self) -> str: ...

    def discount(self, lines: tuple[PricedLine, ...], context: Mapping[str, object]) -> Adjustment | None: ...


def allocate(amount_fen: int, weights: Sequence[int]) -> tuple[int, ...]:
    """Split ``amount_fen`` in proportion to ``weights`` (largest remainder), exactly.

    Each part is at most its weight: the amount is first capped at ``sum(weights)`` (so the
    parts then sum to the capped amount). Floors first; the fen left over go one each to the
    largest remainders, ties to the earlier weight. A floor with a remainder is below its
    weight, so the extra fen never breaks the cap. All-zero weights get all zeros.
    """
    _require(
        _is_int(amount_fen) and amount_fen >= 0,
        f"金额必须是非负整数 Amount must be a non-negative integer: {amount_fen!r}",
    )
    ws = tuple(weights)
    _require(
        all(_is_int(w) and w >= 0 for w in ws),
        f"权重必须是非负整数 Weights must be non-negative integers: {ws!r}",
    )
    total = sum(ws)
    amount = min(amount_fen, total)
    if amount == 0:
        return (0,) * len(ws)
    parts = [amount * w // total for w in ws]
    remainders = [amount * w % total for w in ws]
    left = amount - sum(parts)
    for i in sorted(range(len(ws)), key=lambda i: (-remainders[i], i))[:left]:
        parts[i] += 1
    return tuple(parts)


@dataclass(frozen=True, slots=True)
class PercentOff:
    """Example step: ``percent`` % off what the lines still have to pay, discount rounded down."""

    name: str
    percent: int
    label: str

    def __post_init__(self) -> None:
        _require(
            _is_int(self.percent) and 0 <= self.percent <= 100,
            f"折扣百分比必须在 0-100 之间 Percent must be an integer 0-100: {self.percent!r}",
        )

    def discount(self, lines: tuple[PricedLine, ...], context: Mapping[str, object]) -> Adjustment | None:
        payables = [line.payable_fen for line in lines]
        amount = sum(payables) * self.percent // 100
        if amount == 0:
            return None
        return Adjustment(self.name, self.label, amount, allocate(amount, payables))


def _check_line(i: int, line: CartLine) -> None:
    where = f"line {i} (sku {line.sku_id!r})"
    _require(
        _is_int(line.qty) and line.qty >= 1,
        f"数量必须是正整数 Quantity must be a positive integer: {where}: {line.qty!r}",
    )
    for field in ("unit_price_fen", "list_price_fen"):
        value = getattr(line, field)
        _require(
            _is_int(value) and value >= 0,
            f"价格必须是非负整数(分) Price must be a non-negative integer of fen: {where} {field}={value!r}",
        )


def price(
    lines: Sequence[CartLine],
    *,
    steps: Sequence[PricingStep] = (),
    delivery_fee_fen: int = 0,
    context: Mapping[str, object] | None = None,
) -> Totals:
    """Price the cart: run ``steps`` in order over the lines, then add the delivery fee."""
    _require(len(lines) > 0, "购物车为空 The cart is empty")
    for i, line in enumerate(lines):
        _check_line(i, line)
    _require(
        _is_int(delivery_fee_fen) and delivery_fee_fen >= 0,
        f"配送费必须是非负整数(分) Delivery fee must be a non-negative integer of fen: {delivery_fee_fen!r}",
    )
    ctx: Mapping[str, object] = MappingProxyType(dict(context or {}))
    priced = tuple(
        PricedLine(c.sku_id, c.qty, c.unit_price_fen, c.unit_price_fen * c.qty, 0, c.unit_price_fen * c.qty)
        for c in lines
    )
    goods = sum(p.subtotal_fen for p in priced)
    explanation = [f"商品金额 Goods: {format_fen(goods)}"]
    adjustments: list[Adjustment] = []
    for step in steps:
        adj = step.discount(priced, ctx)
        if adj is None:
            continue
        _require(isinstance(adj, Adjustment), f"优惠步骤返回值无效 Step {step.name!r} returned {adj!r}")
        if adj.amount_fen == 0:
            continue
        _require(
            len(adj.per_line) == len(priced),
            f"分摊行数不符 Step {step.name!r} split over {len(adj.per_line)} lines, the cart has {len(priced)}",
        )
        given = tuple(min(part, p.payable_fen) for part, p in zip(adj.per_line, priced, strict=True))
        if sum(given) == 0:
            explanation.append(f"{adj.label}: 无可抵扣金额 nothing left to discount")
            continue
        note = ""
        if given != adj.per_line:
            note = f" (已封顶 capped from {format_fen(adj.amount_fen)})"
            adj = replace(adj, amount_fen=sum(given), per_line=given)
        priced = tuple(
            replace(p, discount_fen=p.discount_fen + part, payable_fen=p.payable_fen - part)
            for p, part in zip(priced, given, strict=True)
        )
        adjustments.append(adj)
        explanation.append(f"{adj.label}: -{format_fen(adj.amount_fen)}{note}")
    discount = sum(a.amount_fen for a in adjustments)
    total = goods - discount + delivery_fee_fen
    explanation.append(f"配送费 Delivery fee: {format_fen(delivery_fee_fen)}")
    explanation.append(f"应付 Total: {format_fen(total)}")
    return Totals(priced, goods, discount, delivery_fee_fen, total, tuple(adjustments), tuple(explanation))
