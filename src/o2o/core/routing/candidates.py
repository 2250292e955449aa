"""Candidate sources for one order, and the dominance rule that prunes them.

A **source** is a (node, mode, carrier) triple able to ship part of the order: a store or
dark store whose same-city radius reaches the destination (once per courier provider
serving that distance), an express-capable node (every warehouse is a candidate for
express, whatever the distance), or the chosen pickup store. Reach is found through the
spatial index, so a query touches only nearby nodes. For one order each source has
constants the optimiser uses:

* ``cover``: bit mask of the lines whose whole quantity its usable stock covers;
* ``fixed_fen`` (a): pick/pack cost per shipment + lateness penalty (the ETA does not
  depend on the contents) + the carrier's fixed fee (base, distance, night);
* ``line_costs[l]`` (c_l): pick/pack cost per line + the line's weight fee;
* ``eta``: the promised window.

A shipment of lines L from source s costs ``a + sum_{l in L} c_l``: additive over lines.

Dominance. With ``M[s, l] = min(c_l, P)`` for a covered line and ``P`` (the unfilled
penalty) otherwise, source t dominates s when ``a_t <= a_s``, ``M[t] <= M[s]`` for every
line and, when the choice values time, t's window closes no later. :func:`prune` drops a
source only when kept sources at ``max_parcels`` distinct nodes dominate it. That keeps an
optimal plan: in any plan using a dropped source s, the other at most ``max_parcels - 1``
shipments occupy fewer nodes than s has kept dominators, so some dominator t sits on a
node the plan does not use; moving s's lines to t (or leaving a line unfilled where
``M[t, l] = P``) keeps stock and capacity feasible (t covers them; every source has
capacity) and costs no more. Repeating this removes every dropped source.

Before that, of two carriers at one node (same mode, same lines, same ETA) the one whose
extra fixed cost is never recovered on line costs is dropped (:func:`_one_carrier_per_node`):
swapping carriers changes nothing else in a plan.
"""

from __future__ import annotations

import math
from collections.abc import Collection
from dataclasses import dataclass, field
from datetime import datetime

import numpy as np

from o2o.core.geo import LatLng, haversine_m, in_china_bbox, out_of_china
from o2o.core.routing.basket import Basket
from o2o.core.routing.config import PickCost, RoutingConfig
from o2o.core.routing.costs import Tariff, courier_tariffs, express_tariff, lateness_fen, pick_cost_of
from o2o.core.routing.eta import eta_window, is_night, late_minutes, promised_by, ready_min
from o2o.core.routing.model import Choice, EtaWindow, Mode, Node, NodeId, Order, Reason
from o2o.core.routing.network import Network, Usage
from o2o.core.routing.surcharges import Surcharges

__all__ = ["Candidates", "Source", "cost_matrix", "gather", "prune"]


@dataclass(slots=True)
class Source:
    """A (node, mode, carrier) triple with the per-order constants of the cost model."""

    node: Node
    mode: Mode
    tariff: Tariff | None
    straight_m: float
    road_m: float
    cover: int
    pick: PickCost
    eta: EtaWindow
    late_min: int
    lateness_fen: int
    line_costs: tuple[int, ...] = ()
    surcharge_fen: int = 0

    @property
    def fixed_fen(self) -> int:
        """a: the per-shipment cost that does not depend on the contents (plus any surcharge)."""
        transport = self.tariff.fixed_fen if self.tariff is not None else 0
        return self.pick.per_order_fen + self.lateness_fen + transport + self.surcharge_fen

    def cost_of(self, lines: Collection[int]) -> int:
        """The whole cost of a shipment of ``lines`` from this source."""
        return self.fixed_fen + sum(self.line_costs[i] for i in lines)


@dataclass
class Candidates:
    """The sources of one order plus what diagnosis needs to explain unfilled lines."""

    sources: list[Source]
    order_reason: Reason | None = None
    reachable: set[NodeId] = field(default_factory=set)
    no_capacity: set[NodeId] = field(default_factory=set)


def _sources(
    order: Order,
    basket: Basket,
    node: Node,
    mode: Mode,
    straight_m: float,
    cover: int,
    ready_min: int,
    now: datetime,
    config: RoutingConfig,
    surcharges: Surcharges | None = None,
) -> list[Source]:
    road_m = straight_m * config.circuity if mode is not Mode.PICKUP else 0.0
    eta = eta_window(now, mode, ready_min, road_m, config)
    tariffs: tuple[Tariff | None, ...]
    if mode is Mode.SAME_CITY:
        tariffs = courier_tariffs(config, road_m, is_night(now, ready_min, config))
    elif mode is Mode.EXPRESS:
        tariffs = (express_tariff(config.express),)
    else:
        tariffs = (None,)
    late = late_minutes(eta, promised_by(order, mode, now, eta, config))
    pick = pick_cost_of(node, config)
    extra_fixed, extra_lines = surcharges.of(node.node_id, basket) if surcharges is not None else (0, None)
    out = []
    for tariff in tariffs:
        costs = tuple(
            pick.per_line_fen + (tariff.line_fen(w) if tariff is not None else 0) for w in basket.weights
        )
        if extra_lines is not None:
            costs = tuple(c + e for c, e in zip(costs, extra_lines, strict=True))
        out.append(
            Source(
                node=node,
                mode=mode,
                tariff=tariff,
                straight_m=straight_m,
                road_m=road_m,
                cover=cover,
                pick=pick,
                eta=eta,
                late_min=late,
                lateness_fen=lateness_fen(late, config),
                line_costs=costs,
                surcharge_fen=extra_fixed,
            )
        )
    return out


def gather(
    order: Order,
    basket: Basket,
    network: Network,
    now: datetime,
    usage: Usage | None = None,
    exclude: Collection[NodeId] = (),
    surcharges: Surcharges | None = None,
) -> Candidates:
    """Every source that could ship at least one line of ``order`` (no dominance pruning).

    ``surcharges`` (optional) add fen to the optimiser's view of each source (see
    :class:`~.surcharges.Surcharges`); plans are still priced with the plain cost model.
    """
    config = network.config
    found = Candidates(sources=[])
    excluded = set(exclude)

    def consider(node: Node, mode: Mode, straight_m: float) -> None:
        if node.node_id in excluded:
            return
        found.reachable.add(node.node_id)
        ready = ready_min(node, mode, now, config)  # queue + prep, within the node's opening hours
        if ready is None or network.capacity_left(node.node_id, usage) < 1:
            found.no_capacity.add(node.node_id)
            return
        cover = network.cover_mask(node.node_id, basket.skus, basket.qtys, usage)
        if cover:
            found.sources.extend(
                _sources(order, basket, node, mode, straight_m, cover, ready, now, config, surcharges)
            )

    if order.choice is Choice.PICKUP:
        node = network.by_id.get(order.pickup_node_id) if _hashable(order.pickup_node_id) else None
        if node is None or Mode.PICKUP not in node.capabilities or node.node_id in excluded:
            found.order_reason = Reason.PICKUP_STORE_UNAVAILABLE
            return found
        consider(node, Mode.PICKUP, 0.0)
        if not found.sources and node.node_id in found.no_capacity:
            found.order_reason = Reason.PICKUP_STORE_UNAVAILABLE
        return found

    dest = order.destination
    if not isinstance(dest, LatLng):
        found.order_reason = Reason.NO_DESTINATION
        return found
    if out_of_china(dest) or not in_china_bbox(dest.lat, dest.lng):
        found.order_reason = Reason.OUTSIDE_CHINA
        return found
    if network.max_radius_m > 0:
        by_id = network.by_id
        for node_id, straight_m in network.same_city_index.covering(
            dest, lambda key: float(by_id[key].delivery_radius_m), max_radius_m=network.max_radius_m
        ):
            consider(by_id[node_id], Mode.SAME_CITY, straight_m)
    for node in network.express_nodes:
        consider(node, Mode.EXPRESS, math.nan)
    for source in found.sources:
        if source.mode is Mode.EXPRESS:  # distance is only reported: express is priced by weight
            source.straight_m = haversine_m(source.node.location, dest)
            source.road_m = source.straight_m * config.circuity
    return found


def _hashable(value: object) -> bool:
    try:
        hash(value)
    except TypeError:
        return False
    return True


def cost_matrix(sources: list[Source], m: int, penalty: int) -> np.ndarray:
    """``M[s, l]``: line l's cost at source s, capped at the unfilled penalty (``penalty`` if not covered)."""
    out = np.full((len(sources), m), penalty, dtype=np.int64)
    for row, s in enumerate(sources):
        cover = s.cover
        for line in range(m):
            if cover >> line & 1:
                out[row, line] = min(s.line_costs[line], penalty)
    return out


def _one_carrier_per_node(sources: list[Source], m: int, penalty: int) -> list[Source]:
    """Drop a carrier at a node when another carrier of the same node and mode is never dearer.

    Swapping carriers keeps the node, its lines and its ETA, so t replaces s in any plan
    at no extra cost when ``a_t - a_s + sum_l max(0, M[t, l] - M[s, l]) <= 0`` over the
    lines s covers (t covers the same lines: same node, same stock).
    """
    groups: dict[tuple[object, Mode], list[Source]] = {}
    for s in sources:
        groups.setdefault((s.node.node_id, s.mode), []).append(s)
    if all(len(g) == 1 for g in groups.values()):
        return sources
    dropped: set[int] = set()
    for group in groups.values():
        for s in group:
            for t in group:
                if t is s or id(t) in dropped:
                    continue
                worse = t.fixed_fen - s.fixed_fen
                for line in range(m):
                    if s.cover >> line & 1:
                        worse += max(0, min(t.line_costs[line], penalty) - min(s.line_costs[line], penalty))
                if worse <= 0:
                    dropped.add(id(s))
                    break
    return [s for s in sources if id(s) not in dropped]


_PRUNE_CHUNK = 2_000_000  # most (dominator, source, line) cells compared at once


def prune(sources: list[Source], m: int, penalty: int, time_matters: bool, max_parcels: int) -> list[Source]:
    """Drop sources dominated by kept sources at ``max_parcels`` distinct nodes (module doc).

    Sources are visited in order of fixed cost plus line costs, so a dominator always comes
    no later than the sources it dominates; a source is only dropped against kept sources.
    """
    sources = _one_carrier_per_node(sources, m, penalty)
    n = len(sources)
    if n <= 1:
        return list(sources)
    need = max(1, max_parcels)
    costs = cost_matrix(sources, m, penalty)
    fixed = np.array([s.fixed_fen for s in sources], dtype=np.int64)
    eta = np.array([s.eta.latest_min for s in sources], dtype=np.int64)
    node_of: dict[object, int] = {}
    node = np.array([node_of.setdefault(s.node.node_id, len(node_of)) for s in sources], dtype=np.int64)
    order = np.lexsort((np.arange(n), eta, fixed + costs.sum(axis=1)))
    kept_idx: list[int] = []
    kept_mask = np.zeros(n, dtype=bool)
    step = max(1, _PRUNE_CHUNK // max(1, n * max(1, m)))
    for chunk_start in range(0, n, step):
        chunk = order[chunk_start : chunk_start + step]
        # dom[t, j]: t dominates chunk[j] (computed for every t; only kept t count).
        dom = (fixed[:, None] <= fixed[None, chunk]) & (costs[:, None, :] <= costs[None, chunk, :]).all(axis=2)
        if time_matters:
            dom &= eta[:, None] <= eta[None, chunk]
        for j, s in enumerate(chunk.tolist()):
            doms = dom[:, j] & kept_mask
            if doms.any() and np.unique(node[doms]).size >= need:
                continue
            kept_mask[s] = True
            kept_idx.append(s)
    return [sources[i] for i in sorted(kept_idx)]
