"""Two re-routes of one shipment at the same moment (PostgreSQL: real row locks, own connections).

Whatever the interleaving, exactly one re-route happens: one new decision, one released
reservation, one new reservation; the other attempt is a 409 (a second rejection) or a
no-op (the pick-short re-route), and the inventory still agrees with its ledger.
"""

from __future__ import annotations

import threading
import time
from datetime import timedelta

import pytest
from django.db import connection
from django.utils import timezone

from o2o.common.errors import Conflict
from o2o.fulfilment import reroute
from o2o.fulfilment.decisions import decision_create
from o2o.fulfilment.models import RoutedShipment, RoutingDecision, ShipmentStatus
from o2o.fulfilment.reroute import on_reservation_shorted, shipment_reject, shipment_reroute_short
from o2o.inventory import checks
from o2o.inventory.ledger import Who
from o2o.inventory.models import Reservation, ReservationStatus
from o2o.inventory.pos import PosEvent, pos_ingest
from o2o.inventory.signals import reservation_shorted
from tests.concurrency import someone_waits_on_a_lock
from tests.factories import figures
from tests.integration.fulfilment.world import P, build

pytestmark = [pytest.mark.postgres, pytest.mark.django_db(transaction=True)]

TIMEOUT = 20




@pytest.mark.parametrize("other", ["reject", "pick_short"])
def test_concurrent_reroutes_of_one_shipment_make_one_decision(monkeypatch, other):
    assert connection.vendor == "postgresql"  # marked postgres: runs only in the PostgreSQL suite
    w = build(monkeypatch)
    d = decision_create(order_ref="RACE-1", lines=[(w.s1.pk, 2)], lat=P.lat, lng=P.lng, coord="gcj02",
                        choice="fastest", pickup_location_id=None, who=Who(label="t"))
    sh = d.shipments.get()
    if other == "pick_short":  # short the reservation without letting the receiver run yet
        reservation_shorted.disconnect(dispatch_uid="fulfilment.reroute_shorted")
        try:
            event = PosEvent("sale", "s1", 1, w.s1.pk, 10, timezone.now() - timedelta(minutes=1))
            pos_ingest(location_id=w.a.pk, device_id="till", events=[event], who=Who(label="pos"))
        finally:
            reservation_shorted.connect(on_reservation_shorted, dispatch_uid="fulfilment.reroute_shorted")
        assert Reservation.objects.get(pk=sh.reservation_id).status == ReservationStatus.SHORTED

    # The first one into routing holds the shipment's row lock until the other waits on it.
    real_load, entered = reroute.load_network, threading.Lock()

    def load_network(**kw):
        if entered.acquire(blocking=False):
            deadline = time.monotonic() + 5
            while not someone_waits_on_a_lock() and time.monotonic() < deadline:
                time.sleep(0.01)
        return real_load(**kw)

    monkeypatch.setattr(reroute, "load_network", load_network)
    start = threading.Barrier(2)
    results: list[object] = []
    errors: list[BaseException] = []

    def run(job) -> None:  # noqa: ANN001
        try:
            start.wait(TIMEOUT)
            results.append(job())
        except Conflict as exc:
            results.append(exc.code)
        except BaseException as exc:  # noqa: BLE001
            errors.append(exc)
        finally:
            connection.close()

    jobs = [lambda: shipment_reject(shipment_id=sh.pk, reason="one", who=Who(label="t1"))]
    if other == "reject":
        jobs.append(lambda: shipment_reject(shipment_id=sh.pk, reason="two", who=Who(label="t2")))
    else:
        jobs.append(lambda: shipment_reroute_short(sh.pk))
    threads = [threading.Thread(target=run, args=(job,)) for job in jobs]
    for t in threads:
        t.start()
    for t in threads:
        t.join(TIMEOUT)
    assert not any(t.is_alive() for t in threads)
    assert errors == []

    decisions = [r for r in results if isinstance(r, RoutingDecision)]
    assert len(decisions) == 1
    losers = [r for r in results if not isinstance(r, RoutingDecision)]
    assert losers in (["shipment_not_open"], [None])
    assert RoutingDecision.objects.filter(order_ref="RACE-1").count() == 2
    new = RoutingDecision.objects.get(source_shipment=sh)
    assert RoutedShipment.objects.get(pk=sh.pk).status in (ShipmentStatus.REJECTED, ShipmentStatus.SHORT)
    [moved] = new.shipments.all()
    assert moved.location_id == w.b.pk and figures(w.b, w.s1) == (10, 2)
    assert Reservation.objects.filter(status=ReservationStatus.ACTIVE).count() == 1
    assert checks.run() == []
