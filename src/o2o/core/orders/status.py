"""Order and shipment statuses: one explicit transition table each, and the derivation rule.

We chose explicit tables (plain mappings from a status to the set of statuses it may move
to) over django-fsm or python-statemachine: the core stays pure standard library, the rules
are data that tests can enumerate pair by pair, and the Django side calls
:func:`check_order` / :func:`check_shipment` inside its transaction before it saves.
A self-transition is illegal unless the table lists it (only the courier re-dispatch does).

Shipments (per :class:`ShipmentMode`)
-------------------------------------
* every mode: ``pending -> allocated -> ...`` once the order is paid; counter (a POS sale
  handed over at once): ``pending -> completed``.
* pickup: ``allocated -> picking -> ready_for_pickup -> completed``.
* same_city: ``allocated -> picking -> awaiting_courier -> out_for_delivery -> completed``;
  a failed or cancelled courier order goes back to ``awaiting_courier`` (from
  ``out_for_delivery``: the courier brought it back; ``awaiting_courier -> awaiting_courier``
  is the one listed self-loop, so a re-dispatch is a recorded transition).
* express: ``allocated -> picking -> shipped -> completed``.
* A clerk may skip "start picking": ``allocated`` goes straight to ``ready_for_pickup`` /
  ``awaiting_courier`` / ``shipped``. Small baskets are picked and packed in one go, and
  forcing a click that means nothing only makes staff click it after the fact.
* Until the goods leave the store (:data:`CANCELLABLE_SHIPMENT`: pending, allocated,
  picking, ready_for_pickup, awaiting_courier) a shipment may be ``cancelled``; while the
  store has not finished picking (pending, allocated, picking: a POS sale may short an
  unpaid order's hold too) the routing engine may move its lines
  to another shipment: ``rerouted``. Once handed over (out_for_delivery, shipped) it can
  only complete; a return after that is a refund, not a status change here.

Orders
------
``pending_payment -> paid | cancelled | expired``; after payment the fulfilment stage is a
summary of the shipments (:func:`order_status_for`), so the table lists every move that
summary can make: any forward skip (a clerk marks two steps at once, or cancelling the
least advanced shipment reveals a later stage) and exactly three moves back:

* ``picking -> allocated``: a shipment being picked was rerouted to a new allocated one;
* ``ready_for_pickup -> picking`` and ``out_for_delivery -> picking``: a same-city courier
  failed, the parcel is back at ``awaiting_courier`` (which counts as picking: still in
  the store).

``paid``, ``allocated``, ``picking``, ``ready_for_pickup -> cancelled`` (nothing has left
the store by order status; the caller releases the stock and refunds the money, and must
also check :func:`can_cancel`, since a split order's status shows its least advanced
shipment). ``refunded`` means every paid fen came back **after** the goods were handed
over: only ``completed -> refunded``. A paid order cancelled before handover is
``cancelled``, not ``refunded``; partial returns leave the order ``completed``.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from enum import StrEnum
from types import MappingProxyType

__all__ = [
    "ACTIVE_SHIPMENT",
    "CANCELLABLE_ORDER",
    "CANCELLABLE_SHIPMENT",
    "CLOSED_ORDER",
    "DROPPED_SHIPMENT",
    "FULFILMENT_ORDER",
    "ORDER_TRANSITIONS",
    "REROUTABLE_SHIPMENT",
    "SHIPMENT_TRANSITIONS",
    "STAGE_ORDER",
    "TERMINAL_ORDER",
    "TERMINAL_SHIPMENT",
    "IllegalTransition",
    "OrderStatus",
    "ShipmentMode",
    "ShipmentStatus",
    "can_cancel",
    "check_order",
    "check_shipment",
    "order_status_for",
]


class OrderStatus(StrEnum):
    PENDING_PAYMENT = "pending_payment"
    PAID = "paid"
    ALLOCATED = "allocated"
    PICKING = "picking"
    READY_FOR_PICKUP = "ready_for_pickup"
    OUT_FOR_DELIVERY = "out_for_delivery"
    SHIPPED = "shipped"
    COMPLETED = "completed"
    CANCELLED = "cancelled"
    EXPIRED = "expired"  # never paid in time
    REFUNDED = "refunded"  # all money returned after the goods were handed over


class ShipmentMode(StrEnum):
    PICKUP = "pickup"
    SAME_CITY = "same_city"
    EXPRESS = "express"
    COUNTER = "counter"  # a POS sale handed over at once


class ShipmentStatus(StrEnum):
    PENDING = "pending"  # the order is not paid yet
    ALLOCATED = "allocated"  # paid, waiting for the store to pick
    PICKING = "picking"
    READY_FOR_PICKUP = "ready_for_pickup"
    AWAITING_COURIER = "awaiting_courier"  # packed, courier dispatched but not here yet
    OUT_FOR_DELIVERY = "out_for_delivery"
    SHIPPED = "shipped"  # express parcel handed to the carrier
    COMPLETED = "completed"  # picked up / delivered / counter sale
    CANCELLED = "cancelled"
    REROUTED = "rerouted"  # its lines moved to another shipment by the routing engine


_O, _S = OrderStatus, ShipmentStatus

TERMINAL_ORDER: frozenset[OrderStatus] = frozenset({_O.CANCELLED, _O.EXPIRED, _O.REFUNDED})
"""No way out."""
CLOSED_ORDER: frozenset[OrderStatus] = TERMINAL_ORDER | {_O.COMPLETED}
"""Fulfilment is over: shipments no longer change the order (completed may still be refunded)."""
FULFILMENT_ORDER: frozenset[OrderStatus] = frozenset(
    {_O.ALLOCATED, _O.PICKING, _O.READY_FOR_PICKUP, _O.OUT_FOR_DELIVERY, _O.SHIPPED}
)
"""The stages derived from shipments between payment and completion."""
CANCELLABLE_ORDER: frozenset[OrderStatus] = frozenset(
    {_O.PENDING_PAYMENT, _O.PAID, _O.ALLOCATED, _O.PICKING, _O.READY_FOR_PICKUP}
)

TERMINAL_SHIPMENT: frozenset[ShipmentStatus] = frozenset({_S.COMPLETED, _S.CANCELLED, _S.REROUTED})
DROPPED_SHIPMENT: frozenset[ShipmentStatus] = frozenset({_S.CANCELLED, _S.REROUTED})
"""Shipments that no longer count for their order."""
ACTIVE_SHIPMENT: frozenset[ShipmentStatus] = frozenset(ShipmentStatus) - DROPPED_SHIPMENT
"""Shipments that count for their order (including completed ones)."""
CANCELLABLE_SHIPMENT: frozenset[ShipmentStatus] = frozenset(
    {_S.PENDING, _S.ALLOCATED, _S.PICKING, _S.READY_FOR_PICKUP, _S.AWAITING_COURIER}
)
"""The goods have not left the store."""
REROUTABLE_SHIPMENT: frozenset[ShipmentStatus] = frozenset({_S.PENDING, _S.ALLOCATED, _S.PICKING})


def _table(rows: dict) -> Mapping:
    return MappingProxyType({k: frozenset(v) for k, v in rows.items()})


_AFTER_PAY = {_O.ALLOCATED, _O.PICKING, _O.READY_FOR_PICKUP, _O.OUT_FOR_DELIVERY, _O.SHIPPED, _O.COMPLETED}

ORDER_TRANSITIONS: Mapping[OrderStatus, frozenset[OrderStatus]] = _table(
    {
        _O.PENDING_PAYMENT: {_O.PAID, _O.CANCELLED, _O.EXPIRED},
        _O.PAID: _AFTER_PAY | {_O.CANCELLED},
        _O.ALLOCATED: _AFTER_PAY - {_O.ALLOCATED} | {_O.CANCELLED},
        _O.PICKING: _AFTER_PAY - {_O.PICKING} | {_O.CANCELLED},  # incl. back to allocated (reroute)
        _O.READY_FOR_PICKUP: {_O.PICKING, _O.OUT_FOR_DELIVERY, _O.SHIPPED, _O.COMPLETED, _O.CANCELLED},
        _O.OUT_FOR_DELIVERY: {_O.PICKING, _O.SHIPPED, _O.COMPLETED},
        _O.SHIPPED: {_O.COMPLETED},
        _O.COMPLETED: {_O.REFUNDED},
        _O.CANCELLED: set(),
        _O.EXPIRED: set(),
        _O.REFUNDED: set(),
    }
)

_UNTIL_HANDOVER = {_S.CANCELLED}
_UNTIL_PICKED = {_S.CANCELLED, _S.REROUTED}

SHIPMENT_TRANSITIONS: Mapping[ShipmentMode, Mapping[ShipmentStatus, frozenset[ShipmentStatus]]] = (
    MappingProxyType(
        {
            ShipmentMode.PICKUP: _table(
                {
                    _S.PENDING: {_S.ALLOCATED, _S.CANCELLED, _S.REROUTED},
                    _S.ALLOCATED: {_S.PICKING, _S.READY_FOR_PICKUP} | _UNTIL_PICKED,
                    _S.PICKING: {_S.READY_FOR_PICKUP} | _UNTIL_PICKED,
                    _S.READY_FOR_PICKUP: {_S.COMPLETED} | _UNTIL_HANDOVER,
                }
            ),
            ShipmentMode.SAME_CITY: _table(
                {
                    _S.PENDING: {_S.ALLOCATED, _S.CANCELLED, _S.REROUTED},
                    _S.ALLOCATED: {_S.PICKING, _S.AWAITING_COURIER} | _UNTIL_PICKED,
                    _S.PICKING: {_S.AWAITING_COURIER} | _UNTIL_PICKED,
                    _S.AWAITING_COURIER: {_S.AWAITING_COURIER, _S.OUT_FOR_DELIVERY} | _UNTIL_HANDOVER,
                    _S.OUT_FOR_DELIVERY: {_S.AWAITING_COURIER, _S.COMPLETED},
                }
            ),
            ShipmentMode.EXPRESS: _table(
                {
                    _S.PENDING: {_S.ALLOCATED, _S.CANCELLED, _S.REROUTED},
                    _S.ALLOCATED: {_S.PICKING, _S.SHIPPED} | _UNTIL_PICKED,
                    _S.PICKING: {_S.SHIPPED} | _UNTIL_PICKED,
                    _S.SHIPPED: {_S.COMPLETED},
                }
            ),
            ShipmentMode.COUNTER: _table({_S.PENDING: {_S.COMPLETED, _S.CANCELLED}}),
        }
    )
)

STAGE_ORDER: tuple[OrderStatus, ...] = (
    _O.PENDING_PAYMENT,
    _O.ALLOCATED,
    _O.PICKING,
    _O.READY_FOR_PICKUP,
    _O.OUT_FOR_DELIVERY,
    _O.SHIPPED,
)
"""Least advanced first: the order shows the first of these that any open shipment is at.

Everything still in the store (allocated, picking, awaiting a courier) comes first. The
three handover stages are parallel branches of different modes; among them the order shows
the one that needs the customer soonest: come and collect it (ready_for_pickup), then
receive it within hours (out_for_delivery), then within days (shipped).
"""

_STAGE_OF: Mapping[ShipmentStatus, OrderStatus] = MappingProxyType(
    {
        _S.PENDING: _O.PENDING_PAYMENT,
        _S.ALLOCATED: _O.ALLOCATED,
        _S.PICKING: _O.PICKING,
        _S.READY_FOR_PICKUP: _O.READY_FOR_PICKUP,
        _S.AWAITING_COURIER: _O.PICKING,  # packed, still in the store
        _S.OUT_FOR_DELIVERY: _O.OUT_FOR_DELIVERY,
        _S.SHIPPED: _O.SHIPPED,
    }
)
_RANK = {status: i for i, status in enumerate(STAGE_ORDER)}


class IllegalTransition(Exception):
    """A status change the tables do not allow; ``kind`` is "order" or "shipment"."""

    def __init__(self, kind: str, current: object, target: object, mode: object = None) -> None:
        self.kind = kind
        self.current = current
        self.target = target
        self.mode = mode
        what = "订单" if kind == "order" else "发货单"
        where = f" ({mode})" if mode is not None else ""
        super().__init__(f"不允许的{what}状态变更 Illegal {kind} transition{where}: {current} -> {target}")


def check_order(current: OrderStatus, target: OrderStatus) -> None:
    """Raise :class:`IllegalTransition` unless ``current -> target`` is in :data:`ORDER_TRANSITIONS`."""
    if target not in ORDER_TRANSITIONS.get(current, frozenset()):
        raise IllegalTransition("order", current, target)


def check_shipment(mode: ShipmentMode, current: ShipmentStatus, target: ShipmentStatus) -> None:
    """Raise :class:`IllegalTransition` unless the mode's table allows ``current -> target``."""
    table = SHIPMENT_TRANSITIONS.get(mode, MappingProxyType({}))
    if target not in table.get(current, frozenset()):
        raise IllegalTransition("shipment", current, target, mode)


def order_status_for(
    current: OrderStatus, shipments: Iterable[tuple[ShipmentMode, ShipmentStatus]]
) -> OrderStatus:
    """The order's status given its shipments' (mode, status); total: never raises on valid statuses.

    Shipments cannot tell payment or the end of an order, so ``current`` is kept when it is
    ``pending_payment`` (payment is an explicit :func:`check_order` step) or closed
    (:data:`CLOSED_ORDER`), when no shipment counts (all cancelled or rerouted: cancelling
    the order is the caller's explicit decision), and when the least advanced shipment is
    still ``pending`` (a paid order stays ``paid`` until every shipment is allocated).
    Otherwise: every counting shipment completed -> ``completed``; else the least advanced
    open shipment's stage in :data:`STAGE_ORDER` (completed shipments are ignored).
    """
    if current == _O.PENDING_PAYMENT or current in CLOSED_ORDER:
        return current
    statuses = [status for _, status in shipments if status in ACTIVE_SHIPMENT]
    if not statuses:
        return current
    stages = [_STAGE_OF[s] for s in statuses if s != _S.COMPLETED and s in _STAGE_OF]
    if not stages:
        return _O.COMPLETED
    least = min(stages, key=_RANK.__getitem__)
    return current if least == _O.PENDING_PAYMENT else least


def can_cancel(shipments: Iterable[tuple[ShipmentMode, ShipmentStatus]]) -> bool:
    """Whether the whole order may still be cancelled: no counting shipment has left the store.

    Check this together with ``check_order(current, CANCELLED)``: a split order's status
    shows its least advanced shipment, so "picking" does not prove that nothing was shipped.
    """
    return all(status in CANCELLABLE_SHIPMENT or status in DROPPED_SHIPMENT for _, status in shipments)
