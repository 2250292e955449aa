"""Signals the fulfilment app sends to the apps above it (which it must not import).

``shipment_rerouted``: a re-route stored a new decision for a shipment's lines (the store
rejected it, or picking came up short). Sent **inside** the transaction that stored it, with
``decision`` (the new ``RoutingDecision``) and ``source_shipment`` (the old
``RoutedShipment``), so a receiver's writes (the order's shipments and history) commit or
roll back with the re-route itself. A receiver that raises rolls the re-route back.
"""

from __future__ import annotations

from django.dispatch import Signal

shipment_rerouted = Signal()
