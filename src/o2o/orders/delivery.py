"""Same-city delivery (being written)."""

from __future__ import annotations

from o2o.orders.actors import By
from o2o.orders.models import Shipment


def dispatch_for(shipment: Shipment, *, by: By) -> None:
    """Book a courier for a packed same-city shipment (caller's transaction, order row locked)."""
