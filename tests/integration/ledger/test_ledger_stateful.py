"""A hypothesis state machine drives the inventory services with random sequences of
receive / reserve / release / fulfil / POS sale / transfer / adjust / split / duplicate
replays (API idempotency keys and POS event ids), and checks
after every step that the database agrees with a plain dictionary model and that every
item's stock equals the sum of its ledger."""

from __future__ import annotations

from datetime import timedelta

import pytest
from django.db import transaction
from django.db.models import Sum
from django.utils import timezone
from hypothesis import settings
from hypothesis import strategies as st
from hypothesis.stateful import Bundle, RuleBasedStateMachine, initialize, invariant, rule

from o2o.common.errors import ApiError
from o2o.inventory import buckets
from o2o.inventory.checks import run as run_checks
from o2o.inventory.errors import InsufficientStock
from o2o.inventory.idempotency import run_idempotent
from o2o.inventory.ledger import Who
from o2o.inventory.models import Movement, Reservation, Stock
from o2o.inventory.pos import PosEvent, pos_ingest
from o2o.inventory.reservations import reservation_create, reservation_fulfil, reservation_release
from o2o.inventory.stock import stock_adjust, stock_receive
from o2o.inventory.transfers import transfer_receive, transfer_ship
from o2o.inventory.validation import Line
from tests.factories import location, sku

WHO = Who(label="stateful-test")
qty = st.integers(min_value=1, max_value=12)


class LedgerMachine(RuleBasedStateMachine):
    requests = Bundle("requests")
    pos_batches = Bundle("pos_batches")
    transfers = Bundle("transfers")

    @initialize()
    def setup(self) -> None:
        self.locs = [location().pk, location().pk]
        self.skus = [sku().pk, sku().pk]
        self.model = {(lo, s): [0, 0] for lo in self.locs for s in self.skus}  # on_hand, reserved
        self.res_state: dict[int, tuple[tuple[int, int], int, bool]] = {}
        self.key_seq = 0
        self.clock = timezone.now()
        self.in_transit: dict[int, tuple[tuple[int, int], int, bool]] = {}

    def _item(self, i: int, j: int) -> tuple[int, int]:
        return self.locs[i], self.skus[j]

    @rule(i=st.integers(0, 1), j=st.integers(0, 1), q=qty)
    def receive(self, i: int, j: int, q: int) -> None:
        lo, s = self._item(i, j)
        with transaction.atomic():
            stock_receive(location_id=lo, lines=[Line(s, q)], who=WHO)
        self.model[(lo, s)][0] += q

    def _reserve(self, lo: int, s: int, q: int, key: str):
        def work():
            view = reservation_create(location_id=lo, lines=[Line(s, q)], who=WHO)
            return 201, view.as_dict()

        return run_idempotent(operation="test.reserve", key=key, payload={"lo": lo, "s": s, "q": q}, work=work)

    @rule(target=requests, i=st.integers(0, 1), j=st.integers(0, 1), q=qty)
    def reserve(self, i: int, j: int, q: int):
        lo, s = self._item(i, j)
        self.key_seq += 1
        key = f"k{self.key_seq}-{lo}-{s}"
        on_hand, reserved = self.model[(lo, s)]
        try:
            outcome = self._reserve(lo, s, q, key)
        except InsufficientStock:
            assert on_hand - reserved < q
            return (key, lo, s, q, None)
        assert on_hand - reserved >= q, "reserved more than was available"
        self.model[(lo, s)][1] += q
        self.res_state[outcome.body["id"]] = ((lo, s), q, True)
        return (key, lo, s, q, outcome.body)

    @rule(req=requests)
    def replay(self, req) -> None:
        key, lo, s, q, body = req
        before = Movement.objects.count()
        try:
            outcome = self._reserve(lo, s, q, key)
        except ApiError as err:
            assert body is None and err.code == "insufficient_stock"  # a stored failure replays as itself
        else:
            assert outcome.replayed and outcome.body == body
        assert Movement.objects.count() == before

    @rule(req=requests)
    def replay_with_other_body_conflicts(self, req) -> None:
        key, lo, s, q, _ = req
        with pytest.raises(ApiError) as err:
            self._reserve(lo, s, q + 1, key)
        assert err.value.code == "idempotency_key_reused"

    @rule(req=requests, fulfil=st.booleans())
    def close(self, req, fulfil: bool) -> None:
        body = req[4]
        if body is None:
            return
        rid = body["id"]
        item, q, active = self.res_state[rid]
        status = Reservation.objects.get(pk=rid).status
        try:
            if fulfil:
                reservation_fulfil(reservation_id=rid, who=WHO)
            else:
                reservation_release(reservation_id=rid, who=WHO)
        except ApiError as err:
            # Handing over a closed reservation, or releasing one already handed over, is refused.
            assert not active
            if fulfil:  # fulfilling again would be a no-op; only other closed states refuse
                assert err.code == "reservation_not_active" and status != "fulfilled"
            else:
                assert err.code == "reservation_fulfilled" and status == "fulfilled"
            return
        if active:
            self.model[item][1] -= q
            if fulfil:
                self.model[item][0] -= q
            self.res_state[rid] = (item, q, False)

    @rule(i=st.integers(0, 1), j=st.integers(0, 1), delta=st.integers(-15, 15).filter(bool))
    def adjust(self, i: int, j: int, delta: int) -> None:
        lo, s = self._item(i, j)
        on_hand, reserved = self.model[(lo, s)]
        try:
            with transaction.atomic():
                stock_adjust(location_id=lo, sku_id=s, delta=delta, reason="盘盈盘亏 test", who=WHO)
        except InsufficientStock:
            assert on_hand - reserved < -delta
            return
        assert on_hand - reserved >= -delta
        self.model[(lo, s)][0] += delta

    @rule(target=pos_batches, i=st.integers(0, 1), j=st.integers(0, 1), q=qty)
    def pos_sale(self, i: int, j: int, q: int):
        """A till sells q units. The goods left, so on hand never goes below zero: free stock
        first, then reservations are shorted, then the rest is a recorded discrepancy."""
        lo, s = self._item(i, j)
        self.key_seq += 1
        self.clock += timedelta(seconds=1)
        batch = (lo, [PosEvent("sale", f"e{self.key_seq}", self.key_seq, s, q, self.clock)])
        result = pos_ingest(location_id=lo, device_id="till-1", events=batch[1], who=WHO)
        assert result.applied == [f"e{self.key_seq}"]
        on_hand, reserved = self.model[(lo, s)]
        taken = min(q, on_hand)
        self.model[(lo, s)][0] -= taken
        for rid in result.shorted_reservations:  # shorted reservations let go of every line
            item, rq, active = self.res_state[rid]
            assert active
            self.model[item][1] -= rq
            self.res_state[rid] = (item, rq, False)
        assert self.model[(lo, s)][1] <= self.model[(lo, s)][0]
        if result.discrepancies:
            assert q > on_hand
        return batch

    @rule(batch=pos_batches)
    def pos_replay(self, batch) -> None:
        lo, events = batch
        before = Movement.objects.count()
        result = pos_ingest(location_id=lo, device_id="till-1", events=events, who=WHO)
        assert result.applied == [] and result.duplicates == [e.pos_event_id for e in events]
        assert Movement.objects.count() == before

    @rule(target=transfers, j=st.integers(0, 1), q=qty, direction=st.integers(0, 1))
    def ship(self, j: int, q: int, direction: int):
        src, dst = self.locs[direction], self.locs[1 - direction]
        s = self.skus[j]
        on_hand, reserved = self.model[(src, s)]
        try:
            with transaction.atomic():
                t = transfer_ship(source_id=src, destination_id=dst, lines=[Line(s, q)], who=WHO)
        except InsufficientStock:
            assert on_hand - reserved < q
            return None
        assert on_hand - reserved >= q
        self.model[(src, s)][0] -= q
        self.in_transit[t.id] = ((dst, s), q, True)
        return t.id

    @rule(transfer_id=transfers)
    def receive_transfer(self, transfer_id) -> None:
        if transfer_id is None:
            return
        item, q, open_ = self.in_transit[transfer_id]
        with transaction.atomic():
            transfer_receive(transfer_id=transfer_id, who=WHO)  # a second receipt changes nothing
        if open_:
            self.model[item][0] += q
            self.in_transit[transfer_id] = (item, q, False)

    @rule(i=st.integers(0, 1), j=st.integers(0, 1), n=st.integers(1, 6))
    def split(self, i: int, j: int, n: int) -> None:
        lo, s = self._item(i, j)
        with transaction.atomic():
            buckets.split(location_id=lo, sku_id=s, buckets=n)

    @invariant()
    def database_matches_model_and_ledger(self) -> None:
        if not hasattr(self, "model"):
            return
        for (lo, s), (on_hand, reserved) in self.model.items():
            t = buckets.totals(lo, s)
            assert (t.on_hand, t.reserved) == (on_hand, reserved)
            ledger = Movement.objects.filter(location_id=lo, sku_id=s).aggregate(
                h=Sum("delta_on_hand"), r=Sum("delta_reserved"))
            assert ((ledger["h"] or 0), (ledger["r"] or 0)) == (on_hand, reserved)
            assert not Stock.objects.filter(location_id=lo, sku_id=s, on_hand__lt=0).exists()
        assert run_checks() == []


LedgerMachine.TestCase.settings = settings(max_examples=25, stateful_step_count=30, deadline=None)


@pytest.mark.django_db
def test_ledger_state_machine():
    LedgerMachine.TestCase().runTest()
