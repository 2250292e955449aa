"""POS ingest racing a reservation being closed (PostgreSQL: real row locks, own connections).

On hand 10, reservation R holds 5. T1 releases R inside a transaction it keeps open; T2
ingests a till event that needs all 10 units (a sale of 10, or a count of 0). Whatever the
interleaving, once both commit the item must be at on hand 0, reserved 0 with no phantom
units, and the ledger must agree.

* ``release_first``: T1 has released R (its stock rows are locked) when T2 arrives; T2 must
  wait for T1 and decide on the figures T1 committed.
* ``lock_first``: T1 holds R's row but has not touched stock yet when T2 arrives; T2 must not
  decide around R (it skips R's locked row): it rolls back and retries once T1 is through.
"""

from __future__ import annotations

import threading
import time
from datetime import timedelta

import pytest
from django.db import connection, transaction
from django.utils import timezone

from o2o.inventory import checks, pos
from o2o.inventory.errors import InsufficientStock
from o2o.inventory.ledger import Who
from o2o.inventory.models import Reservation, ReservationStatus
from o2o.inventory.pos import PosEvent, pos_ingest
from o2o.inventory.reservations import reservation_release
from tests.factories import figures, location, reserve, sku, stock_in

pytestmark = [pytest.mark.postgres, pytest.mark.django_db(transaction=True)]

TIMEOUT = 20


def _waiting_on_a_lock() -> bool:
    with connection.cursor() as cur:
        cur.execute("SELECT count(*) FROM pg_stat_activity WHERE datname = current_database() "
                    "AND wait_event_type = 'Lock'")
        return cur.fetchone()[0] > 0


def _wait_for(predicate, what: str) -> None:
    deadline = time.monotonic() + TIMEOUT
    while not predicate():
        assert time.monotonic() < deadline, f"timed out waiting for {what}"
        time.sleep(0.01)


@pytest.mark.parametrize("kind", ["sale", "count"])
@pytest.mark.parametrize("order", ["release_first", "lock_first"])
def test_till_event_racing_a_release_leaves_no_phantom_stock(order, kind, monkeypatch):
    assert connection.vendor == "postgresql"  # marked postgres: runs only in the PostgreSQL suite
    loc, s = location(), sku()
    stock_in(loc, s, 10, at=timezone.now() - timedelta(hours=1))
    r = reserve(loc, {s: 5})
    assert figures(loc, s) == (10, 5)
    event = PosEvent(kind, f"{kind}-all", 1, s.pk, 10 if kind == "sale" else 0,
                     timezone.now() - timedelta(minutes=1))

    t1_holding, go, t1_done = threading.Event(), threading.Event(), threading.Event()
    errors: list[BaseException] = []
    results: list[pos.PosResult] = []

    def closer() -> None:  # T1
        try:
            with transaction.atomic():
                Reservation.objects.select_for_update().get(pk=r.id)
                if order == "release_first":
                    reservation_release(reservation_id=r.id, who=Who(label="t1"))
                t1_holding.set()
                assert go.wait(TIMEOUT)
                if order == "lock_first":
                    reservation_release(reservation_id=r.id, who=Who(label="t1"))
        except BaseException as exc:  # noqa: BLE001
            errors.append(exc)
        finally:
            t1_holding.set()
            t1_done.set()
            connection.close()

    def till() -> None:  # T2
        try:
            results.append(pos_ingest(location_id=loc.pk, device_id="till-1", events=[event],
                                      who=Who(label="t2")))
        except BaseException as exc:  # noqa: BLE001
            errors.append(exc)
        finally:
            connection.close()

    if order == "lock_first":
        # The till backs off when it meets R locked: let T1 go on then, and finish.
        backoff = pos._backoff if hasattr(pos, "_backoff") else None

        def let_t1_finish(attempt: int) -> None:
            go.set()
            t1_done.wait(TIMEOUT)
            if backoff is not None:
                backoff(attempt)

        monkeypatch.setattr(pos, "_backoff", let_t1_finish, raising=False)

    t1 = threading.Thread(target=closer)
    t1.start()
    assert t1_holding.wait(TIMEOUT)
    t2 = threading.Thread(target=till)
    t2.start()
    if order == "release_first":
        _wait_for(_waiting_on_a_lock, "the till to wait for T1's stock rows")
        go.set()
    else:
        t2.join(TIMEOUT)
        go.set()  # (without the fix the till never backs off)
    t1.join(TIMEOUT)
    t2.join(TIMEOUT)
    assert not t1.is_alive() and not t2.is_alive()
    assert errors == []

    assert Reservation.objects.get(pk=r.id).status == ReservationStatus.RELEASED
    assert figures(loc, s) == (0, 0)
    assert results[0].shorted_reservations == [] and results[0].discrepancies == []
    assert checks.run() == []


def test_multi_line_shorting_racing_releases_does_not_deadlock():
    """Tills short two-line reservations (lines on SKUs both below and above the sold one)
    while shoppers reserve and release the same SKUs: no deadlock, no phantom stock."""
    assert connection.vendor == "postgresql"
    loc = location()
    low, mid, high = sku(), sku(), sku()
    for s in (low, mid, high):
        stock_in(loc, s, 30, at=timezone.now() - timedelta(hours=1))
    errors: list[BaseException] = []

    def shopper(n: int) -> None:
        try:
            for i in range(12):
                other = low if (n + i) % 2 else high
                try:
                    view = reserve(loc, {mid: 1, other: 1})
                except InsufficientStock:  # the tills sold it all
                    continue
                if i % 2:  # (releasing one a till shorted meanwhile changes nothing)
                    reservation_release(reservation_id=view.id, who=Who(label="shopper"))
        except BaseException as exc:  # noqa: BLE001
            errors.append(exc)
        finally:
            connection.close()

    def till(n: int) -> None:
        try:
            for b in range(10):
                at = timezone.now() - timedelta(seconds=30)
                pos_ingest(location_id=loc.pk, device_id=f"till-{n}", who=Who(label="till"),
                           events=[PosEvent("sale", f"t{n}-{b}", b + 1, mid.pk, 2, at)])
        except BaseException as exc:  # noqa: BLE001
            errors.append(exc)
        finally:
            connection.close()

    threads = [threading.Thread(target=shopper, args=(i,)) for i in range(3)]
    threads += [threading.Thread(target=till, args=(i,)) for i in range(2)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(60)
    assert not any(t.is_alive() for t in threads)
    assert errors == []
    assert checks.run() == []
