"""Refunds of returned quantities that add up to exactly what the line paid.

A line paid ``P`` fen for ``Q`` units (after every discount allocated to it at checkout).
The refund schedule is cumulative: once ``k`` units have come back in total, the customer
has been refunded ``floor(P * k / Q)`` fen. A return of ``qty`` more units therefore refunds::

    floor(P * (already_refunded_qty + qty) / Q) - already_refunded_fen

The cumulative amount depends only on how many units came back, not on how the returns were
split, so any sequence of partial returns refunds exactly ``P`` once all ``Q`` units are back
(floor(P * Q / Q) = P): the rounding fen go to the last units, never over- or under-paid.

``already_refunded_fen`` is what was actually refunded for this line so far, so an earlier
refund computed some other way (a goodwill adjustment, an older rounding) is absorbed: the
next refund makes up the difference, and a step that would be negative (more was already
refunded than the schedule says) refunds 0 instead. The final return still brings the line
to exactly ``P``.
"""

from __future__ import annotations

__all__ = ["refund_for"]


def _is_int(x: object) -> bool:
    return isinstance(x, int) and not isinstance(x, bool)


def refund_for(
    line_payable_fen: int, line_qty: int, already_refunded_qty: int, already_refunded_fen: int, qty: int
) -> int:
    """Fen to refund for returning ``qty`` more units of a line (see the module docstring)."""
    values = {
        "line_payable_fen": line_payable_fen,
        "line_qty": line_qty,
        "already_refunded_qty": already_refunded_qty,
        "already_refunded_fen": already_refunded_fen,
        "qty": qty,
    }
    for name, value in values.items():
        if not _is_int(value) or value < 0:
            raise ValueError(f"{name} 必须是非负整数 must be a non-negative integer: {value!r}")
    if line_qty < 1:
        raise ValueError(f"行数量必须是正整数 line_qty must be positive: {line_qty}")
    if qty < 1:
        raise ValueError(f"退货数量必须是正整数 Return quantity must be at least 1: {qty}")
    remaining = line_qty - already_refunded_qty
    if qty > remaining:
        raise ValueError(
            f"退货数量超过可退数量 Return quantity {qty} exceeds the {max(remaining, 0)} units left"
        )
    if already_refunded_fen > line_payable_fen:
        raise ValueError(
            f"已退金额超过实付 Already refunded {already_refunded_fen} fen exceeds the {line_payable_fen} paid"
        )
    cumulative = line_payable_fen * (already_refunded_qty + qty) // line_qty
    return max(cumulative - already_refunded_fen, 0)
