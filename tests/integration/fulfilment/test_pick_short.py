"""Picking comes up short (a POS sale shorts the order's reservation): the shipment is re-routed
automatically after the POS commit, once, and a sweep catches what a lost signal left."""

from __future__ import annotations

from datetime import timedelta

import pytest
from django.core.management import call_command
from django.utils import timezone

from o2o.fulfilment.decisions import decision_create
from o2o.fulfilment.models import RoutedShipment, RoutingDecision, ShipmentStatus, Trigger
from o2o.fulfilment.reroute import reroute_shorted
from o2o.inventory import checks
from o2o.inventory.ledger import Who
from o2o.inventory.models import Reservation, ReservationStatus
from o2o.inventory.pos import PosEvent, pos_ingest
from o2o.inventory.signals import reservation_shorted
from tests.factories import figures
from tests.integration.fulfilment.world import P, build

pytestmark = pytest.mark.django_db

WHO = Who(label="test")


@pytest.fixture
def w(monkeypatch):
    return build(monkeypatch)


def routed(w, ref="PS-1"):
    d = decision_create(order_ref=ref, lines=[(w.s1.pk, 2)], lat=P.lat, lng=P.lng, coord="gcj02",
                        choice="fastest", pickup_location_id=None, who=WHO)
    sh = d.shipments.get()
    assert sh.location_id == w.a.pk
    return d, sh


def sell_everything_at_a(w, event_id="sale-1"):
    """A walk-in buys all 10 units at A: free stock first, then the order's reservation is shorted."""
    event = PosEvent("sale", event_id, 1, w.s1.pk, 10, timezone.now() - timedelta(minutes=1))
    return pos_ingest(location_id=w.a.pk, device_id="till-1", events=[event], who=Who(label="pos"))


def test_pos_short_reroutes_after_commit(w, django_capture_on_commit_callbacks):
    d, sh = routed(w)
    with django_capture_on_commit_callbacks(execute=True) as callbacks:
        result = sell_everything_at_a(w)
    assert result.shorted_reservations == [sh.reservation_id] and len(callbacks) == 1
    sh.refresh_from_db()
    assert sh.status == ShipmentStatus.SHORT
    new = RoutingDecision.objects.get(source_shipment=sh)
    assert new.trigger == Trigger.PICK_SHORT and new.parent_id == d.pk and new.excluded_location_ids == [w.a.pk]
    assert new.actor_label == "system:pick_short" and new.created_by_id is None
    [moved] = new.shipments.all()
    assert moved.location_id == w.b.pk and moved.lines == sh.lines
    assert Reservation.objects.get(pk=moved.reservation_id).status == ReservationStatus.ACTIVE
    assert figures(w.b, w.s1) == (10, 2) and figures(w.a, w.s1) == (0, 0)
    assert checks.run() == []
    # The signal again (a duplicate delivery) and the sweep change nothing.
    reservation_shorted.send(sender=None, reservation_ids=(sh.reservation_id,))
    assert reroute_shorted() == []
    assert RoutingDecision.objects.filter(order_ref="PS-1").count() == 2


def test_the_signal_waits_for_the_commit(w, django_capture_on_commit_callbacks):
    routed(w)
    with django_capture_on_commit_callbacks(execute=False) as callbacks:
        sell_everything_at_a(w)
    assert len(callbacks) == 1
    assert RoutingDecision.objects.count() == 1  # nothing re-routed before the commit
    callbacks[0]()
    assert RoutingDecision.objects.filter(trigger=Trigger.PICK_SHORT).count() == 1


def test_sweep_reroutes_what_a_lost_signal_left(w, capsys):
    d, sh = routed(w)
    sell_everything_at_a(w)  # on-commit callbacks never run here: the signal is "lost"
    assert Reservation.objects.get(pk=sh.reservation_id).status == ReservationStatus.SHORTED
    assert RoutedShipment.objects.get(pk=sh.pk).status == ShipmentStatus.RESERVED
    call_command("reroute-shorted")
    assert "re-routed 1" in capsys.readouterr().out
    assert RoutingDecision.objects.get(source_shipment=sh).trigger == Trigger.PICK_SHORT
    call_command("reroute-shorted")
    assert "re-routed 0" in capsys.readouterr().out
    assert RoutingDecision.objects.count() == 2


def test_a_rejected_shipment_is_not_rerouted_again_when_shorted(w):
    from o2o.fulfilment.reroute import shipment_reject

    d, sh = routed(w)
    shipment_reject(shipment_id=sh.pk, reason="closed", who=WHO)
    assert reroute_shorted() == []
    assert RoutingDecision.objects.count() == 2


def test_a_shorted_reservation_without_a_shipment_is_ignored(w, django_capture_on_commit_callbacks):
    from tests.factories import reserve

    reserve(w.a, {w.s1: 5})
    with django_capture_on_commit_callbacks(execute=True):
        result = sell_everything_at_a(w)
    assert result.shorted_reservations
    assert RoutingDecision.objects.count() == 0
