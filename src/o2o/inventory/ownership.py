"""Reservations that an app above the inventory owns (an order's holds, through its routed shipments).

Such a hold is released or consumed only by its owner, which settles what that means (the
order's shipment, the customer's money): the inventory's own ``release`` / ``fulfil``
endpoints answer 409 ``owned_reservation`` for it. Apps register at start-up; the inventory
never imports them.
"""

from __future__ import annotations

from collections.abc import Callable

_owners: dict[str, Callable[[int], bool]] = {}


def register(name: str, owns: Callable[[int], bool]) -> None:
    _owners[name] = owns


def owner_of(reservation_id: int) -> str | None:
    return next((name for name, owns in _owners.items() if owns(reservation_id)), None)
