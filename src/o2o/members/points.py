"""Points services: earn, spend, expire, reverse an earning, restore a spend.

Every operation is one transaction: the member's ``PointsAccount`` row is created if needed
and then locked (``SELECT ... FOR UPDATE``), so two operations on one member serialise and two
spends can never both use the same points. Inside the lock the account's lots and spends are
loaded into the core's :class:`~o2o.core.loyalty.Ledger`, the core decides, and the new lots,
the entries and the account's ``balance``/``debt`` are written with conditional UPDATEs
(``WHERE remaining = <what we read>``), with CHECKs as the last line (``balance >= 0``,
``0 <= remaining <= points``).

Idempotent by reference: every operation has a key (``op``: ``earn:<ref>``, ``spend:<ref>``,
``reverse:<ref>``, ``restore:<ref>``) written on its entries with ``UNIQUE (account, op,
seq)``; repeating an operation that is already recorded changes nothing and returns the
account as it is.

Settings: ``O2O["POINTS"]`` (all optional, see :func:`points_settings`).
"""

from __future__ import annotations

from collections import defaultdict
from datetime import datetime
from fractions import Fraction
from typing import Any

from django.conf import settings
from django.db import transaction
from django.db.models import Max, Sum

from o2o.accounts.models import Member
from o2o.common.errors import Conflict, InvalidInput, NotFound
from o2o.core import loyalty as core
from o2o.core.loyalty import ActionRule, DeductionRule, EarnRule, EntryKind, ExpiryPolicy, Ledger, Lot, Spend
from o2o.members.models import PointsAccount, PointsEntry, PointsLot

DEFAULTS: dict[str, Any] = {
    "EARN_DEFAULT_RATE": 1,  # points per yuan paid; int or "1/10" (a fraction as text)
    "EARN_CHANNEL_RATES": {},  # e.g. {"pos": 1, "miniprogram": "3/2"}
    # Points for actions, capped per China day: {action: [points, daily cap or None]} (o2o.members.actions).
    "EARN_ACTIONS": {"sign_in": [5, 5], "review": [10, 30]},
    "EXPIRY": "end_of_next_year",  # or "end_of_month" / "days" with EXPIRY_N
    "EXPIRY_N": 0,
    "DEDUCTION_POINTS_PER_YUAN": 100,
    "DEDUCTION_MAX_SHARE_PERCENT": 50,
    "DEDUCTION_STEP_FEN": 1,
    "DEDUCTION_MIN_POINTS": 0,
}


def points_settings() -> dict[str, Any]:
    return {**DEFAULTS, **settings.O2O.get("POINTS", {})}


def _rate(value: Any) -> int | Fraction:
    return Fraction(value) if isinstance(value, str) else value


def earn_rule() -> EarnRule:
    s = points_settings()
    return EarnRule(default_rate=_rate(s["EARN_DEFAULT_RATE"]),
                    channel_rates={k: _rate(v) for k, v in s["EARN_CHANNEL_RATES"].items()},
                    actions={k: ActionRule(points=v[0], daily_cap=v[1]) for k, v in s["EARN_ACTIONS"].items()})


def expiry_policy() -> ExpiryPolicy:
    s = points_settings()
    return ExpiryPolicy(kind=s["EXPIRY"], n=s["EXPIRY_N"])


def deduction_rule() -> DeductionRule:
    s = points_settings()
    return DeductionRule(points_per_yuan=s["DEDUCTION_POINTS_PER_YUAN"],
                         max_share_percent=s["DEDUCTION_MAX_SHARE_PERCENT"], step_fen=s["DEDUCTION_STEP_FEN"],
                         min_points=s["DEDUCTION_MIN_POINTS"])


# -- loading and storing one account's ledger ---------------------------------------------------------------------

def account_lock(member_id: int) -> PointsAccount:
    """The member's account, created if needed, locked for this transaction."""
    if not isinstance(member_id, int) or not Member.objects.filter(pk=member_id).exists():
        raise NotFound("会员不存在 Unknown member", code="unknown_member", details={"member_id": member_id})
    account, _ = PointsAccount.objects.get_or_create(member_id=member_id)
    return PointsAccount.objects.select_for_update().get(pk=account.pk)


def ledger_of(account: PointsAccount) -> tuple[Ledger, dict[int, PointsLot]]:
    """The core's view of ``account``: its lots (by number), debt and spends (rebuilt from the entries)."""
    rows = {lot.no: lot for lot in PointsLot.objects.filter(account=account).order_by("no")}
    lots = tuple(Lot(no, r.ref, r.points, r.remaining, r.earned_at, r.expires_at, r.reversed)
                 for no, r in rows.items())
    taken: dict[str, list[tuple[int, int]]] = defaultdict(list)
    at: dict[str, datetime] = {}
    restored: dict[str, int] = defaultdict(int)
    moves = (PointsEntry.objects.filter(account=account, kind__in=[EntryKind.SPEND, EntryKind.RESTORE])
             .order_by("pk").values_list("kind", "ref", "lot__no", "points", "at"))
    for kind, ref, no, points, when in moves:
        if kind == EntryKind.SPEND:
            taken[ref].append((no, -points))
            at.setdefault(ref, when)
        else:
            restored[ref] += points
    spends = tuple(Spend(ref, at[ref], tuple(parts), restored.get(ref, 0)) for ref, parts in taken.items())
    return Ledger(lots, account.debt, spends), rows


def _store(account: PointsAccount, before: Ledger, after: Ledger, entries: tuple[core.Entry, ...],
           rows: dict[int, PointsLot], *, op: str, now: datetime, lot_fields: dict | None = None) -> PointsAccount:
    old = {lot.lot_id: lot for lot in before.lots}
    for lot in after.lots:
        prev = old.get(lot.lot_id)
        if prev is None:
            rows[lot.lot_id] = PointsLot.objects.create(
                account=account, no=lot.lot_id, ref=lot.ref, points=lot.points, remaining=lot.remaining,
                reversed=lot.reversed, earned_at=lot.earned_at, expires_at=lot.expires_at, **(lot_fields or {}))
        elif (prev.remaining, prev.reversed) != (lot.remaining, lot.reversed):
            won = PointsLot.objects.filter(pk=rows[lot.lot_id].pk, remaining=prev.remaining,
                                           reversed=prev.reversed).update(remaining=lot.remaining,
                                                                          reversed=lot.reversed)
            if not won:
                raise Conflict("积分批次已变化，请重试 The points lot changed meanwhile; retry", code="points_changed",
                               details={"lot": lot.lot_id})
    PointsEntry.objects.bulk_create([
        PointsEntry(account=account, kind=e.kind.value, points=e.points,
                    lot=rows[e.lot_id] if e.lot_id is not None else None, ref=e.ref, op=op, seq=i, at=e.at)
        for i, e in enumerate(entries)])
    new_balance = sum(lot.remaining for lot in after.lots)
    won = PointsAccount.objects.filter(pk=account.pk, balance=account.balance, debt=account.debt).update(
        balance=new_balance, debt=after.debt, updated_at=now)
    if not won:
        raise Conflict("积分账户已变化，请重试 The points account changed meanwhile; retry", code="points_changed",
                       details={"member_id": account.member_id})
    account.balance, account.debt, account.updated_at = new_balance, after.debt, now
    return account


def _done(account: PointsAccount, op: str) -> bool:
    return PointsEntry.objects.filter(account=account, op=op).exists()


def _invalid(exc: ValueError, **details: Any) -> InvalidInput:
    return InvalidInput(str(exc), code="invalid_points", details=details)


# -- operations ---------------------------------------------------------------------------------------------------

def points_earn(member_id: int, points: int, ref: str, now: datetime, *, basis_fen: int | None = None,
                basis_refunded_fen: int = 0, campaign: str = "") -> PointsAccount:
    """A new lot of ``points`` for ``ref`` (repays any debt first). Repeating ``ref`` changes nothing."""
    with transaction.atomic():
        account = account_lock(member_id)
        before, rows = ledger_of(account)
        if before.lot_for(ref) is not None:
            return account
        try:
            after, entries = core.earn(before, points, ref, now, expiry_policy())
        except ValueError as exc:
            raise _invalid(exc, member_id=member_id, ref=ref) from None
        return _store(account, before, after, entries, rows, op=f"earn:{ref}", now=now,
                      lot_fields={"basis_fen": basis_fen, "basis_refunded_fen": basis_refunded_fen,
                                  "campaign": campaign[:40]})


def points_spend(member_id: int, points: int, ref: str, now: datetime) -> PointsAccount:
    """Use ``points`` (soonest expiry first); 409 ``insufficient_points``. Repeating ``ref`` changes nothing."""
    with transaction.atomic():
        account = account_lock(member_id)
        before, rows = ledger_of(account)
        if before.spend_for(ref) is not None:
            return account
        try:
            after, entries = core.spend(before, points, now, ref)
        except core.InsufficientPoints as exc:
            raise Conflict("积分不足 Not enough points", code="insufficient_points",
                           details={"requested": exc.requested, "available": exc.available}) from None
        except ValueError as exc:
            raise _invalid(exc, member_id=member_id, ref=ref) from None
        return _store(account, before, after, entries, rows, op=f"spend:{ref}", now=now)


def points_reverse(member_id: int, order_ref: str, points: int, now: datetime, *,
                   ref: str | None = None) -> PointsAccount:
    """Take back ``points`` earned by ``order_ref`` (a refund); ``ref`` names this reversal (default: the order)."""
    op = f"reverse:{ref or order_ref}"
    with transaction.atomic():
        account = account_lock(member_id)
        if _done(account, op):
            return account
        before, rows = ledger_of(account)
        try:
            after, entries = core.reverse_earning(before, order_ref, points, now)
        except ValueError as exc:
            raise _invalid(exc, member_id=member_id, order_ref=order_ref) from None
        return _store(account, before, after, entries, rows, op=op, now=now)


def points_restore(member_id: int, spend_ref: str, now: datetime, *, points: int | None = None,
                   ref: str | None = None) -> PointsAccount:
    """Put back the points of spend ``spend_ref`` (all that are left, or ``points``) into their own lots."""
    op = f"restore:{ref or spend_ref}"
    with transaction.atomic():
        account = account_lock(member_id)
        if _done(account, op):
            return account
        before, rows = ledger_of(account)
        try:
            after, entries = core.refund_spend(before, spend_ref, now, points)
        except ValueError as exc:
            raise _invalid(exc, member_id=member_id, spend_ref=spend_ref) from None
        return _store(account, before, after, entries, rows, op=op, now=now)


def points_expire(now: datetime, *, limit: int = 1000) -> tuple[int, int]:
    """Empty every lot past its expiry, one account per transaction; (accounts, points expired)."""
    due = (PointsLot.objects.filter(remaining__gt=0, expires_at__lte=now).values_list("account_id", flat=True)
           .distinct().order_by("account_id"))
    accounts = points = 0
    for account_id in list(due[:limit]):
        with transaction.atomic():
            account = PointsAccount.objects.select_for_update().get(pk=account_id)
            before, rows = ledger_of(account)
            after, entries = core.expire(before, now)
            if not entries:
                continue
            last = PointsEntry.objects.filter(account=account).aggregate(m=Max("pk"))["m"] or 0
            _store(account, before, after, entries, rows, op=f"expire:{last}", now=now)
            accounts += 1
            points -= sum(e.points for e in entries)
    return accounts, points


def points_check(account: PointsAccount) -> tuple[str, ...]:
    """Every disagreement between the account, its lots and its entries (empty: consistent)."""
    ledger, _ = ledger_of(account)
    entries = [core.Entry(EntryKind(k), p, no, ref, at) for k, p, no, ref, at in
               PointsEntry.objects.filter(account=account).order_by("pk")
               .values_list("kind", "points", "lot__no", "ref", "at")]
    problems = list(core.check(ledger, entries))
    total = PointsEntry.objects.filter(account=account).aggregate(s=Sum("points"))["s"] or 0
    if account.balance - account.debt != total:
        problems.append(f"账户余额不等于流水之和 Account balance {account.balance} - debt {account.debt} "
                        f"!= sum of entries {total}")
    if account.balance != sum(lot.remaining for lot in ledger.lots):
        problems.append(f"账户余额不等于批次之和 Account balance {account.balance} != sum of lots "
                        f"{sum(lot.remaining for lot in ledger.lots)}")
    return tuple(problems)
