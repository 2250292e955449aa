"""Wave routing: a batch of orders solved jointly as a MIP, never worse than myopic routing.

Orders that arrive within a window (default 60 s, chosen by the caller) compete for the
same stock and pick capacity. Routing them one by one (:func:`.baselines.myopic`) lets an
early order take the last units a later order needed more. The wave chooses one plan per
order jointly.

Formulation (scipy.optimize.milp, i.e. HiGHS branch-and-cut)
------------------------------------------------------------
Options: for each order o, the plans P_o = its plans in three whole-batch "seed" runs
(myopic, nearest, priority: each run is jointly feasible), its K best single-order plans
against the wave's starting stock (distinct node/mode sets, :func:`.single.solve`), its
K/2 best against what the other orders' myopic plans leave, and the empty plan (nothing
shipped, every line at the unfilled penalty); deduplicated, at most ``max_parcels`` parcels.
An order may come with other forms its customer accepts (``alternatives``: another pickup
store, or delivery instead of pickup); each form adds its K/2 best plans against the
wave's start and its best against what the others leave.

Variables: x[o, p] in {0, 1} for p in P_o.

    minimise    sum_{o,p} objective(o, p) * x[o, p]
    subject to  sum_p x[o, p] = 1                                   for every order o
                sum_{o,p} qty(o, p, n, sku) * x[o, p] <= usable(n, sku)   for every node n, SKU
                sum_{o,p} parcels(o, p, n) * x[o, p] <= capacity(n)       for every node n

Rows that cannot bind (even every order's largest use fits) are left out. ``objective`` is
the plan's objective (cost, penalties, time value, unfilled penalty) with the node queues
as at the start of the wave; capacity bounds how much the wave itself adds to them.

Never worse than myopic
-----------------------
The myopic plans are one option per order and satisfy every row together (they were
routed consuming stock and capacity), so they are a feasible point of the MIP: its optimum
is at most the myopic total (and at most the nearest and priority totals whenever those
respect the parcel limit). scipy's milp takes no initial solution, so the guarantee is
enforced on the result instead: the MIP answer is used only if HiGHS returns a point that
re-checks as feasible (recounted from the plans, not read from the solver) and costs no
more than the myopic plans; on a time limit without such a point, or any solver failure,
the myopic plans are returned. A final polish pass re-routes each order exactly against
the stock the others leave, keeping a plan only when it is strictly better.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass, replace
from datetime import datetime

import numpy as np

from o2o.core.routing.baselines import myopic, nearest, priced_objective, priority, sequential
from o2o.core.routing.model import NodeId, Order, Plan, SkuId
from o2o.core.routing.network import Network, Usage
from o2o.core.routing.single import route, solve
from o2o.core.routing.surcharges import Surcharges

__all__ = ["WaveResult", "route_wave", "violations"]


@dataclass(frozen=True)
class WaveResult:
    """The wave's plans (in input order) and how they were obtained.

    ``method`` is ``"mip"`` when the solver's plans were used, else ``"myopic"``;
    ``polished`` counts orders the final pass improved.
    """

    plans: tuple[Plan, ...]
    objective_fen: int
    myopic_objective_fen: int
    method: str
    status: str
    options: int
    polished: int = 0


def _signature(plan: Plan) -> tuple[object, ...]:
    return tuple(
        sorted((str(s.node_id), s.mode.value, tuple(sorted(str(ln.sku_id) for ln in s.lines))) for s in plan.shipments)
    )


def violations(plans: Sequence[Plan], network: Network, usage: Usage | None = None) -> list[str]:
    """Stock or capacity the plans take beyond what the network allows (empty list: none)."""
    stock: dict[tuple[NodeId, SkuId], int] = {}
    parcels: dict[NodeId, int] = {}
    for plan in plans:
        for s in plan.shipments:
            parcels[s.node_id] = parcels.get(s.node_id, 0) + 1
            for ln in s.lines:
                stock[(s.node_id, ln.sku_id)] = stock.get((s.node_id, ln.sku_id), 0) + ln.qty
    out = [
        f"stock {node}/{sku}: {qty} > {network.usable(node, sku, usage)}"
        for (node, sku), qty in stock.items()
        if qty > network.usable(node, sku, usage)
    ]
    out += [
        f"capacity {node}: {n} > {network.capacity_left(node, usage)}"
        for node, n in parcels.items()
        if n > network.capacity_left(node, usage)
    ]
    return out


def _options(
    orders: Sequence[Order],
    seeds: Sequence[Sequence[Plan]],
    network: Network,
    now: datetime,
    usage: Usage | None,
    k: int,
    surcharges: Surcharges | None = None,
    alternatives: Sequence[Sequence[Order]] | None = None,
) -> list[list[Plan]]:
    """Per order: the plans of every seed sequence, its K best plans against the wave's start,
    and its K best against what the myopic plans of the other orders leave; the same for
    each alternative form of the order (``alternatives[i]``); then the empty plan."""
    myopic_plans = seeds[0]
    taken = usage.copy() if usage is not None else Usage()
    for plan in myopic_plans:
        taken.take(plan)
    options: list[list[Plan]] = []
    for i, order in enumerate(orders):
        start = solve(order, network, now, usage=usage, k_best=k, surcharges=surcharges)
        taken.give_back(myopic_plans[i])
        residual = solve(order, network, now, usage=taken, k_best=max(1, k // 2), surcharges=surcharges)
        taken.take(myopic_plans[i])
        plans = [*(seed[i] for seed in seeds), start.plan, *start.alternatives, residual.plan, *residual.alternatives]
        seen: set[tuple[object, ...]] = set()
        unique = []
        for plan in plans:
            sig = _signature(plan)
            if sig not in seen and plan.parcels <= network.config.max_parcels:
                seen.add(sig)
                unique.append(plan)
        if () not in seen:  # the empty plan keeps every order assignable
            unique.append(_empty(order, network, now, usage))
        options.append(unique)
    return options


def _empty(order: Order, network: Network, now: datetime, usage: Usage | None) -> Plan:
    """Nothing shipped: every line unfilled (reasons as seen from the wave's start)."""
    everything_taken = Usage(shipments={n.node_id: 1 << 30 for n in network.nodes})
    if usage is not None:
        everything_taken.stock.update(usage.stock)
    return route(order, network, now, usage=everything_taken)


def _solve_mip(
    options: list[list[Plan]], network: Network, usage: Usage | None, time_limit_s: float, gap: float,
    value: Callable[[Plan], int],
) -> tuple[list[int] | None, str]:
    col = 0
    cols: list[tuple[int, int]] = []
    cost: list[float] = []
    stock_use: dict[tuple[NodeId, SkuId], list[tuple[int, int]]] = {}
    node_use: dict[NodeId, list[tuple[int, int]]] = {}
    order_rows: list[list[int]] = []
    for o, plans in enumerate(options):
        row = []
        for p, plan in enumerate(plans):
            cols.append((o, p))
            cost.append(float(value(plan)))
            row.append(col)
            for s in plan.shipments:
                node_use.setdefault(s.node_id, []).append((col, 1))
                for ln in s.lines:
                    stock_use.setdefault((s.node_id, ln.sku_id), []).append((col, ln.qty))
            col += 1
        order_rows.append(row)

    data: list[float] = []
    indices: list[int] = []
    indptr = [0]
    lower: list[float] = []
    upper: list[float] = []

    def add_row(entries: Sequence[tuple[int, int]], lo: float, hi: float) -> None:
        for c, v in entries:
            indices.append(c)
            data.append(float(v))
        indptr.append(len(indices))
        lower.append(lo)
        upper.append(hi)

    for row in order_rows:
        add_row([(c, 1) for c in row], 1.0, 1.0)
    binding = 0
    for rows, limit in (
        *(((e, network.usable(n, sku, usage)) for (n, sku), e in stock_use.items())),
        *(((e, network.capacity_left(n, usage)) for n, e in node_use.items())),
    ):
        worst: dict[int, int] = {}
        for c, v in rows:
            o = cols[c][0]
            worst[o] = max(worst.get(o, 0), v)
        if sum(worst.values()) > limit:
            add_row(rows, -np.inf, float(limit))
            binding += 1
    if binding == 0:  # nothing is contested: every order takes its best option
        return [min(range(len(p)), key=lambda i, p=p: value(p[i])) for p in options], "uncontested"
    from scipy.optimize import Bounds, LinearConstraint, milp  # imported here: only waves need scipy
    from scipy.sparse import csr_array
    matrix = csr_array((data, indices, indptr), shape=(len(lower), col))
    try:
        res = milp(
            c=np.array(cost),
            constraints=LinearConstraint(matrix, np.array(lower), np.array(upper)),
            integrality=np.ones(col),
            bounds=Bounds(0, 1),
            options={"time_limit": max(0.1, time_limit_s), "mip_rel_gap": max(0.0, gap), "disp": False},
        )
    except (ValueError, RuntimeError) as exc:  # solver failure: fall back
        return None, f"solver error: {exc}"
    if res.x is None:
        return None, f"no solution: {res.message}"
    picks = []
    for o, row in enumerate(order_rows):
        values = [res.x[c] for c in row]
        best = int(np.argmax(values))
        if values[best] < 0.5:
            return None, f"no option chosen for order {o}"
        picks.append(best)
    return picks, f"{'optimal' if res.status == 0 else 'time limit'} ({binding} binding rows)"


def route_wave(
    orders: Sequence[Order],
    network: Network,
    now: datetime,
    *,
    usage: Usage | None = None,
    options_per_order: int = 8,
    time_limit_s: float = 10.0,
    mip_rel_gap: float = 1e-6,
    polish: bool = True,
    surcharges: Surcharges | None = None,
    alternatives: Sequence[Sequence[Order]] | None = None,
) -> WaveResult:
    """Plans for ``orders`` chosen jointly (module doc); never a higher total objective than myopic.

    With ``surcharges`` (bid prices on stock and capacity, :mod:`.bid_prices`) the wave
    minimises the objective plus the surcharges of what it takes, and the guarantee holds
    for that sum against myopic routing under the same surcharges.
    """
    orders = list(orders)

    def value(plan: Plan) -> int:
        return priced_objective(plan, surcharges)

    baseline = myopic(orders, network, now, usage, surcharges, alternatives=alternatives)
    myopic_total = sum(value(p) for p in baseline)
    if not orders:
        return WaveResult((), 0, 0, "myopic", "empty wave", 0)
    seeds = [baseline, sequential(orders, network, now, nearest, usage), sequential(orders, network, now, priority, usage)]
    options = _options(orders, seeds, network, now, usage, max(1, options_per_order), surcharges, alternatives)
    picks, status = _solve_mip(options, network, usage, time_limit_s, mip_rel_gap, value)
    plans, method = list(baseline), "myopic"
    if picks is not None:
        chosen = [options[o][p] for o, p in enumerate(picks)]
        total = sum(value(p) for p in chosen)
        if not violations(chosen, network, usage) and total <= myopic_total:
            plans, method = chosen, "mip"
        else:
            status += "; rejected (worse or infeasible)"
    polished = _polish(orders, plans, network, now, usage, surcharges, value, alternatives) if polish else 0
    plans = [replace(p, policy="wave") for p in plans]
    return WaveResult(
        plans=tuple(plans),
        objective_fen=sum(value(p) for p in plans),
        myopic_objective_fen=myopic_total,
        method=method,
        status=status,
        options=sum(len(o) for o in options),
        polished=polished,
    )


def _polish(
    orders: Sequence[Order],
    plans: list[Plan],
    network: Network,
    now: datetime,
    usage: Usage | None,
    surcharges: Surcharges | None,
    value: Callable[[Plan], int],
    alternatives: Sequence[Sequence[Order]] | None = None,
) -> int:
    """Re-route each order (each of its forms) exactly against what the others take; keep it if no worse. In place.

    The current plan is feasible against what the others take, and the re-route is exact,
    so no order's objective grows. Returns the number of strict improvements.
    """
    taken = usage.copy() if usage is not None else Usage()
    for plan in plans:
        taken.take(plan)
    improved = 0
    for i, order in enumerate(orders):
        taken.give_back(plans[i])
        again = route(order, network, now, usage=taken, surcharges=surcharges)
        for other in (alternatives[i] if alternatives else ()):
            plan = route(other, network, now, usage=taken, surcharges=surcharges)
            if value(plan) < value(again):
                again = plan
        # Ties are taken too: the re-routed plan states reasons as the wave left things.
        if value(again) <= value(plans[i]):
            improved += value(again) < value(plans[i])
            plans[i] = again
        taken.take(plans[i])
    return improved
