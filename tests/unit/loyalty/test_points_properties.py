"""Hypothesis: any sequence of earn/spend/expire/reverse/restore keeps the ledger consistent.

After every step: ``check(state, entries) == ()`` (each lot's entries sum to what is left in
it, the debt account to ``-debt``, the balance to the sum of all entries); lots never go
below zero; a debt exists only when no valid lot has points left; a spend takes exactly what
was asked, soonest expiry first, and is refused exactly when it exceeds ``available(now)``;
expiry empties exactly the lots with ``expires_at <= now``.
"""

from __future__ import annotations

from datetime import datetime, timedelta

from hypothesis import event, settings
from hypothesis import strategies as st
from hypothesis.stateful import RuleBasedStateMachine, invariant, precondition, rule

from o2o.core.loyalty import (
    CHINA_TZ,
    DEFAULT_EXPIRY,
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
POLICIES = st.sampled_from(
    [
        DEFAULT_EXPIRY,
        ExpiryPolicy(ExpiryKind.DAYS, 7),
        ExpiryPolicy(ExpiryKind.DAYS, 90),
        ExpiryPolicy(ExpiryKind.END_OF_MONTH, 1),
    ]
)


class LedgerMachine(RuleBasedStateMachine):
    def __init__(self) -> None:
        super().__init__()
        self.state = Ledger()
        self.entries = []
        self.now = datetime(2024, 1, 1, 9, tzinfo=CHINA_TZ)
        self.serial = 0

    def _apply(self, result):
        before = self.state.balance
        self.state, new = result
        self.entries.extend(new)
        assert self.state.balance == before + sum(e.points for e in new)
        return new

    def _ref(self, prefix: str) -> str:
        self.serial += 1
        return f"{prefix}:{self.serial}"

    @rule(delta=st.timedeltas(min_value=timedelta(0), max_value=timedelta(days=200)))
    def advance(self, delta):
        self.now += delta

    @rule(points=st.integers(1, 5_000), policy=POLICIES)
    def earn(self, points, policy):
        debt = self.state.debt
        new = self._apply(earn(self.state, points, self._ref("order"), self.now, policy))
        assert new[0].kind is K.EARN and new[0].points == points
        assert self.state.debt == max(0, debt - points)

    @rule(points=st.integers(1, 8_000))
    def spend(self, points):
        available = self.state.available(self.now)
        try:
            new = self._apply(spend(self.state, points, self.now, self._ref("spend")))
        except InsufficientPoints:
            assert points > available
            return
        assert points <= available
        assert all(e.kind is K.SPEND and e.points < 0 for e in new)
        assert -sum(e.points for e in new) == points
        assert self.state.available(self.now) == available - points >= 0
        # FIFO: taken in order of expiry; every lot but the last taken is emptied, and no valid
        # lot expiring before the last taken one keeps any points.
        lots = [self.state.lot(e.lot_id) for e in new]
        assert [lot.expires_at for lot in lots] == sorted(lot.expires_at for lot in lots)
        assert all(lot.remaining == 0 for lot in lots[:-1])
        last = lots[-1]
        assert all(
            lot.remaining == 0
            for lot in self.state.lots
            if lot.is_valid(self.now)
            and (lot.expires_at, lot.earned_at, lot.lot_id) < (last.expires_at, last.earned_at, last.lot_id)
        )

    @rule()
    def expire(self):
        before = {lot.lot_id: lot.remaining for lot in self.state.lots}
        new = self._apply(expire(self.state, self.now))
        assert len({e.lot_id for e in new}) == len(new)
        for lot in self.state.lots:
            if lot.is_valid(self.now):
                assert lot.remaining == before[lot.lot_id]
            else:
                assert lot.remaining == 0

    @precondition(lambda self: any(lot.points > lot.reversed for lot in self.state.lots))
    @rule(data=st.data())
    def reverse(self, data):
        lot = data.draw(st.sampled_from([lot for lot in self.state.lots if lot.points > lot.reversed]))
        points = data.draw(st.integers(1, lot.points - lot.reversed))
        debt = self.state.debt
        new = self._apply(reverse_earning(self.state, lot.ref, points, self.now))
        assert sum(e.points for e in new) == -points
        assert all(e.kind in (K.REVERSE, K.DEBT) for e in new)
        assert self.state.debt - debt == -sum(e.points for e in new if e.kind is K.DEBT)
        event("reverse incurred debt" if self.state.debt > debt else "reverse covered by lots")

    @precondition(lambda self: any(s.points > s.restored for s in self.state.spends))
    @rule(data=st.data())
    def restore(self, data):
        found = data.draw(st.sampled_from([s for s in self.state.spends if s.points > s.restored]))
        points = data.draw(st.one_of(st.none(), st.integers(1, found.points - found.restored)))
        new = self._apply(refund_spend(self.state, found.ref, self.now, points))
        restored = sum(e.points for e in new if e.kind is K.RESTORE)
        assert restored == (found.points - found.restored if points is None else points)
        assert all(e.lot_id in dict(found.taken) for e in new if e.lot_id is not None)
        kinds = {e.kind for e in new}
        event(f"restore: expired at once={K.EXPIRE in kinds}, repaid debt={K.DEBT in kinds}")

    @invariant()
    def consistent(self):
        assert check(self.state, self.entries) == ()
        assert self.state.balance == sum(e.points for e in self.entries)
        assert self.state.debt >= 0
        assert self.state.balance >= -self.state.debt
        assert all(0 <= lot.remaining <= lot.points for lot in self.state.lots)
        assert all(0 <= lot.reversed <= lot.points for lot in self.state.lots)
        if self.state.debt:
            assert sum(lot.remaining for lot in self.state.lots if lot.is_valid(self.now)) == 0


LedgerMachine.TestCase.settings = settings(max_examples=150, stateful_step_count=40, deadline=None)
TestLedgerMachine = LedgerMachine.TestCase
