"""Baseline policies the benchmark compares the optimiser with.

* :func:`nearest` -- Magento MSI's distance priority: each line from the nearest node (by
  straight-line distance) that can ship it; as many parcels as that takes.
* :func:`priority` -- Saleor's default: each line from the first node, in a fixed order,
  that can ship it.
* :func:`myopic` -- per-order optimal (:func:`.single.route`), one order at a time,
  each order consuming stock and capacity before the next is routed.

All of them see the same candidates as the optimiser (reach, capabilities, capacity,
walk-in buffer, whole lines) and price their plans with the same cost model, so totals
compare fairly. :func:`sequential` runs any single-order policy over a batch with
consumption.
"""

from __future__ import annotations

from collections.abc import Callable, Collection, Sequence
from dataclasses import replace
from datetime import datetime

from o2o.core.routing.basket import make_basket
from o2o.core.routing.candidates import Source, gather
from o2o.core.routing.diagnose import diagnose, invalid_lines
from o2o.core.routing.explain import explain
from o2o.core.routing.model import Mode, NodeId, Order, Plan, UnfilledLine
from o2o.core.routing.network import Network, Usage
from o2o.core.routing.plan import build_plan
from o2o.core.routing.single import route
from o2o.core.routing.surcharges import Surcharges

__all__ = ["Policy", "myopic", "nearest", "priority", "sequential"]

Policy = Callable[[Order, Network, datetime, Usage | None], Plan]

_MODE_RANK = {Mode.PICKUP: 0, Mode.SAME_CITY: 1, Mode.EXPRESS: 2}


def _greedy(
    order: Order,
    network: Network,
    now: datetime,
    usage: Usage | None,
    rank: Callable[[Source], tuple[float, ...]],
    policy: str,
    exclude: Collection[NodeId] = (),
) -> Plan:
    """Each line from the best-ranked source that covers it; one shipment per chosen source."""
    basket = make_basket(order.lines)
    cands = gather(order, basket, network, now, usage, exclude)
    ordered = sorted(cands.sources, key=rank)
    groups: dict[NodeId, tuple[Source, list[int]]] = {}
    unfilled: list[UnfilledLine] = invalid_lines(basket)
    missing: list[int] = []
    for line in range(basket.m):
        bit = 1 << line
        pick = next((s for s in ordered if s.cover & bit), None)
        if pick is None:
            missing.append(line)
            continue
        # A node's sources share its stock, hence its cover, and the rank puts one mode
        # first: every line taken from a node comes through the same source.
        groups.setdefault(pick.node.node_id, (pick, []))[1].append(line)
    used = [g[0] for g in groups.values()]
    unfilled += [diagnose(line, basket, order, cands, used, network, usage, exclude) for line in missing]
    plan = build_plan(order, basket, list(groups.values()), unfilled, network.config, policy=policy)
    text = explain(plan, None, basket.m).replace("; no alternative", "")
    return replace(plan, explanation=f"{policy}: {text}")


def nearest(order: Order, network: Network, now: datetime, usage: Usage | None = None) -> Plan:
    """Magento-style: each line from the nearest node with usable stock (ties: same city first)."""

    def rank(s: Source) -> tuple[float, ...]:
        return (s.straight_m, _MODE_RANK[s.mode])

    return _greedy(order, network, now, usage, rank, "nearest")


def priority(
    order: Order,
    network: Network,
    now: datetime,
    usage: Usage | None = None,
    node_order: Sequence[NodeId] | None = None,
) -> Plan:
    """Saleor-style: each line from the first node in ``node_order`` (default: network order) that has it."""
    position = {n: i for i, n in enumerate(node_order)} if node_order is not None else {}
    default = {n.node_id: i for i, n in enumerate(network.nodes)}

    def rank(s: Source) -> tuple[float, ...]:
        node_id = s.node.node_id
        return (position.get(node_id, len(position) + default.get(node_id, 0)), _MODE_RANK[s.mode])

    return _greedy(order, network, now, usage, rank, "priority")


def myopic(
    orders: Sequence[Order],
    network: Network,
    now: datetime,
    usage: Usage | None = None,
    surcharges: Surcharges | None = None,
    *,
    alternatives: Sequence[Sequence[Order]] | None = None,
) -> list[Plan]:
    """Per-order optimal plans, in the given order, each consuming stock and capacity.

    ``alternatives[i]``: other forms of order i the customer accepts (another pickup
    store); the order takes the best of all its forms (ties: the order as given).

    With ``surcharges`` each order minimises its objective plus the surcharges (the wave's
    starting point when it prices stock and capacity); the benchmark's myopic has none.
    """
    def optimal(order: Order, network: Network, now: datetime, usage: Usage | None) -> Plan:
        return replace(route(order, network, now, usage=usage, surcharges=surcharges), policy="myopic")

    if not alternatives:
        return sequential(orders, network, now, optimal, usage)
    taken = usage.copy() if usage is not None else Usage()
    plans = []
    for order, others in zip(orders, alternatives, strict=True):
        best = optimal(order, network, now, taken)
        for other in others:
            plan = optimal(other, network, now, taken)
            if priced_objective(plan, surcharges) < priced_objective(best, surcharges):
                best = plan
        taken.take(best)
        plans.append(best)
    return plans


def priced_objective(plan: Plan, surcharges: Surcharges | None) -> int:
    """The plan's objective plus what ``surcharges`` add to it (what the search minimised)."""
    if surcharges is None:
        return plan.objective_fen
    return plan.objective_fen + surcharges.of_plan(plan) + surcharges.unfilled_extra_fen * len(plan.unfilled)


def sequential(
    orders: Sequence[Order],
    network: Network,
    now: datetime,
    policy: Policy,
    usage: Usage | None = None,
) -> list[Plan]:
    """Run ``policy`` on each order in turn; each plan's stock and capacity are taken before the next.

    ``usage`` (not modified) is what was taken before the batch.
    """
    taken = usage.copy() if usage is not None else Usage()
    plans = []
    for order in orders:
        plan = policy(order, network, now, taken)
        taken.take(plan)
        plans.append(plan)
    return plans
