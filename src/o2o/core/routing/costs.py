"""The cost model: rate cards turned into fees, in integer fen.

Every transport fee has the same shape, a :class:`Tariff`::

    fee(lines) = base_fen + distance_fen + night_fen + sum over lines of ceil(per_kg_fen * w / 1000)

(w in grams). For a same-city courier the fixed part is the base fee, the distance fee (per
started km beyond the base distance) and the night surcharge; for express it is the base
fee. The weight part is **additive over lines**: the cost of a line at a node never
depends on the other lines of the parcel. The optimiser's exactness rests on that.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

from o2o.core.routing.config import CourierRate, ExpressRate, PickCost, RoutingConfig
from o2o.core.routing.model import Mode, Node

__all__ = [
    "Tariff",
    "courier_tariff",
    "courier_tariffs",
    "express_tariff",
    "format_yuan",
    "lateness_fen",
    "pick_cost_of",
    "started_units",
]

_KG = 1000


def started_units(amount: float, unit: int) -> int:
    """How many started ``unit``s ``amount`` spans (0 for amount <= 0): per started km."""
    if not amount > 0:
        return 0
    if isinstance(amount, int):
        return -(-amount // unit)
    # Floats (road metres): float noise must not start another kilometre.
    return math.ceil(amount / unit - 1e-9)


@dataclass(frozen=True, slots=True)
class Tariff:
    """One carrier's price for one shipment from one node to one destination."""

    carrier: str
    mode: Mode
    base_fen: int
    distance_fen: int
    night_fen: int
    per_kg_fen: int

    @property
    def fixed_fen(self) -> int:
        """The part of the fee that does not depend on the contents."""
        return self.base_fen + self.distance_fen + self.night_fen

    def line_fen(self, weight_g: int) -> int:
        """The weight fee of one line of ``weight_g`` grams (pro rata, rounded up to the fen)."""
        return -(-self.per_kg_fen * max(0, weight_g) // _KG)


def courier_tariff(rate: CourierRate, road_m: float, night: bool) -> Tariff | None:
    """One courier provider's tariff for a trip of ``road_m`` metres, or None if out of its range."""
    if rate.max_distance_m is not None and road_m > rate.max_distance_m:
        return None
    return Tariff(
        carrier=rate.provider,
        mode=Mode.SAME_CITY,
        base_fen=max(0, rate.base_fee_fen),
        distance_fen=max(0, rate.per_km_fen) * started_units(road_m - rate.base_distance_m, _KG),
        night_fen=max(0, rate.night_fee_fen) if night else 0,
        per_kg_fen=max(0, rate.per_kg_fen),
    )


def courier_tariffs(config: RoutingConfig, road_m: float, night: bool) -> tuple[Tariff, ...]:
    """The available same-city tariffs for a trip of ``road_m`` metres."""
    out = []
    for rate in config.couriers:
        tariff = courier_tariff(rate, road_m, night)
        if tariff is not None:
            out.append(tariff)
    return tuple(out)


def express_tariff(rate: ExpressRate) -> Tariff:
    """The express carrier's tariff (by weight only)."""
    return Tariff(
        carrier=rate.carrier,
        mode=Mode.EXPRESS,
        base_fen=max(0, rate.base_fee_fen),
        distance_fen=0,
        night_fen=0,
        per_kg_fen=max(0, rate.per_kg_fen),
    )


def pick_cost_of(node: Node, config: RoutingConfig) -> PickCost:
    """The node's pick/pack cost: its own override, else the config's for its kind."""
    default = config.pick_cost.get(node.kind, PickCost(0, 0))
    per_order = node.pick_cost_order_fen if node.pick_cost_order_fen is not None else default.per_order_fen
    per_line = node.pick_cost_line_fen if node.pick_cost_line_fen is not None else default.per_line_fen
    return PickCost(per_order_fen=max(0, per_order), per_line_fen=max(0, per_line))


def lateness_fen(late_min: int, config: RoutingConfig) -> int:
    """The lateness penalty for ``late_min`` minutes past the promise."""
    return max(0, config.lateness_fen_per_min) * max(0, late_min)


def format_yuan(fen: int) -> str:
    """Fen as yuan text: 720 -> "¥7.2", 1250 -> "¥12.5", 705 -> "¥7.05", 700 -> "¥7"."""
    sign = "-" if fen < 0 else ""
    yuan, cents = divmod(abs(fen), 100)
    if cents == 0:
        return f"{sign}¥{yuan}"
    return f"{sign}¥{yuan}.{cents:02d}".rstrip("0")
