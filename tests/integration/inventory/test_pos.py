"""POS sync: duplicates, out-of-order counts and sales, shortages, sequence gaps."""

from __future__ import annotations

import itertools
import threading
from datetime import datetime, timedelta

import pytest
from django.db import connection, transaction
from django.test import override_settings
from django.test.utils import CaptureQueriesContext
from django.utils import timezone

from o2o.common.errors import ApiError, InvalidInput, NotFound
from o2o.inventory import buckets, checks
from o2o.inventory.ledger import Who
from o2o.inventory.models import (
    CountMark,
    Movement,
    MovementKind,
    PosDevice,
    Reservation,
    ReservationStatus,
    Stock,
)
from o2o.inventory.pos import PosEvent, merge_seqs, pos_ingest
from o2o.inventory.reservations import reservation_release
from tests.factories import figures, location, reserve, sku, stock_in

pytestmark = pytest.mark.django_db

NOW = timezone.now()
T0 = NOW - timedelta(hours=3)


def at(minutes: int):
    return T0 + timedelta(minutes=minutes)


_seq = itertools.count(1)


def ev(kind: str, sku_obj, qty: int, minute: int, eid: str | None = None, seq: int | None = None) -> PosEvent:
    n = next(_seq)
    return PosEvent(kind, eid or f"e{n}", seq or n, sku_obj.pk, qty, at(minute))


def ingest(loc, events, device: str = "till-1"):
    return pos_ingest(location_id=loc.pk, device_id=device, events=list(events), who=Who(label="pos-test"))


def assert_consistent():
    assert checks.run() == []


def test_batch_sent_twice_changes_nothing_the_second_time():
    loc, s = location(), sku()
    stock_in(loc, s, 10, at=at(0))
    batch = [ev("sale", s, 2, 10, "a"), ev("return", s, 1, 11, "b"), ev("sale", s, 3, 12, "c")]
    first = ingest(loc, batch)
    assert first.applied == ["a", "b", "c"] and first.duplicates == []
    count = Movement.objects.count()
    second = ingest(loc, batch)
    assert second.applied == [] and second.duplicates == ["a", "b", "c"]
    assert Movement.objects.count() == count
    assert figures(loc, s) == (6, 0)
    # A batch mixing applied and new events applies only the new ones.
    third = ingest(loc, [*batch, ev("sale", s, 1, 13, "d")])
    assert third.applied == ["d"] and third.duplicates == ["a", "b", "c"]
    assert figures(loc, s) == (5, 0)
    assert_consistent()


def test_event_ids_are_per_location():
    a, b, s = location(), location(), sku()
    stock_in(a, s, 5)
    stock_in(b, s, 5)
    ingest(a, [ev("sale", s, 1, 10, "same")])
    assert ingest(b, [ev("sale", s, 1, 10, "same")]).applied == ["same"]
    assert figures(a, s) == figures(b, s) == (4, 0)


def test_exact_repeat_inside_a_batch_is_a_duplicate_but_a_conflicting_one_is_refused():
    loc, s = location(), sku()
    stock_in(loc, s, 5)
    e = ev("sale", s, 1, 10, "x")
    result = ingest(loc, [e, e])
    assert result.applied == ["x"] and result.duplicates == ["x"]
    count = Movement.objects.count()
    with pytest.raises(InvalidInput):
        ingest(loc, [ev("sale", s, 1, 10, "y", seq=7), ev("sale", s, 2, 10, "y", seq=7)])
    assert Movement.objects.count() == count


SCENARIO = [("sale", 1, 10), ("count", 7, 20), ("sale", 2, 30)]  # received 10 at minute 0


@pytest.mark.parametrize("order", list(itertools.permutations(range(3))))
def test_count_and_sales_in_any_order_give_the_same_stock(order):
    """Received 10; sold 1; counted 7 (2 were missing); sold 2 -> 5, whatever arrives first."""
    loc, s = location(), sku()
    stock_in(loc, s, 10, at=at(0))
    events = [ev(kind, s, qty, minute, f"{kind}{minute}") for kind, qty, minute in SCENARIO]
    for i in order:
        ingest(loc, [events[i]])
    assert figures(loc, s) == (5, 0)
    assert CountMark.objects.get(location=loc, sku=s).counted_at == at(20)
    assert_consistent()


def test_count_and_sales_in_one_batch():
    loc, s = location(), sku()
    stock_in(loc, s, 10, at=at(0))
    ingest(loc, [ev(kind, s, qty, minute) for kind, qty, minute in reversed(SCENARIO)])
    assert figures(loc, s) == (5, 0)
    assert_consistent()


def test_sale_older_than_the_count_is_recorded_as_superseded():
    loc, s = location(), sku()
    stock_in(loc, s, 10, at=at(0))
    ingest(loc, [ev("count", s, 8, 20)])
    result = ingest(loc, [ev("sale", s, 3, 15, "late-sale")])
    assert result.superseded == ["late-sale"]
    m = Movement.objects.get(idempotency_key=f"pos:{loc.pk}:late-sale")
    assert m.kind == MovementKind.SALE and m.qty == 3 and m.delta_on_hand == 0
    assert m.details["superseded_by_count"] == at(20).isoformat()
    assert figures(loc, s) == (8, 0)
    assert_consistent()


def test_older_count_after_a_newer_one_changes_nothing():
    loc, s = location(), sku()
    stock_in(loc, s, 10, at=at(0))
    ingest(loc, [ev("count", s, 6, 30)])
    result = ingest(loc, [ev("count", s, 9, 20, "old-count")])
    assert result.superseded == ["old-count"]
    assert figures(loc, s) == (6, 0)
    assert CountMark.objects.get(location=loc, sku=s).counted_at == at(30)
    count = Movement.objects.get(idempotency_key=f"pos:{loc.pk}:old-count")
    assert count.kind == MovementKind.COUNT and count.qty == 9 and count.delta_on_hand == 0


def test_count_takes_later_non_pos_movements_into_account():
    loc, s = location(), sku()
    stock_in(loc, s, 10, at=at(0))
    stock_in(loc, s, 5, at=at(40))  # a delivery after the count was taken
    ingest(loc, [ev("count", s, 4, 20)])
    assert figures(loc, s) == (9, 0)
    assert_consistent()


def test_sale_beyond_free_stock_shorts_the_newest_reservation():
    loc, s, other = location(), sku(), sku()
    stock_in(loc, s, 5)
    stock_in(loc, other, 3)
    older = reserve(loc, {s: 2})
    newer = reserve(loc, {s: 2, other: 1})
    assert figures(loc, s) == (5, 4)
    result = ingest(loc, [ev("sale", s, 2, 100, "walk-in")])
    assert result.shorted_reservations == [newer.id] and result.discrepancies == []
    assert Reservation.objects.get(pk=newer.id).status == ReservationStatus.SHORTED
    assert Reservation.objects.get(pk=older.id).status == ReservationStatus.ACTIVE
    assert figures(loc, s) == (3, 2)
    assert figures(loc, other) == (3, 0)  # the shorted reservation's other line is released too
    releases = Movement.objects.filter(reservation_id=newer.id, kind=MovementKind.RELEASE)
    assert sorted(releases.values_list("sku_id", "delta_reserved")) == sorted([(s.pk, -2), (other.pk, -1)])
    sale = Movement.objects.get(idempotency_key=f"pos:{loc.pk}:walk-in")
    assert sale.delta_on_hand == -2 and sale.details["shorted_reservations"] == [newer.id]
    assert_consistent()


def test_overdue_reservation_is_shorted_before_a_current_one():
    loc, s = location(), sku()
    stock_in(loc, s, 4)
    overdue = reserve(loc, {s: 2}, ttl_s=60, at=timezone.now() - timedelta(minutes=5))
    current = reserve(loc, {s: 2})
    result = ingest(loc, [ev("sale", s, 1, 100)])
    assert result.shorted_reservations == [overdue.id]
    assert Reservation.objects.get(pk=current.id).status == ReservationStatus.ACTIVE
    assert figures(loc, s) == (3, 2)
    assert_consistent()


def test_sale_beyond_on_hand_records_a_discrepancy_and_never_goes_negative():
    loc, s, unstocked = location(), sku(), sku()
    stock_in(loc, s, 2)
    r = reserve(loc, {s: 1})
    result = ingest(loc, [ev("sale", s, 5, 100, "big"), ev("sale", unstocked, 1, 101, "ghost")])
    assert result.shorted_reservations == [r.id]
    assert sorted((d["pos_event_id"], d["missing"]) for d in result.discrepancies) == [("big", 3), ("ghost", 1)]
    assert figures(loc, s) == (0, 0) and figures(loc, unstocked) == (0, 0)
    big = Movement.objects.get(idempotency_key=f"pos:{loc.pk}:big")
    assert big.qty == 5 and big.delta_on_hand == -2 and big.details["discrepancy"] == 3
    assert_consistent()


def test_count_below_reserved_shorts_reservations():
    loc, s = location(), sku()
    stock_in(loc, s, 10, at=at(0))
    r1 = reserve(loc, {s: 3})
    r2 = reserve(loc, {s: 3})
    result = ingest(loc, [ev("count", s, 4, 30)])
    assert result.shorted_reservations == [r2.id]
    assert figures(loc, s) == (4, 3)
    assert Reservation.objects.get(pk=r1.id).status == ReservationStatus.ACTIVE
    assert_consistent()


def test_count_below_later_sales_is_a_discrepancy():
    loc, s = location(), sku()
    stock_in(loc, s, 10, at=at(0))
    ingest(loc, [ev("sale", s, 4, 40)])
    result = ingest(loc, [ev("count", s, 2, 30, "count")])  # 2 at minute 30, yet 4 sold at minute 40
    assert result.discrepancies == [{"pos_event_id": "count", "sku_id": s.pk, "missing": 2}]
    assert figures(loc, s) == (0, 0)
    assert_consistent()


def test_sequence_gaps_are_tracked_and_filled():
    loc, s = location(), sku()
    stock_in(loc, s, 100)
    r = ingest(loc, [ev("sale", s, 1, 1, seq=1), ev("sale", s, 1, 2, seq=2), ev("sale", s, 1, 5, seq=5)])
    assert (r.last_seq, r.missing_seqs) == (5, [[3, 4]])
    r = ingest(loc, [ev("sale", s, 1, 3, seq=3), ev("sale", s, 1, 9, seq=9)])
    assert (r.last_seq, r.missing_seqs) == (9, [[4, 4], [6, 8]])
    r = ingest(loc, [ev("sale", s, 1, 4, seq=4), ev("sale", s, 1, 7, seq=7)])
    assert (r.last_seq, r.missing_seqs) == (9, [[6, 6], [8, 8]])
    dev = PosDevice.objects.get(location=loc, device_id="till-1")
    assert dev.last_seq == 9 and dev.missing_seqs == [[6, 6], [8, 8]] and dev.last_seen_at is not None
    # Another till of the store has its own numbering.
    assert ingest(loc, [ev("sale", s, 1, 9, seq=2)], device="till-2").missing_seqs == [[1, 1]]


def test_merge_seqs_handles_jumps_without_listing_every_number():
    assert merge_seqs(0, [], {1, 2, 3}) == (3, [])
    assert merge_seqs(3, [], {10**12}) == (10**12, [[4, 10**12 - 1]])
    assert merge_seqs(10, [[2, 5]], {3}) == (10, [[2, 2], [4, 5]])
    assert merge_seqs(10, [[2, 5]], {2, 3, 4, 5}) == (10, [])
    assert merge_seqs(10, [], {4}) == (10, [])  # a resend below last_seq is not a gap


def test_bad_events_apply_nothing():
    loc, s = location(), sku()
    stock_in(loc, s, 5)
    count = Movement.objects.count()
    good = ev("sale", s, 1, 10)
    bad_batches = [
        [good, PosEvent("sale", "z1", 99, s.pk, 0, at(10))],
        [good, PosEvent("return", "z2", 99, s.pk, -1, at(10))],
        [good, PosEvent("count", "z3", 99, s.pk, -1, at(10))],
        [good, PosEvent("sale", "z4", 99, s.pk, 1, at(10).replace(tzinfo=None))],
        [good, PosEvent("sale", "z5", 99, s.pk, 1, timezone.now() + timedelta(days=2))],
        [good, PosEvent("steal", "z6", 99, s.pk, 1, at(10))],
        [good, PosEvent("sale", "", 99, s.pk, 1, at(10))],
        [good, PosEvent("sale", "z7", 0, s.pk, 1, at(10))],
    ]
    for batch in bad_batches:
        with pytest.raises(InvalidInput):
            ingest(loc, batch)
    with pytest.raises(NotFound):
        ingest(loc, [good, PosEvent("sale", "z8", 99, 10**9, 1, at(10))])
    with pytest.raises(NotFound):
        pos_ingest(location_id=10**9, device_id="t", events=[good], who=Who(label="x"))
    with override_settings(O2O={"POS_MAX_BATCH": 2, "MAX_BASKET_LINES": 100}), pytest.raises(ApiError) as exc:
        ingest(loc, [ev("sale", s, 1, 10) for _ in range(3)])
    assert exc.value.status == 413
    assert Movement.objects.count() == count and figures(loc, s) == (5, 0)


def test_a_batch_costs_a_fixed_number_of_queries():
    loc = location()
    skus = [sku() for _ in range(30)]
    for s in skus:
        stock_in(loc, s, 50, at=at(0))
    ingest(loc, [ev("sale", skus[0], 1, 1)])

    def run(n: int) -> int:
        events = [ev("sale", skus[i % len(skus)], 1, 5 + i % 50) for i in range(n)]
        with CaptureQueriesContext(connection) as q:
            ingest(loc, events)
        # The ledger INSERT is left out: SQLite splits a bulk INSERT into chunks of 999
        # parameters; PostgreSQL sends one (array parameters from 50 rows on).
        return len([x for x in q.captured_queries
                    if not x["sql"].replace('"', "").startswith("INSERT INTO inventory_movement")])

    small, large = run(30), run(300)  # the same 30 items: ten times the events, no more queries
    assert large == small, (small, large)
    assert_consistent()


def test_sale_of_a_split_item_spreads_over_its_buckets():
    loc, s = location(), sku()
    stock_in(loc, s, 10, at=at(0))
    with transaction.atomic():
        buckets.split(location_id=loc.pk, sku_id=s.pk, buckets=4)  # 3, 3, 2, 2
    reserve(loc, {s: 2})
    ingest(loc, [ev("sale", s, 7, 10), ev("return", s, 1, 11)])  # no single bucket holds 7 free
    assert figures(loc, s) == (4, 2)
    assert Stock.objects.filter(location=loc, sku=s).count() == 4
    assert_consistent()


def test_stock_writes_do_not_grow_with_the_number_of_items():
    loc = location()
    skus = [sku() for _ in range(40)]
    for s in skus:
        stock_in(loc, s, 5, at=at(0))
    ingest(loc, [ev("sale", skus[0], 1, 1)])

    def queries(items: int) -> int:
        with CaptureQueriesContext(connection) as q:
            ingest(loc, [ev("sale", skus[i % items], 1, 2) for i in range(40)])
        return len([x for x in q.captured_queries if 'INSERT INTO "inventory_movement"' not in x["sql"]])

    assert queries(2) == queries(40)


@pytest.mark.postgres
@pytest.mark.django_db(transaction=True)
def test_concurrent_batches_and_reservations_stay_consistent():
    assert connection.vendor == "postgresql"  # marked postgres: runs only in the PostgreSQL suite
    loc, skus = location(), [sku() for _ in range(3)]
    for s in skus:
        stock_in(loc, s, 200, at=at(0))
    errors: list[BaseException] = []

    def till(device: str) -> None:
        try:
            for b in range(5):
                ingest(loc, [ev("sale", skus[(b + i) % 3], 1, 60 + b, f"{device}-{b}-{i}") for i in range(10)],
                       device=device)
        except BaseException as exc:  # noqa: BLE001
            errors.append(exc)
        finally:
            connection.close()

    def shopper() -> None:
        try:
            for _ in range(10):
                r = reserve(loc, {skus[0]: 1, skus[2]: 1})
                reservation_release(reservation_id=r.id, who=Who(label="t"))
        except BaseException as exc:  # noqa: BLE001
            errors.append(exc)
        finally:
            connection.close()

    threads = [threading.Thread(target=till, args=(f"till-{i}",)) for i in range(4)]
    threads.append(threading.Thread(target=shopper))
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert errors == []
    assert sum(figures(loc, s)[0] for s in skus) == 600 - 4 * 5 * 10
    assert_consistent()


# --- clock skew, value ranges, devices, lock order ------------------------------------------

def test_events_more_than_five_minutes_ahead_are_refused():
    loc, s = location(), sku()
    stock_in(loc, s, 5, at=at(0))
    now = timezone.now()
    with pytest.raises(InvalidInput) as exc:
        pos_ingest(location_id=loc.pk, device_id="till-1", who=Who(label="t"), now=now,
                   events=[PosEvent("sale", "ok", 1, s.pk, 1, at(10)),
                           PosEvent("sale", "ahead", 2, s.pk, 1, now + timedelta(minutes=6))])
    assert exc.value.details["events"][0]["pos_event_id"] == "ahead"
    assert figures(loc, s) == (5, 0) and not Movement.objects.filter(kind=MovementKind.SALE).exists()
    # Within the allowed skew it is accepted.
    pos_ingest(location_id=loc.pk, device_id="till-1", who=Who(label="t"), now=now,
               events=[PosEvent("sale", "skewed", 3, s.pk, 1, now + timedelta(minutes=4))])
    assert figures(loc, s) == (4, 0)


def test_a_count_from_a_fast_clock_does_not_supersede_later_sales():
    """A count stamped 4 min ahead cannot have happened after it was received: its mark is the
    receipt time, so a sale made (and sent) right after it still counts."""
    loc, s = location(), sku()
    stock_in(loc, s, 10, at=at(0))
    received = timezone.now()
    pos_ingest(location_id=loc.pk, device_id="till-fast", who=Who(label="t"), now=received,
               events=[PosEvent("count", "count-ahead", 1, s.pk, 8, received + timedelta(minutes=4))])
    assert CountMark.objects.get(location=loc, sku=s).counted_at == received
    assert figures(loc, s) == (8, 0)
    result = pos_ingest(location_id=loc.pk, device_id="till-ok", who=Who(label="t"),
                        now=received + timedelta(minutes=2),
                        events=[PosEvent("sale", "after", 1, s.pk, 3, received + timedelta(minutes=1))])
    assert result.superseded == [] and figures(loc, s) == (5, 0)
    count = Movement.objects.get(idempotency_key=f"pos:{loc.pk}:count-ahead")
    assert count.occurred_at == received
    assert count.details["till_occurred_at"] == (received + timedelta(minutes=4)).isoformat()
    assert_consistent()


@pytest.mark.parametrize("when", ["0001-01-01T00:00:00+14:00", "1999-12-31T23:59:59+00:00",
                                  "2000-01-01T05:00:00+14:00"])
def test_occurred_at_before_2000_is_refused(when):
    loc, s = location(), sku()
    stock_in(loc, s, 5)
    with pytest.raises(InvalidInput):
        ingest(loc, [PosEvent("sale", "old", 1, s.pk, 1, datetime.fromisoformat(when))])
    with pytest.raises(InvalidInput):
        ingest(loc, [PosEvent("count", "old", 1, s.pk, 1, datetime.fromisoformat(when))])
    assert figures(loc, s) == (5, 0) and CountMark.objects.count() == 0


def test_nul_characters_in_identifiers_are_refused():
    loc, s = location(), sku()
    stock_in(loc, s, 5)
    count = Movement.objects.count()
    with pytest.raises(InvalidInput):
        ingest(loc, [PosEvent("sale", "a\x00b", 1, s.pk, 1, at(10))])
    with pytest.raises(InvalidInput):
        ingest(loc, [ev("sale", s, 1, 10)], device="till\x00")
    assert Movement.objects.count() == count and PosDevice.objects.count() == 0


def test_devices_per_location_are_capped():
    from o2o.inventory.pos import MAX_DEVICES_PER_LOCATION

    loc, other, s = location(), location(), sku()
    stock_in(loc, s, 5)
    stock_in(other, s, 5)
    PosDevice.objects.bulk_create([PosDevice(location=loc, device_id=f"till-{i}")
                                   for i in range(MAX_DEVICES_PER_LOCATION)])
    with pytest.raises(InvalidInput) as exc:
        ingest(loc, [ev("sale", s, 1, 10)], device="one-too-many")
    assert exc.value.code == "too_many_devices"
    assert PosDevice.objects.filter(location=loc).count() == MAX_DEVICES_PER_LOCATION
    assert figures(loc, s) == (5, 0)
    assert ingest(loc, [ev("sale", s, 1, 10, "known")], device="till-7").applied == ["known"]
    assert ingest(other, [ev("sale", s, 1, 10, "elsewhere")], device="one-too-many").applied == ["elsewhere"]


def test_shorting_a_reservation_with_a_lower_sku_line_keeps_the_lock_order():
    """The reservation's other line sorts before the sold SKU: the batch locks it with the
    sold one (in key order) and still shorts the reservation whole."""
    loc, low, high = location(), sku(), sku()
    assert low.pk < high.pk
    stock_in(loc, low, 3)
    stock_in(loc, high, 2)
    r = reserve(loc, {low: 1, high: 2})
    result = ingest(loc, [ev("sale", high, 1, 100, "walk-in")])
    assert result.shorted_reservations == [r.id]
    assert figures(loc, high) == (1, 0) and figures(loc, low) == (3, 0)
    assert Reservation.objects.get(pk=r.id).status == ReservationStatus.SHORTED
    assert_consistent()
