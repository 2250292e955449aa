"""Turning an assignment (lines to sources) into a priced :class:`~.model.Plan`.

Every policy (the optimiser, the baselines, the wave) prices its shipments here, with the
same cost model, so their plans compare fairly. The objective recomputed here equals the
one the optimiser minimised (the tests check it).
"""

from __future__ import annotations

from collections.abc import Sequence

from o2o.core.routing.basket import Basket
from o2o.core.routing.candidates import Source
from o2o.core.routing.config import RoutingConfig
from o2o.core.routing.model import (
    Choice,
    CostBreakdown,
    Mode,
    Order,
    Plan,
    Shipment,
    ShipmentLine,
    UnfilledLine,
)

__all__ = ["build_plan", "price_shipment"]


def price_shipment(source: Source, lines: Sequence[int], basket: Basket, extra_parcel_fen: int = 0) -> Shipment:
    """The shipment of ``lines`` (basket indexes) from ``source``, with its cost breakdown.

    ``extra_parcel_fen`` is the extra-parcel penalty to charge (0 for the order's first parcel).
    """
    tariff = source.tariff
    weight = sum(basket.weights[i] for i in lines)
    weight_fen = sum(tariff.line_fen(basket.weights[i]) for i in lines) if tariff is not None else 0
    parts: dict[str, int] = {}
    if tariff is not None and source.mode is Mode.SAME_CITY:
        parts = {
            "courier_base_fen": tariff.base_fen,
            "courier_distance_fen": tariff.distance_fen,
            "courier_weight_fen": weight_fen,
            "courier_night_fen": tariff.night_fen,
        }
    elif tariff is not None:
        parts = {"express_fen": tariff.fixed_fen + weight_fen}
    cost = CostBreakdown(
        pick_fen=source.pick.per_order_fen + source.pick.per_line_fen * len(lines),
        lateness_fen=source.lateness_fen,
        extra_parcel_fen=max(0, extra_parcel_fen),
        **parts,
    )
    node = source.node
    return Shipment(
        node_id=node.node_id,
        node_name=node.name,
        node_kind=node.kind,
        mode=source.mode,
        courier=tariff.carrier if tariff is not None else "",
        lines=tuple(ShipmentLine(basket.skus[i], basket.qtys[i], basket.weights[i]) for i in lines),
        weight_g=weight,
        distance_m=round(source.road_m) if source.mode is not Mode.PICKUP else 0,
        cost=cost,
        eta=source.eta,
    )


def build_plan(
    order: Order,
    basket: Basket,
    groups: Sequence[tuple[Source, Sequence[int]]],
    unfilled: Sequence[UnfilledLine],
    config: RoutingConfig,
    *,
    explanation: str = "",
    policy: str = "optimal",
) -> Plan:
    """A priced plan: one shipment per (source, lines) group with at least one line.

    Shipments are listed largest first (most lines, then cheapest); every shipment after
    the first carries the extra-parcel penalty.
    """
    nonempty = [(s, list(lines)) for s, lines in groups if lines]
    nonempty.sort(key=lambda g: (-len(g[1]), g[0].fixed_fen, str(g[0].node.node_id)))
    penalty = config.extra_parcel_penalty_fen
    shipments = tuple(
        price_shipment(source, lines, basket, penalty if pos else 0) for pos, (source, lines) in enumerate(nonempty)
    )
    cost = sum(s.cost.total_fen for s in shipments)
    cash = sum(s.cost.cash_fen for s in shipments)
    choice = order.choice if isinstance(order.choice, Choice) else Choice.ANY
    latest = max((s.eta.latest_min for s in shipments), default=0)
    time_cost = config.time_cost(choice, latest) if shipments else 0
    objective = cost + time_cost + max(0, config.unfilled_line_penalty_fen) * len(unfilled)
    return Plan(
        order_id=order.order_id,
        choice=choice,
        shipments=shipments,
        unfilled=tuple(unfilled),
        cost_fen=cost,
        cash_fen=cash,
        objective_fen=objective,
        explanation=explanation,
        policy=policy,
    )
