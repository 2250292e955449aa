"""The ledger audit behind ``o2o check-points``: :func:`check` compares a state with its entries.

The database keeps both the lots (for fast spending) and the append-only entries (the
record); a bug, a manual SQL fix or a lost write shows up as a difference between them.
:func:`check` lists every difference instead of stopping at the first, so one run over all
members gives the whole report.
"""

from __future__ import annotations

from collections.abc import Iterable

from o2o.core.loyalty.lots import Entry, EntryKind, Ledger

__all__ = ["check"]

_K = EntryKind

_SIGN = {_K.EARN: 1, _K.SPEND: -1, _K.EXPIRE: -1, _K.REVERSE: -1, _K.RESTORE: 1}


def check(state: Ledger, entries: Iterable[Entry]) -> tuple[str, ...]:
    """Every way ``state`` and the full list of its ``entries`` disagree; empty when consistent.

    Checks each entry's sign and account, that each lot's entries sum to its ``remaining`` and
    include exactly one earn of its ``points``, that the debt account sums to ``-debt``, that
    ``0 <= remaining <= points`` and ``balance == sum(entries)``. Entries of lots absent from
    the state (pruned after they emptied) must sum to 0.
    """
    rows = tuple(entries)
    problems: list[str] = []
    per_lot: dict[int | None, int] = {}
    earned: dict[int, list[int]] = {}
    for i, e in enumerate(rows):
        if e.kind is _K.DEBT:  # the debt account either way; a lot only pays debt out
            ok = e.points != 0 and (e.lot_id is None or e.points < 0)
        else:
            ok = e.lot_id is not None and e.points * _SIGN[e.kind] > 0
        if not ok:
            problems.append(f"第{i}条记录无效 Entry {i} has a bad sign or account: {e!r}")
        per_lot[e.lot_id] = per_lot.get(e.lot_id, 0) + e.points
        if e.kind is _K.EARN and e.lot_id is not None:
            earned.setdefault(e.lot_id, []).append(e.points)
    for lot in state.lots:
        total = per_lot.pop(lot.lot_id, 0)
        if total != lot.remaining:
            problems.append(
                f"批次{lot.lot_id}余额不符 Lot {lot.lot_id}: remaining {lot.remaining}, entries {total}"
            )
        if not 0 <= lot.remaining <= lot.points:
            problems.append(
                f"批次{lot.lot_id}余额越界 Lot {lot.lot_id}: remaining {lot.remaining} of {lot.points}"
            )
        if earned.get(lot.lot_id) != [lot.points]:
            problems.append(
                f"批次{lot.lot_id}获得记录不符 Lot {lot.lot_id}: earned {lot.points}, entries {earned.get(lot.lot_id)}"
            )
    debt_total = per_lot.pop(None, 0)
    if state.debt < 0 or debt_total != -state.debt:
        problems.append(f"欠分不符 Debt {state.debt}, debt entries {debt_total}")
    for lot_id, total in per_lot.items():
        if total != 0:
            problems.append(f"未知批次{lot_id} Entries of unknown lot {lot_id} sum to {total}, not 0")
    if state.balance != sum(e.points for e in rows):
        problems.append(
            f"余额不等于流水之和 Balance {state.balance} != sum of entries {sum(e.points for e in rows)}"
        )
    return tuple(problems)
