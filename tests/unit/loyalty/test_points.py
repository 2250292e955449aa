"""Points ledger examples: lots, FIFO by expiry, exact expiry, reversal with debt, restore."""

from __future__ import annotations

from dataclasses import replace
from datetime import datetime, timedelta

import pytest

from o2o.core.loyalty import (
    CHINA_TZ,
    EXPIRY_REF,
    DuplicateReference,
    Entry,
    EntryKind,
    ExpiryKind,
    ExpiryPolicy,
    InsufficientPoints,
    Ledger,
    check,
    earn,
    expire,
    refund_spend,
    reverse_earning,
    spend,
)

K = EntryKind


def at(y, m, d, h=12, minute=0) -> datetime:
    return datetime(y, m, d, h, minute, tzinfo=CHINA_TZ)


class Book:
    """A ledger and every entry it ever produced, checked after each step."""

    def __init__(self) -> None:
        self.state = Ledger()
        self.entries: list[Entry] = []

    def do(self, op, *args, **kwargs) -> tuple[Entry, ...]:
        self.state, new = op(self.state, *args, **kwargs)
        self.entries.extend(new)
        assert check(self.state, self.entries) == ()
        assert self.state.balance == sum(e.points for e in self.entries)
        return new


def test_earn_makes_a_lot_expiring_at_the_end_of_next_year():
    b = Book()
    (entry,) = b.do(earn, 120, "order:1", at(2024, 3, 15))
    lot = b.state.lots[0]
    assert (lot.lot_id, lot.ref, lot.points, lot.remaining) == (1, "order:1", 120, 120)
    assert lot.expires_at == datetime(2026, 1, 1, tzinfo=CHINA_TZ)
    assert entry == Entry(K.EARN, 120, 1, "order:1", at(2024, 3, 15))
    assert b.state.balance == b.state.available(at(2024, 3, 15)) == 120


def test_spend_takes_the_soonest_expiring_lots_first():
    b = Book()
    b.do(earn, 100, "order:2024", at(2024, 6, 1))  # expires 2026-01-01
    b.do(earn, 100, "order:2023", at(2023, 6, 1))  # expires 2025-01-01
    b.do(earn, 50, "sign_in:1", at(2024, 6, 2), ExpiryPolicy(ExpiryKind.DAYS, 30))  # expires 2024-07-03
    new = b.do(spend, 180, at(2024, 6, 10), "order:9")
    assert [(e.kind, e.lot_id, e.points) for e in new] == [
        (K.SPEND, 3, -50),
        (K.SPEND, 2, -100),
        (K.SPEND, 1, -30),
    ]
    assert [lot.remaining for lot in b.state.lots] == [70, 0, 0]
    assert b.state.spends[0].taken == ((3, 50), (2, 100), (1, 30))


def test_spend_refuses_rather_than_going_below_zero():
    b = Book()
    b.do(earn, 100, "order:1", at(2024, 1, 1))
    before = b.state
    with pytest.raises(InsufficientPoints) as err:
        spend(b.state, 101, at(2024, 1, 2), "order:2")
    assert (err.value.requested, err.value.available) == (101, 100)
    assert "积分不足" in str(err.value) and "Insufficient" in str(err.value)
    assert b.state == before
    b.do(spend, 100, at(2024, 1, 2), "order:2")
    assert b.state.balance == 0


def test_expired_lots_cannot_be_spent_even_before_the_expiry_job_runs():
    b = Book()
    b.do(earn, 100, "order:1", at(2023, 5, 1))
    assert b.state.available(datetime(2025, 1, 1, tzinfo=CHINA_TZ)) == 0
    assert b.state.balance == 100
    with pytest.raises(InsufficientPoints):
        spend(b.state, 1, datetime(2025, 1, 1, tzinfo=CHINA_TZ), "x")


def test_expiry_is_exact_to_the_microsecond():
    b = Book()
    b.do(earn, 70, "order:1", at(2023, 5, 1))
    b.do(earn, 30, "order:2", at(2023, 12, 31, 23, 59))
    b.do(earn, 5, "order:3", at(2024, 1, 1, 0, 0))
    edge = datetime(2025, 1, 1, tzinfo=CHINA_TZ)
    assert b.do(expire, edge - timedelta(microseconds=1)) == ()
    new = b.do(expire, edge)
    assert [(e.kind, e.lot_id, e.points, e.ref) for e in new] == [
        (K.EXPIRE, 1, -70, EXPIRY_REF),
        (K.EXPIRE, 2, -30, EXPIRY_REF),
    ]
    assert b.state.balance == 5
    assert b.do(expire, edge + timedelta(days=1)) == ()  # nothing twice


def test_expire_takes_only_what_is_left_in_a_lot():
    b = Book()
    b.do(earn, 100, "order:1", at(2023, 5, 1))
    b.do(spend, 60, at(2023, 6, 1), "order:2")
    (entry,) = b.do(expire, datetime(2025, 1, 1, tzinfo=CHINA_TZ))
    assert entry.points == -40


def test_reverse_takes_from_the_orders_own_lot_first():
    b = Book()
    b.do(earn, 100, "order:old", at(2023, 5, 1))
    b.do(earn, 80, "order:1", at(2024, 5, 1))
    new = b.do(reverse_earning, "order:1", 50, at(2024, 5, 3))
    assert [(e.kind, e.lot_id, e.points, e.ref) for e in new] == [(K.REVERSE, 2, -50, "order:1")]
    assert b.state.lot_for("order:1").reversed == 50
    with pytest.raises(ValueError, match="only 30 left"):
        reverse_earning(b.state, "order:1", 31, at(2024, 5, 3))
    b.do(reverse_earning, "order:1", 30, at(2024, 5, 4))
    assert b.state.balance == 100


def test_reverse_after_spending_takes_other_lots_then_records_debt_repaid_from_future_earnings():
    b = Book()
    b.do(earn, 30, "order:a", at(2024, 1, 1))
    b.do(earn, 100, "order:1", at(2024, 2, 1))
    b.do(spend, 120, at(2024, 2, 2), "order:2")  # a: 30 -> 0, order:1: 100 -> 10
    b.do(earn, 15, "review:1", at(2024, 2, 3))
    new = b.do(reverse_earning, "order:1", 100, at(2024, 2, 5))
    assert [(e.kind, e.lot_id, e.points) for e in new] == [
        (K.REVERSE, 2, -10),
        (K.REVERSE, 3, -15),
        (K.DEBT, None, -75),
    ]
    assert b.state.debt == 75 and b.state.balance == -75 and b.state.available(at(2024, 2, 5)) == -75
    with pytest.raises(InsufficientPoints):
        spend(b.state, 1, at(2024, 2, 6), "order:3")
    new = b.do(earn, 50, "order:4", at(2024, 3, 1))  # all of it repays debt
    assert [(e.kind, e.lot_id, e.points) for e in new] == [
        (K.EARN, 4, 50),
        (K.DEBT, 4, -50),
        (K.DEBT, None, 50),
    ]
    new = b.do(earn, 40, "order:5", at(2024, 3, 2))
    assert [(e.kind, e.lot_id, e.points) for e in new] == [
        (K.EARN, 5, 40),
        (K.DEBT, 5, -25),
        (K.DEBT, None, 25),
    ]
    assert b.state.debt == 0 and b.state.balance == 15 == b.state.lot(5).remaining


def test_reverse_unknown_order_or_bad_points_is_refused():
    b = Book()
    b.do(earn, 10, "order:1", at(2024, 1, 1))
    with pytest.raises(ValueError, match="No points were earned"):
        reverse_earning(b.state, "order:2", 1, at(2024, 1, 2))
    for bad in (0, -1, True, 1.0):
        with pytest.raises(ValueError):
            reverse_earning(b.state, "order:1", bad, at(2024, 1, 2))


def test_refund_spend_puts_points_back_into_their_lots_keeping_expiry():
    b = Book()
    b.do(earn, 100, "order:1", at(2024, 1, 1))
    b.do(earn, 100, "order:2", at(2024, 2, 1), ExpiryPolicy(ExpiryKind.DAYS, 10))
    b.do(spend, 150, at(2024, 2, 2), "order:3")  # lot 2 (sooner) 100, lot 1 50
    new = b.do(refund_spend, "order:3", at(2024, 2, 3), 30)  # last taken first: lot 1
    assert [(e.kind, e.lot_id, e.points) for e in new] == [(K.RESTORE, 1, 30)]
    new = b.do(refund_spend, "order:3", at(2024, 2, 4))
    assert [(e.kind, e.lot_id, e.points) for e in new] == [(K.RESTORE, 1, 20), (K.RESTORE, 2, 100)]
    assert [lot.remaining for lot in b.state.lots] == [100, 100]
    assert b.state.lot(2).expires_at == datetime(2024, 2, 12, tzinfo=CHINA_TZ)
    with pytest.raises(ValueError, match="0 left"):
        refund_spend(b.state, "order:3", at(2024, 2, 5))


def test_refund_spend_into_an_expired_lot_expires_at_once():
    b = Book()
    b.do(earn, 100, "order:1", at(2024, 1, 1), ExpiryPolicy(ExpiryKind.DAYS, 5))
    b.do(earn, 100, "order:2", at(2024, 1, 1))
    b.do(spend, 150, at(2024, 1, 2), "order:3")
    new = b.do(refund_spend, "order:3", at(2024, 1, 20))
    assert [(e.kind, e.lot_id, e.points, e.ref) for e in new] == [
        (K.RESTORE, 2, 50, "order:3"),
        (K.RESTORE, 1, 100, "order:3"),
        (K.EXPIRE, 1, -100, EXPIRY_REF),
    ]
    assert b.state.balance == 100


def test_restored_points_repay_debt_first():
    b = Book()
    b.do(earn, 100, "order:1", at(2024, 1, 1))
    b.do(spend, 100, at(2024, 1, 2), "order:2")
    b.do(reverse_earning, "order:1", 100, at(2024, 1, 3))
    assert b.state.debt == 100
    new = b.do(refund_spend, "order:2", at(2024, 1, 4), 60)
    assert [(e.kind, e.lot_id, e.points) for e in new] == [
        (K.RESTORE, 1, 60),
        (K.DEBT, 1, -60),
        (K.DEBT, None, 60),
    ]
    assert b.state.debt == 40 and b.state.balance == -40


def test_references_are_idempotency_keys():
    b = Book()
    b.do(earn, 100, "order:1", at(2024, 1, 1))
    with pytest.raises(DuplicateReference):
        earn(b.state, 100, "order:1", at(2024, 1, 2))
    b.do(spend, 10, at(2024, 1, 2), "order:2")
    with pytest.raises(DuplicateReference):
        spend(b.state, 10, at(2024, 1, 2), "order:2")
    with pytest.raises(ValueError, match="No points were spent"):
        refund_spend(b.state, "order:9", at(2024, 1, 2))


@pytest.mark.parametrize("bad", [0, -5, True, 1.5, "10"])
def test_bad_points_are_refused(bad):
    with pytest.raises(ValueError, match="正整数"):
        earn(Ledger(), bad, "order:1", at(2024, 1, 1))
    with pytest.raises(ValueError, match="正整数"):
        spend(Ledger(), bad, at(2024, 1, 1), "order:1")


def test_naive_datetimes_and_empty_refs_are_refused():
    with pytest.raises(ValueError, match="aware"):
        earn(Ledger(), 1, "order:1", datetime(2024, 1, 1))
    with pytest.raises(ValueError, match="non-empty"):
        earn(Ledger(), 1, "", at(2024, 1, 1))
    with pytest.raises(ValueError, match="Debt"):
        Ledger(debt=-1)


def test_check_reports_every_disagreement():
    b = Book()
    b.do(earn, 100, "order:1", at(2024, 1, 1))
    b.do(spend, 30, at(2024, 1, 2), "order:2")
    entries = list(b.entries)
    assert check(b.state, entries) == ()
    assert any("Lot 1" in p for p in check(b.state, entries[:1]))  # a lost spend row
    tampered = Ledger((replace(b.state.lots[0], remaining=90),))
    assert any("remaining 90" in p for p in check(tampered, entries))
    wrong_sign = [
        *entries,
        Entry(K.SPEND, 5, 1, "x", at(2024, 1, 3)),
        Entry(K.SPEND, -5, 1, "x", at(2024, 1, 3)),
    ]
    assert any("bad sign" in p for p in check(b.state, wrong_sign))
    orphan = [*entries, Entry(K.DEBT, -5, None, "x", at(2024, 1, 3))]
    problems = check(b.state, orphan)
    assert any("Debt 0" in p for p in problems) and any("Balance" in p for p in problems)
    ghost = [*entries, Entry(K.EARN, 5, 9, "y", at(2024, 1, 3))]
    assert any("unknown lot 9" in p for p in check(b.state, ghost))
