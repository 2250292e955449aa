"""Every cost and ETA parameter of the routing engine, with its default.

Defaults are plausible Shanghai figures (2024 same-city courier list prices, a regional
grocery chain's pick/pack cost); they are not tuned to any one network. Money is fen.
All rounding goes **up**: distances to started kilometres, weights to started kilograms,
times to whole minutes.
"""

from __future__ import annotations

from dataclasses import dataclass, field

from o2o.core.routing.model import Choice, NodeKind

__all__ = ["CourierRate", "ExpressRate", "PickCost", "RoutingConfig"]


@dataclass(frozen=True, slots=True)
class CourierRate:
    """A same-city courier provider's rate card.

    fee = ``base_fee_fen`` (covers ``base_distance_m`` of road)
        + ``per_km_fen`` per started km beyond it
        + ``night_fee_fen`` when the courier is dispatched in the night window
        + ``per_kg_fen`` per kg of the parcel, pro rata, rounded up to the fen on each line.
    ``max_distance_m`` (None: no limit) makes the provider unavailable for longer trips.

    Weight is priced pro rata, without a free allowance or started-kg steps, on purpose: it
    keeps the cost of a line at a node independent of the other lines in the parcel, which
    is what makes the split search exact and fast (docs/routing.md, "limits"). Approximate
    a stepped card by its average rate per kg.
    """

    provider: str
    base_fee_fen: int = 600
    base_distance_m: int = 3000
    per_km_fen: int = 100
    per_kg_fen: int = 20
    night_fee_fen: int = 300
    max_distance_m: int | None = None


@dataclass(frozen=True, slots=True)
class ExpressRate:
    """The express (parcel) carrier's rate card: next-day delivery, by weight only.

    fee = ``base_fee_fen`` + ``per_kg_fen`` per kg, pro rata, rounded up to the fen on each line.
    """

    carrier: str = "express"
    base_fee_fen: int = 600
    per_kg_fen: int = 150


@dataclass(frozen=True, slots=True)
class PickCost:
    """Pick/pack cost at a node: ``per_order_fen`` per shipment plus ``per_line_fen`` per line."""

    per_order_fen: int
    per_line_fen: int


def _default_couriers() -> tuple[CourierRate, ...]:
    # A cheaper provider with a short base distance and a dearer one that covers more.
    return (
        CourierRate("dada", base_fee_fen=500, base_distance_m=3000, per_km_fen=100, per_kg_fen=20),
        CourierRate("shansong", base_fee_fen=800, base_distance_m=5000, per_km_fen=150, per_kg_fen=10,
                    night_fee_fen=500),
    )


def _default_pick() -> dict[NodeKind, PickCost]:
    return {
        NodeKind.STORE: PickCost(per_order_fen=200, per_line_fen=30),
        NodeKind.DARK_STORE: PickCost(per_order_fen=120, per_line_fen=15),
        NodeKind.WAREHOUSE: PickCost(per_order_fen=150, per_line_fen=10),
    }


def _default_prep() -> dict[NodeKind, int]:
    return {NodeKind.STORE: 15, NodeKind.DARK_STORE: 8, NodeKind.WAREHOUSE: 30}


def _default_walkin() -> dict[NodeKind, float]:
    return {NodeKind.STORE: 0.2, NodeKind.DARK_STORE: 0.0, NodeKind.WAREHOUSE: 0.0}


def _default_time_value() -> dict[Choice, int]:
    return {Choice.FASTEST: 30, Choice.ANY: 3, Choice.CHEAPEST: 0, Choice.PICKUP: 0}


@dataclass(frozen=True)
class RoutingConfig:
    """The routing engine's parameters.

    Cost model
      * ``pick_cost``: pick/pack cost per shipment and per line, by node kind (a node may
        override it).
      * ``couriers``: same-city rate cards; the optimiser picks the provider per shipment.
      * ``express``: the express rate card.
      * ``circuity``: road distance = straight-line distance x circuity (default 1.3).
      * ``extra_parcel_penalty_fen``: charged for every parcel after the first (default ¥3):
        the customer's annoyance and the extra handling of a split order.
      * ``lateness_fen_per_min``: charged per minute the window's end passes the promise.
      * ``unfilled_line_penalty_fen``: charged per line left unfilled (default ¥1,000, so a
        plan filling one more line wins unless it costs that much more).
      * ``time_value_fen_per_min``: by choice, charged on the minutes until the last
        shipment's window closes: fastest 30 (¥18 an hour), any 3, cheapest 0, pickup 0;
        capped at ``time_value_cap_fen`` (¥500) so that a slow plan always beats leaving
        lines unfilled.
      * ``max_parcels``: at most this many shipments per order (default 3).

    ETA model (minutes)
      * queue wait = 60 x ``Node.queue`` / ``Node.pick_rate_per_hour``;
      * ``prep_min`` by node kind (store 15, dark store 8, warehouse 30);
      * same city: + ``courier_pickup_min`` (rider arrives, 10) + road distance /
        ``courier_speed_m_per_min`` (250 m/min = 15 km/h); the window is
        [eta, eta + ``same_city_window_min``];
      * pickup: ready at queue + prep;
      * express: dispatched today if ready before ``express_cutoff_hour`` (else tomorrow),
        delivered ``express_transit_days`` later between ``express_window_hours``.
      * night window ``night_hours`` = [start, end) in local time of ``now``.
      * opening hours (``Node.opening_hours``): work happens only while the node is open;
        a pickup is ready at least ``pickup_collect_min`` (15) before closing, so the customer
        can still collect it; a same-city rider arrives before closing (see :mod:`.eta`).

    Promises (when the order gives no ``promised_by``)
      * same city ``same_city_promise_min`` (60), pickup ``pickup_promise_min`` (120),
        express: its standard window (never late by default).

    Search
      * ``walkin_share`` by node kind (store 0.2, others 0).
      * ``max_parcels`` above 3 is treated as 3.
    """

    pick_cost: dict[NodeKind, PickCost] = field(default_factory=_default_pick)
    couriers: tuple[CourierRate, ...] = field(default_factory=_default_couriers)
    express: ExpressRate = field(default_factory=ExpressRate)
    circuity: float = 1.3
    extra_parcel_penalty_fen: int = 300
    lateness_fen_per_min: int = 20
    unfilled_line_penalty_fen: int = 100_000
    time_value_fen_per_min: dict[Choice, int] = field(default_factory=_default_time_value)
    time_value_cap_fen: int = 50_000
    max_parcels: int = 3
    prep_min: dict[NodeKind, int] = field(default_factory=_default_prep)
    courier_pickup_min: int = 10
    courier_speed_m_per_min: float = 250.0
    same_city_window_min: int = 20
    night_hours: tuple[int, int] = (22, 6)
    express_cutoff_hour: int = 20
    express_transit_days: int = 1
    express_window_hours: tuple[int, int] = (9, 21)
    pickup_collect_min: int = 15
    same_city_promise_min: int = 60
    pickup_promise_min: int = 120
    walkin_share: dict[NodeKind, float] = field(default_factory=_default_walkin)

    def time_value(self, choice: Choice) -> int:
        """Fen per minute of the last arrival for ``choice`` (0 when not configured)."""
        return max(0, self.time_value_fen_per_min.get(choice, 0))

    def time_cost(self, choice: Choice, latest_min: int) -> int:
        """The time value charged for a plan whose last window closes after ``latest_min``."""
        return min(self.time_value(choice) * max(0, latest_min), max(0, self.time_value_cap_fen))
