"""Single-order routing: the cheapest feasible plan for one order, and re-routing.

:func:`route` finds the plan of least objective (cost plus penalties, see
:class:`~.model.Plan`) with at most ``max_parcels`` (3) shipments from distinct nodes. It
is **exact** (for any number of lines; the issue asks for up to 20); how:

1. **Lines**: same-SKU lines are merged and a line is never split across nodes, so a line
   fits at a node iff the node's usable stock (after the walk-in buffer and what earlier
   orders of the session took) covers its whole quantity.
2. **Candidates** (:mod:`.candidates`): only nodes that can reach the destination (the
   spatial index's radius query) or ship express (warehouses), with capacity left and
   covering at least one line; sources dominated at ``max_parcels`` distinct nodes are
   pruned, which provably keeps an optimal plan.
3. **Sets** (:mod:`.search`): all sets of 1..3 sources at distinct nodes, valued in one
   vectorised pass and solved in increasing value until the value reaches the incumbent,
   so every set that could win is solved.
4. **Assignment** (:mod:`.assign`): line costs are additive, so for one set each line takes
   its cheapest source, with a tiny exact programme when that would leave a source idle.

The plan lists what cannot be filled with a reason code (:mod:`.diagnose`) and explains
itself against the next best plan (:mod:`.explain`). Bad input never raises.
"""

from __future__ import annotations

from collections.abc import Collection, Sequence
from dataclasses import dataclass, replace
from datetime import datetime

from o2o.core.routing.basket import Basket, make_basket
from o2o.core.routing.candidates import Candidates, Source, gather, prune
from o2o.core.routing.diagnose import diagnose, invalid_lines
from o2o.core.routing.explain import explain
from o2o.core.routing.model import Choice, NodeId, Order, OrderLine, Plan, Reason, UnfilledLine
from o2o.core.routing.network import Network, Usage
from o2o.core.routing.plan import build_plan
from o2o.core.routing.search import Option, search
from o2o.core.routing.surcharges import Surcharges

__all__ = ["Solution", "reroute", "route", "solve"]


@dataclass(frozen=True)
class Solution:
    """The chosen plan and the next best plans (distinct source sets), best first."""

    plan: Plan
    alternatives: tuple[Plan, ...]


def _choice(order: Order) -> Choice:
    return order.choice if isinstance(order.choice, Choice) else Choice.ANY


def option_plan(
    option: Option,
    order: Order,
    basket: Basket,
    cands: Candidates,
    network: Network,
    usage: Usage | None,
    exclude: Collection[NodeId],
    policy: str = "optimal",
) -> Plan:
    """The plan of a solved option, with reasons for its unfilled lines (no explanation)."""
    groups: list[tuple[Source, list[int]]] = [(s, []) for s in option.sources]
    unfilled: list[UnfilledLine] = invalid_lines(basket)
    for line, idx in enumerate(option.assign):
        if idx >= 0:
            groups[idx][1].append(line)
        else:
            unfilled.append(diagnose(line, basket, order, cands, option.sources, network, usage, exclude))
    return build_plan(order, basket, groups, unfilled, network.config, policy=policy)


def solve(
    order: Order,
    network: Network,
    now: datetime,
    *,
    usage: Usage | None = None,
    exclude: Collection[NodeId] = (),
    k_best: int = 2,
    surcharges: Surcharges | None = None,
) -> Solution:
    """The best plan for ``order`` and up to ``k_best - 1`` alternatives (exact, see module doc).

    With ``surcharges`` the search minimises the plan objective plus the surcharges of the
    sources it uses (exactly: they are per shipment and per unit, so costs stay additive);
    the returned plans are priced without them.
    """
    config = network.config
    if surcharges is not None and surcharges.unfilled_extra_fen > 0:
        config = replace(config, unfilled_line_penalty_fen=config.unfilled_line_penalty_fen + surcharges.unfilled_extra_fen)
    basket = make_basket(order.lines)
    choice = _choice(order)
    cands = gather(order, basket, network, now, usage, exclude, surcharges)
    penalty = max(0, config.unfilled_line_penalty_fen)
    sources = prune(cands.sources, basket.m, penalty, config.time_value(choice) > 0, config.max_parcels)
    offset = penalty * len(basket.invalid)
    if surcharges is not None and surcharges.split_fen > 0:
        config = replace(config, extra_parcel_penalty_fen=max(0, config.extra_parcel_penalty_fen) + surcharges.split_fen)
    options = search(sources, basket, config, choice, k_best=max(1, k_best), offset=offset)
    plans = [option_plan(o, order, basket, cands, network, usage, exclude) for o in options]
    best = plans[0]
    runner_up = plans[1] if len(plans) > 1 else None
    if runner_up is not None and not runner_up.shipments and best.shipments and len(plans) > 2:
        runner_up = plans[2]
    best = replace(best, explanation=explain(best, runner_up, basket.m))
    return Solution(plan=best, alternatives=tuple(plans[1:]))


def route(
    order: Order,
    network: Network,
    now: datetime,
    *,
    usage: Usage | None = None,
    exclude: Collection[NodeId] = (),
    surcharges: Surcharges | None = None,
) -> Plan:
    """The cheapest feasible plan for ``order``: see the module docstring."""
    return solve(order, network, now, usage=usage, exclude=exclude, k_best=2, surcharges=surcharges).plan


def reroute(
    order: Order,
    previous_plan: Plan,
    excluded_node_ids: Collection[NodeId],
    network: Network,
    now: datetime,
    *,
    usage: Usage | None = None,
    lines: Sequence[OrderLine] | None = None,
) -> Plan:
    """A plan for the lines a previous plan no longer fills, avoiding ``excluded_node_ids``.

    The lines to route are, unless ``lines`` names them: every line of a shipment from an
    excluded node (the store rejected the order or was short at picking) plus the lines
    the previous plan left unfilled for a reason other than being invalid. Shipments from
    other nodes stand; the returned plan covers only the re-routed lines (a sub-order with
    the same id), so the caller records both decisions. ``usage`` should include what the
    standing shipments took.
    """
    excluded = set(excluded_node_ids) if _iterable(excluded_node_ids) else set()
    if lines is None:
        unit_weight = {ln.sku_id: ln.weight_g for ln in _order_lines(order)}
        again: list[OrderLine] = []
        for shipment in previous_plan.shipments:
            if shipment.node_id in excluded:
                for line in shipment.lines:
                    unit = unit_weight.get(line.sku_id, line.weight_g / line.qty if line.qty else 0)
                    again.append(OrderLine(line.sku_id, line.qty, unit))  # type: ignore[arg-type]
        for u in previous_plan.unfilled:
            if u.reason is not Reason.INVALID_LINE:
                again.append(OrderLine(u.sku_id, u.qty, unit_weight.get(u.sku_id, 0)))
        lines = again
    sub = replace(order, lines=tuple(lines))
    plan = route(sub, network, now, usage=usage, exclude=excluded)
    gone = ", ".join(str(n) for n in sorted(excluded, key=str)) or "none"
    return replace(plan, explanation=f"re-routed {plan.filled_lines + len(plan.unfilled)} line(s) excluding {gone}: {plan.explanation}", policy="reroute")


def _order_lines(order: Order) -> list[OrderLine]:
    try:
        return [ln for ln in order.lines if isinstance(ln, OrderLine) and _hashable_sku(ln)]
    except TypeError:
        return []


def _hashable_sku(line: OrderLine) -> bool:
    try:
        hash(line.sku_id)
    except TypeError:
        return False
    return True


def _iterable(value: object) -> bool:
    try:
        iter(value)  # type: ignore[call-overload]
    except TypeError:
        return False
    return True
