"""Points as cash at checkout: :func:`max_deductible`.

``points_per_yuan`` points are worth ¥1 (100 = the common "100积分抵1元", so 1 point = 1 fen).
A deduction is exact in fen: only whole **units** are used, a unit being the fewest points
worth a whole number of fen, times ``step_fen`` when the retailer deducts only in steps (e.g.
``step_fen=100``: whole yuan only). With 100 points/¥1 a unit is 1 point = 1 fen; with
10 points/¥1 it is 1 point = 10 fen; with 150 points/¥1 it is 3 points = 2 fen. Points
that make up no whole unit stay in the balance, never rounded into a fen the retailer did
not grant.

The cap is ``floor(order_total_fen x max_share_percent / 100)``: points pay at most that share
of the order (the rest is money, so the order still earns, and points never fully replace
payment unless the share is 100). ``order_total_fen`` is what the points apply to (the goods
after other discounts; the caller decides whether the delivery fee counts). Below
``min_points`` in the balance, nothing can be used. A negative balance (a debt from a
refunded earning) deducts nothing.

The result never exceeds the balance, the cap or the order, and ``fen x points_per_yuan ==
points x 100`` exactly.
"""

from __future__ import annotations

from dataclasses import dataclass
from math import gcd
from typing import NamedTuple

__all__ = ["Deduction", "DeductionRule", "max_deductible"]


def _is_int(x: object) -> bool:
    return isinstance(x, int) and not isinstance(x, bool)


@dataclass(frozen=True, slots=True)
class DeductionRule:
    """``points_per_yuan`` points = ¥1; at most ``max_share_percent`` % of the order; see the module."""

    points_per_yuan: int = 100
    max_share_percent: int = 50
    step_fen: int = 1
    min_points: int = 0

    def __post_init__(self) -> None:
        if not _is_int(self.points_per_yuan) or self.points_per_yuan < 1:
            raise ValueError(
                f"抵扣比例必须是正整数 points_per_yuan must be a positive integer: {self.points_per_yuan!r}"
            )
        if not _is_int(self.max_share_percent) or not 0 <= self.max_share_percent <= 100:
            raise ValueError(
                f"抵扣上限比例必须在 0-100 之间 max_share_percent must be 0-100: {self.max_share_percent!r}"
            )
        if not _is_int(self.step_fen) or self.step_fen < 1:
            raise ValueError(f"抵扣步长必须是正整数 step_fen must be a positive integer: {self.step_fen!r}")
        if not _is_int(self.min_points) or self.min_points < 0:
            raise ValueError(
                f"起用积分必须是非负整数 min_points must be a non-negative integer: {self.min_points!r}"
            )

    @property
    def unit(self) -> tuple[int, int]:
        """(points, fen) of the smallest usable deduction."""
        g = gcd(self.points_per_yuan, 100)
        fen = 100 // g
        fen = fen * self.step_fen // gcd(fen, self.step_fen)  # lcm: whole fen and whole steps
        return fen * self.points_per_yuan // 100, fen


class Deduction(NamedTuple):
    points: int
    fen: int


def max_deductible(points_balance: int, order_total_fen: int, rule: DeductionRule) -> Deduction:
    """The most points (and their fen) the member may use on this order; (0, 0) when none."""
    if not _is_int(points_balance):
        raise ValueError(f"积分余额必须是整数 points_balance must be an integer: {points_balance!r}")
    if not _is_int(order_total_fen) or order_total_fen < 0:
        raise ValueError(
            f"订单金额必须是非负整数(分) order_total_fen must be a non-negative integer: {order_total_fen!r}"
        )
    if points_balance <= 0 or points_balance < rule.min_points:
        return Deduction(0, 0)
    unit_points, unit_fen = rule.unit
    cap_fen = order_total_fen * rule.max_share_percent // 100
    units = min(points_balance // unit_points, cap_fen // unit_fen)
    return Deduction(units * unit_points, units * unit_fen)
