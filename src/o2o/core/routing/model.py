"""The routing engine's inputs and outputs, as plain immutable data.

Inputs: an :class:`Order` (lines, destination, the customer's :class:`Choice`) and the
:class:`Node` records of the network (stores, dark stores, warehouses with their stock,
capabilities and pick capacity). Output: a :class:`Plan` of :class:`Shipment` records plus
the :class:`UnfilledLine` records that say what could not be filled and why.

Conventions
-----------
* Money is integer **fen** (1 yuan = 100 fen) everywhere; text formats it as ``¥``.
* Coordinates are GCJ-02 :class:`~o2o.core.geo.LatLng` (what AMap/WeChat give).
* ``weight_g`` on an :class:`OrderLine` is the weight of **one unit**; shipment weights
  are totals.
* Lines are keyed by SKU: lines of one order with the same SKU are merged before routing
  (quantities added, total weight kept), and a line is **never split** across nodes: it
  ships whole from one node or is reported unfilled.
* Times are minutes from ``now`` (which the caller passes in) and the datetimes derived
  from it; the engine never reads a clock.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import datetime
from enum import StrEnum

from o2o.core.geo import LatLng

__all__ = [
    "Choice",
    "OpeningHours",
    "CostBreakdown",
    "EtaWindow",
    "Mode",
    "Node",
    "NodeId",
    "NodeKind",
    "Order",
    "OrderLine",
    "Plan",
    "Reason",
    "Shipment",
    "ShipmentLine",
    "SkuId",
    "UnfilledLine",
]

NodeId = int | str
SkuId = int | str
# Opening hours by weekday, Monday first: 7 tuples of (open, close) minutes of the local day.
# 0 <= open < 1440, 0 < close <= 1440; close < open runs past midnight; () closes the day.
OpeningHours = tuple[tuple[tuple[int, int], ...], ...]


class NodeKind(StrEnum):
    """What a fulfilment node is."""

    STORE = "store"
    DARK_STORE = "dark_store"
    WAREHOUSE = "warehouse"

    @property
    def label(self) -> str:
        """A short English label for explanations ("store", "dark store", "warehouse")."""
        return self.value.replace("_", " ")


class Mode(StrEnum):
    """How a shipment reaches the customer."""

    PICKUP = "pickup"  # the customer collects it at the store
    SAME_CITY = "same_city"  # a city courier from a store/dark store within its delivery radius
    EXPRESS = "express"  # parcel carrier from a warehouse (or an express-capable node), next day


class Choice(StrEnum):
    """The customer's fulfilment choice at checkout."""

    PICKUP = "pickup"  # collect at ``Order.pickup_node_id``
    FASTEST = "fastest"  # delivery, time weighs heavily
    CHEAPEST = "cheapest"  # delivery, cost only
    ANY = "any"  # delivery, the platform's balanced default


class Reason(StrEnum):
    """Why a line (or a whole order) could not be filled."""

    INVALID_LINE = "invalid_line"  # quantity <= 0, or negative weight
    NO_STOCK = "no_stock"  # no node holds any of it: an unknown or sold-out SKU
    INSUFFICIENT_STOCK = "insufficient_stock"  # the whole network's usable stock is below the quantity
    NO_SINGLE_NODE = "no_single_node"  # enough in total, but no one node has it all (lines are not split)
    WALKIN_BUFFER = "walkin_buffer"  # only stock kept back for walk-in shoppers would cover it
    OUT_OF_REACH = "out_of_reach"  # the nodes that have it cannot reach the destination
    NO_CAPACITY = "no_capacity"  # the nodes that have it have no pick capacity left this hour
    EXCLUDED = "excluded"  # only nodes excluded by re-routing have it
    OUTSIDE_CHINA = "outside_china"  # the destination lies outside the service area
    NO_DESTINATION = "no_destination"  # delivery was asked for without a destination
    PICKUP_STORE_UNAVAILABLE = "pickup_store_unavailable"  # unknown store, no pickup, or no capacity
    PICKUP_STORE_SHORT = "pickup_store_short"  # the chosen pickup store cannot fill this line
    PARCEL_LIMIT = "parcel_limit"  # filling it would need more parcels than allowed
    NOT_WORTH_SHIPPING = "not_worth_shipping"  # shipping it costs more than leaving it (or is over a weight limit)


@dataclass(frozen=True, slots=True)
class OrderLine:
    """One order line: ``qty`` units of ``sku_id``, each weighing ``weight_g`` grams."""

    sku_id: SkuId
    qty: int
    weight_g: int = 0


@dataclass(frozen=True, slots=True)
class Order:
    """An online order to route.

    ``destination`` is required for delivery choices; ``pickup_node_id`` for
    :attr:`Choice.PICKUP`. ``promised_by`` is the deadline the lateness penalty is measured
    against; when empty, each mode's standard promise from the config applies.
    """

    order_id: int | str
    lines: tuple[OrderLine, ...]
    destination: LatLng | None = None
    choice: Choice = Choice.ANY
    pickup_node_id: NodeId | None = None
    promised_by: datetime | None = None


@dataclass(frozen=True, slots=True)
class Node:
    """A fulfilment node and its state at routing time.

    * ``stock``: available units per SKU (on hand minus reservations); negatives count as 0.
    * ``capabilities``: the modes it offers (pickup, same_city, express).
    * ``delivery_radius_m``: straight-line reach of its same-city couriers.
    * ``capacity``: pick tasks it can still start in the current hour; one shipment is one
      task whatever its size. A node with no capacity left is never routed to.
    * ``queue``: orders already waiting to be picked; with ``pick_rate_per_hour`` it gives
      the queueing delay of the ETA model.
    * ``walkin_share``: share of stock kept for walk-in shoppers (0..1); ``None`` takes the
      config default for the node kind. Usable online stock is
      ``floor(available * (1 - share))`` with the share read to 4 decimals, so the store
      always keeps at least ``ceil(available * share)`` units.
    * ``pick_cost_order_fen`` / ``pick_cost_line_fen``: override the config's pick/pack cost.
    * ``opening_hours``: when the node works (:data:`OpeningHours`, the local wall clock of
      ``now``); ``None``: always open. Picking, collection and courier hand-over happen only
      while it is open (:mod:`.eta`).
    """

    node_id: NodeId
    name: str
    kind: NodeKind
    location: LatLng
    capabilities: frozenset[Mode]
    stock: Mapping[SkuId, int] = field(default_factory=dict)
    delivery_radius_m: float = 3000.0
    capacity: int = 30
    queue: int = 0
    pick_rate_per_hour: float = 30.0
    walkin_share: float | None = None
    pick_cost_order_fen: int | None = None
    pick_cost_line_fen: int | None = None
    opening_hours: OpeningHours | None = None


@dataclass(frozen=True, slots=True)
class EtaWindow:
    """When a shipment arrives (delivery) or is ready (pickup).

    ``earliest``/``latest`` bound the window promised to the customer; ``*_min`` are the
    same instants in whole minutes from ``now``. For pickup both are the ready time.
    """

    earliest: datetime
    latest: datetime
    earliest_min: int
    latest_min: int


@dataclass(frozen=True, slots=True)
class CostBreakdown:
    """The cost of one shipment, in fen.

    ``cash_fen`` is money actually spent (pick/pack plus courier or express);
    ``total_fen`` adds the penalties the optimiser weighs: lateness against the promise
    and, for every parcel after the first, the extra-parcel penalty.
    """

    pick_fen: int = 0
    courier_base_fen: int = 0
    courier_distance_fen: int = 0
    courier_weight_fen: int = 0
    courier_night_fen: int = 0
    express_fen: int = 0
    lateness_fen: int = 0
    extra_parcel_fen: int = 0

    @property
    def cash_fen(self) -> int:
        """Money spent on this shipment."""
        return (
            self.pick_fen
            + self.courier_base_fen
            + self.courier_distance_fen
            + self.courier_weight_fen
            + self.courier_night_fen
            + self.express_fen
        )

    @property
    def total_fen(self) -> int:
        """Cash plus the lateness and extra-parcel penalties."""
        return self.cash_fen + self.lateness_fen + self.extra_parcel_fen


@dataclass(frozen=True, slots=True)
class ShipmentLine:
    """A line in a shipment (after merging same-SKU lines); ``weight_g`` is the total."""

    sku_id: SkuId
    qty: int
    weight_g: int


@dataclass(frozen=True, slots=True)
class Shipment:
    """One parcel (or pickup) from one node.

    ``courier`` is the same-city provider or the express carrier; empty for pickup.
    ``distance_m`` is the estimated road distance to the destination (0 for pickup).
    """

    node_id: NodeId
    node_name: str
    node_kind: NodeKind
    mode: Mode
    courier: str
    lines: tuple[ShipmentLine, ...]
    weight_g: int
    distance_m: int
    cost: CostBreakdown
    eta: EtaWindow


@dataclass(frozen=True, slots=True)
class UnfilledLine:
    """A line the plan does not fill, with a reason code and a human-readable detail."""

    sku_id: SkuId
    qty: int
    reason: Reason
    detail: str = ""


@dataclass(frozen=True, slots=True)
class Plan:
    """The routing decision for one order.

    * ``cost_fen``: sum of the shipments' ``total_fen`` (cash plus penalties).
    * ``cash_fen``: money spent.
    * ``objective_fen``: what the optimiser minimised: ``cost_fen`` plus the choice's time
      value on the last arrival plus the unfilled-line penalty for each unfilled line.
    * ``policy``: which policy made it (optimal, nearest, priority, myopic, wave, reroute).
    """

    order_id: int | str
    choice: Choice
    shipments: tuple[Shipment, ...]
    unfilled: tuple[UnfilledLine, ...]
    cost_fen: int
    cash_fen: int
    objective_fen: int
    explanation: str = ""
    policy: str = "optimal"

    @property
    def parcels(self) -> int:
        """Number of shipments."""
        return len(self.shipments)

    @property
    def filled_lines(self) -> int:
        """Number of (merged) lines the plan fills."""
        return sum(len(s.lines) for s in self.shipments)

    @property
    def latest_min(self) -> int:
        """Minutes from ``now`` until the last shipment's window closes (0 without shipments)."""
        return max((s.eta.latest_min for s in self.shipments), default=0)
