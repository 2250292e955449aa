"""The points ledger's data: lots (积分批次), spends, entries, and the state that holds them.

A :class:`Ledger` is one member's points as of now: the lots with what is left in each, the
debt (points taken back by a refund after they were spent), and the spends (which lots each
spend took from, so a refunded spend can put them back). It is immutable; the operations in
:mod:`o2o.core.loyalty.points` return a new one with the :class:`Entry` rows that explain the
change. The entries are the append-only ledger the database stores; the state is the
materialised view that makes spending fast, and :func:`~o2o.core.loyalty.points.check`
proves the two agree.

Accounts: every entry moves points in or out of one account, a lot (``lot_id``) or the debt
account (``lot_id=None``, kind ``debt``). So, for every lot, the sum of its entries is its
``remaining``; the debt account's entries sum to ``-debt``; and the balance
``sum(remaining) - debt`` is the sum of all entries.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from enum import StrEnum

__all__ = ["DuplicateReference", "Entry", "EntryKind", "InsufficientPoints", "Ledger", "Lot", "Spend"]


class EntryKind(StrEnum):
    EARN = "earn"  # + into a new lot
    SPEND = "spend"  # - out of a lot
    EXPIRE = "expire"  # - what was left in a lot at its expiry
    REVERSE = "reverse"  # - a refunded order's points taken back from a lot
    RESTORE = "restore"  # + a refunded spend's points put back into their lot
    DEBT = "debt"  # the debt account: - incurred / + repaid (lot_id None); - out of a lot that repays


class InsufficientPoints(ValueError):
    """A spend asked for more than ``available`` (negative while in debt); nothing was changed."""

    def __init__(self, requested: int, available: int) -> None:
        self.requested = requested
        self.available = available
        super().__init__(f"积分不足 Insufficient points: requested {requested}, available {available}")


class DuplicateReference(ValueError):
    """An earn or spend reference was already used: the operation was already recorded once."""


@dataclass(frozen=True, slots=True)
class Lot:
    """Points earned at once: usable while ``now < expires_at``, oldest expiry spent first.

    ``ref`` is what earned them ("order:123", "review:45", "sign_in:2024-05-01"), unique per
    ledger. ``reversed`` counts the points of this earning already taken back by refunds,
    wherever they were taken from, so an order's points are never taken back twice.
    """

    lot_id: int
    ref: str
    points: int
    remaining: int
    earned_at: datetime
    expires_at: datetime
    reversed: int = 0

    def is_valid(self, now: datetime) -> bool:
        return now < self.expires_at


@dataclass(frozen=True, slots=True)
class Spend:
    """A spend: ``taken`` is ((lot_id, points), ...) in the order consumed; ``restored`` so far."""

    ref: str
    at: datetime
    taken: tuple[tuple[int, int], ...]
    restored: int = 0

    @property
    def points(self) -> int:
        return sum(p for _, p in self.taken)


@dataclass(frozen=True, slots=True)
class Entry:
    """One ledger row: ``points`` signed, into or out of lot ``lot_id`` (None: the debt account)."""

    kind: EntryKind
    points: int
    lot_id: int | None
    ref: str
    at: datetime


@dataclass(frozen=True, slots=True)
class Ledger:
    """One member's points; build it empty (``Ledger()``) or from the database's lots and spends."""

    lots: tuple[Lot, ...] = ()
    debt: int = 0
    spends: tuple[Spend, ...] = ()

    def __post_init__(self) -> None:
        object.__setattr__(self, "lots", tuple(self.lots))
        object.__setattr__(self, "spends", tuple(self.spends))
        if self.debt < 0:
            raise ValueError(f"欠分不能为负 Debt cannot be negative: {self.debt}")

    @property
    def balance(self) -> int:
        """What the member has, expired-but-not-yet-swept lots included; negative only by debt."""
        return sum(lot.remaining for lot in self.lots) - self.debt

    def available(self, now: datetime) -> int:
        """What the member can spend at ``now``: valid lots minus debt (may be negative)."""
        return sum(lot.remaining for lot in self.lots if lot.is_valid(now)) - self.debt

    def lot(self, lot_id: int) -> Lot:
        for lot in self.lots:
            if lot.lot_id == lot_id:
                return lot
        raise KeyError(lot_id)

    def lot_for(self, ref: str) -> Lot | None:
        return next((lot for lot in self.lots if lot.ref == ref), None)

    def spend_for(self, ref: str) -> Spend | None:
        return next((s for s in self.spends if s.ref == ref), None)
