"""Closing a routed shipment when its order moves on: the goods left the store, or the order was cancelled.

Both run in the caller's transaction and are idempotent: a conditional UPDATE moves the
shipment from ``reserved`` once, and only the winner touches the reservation.
"""

from __future__ import annotations

from django.utils import timezone

from o2o.common.errors import Conflict
from o2o.fulfilment.models import RoutedShipment, ShipmentStatus
from o2o.inventory.ledger import Who
from o2o.inventory.reservations import reservation_fulfil, reservation_release


def _close(routed_id: int, status: str, reason: str) -> RoutedShipment | None:
    won = RoutedShipment.objects.filter(pk=routed_id, status=ShipmentStatus.RESERVED).update(
        status=status, status_changed_at=timezone.now(), status_reason=reason[:200])
    return RoutedShipment.objects.get(pk=routed_id) if won else None


def routed_shipment_fulfil(*, routed_id: int, who: Who, reason: str) -> bool:
    """The shipment's goods were handed over: the reservation leaves stock (on hand and reserved go down)."""
    shipment = _close(routed_id, ShipmentStatus.FULFILLED, reason)
    if shipment is None:
        status = RoutedShipment.objects.filter(pk=routed_id).values_list("status", flat=True).first()
        if status == ShipmentStatus.FULFILLED:
            return False
        raise Conflict("发货单已不在待拣状态 The routed shipment is no longer open", code="shipment_not_open",
                       details={"routed_shipment_id": routed_id, "status": status})
    if shipment.reservation_id is not None:
        reservation_fulfil(reservation_id=shipment.reservation_id, who=who, reason=reason[:200])
    return True


def routed_shipment_release(*, routed_id: int, who: Who, reason: str) -> bool:
    """The order no longer needs the shipment: its reservation goes back to stock. False if already closed."""
    shipment = _close(routed_id, ShipmentStatus.RELEASED, reason)
    if shipment is None:
        return False
    if shipment.reservation_id is not None:
        reservation_release(reservation_id=shipment.reservation_id, who=who, reason=reason[:200])
    return True
