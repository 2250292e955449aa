"""Points ledger operations: earn, spend, expire, reverse an earning, restore a spend, check.

Each operation is a pure function ``(state, ...) -> (new state, entries)``; the caller stores
both in one transaction (with the member row locked, so concurrent spends serialise) and
never edits an entry. Types are in :mod:`o2o.core.loyalty.lots`.

Policies
--------
* **Spend** uses the lots valid at ``now`` (``now < expires_at``), soonest expiry first (ties:
  earliest earned, then lowest lot id), and raises :class:`InsufficientPoints` without any
  change when they do not cover it: the balance never goes below zero by spending.
* **Expire** empties every lot past its expiry, one ``expire`` entry per lot. Until it runs,
  an expired lot still counts in ``balance`` but not in ``available(now)``: spending never
  depends on whether the job has run yet.
* **Reverse** (the order that earned a lot was refunded): the points come out of that order's
  own lot first (even if expired: those points are the ones being taken back), then out of
  the other valid lots soonest expiry first, and whatever is still missing becomes **debt**
  (one ``debt`` entry) instead of a negative lot. The debt is paid off first from any points
  that later come to the member (an earning or a restored spend), before they become
  spendable: the member shows a negative balance ("-120 积分, 将从后续积分中扣除") and cannot
  spend until it is repaid. We chose this over refusing the refund (the money must go back)
  and over forgiving the points (buy, earn, spend the points, refund: free points).
* **Restore** (an order paid partly with points was refunded): the points go back into the
  lots they came from, keeping those lots' expiry, so a refund never extends a point's life
  (otherwise spend-and-refund would be a way to keep points forever). Points whose lot has
  expired meanwhile come back and expire at once: a ``restore`` and an ``expire`` entry, so
  the member's history shows both. A partial restore gives back the last-taken (longest-
  lived) points first. Restored points repay debt first, like an earning.
* :func:`check` (in :mod:`o2o.core.loyalty.audit`) proves the state and the entries agree.
* References are idempotency keys: an earn ref (one lot per ref) and a spend ref are unique;
  a second use raises :class:`DuplicateReference`.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import replace
from datetime import datetime

from o2o.core.loyalty.audit import check
from o2o.core.loyalty.dates import require_aware
from o2o.core.loyalty.deduction import Deduction, DeductionRule, max_deductible
from o2o.core.loyalty.earning import EarnRule, earn_for_order
from o2o.core.loyalty.expiry import DEFAULT_EXPIRY, ExpiryPolicy
from o2o.core.loyalty.lots import (
    DuplicateReference,
    Entry,
    EntryKind,
    InsufficientPoints,
    Ledger,
    Lot,
    Spend,
)

__all__ = [
    "EXPIRY_REF",
    "Deduction",
    "DeductionRule",
    "DuplicateReference",
    "EarnRule",
    "Entry",
    "EntryKind",
    "InsufficientPoints",
    "Ledger",
    "Lot",
    "Spend",
    "check",
    "earn",
    "earn_for_order",
    "expire",
    "max_deductible",
    "refund_spend",
    "reverse_earning",
    "spend",
]

EXPIRY_REF = "expiry"
"""The reference of ``expire`` entries: the lot id says which lot."""

_K = EntryKind
Result = tuple[Ledger, tuple[Entry, ...]]


def _positive(points: object, what: str) -> int:
    if not isinstance(points, int) or isinstance(points, bool) or points < 1:
        raise ValueError(f"{what} 必须是正整数 must be a positive integer: {points!r}")
    return points


def _ref(ref: object) -> str:
    if not isinstance(ref, str) or not ref:
        raise ValueError(f"引用不能为空 The reference must be a non-empty string: {ref!r}")
    return ref


def _fifo(lots: Iterable[Lot]) -> list[Lot]:
    return sorted(lots, key=lambda lot: (lot.expires_at, lot.earned_at, lot.lot_id))


class _Work:
    """A mutable copy of a ledger while one operation builds its entries."""

    def __init__(self, state: Ledger, now: datetime) -> None:
        self.state = state
        self.now = now
        self.lots = {lot.lot_id: lot for lot in state.lots}
        self.debt = state.debt
        self.spends = list(state.spends)
        self.entries: list[Entry] = []

    def move(self, kind: EntryKind, lot_id: int, points: int, ref: str) -> None:
        lot = self.lots[lot_id]
        self.lots[lot_id] = replace(lot, remaining=lot.remaining + points)
        self.entries.append(Entry(kind, points, lot_id, ref, self.now))

    def take(
        self, kind: EntryKind, lots: Iterable[Lot], points: int, ref: str
    ) -> tuple[int, list[tuple[int, int]]]:
        """Take up to ``points`` from ``lots`` in the order given; (still missing, taken per lot)."""
        taken = []
        for lot in lots:
            if points == 0:
                break
            part = min(points, self.lots[lot.lot_id].remaining)
            if part:
                self.move(kind, lot.lot_id, -part, ref)
                taken.append((lot.lot_id, part))
                points -= part
        return points, taken

    def repay_from(self, lot_id: int, ref: str) -> None:
        part = min(self.debt, self.lots[lot_id].remaining)
        if part:
            self.move(_K.DEBT, lot_id, -part, ref)
            self.debt -= part
            self.entries.append(Entry(_K.DEBT, part, None, ref, self.now))

    def result(self) -> Result:
        known = {lot.lot_id for lot in self.state.lots}
        lots = tuple(self.lots[lot.lot_id] for lot in self.state.lots)
        lots += tuple(lot for lot_id, lot in self.lots.items() if lot_id not in known)
        return Ledger(lots, self.debt, tuple(self.spends)), tuple(self.entries)


def earn(
    state: Ledger, points: int, ref: str, now: datetime, policy: ExpiryPolicy = DEFAULT_EXPIRY
) -> Result:
    """A new lot of ``points`` earned at ``now`` by ``ref``, expiring by ``policy``; repays debt first."""
    _positive(points, "获得积分 Earned points")
    _ref(ref)
    require_aware(now, "now")
    if state.lot_for(ref) is not None:
        raise DuplicateReference(f"该引用已获得过积分 Points were already earned for {ref!r}")
    lot_id = max((lot.lot_id for lot in state.lots), default=0) + 1
    work = _Work(state, now)
    work.lots[lot_id] = Lot(lot_id, ref, points, 0, now, policy.expires_at(now))
    work.move(_K.EARN, lot_id, points, ref)
    work.repay_from(lot_id, ref)
    return work.result()


def spend(state: Ledger, points: int, now: datetime, ref: str) -> Result:
    """Use ``points`` from the valid lots, soonest expiry first; InsufficientPoints if they fall short."""
    _positive(points, "使用积分 Spent points")
    _ref(ref)
    require_aware(now, "now")
    if state.spend_for(ref) is not None:
        raise DuplicateReference(f"该引用已使用过积分 Points were already spent for {ref!r}")
    available = state.available(now)
    if points > available:
        raise InsufficientPoints(points, available)
    work = _Work(state, now)
    missing, taken = work.take(_K.SPEND, _fifo(lot for lot in state.lots if lot.is_valid(now)), points, ref)
    assert missing == 0, "available() covered the spend"
    work.spends.append(Spend(ref, now, tuple(taken)))
    return work.result()


def expire(state: Ledger, now: datetime) -> Result:
    """Empty every lot with ``expires_at <= now``: one ``expire`` entry per lot with points left."""
    require_aware(now, "now")
    work = _Work(state, now)
    for lot in _fifo(state.lots):
        if not lot.is_valid(now) and lot.remaining > 0:
            work.move(_K.EXPIRE, lot.lot_id, -lot.remaining, EXPIRY_REF)
    return work.result()


def reverse_earning(state: Ledger, order_ref: str, points: int, now: datetime) -> Result:
    """Take back ``points`` earned by ``order_ref``: its lot, then other valid lots, then debt."""
    _positive(points, "扣回积分 Reversed points")
    require_aware(now, "now")
    own = state.lot_for(_ref(order_ref))
    if own is None:
        raise ValueError(f"该订单没有获得过积分 No points were earned for {order_ref!r}")
    left = own.points - own.reversed
    if points > left:
        raise ValueError(
            f"扣回积分超过该订单剩余可扣 Cannot take back {points} points from {order_ref!r}: only {left} left"
        )
    work = _Work(state, now)
    others = _fifo(lot for lot in state.lots if lot.lot_id != own.lot_id and lot.is_valid(now))
    missing, _ = work.take(_K.REVERSE, [own, *others], points, order_ref)
    if missing:
        work.debt += missing
        work.entries.append(Entry(_K.DEBT, -missing, None, order_ref, now))
    work.lots[own.lot_id] = replace(work.lots[own.lot_id], reversed=own.reversed + points)
    return work.result()


def refund_spend(state: Ledger, spend_ref: str, now: datetime, points: int | None = None) -> Result:
    """Put back the points of spend ``spend_ref`` (all that are left, or ``points`` of them)."""
    require_aware(now, "now")
    found = state.spend_for(_ref(spend_ref))
    if found is None:
        raise ValueError(f"没有这笔积分使用 No points were spent for {spend_ref!r}")
    left = found.points - found.restored
    points = left if points is None else _positive(points, "退回积分 Restored points")
    if points < 1 or points > left:
        raise ValueError(f"退回积分超过可退 Cannot restore {points} points of {spend_ref!r}: {left} left")
    work = _Work(state, now)
    skip, todo = found.restored, points  # the last-taken points go back first
    for lot_id, part in reversed(found.taken):
        done = min(skip, part)  # already restored by an earlier partial refund
        skip -= done
        back = min(part - done, todo)
        if back == 0:
            continue
        todo -= back
        work.move(_K.RESTORE, lot_id, back, spend_ref)
        if not work.lots[lot_id].is_valid(now):
            work.move(_K.EXPIRE, lot_id, -back, EXPIRY_REF)
        else:
            work.repay_from(lot_id, spend_ref)
    work.spends = [replace(s, restored=s.restored + points) if s.ref == spend_ref else s for s in work.spends]
    return work.result()
