"""Pickup races on PostgreSQL (real row locks, one connection per thread).

Two clerks verify the same code at the same moment: exactly one hands the goods over, the
other is told ``used``. A verification racing the deadline sweep: exactly one of them wins,
and the stock agrees with its ledger either way.
"""

from __future__ import annotations

import threading
import time
from datetime import timedelta

import pytest
from django.db import connection

from o2o.common.errors import ApiError
from o2o.inventory import checks
from o2o.inventory.models import Reservation, ReservationStatus
from o2o.orders import lifecycle, pickup, store_work
from o2o.orders.actors import By
from o2o.orders.models import Order, PickupCode, PickupVerification, Shipment
from tests.concurrency import someone_waits_on_a_lock
from tests.e2e.orders.test_pickup_flow import pay, place_pickup
from tests.factories import figures, member, staff
from tests.integration.fulfilment.world import build

pytestmark = [pytest.mark.postgres, pytest.mark.django_db(transaction=True)]

TIMEOUT = 20




def _first_holds_the_order_lock(monkeypatch) -> threading.Event:
    """Whoever takes the order row lock first keeps it until the other waits for it; the event
    tells that the first one holds it."""
    real, entered, held = pickup.lock_order, threading.Lock(), threading.Event()

    def lock_order(order_id: int):  # noqa: ANN202
        order = real(order_id)
        if entered.acquire(blocking=False):
            held.set()
            deadline = time.monotonic() + 5
            while not someone_waits_on_a_lock() and time.monotonic() < deadline:
                time.sleep(0.01)
        return order

    monkeypatch.setattr(pickup, "lock_order", lock_order)
    return held


def _race(*jobs, after: threading.Event | None = None) -> tuple[list[object], list[BaseException]]:  # noqa: ANN002
    """Run the jobs in threads at once (``after``: the jobs after the first wait for that event)."""
    start = threading.Barrier(len(jobs))
    results: list[object] = []
    errors: list[BaseException] = []

    def run(job, i: int) -> None:  # noqa: ANN001
        try:
            start.wait(TIMEOUT)
            if after is not None and i > 0:
                assert after.wait(TIMEOUT)
            results.append(job())
        except ApiError as exc:
            results.append(exc.code)
        except BaseException as exc:  # noqa: BLE001
            errors.append(exc)
        finally:
            connection.close()

    threads = [threading.Thread(target=run, args=(job, i)) for i, job in enumerate(jobs)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(TIMEOUT)
    assert not any(t.is_alive() for t in threads)
    return results, errors


@pytest.fixture
def ready(client, monkeypatch):
    assert connection.vendor == "postgresql"  # marked postgres: runs only in the PostgreSQL suite
    w = build(monkeypatch)
    asked: list[tuple] = []
    monkeypatch.setattr(lifecycle, "_refunder",
                        [lambda order, amount_fen, reason, by, order_return=None: asked.append((order.pk, amount_fen))])
    _, token = member()
    o = place_pickup(client, w, token, (w.s1, 2))
    pay(o["id"])
    s = store_work.shipment_mark_ready(o["shipments"][0]["id"], by=By(label="staff:test"), pick_all=True)
    s.refresh_from_db()
    return w, Order.objects.get(pk=o["id"]), s, PickupCode.objects.get(shipment=s).code, asked


def test_two_clerks_verify_one_code_at_once(ready, monkeypatch):
    w, order, s, code, _ = ready
    on_hand = figures(w.a, w.s1)[0]
    clerks = [staff("clerk", loc=w.a)[0] for _ in range(2)]
    held = _first_holds_the_order_lock(monkeypatch)
    results, errors = _race(*[
        (lambda u=u: pickup.pickup_verify(location_id=w.a.pk, code=code, by=By(user_id=u.pk, label=f"staff:{u.pk}")))
        for u in clerks], after=held)
    assert errors == []
    assert sorted(r["result"] if isinstance(r, dict) else r for r in results) == ["ok", "used"]
    assert sorted(PickupVerification.objects.values_list("result", flat=True)) == ["ok", "used"]
    assert Shipment.objects.get(pk=s.pk).status == "completed"
    assert Order.objects.get(pk=order.pk).status == "completed"
    assert PickupCode.objects.get(shipment=s).status == "used"
    assert figures(w.a, w.s1) == (on_hand - 2, 0)
    assert checks.run() == []


@pytest.mark.parametrize("first", ["verify", "sweep"])
def test_verify_racing_the_deadline_sweep_has_one_winner(ready, monkeypatch, first):
    w, order, s, code, asked = ready
    on_hand = figures(w.a, w.s1)[0]
    clerk = staff("clerk", loc=w.a)[0]
    just_before, just_after = s.pickup_deadline - timedelta(seconds=1), s.pickup_deadline + timedelta(seconds=1)
    held = _first_holds_the_order_lock(monkeypatch)

    def verify():  # noqa: ANN202
        return pickup.pickup_verify(location_id=w.a.pk, code=code, now=just_before,
                                    by=By(user_id=clerk.pk, label=f"staff:{clerk.pk}"))

    def sweep():  # noqa: ANN202
        return pickup.pickups_expire(now=just_after)

    jobs = (verify, sweep) if first == "verify" else (sweep, verify)
    results, errors = _race(*jobs, after=held)
    assert errors == []
    verified = next(r for r in results if not (isinstance(r, dict) and "cancelled" in r))
    swept = next(r for r in results if isinstance(r, dict) and "cancelled" in r)
    s.refresh_from_db()
    order.refresh_from_db()
    if first == "verify":  # handed over; the sweep found nothing due any more
        assert verified["result"] == "ok" and swept["cancelled"] == 0
        assert (s.status, order.status) == ("completed", "completed") and asked == []
        assert figures(w.a, w.s1) == (on_hand - 2, 0)
        assert Reservation.objects.get(reference=order.number).status == ReservationStatus.FULFILLED
    else:  # cancelled and refunded; the clerk is refused and nothing leaves the store
        assert verified == "not_ready" and swept["cancelled"] == 1
        assert (s.status, order.status) == ("cancelled", "cancelled") and asked == [(order.pk, order.paid_fen)]
        assert figures(w.a, w.s1) == (on_hand, 0)
        assert list(PickupVerification.objects.values_list("result", flat=True)) == ["not_ready"]
    assert checks.run() == []
