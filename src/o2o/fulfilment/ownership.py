"""Routed shipments that an app above fulfilment owns (the order center's shipments).

Such a shipment must be re-routed by its owner, which takes its own locks first (the order
row) and settles what a re-route implies (refunds for lines nobody can fill, the order's
status). So fulfilment's own entry points leave owned shipments to their owner: the
``POST /fulfilment/shipments/{id}/reject`` endpoint answers 409 ``owned_shipment``, and a
shorted reservation (the POS hook and the ``o2o reroute-shorted`` sweep) is handed to the
owner's ``reroute_short``. Apps register at start-up (``AppConfig.ready``); fulfilment never
imports them.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass


@dataclass(frozen=True)
class Owner:
    name: str
    owns: Callable[[int], bool]  # routed shipment id -> owned?
    reroute_short: Callable[[int], object]  # routed shipment id -> re-route it (its own transaction)


_owners: list[Owner] = []


def register(owner: Owner) -> None:
    _owners[:] = [o for o in _owners if o.name != owner.name] + [owner]


def owner_of(routed_shipment_id: int) -> Owner | None:
    return next((o for o in _owners if o.owns(routed_shipment_id)), None)
