"""A clairvoyant lower bound on the cost of routing a whole horizon of orders.

Knowing every order of the horizon in advance, the best any policy could do is the
optimum of one big programme: choose one plan per order so that, over the horizon, no node
ships more of a SKU than its usable stock and no node starts more pick tasks in a clock
hour than its capacity. That MIP has one column per (order, plan) and far too many plans
to list, so we bound it from below by its **LP relaxation, solved by column generation**:

    minimise    sum_{o,p} cost(o, p) x[o, p]
    subject to  sum_p x[o, p] = 1                                     (sigma_o)  per order
                sum_{o,p} qty(o, p, n, sku) x[o, p] <= usable(n, sku)   (pi >= 0)  per node, SKU
                sum_{o,p} parcels(o, p, n) x[o, p] <= capacity(n, h)    (mu >= 0)  per node, hour of o
                x >= 0

``cost`` is the plan's objective, the trade-off every policy is judged by: money spent
(pick/pack, courier or express) + lateness and extra-parcel penalties + the customer's
time valued at the rate of their choice + the unfilled-line penalty.

Pricing is exact: a plan's reduced cost is its cost plus ``pi`` per unit and ``mu`` per
shipment at each node, minus ``sigma_o``, and those are :class:`~.surcharges.Surcharges`,
so the single-order search finds the cheapest plan of every order under the current
prices exactly (over plans of at most ``max_parcels`` parcels; the seed columns may hold
larger plans, which can only lower the bound).

Every pricing round gives a valid **Lagrangian lower bound**, whatever the prices:

    L(pi, mu) = sum_o min_p [cost(o, p) + pi.qty + mu.parcels] - sum pi.usable - sum mu.capacity

(a relaxation of the stock and capacity rows with non-negative multipliers). The prices
are the LP duals rounded to whole fen (the search works in integer fen, so the min is
exact). The best L over the rounds is reported as the bound; the LP value of the last
master is an upper bound on the LP optimum, so the gap between the two says how far the
column generation got.

**Cut-and-price.** When the column generation has converged, the LP's fractions are cut
off with cuts of single stock rows, rounding cuts and cover cuts (:mod:`.cuts`), and the
pricing starts again, up to ``max_cut_rounds`` times. A cut's coefficient in a plan is a
sum over the plan's lines of a number that depends only on the order, the node, the SKU
and the line's quantity, so its dual ``gamma`` is a per-line schedule of that order and
pricing stays exact: the Lagrangian bound (with ``- gamma.rhs``) stays a true lower
bound, now of the LP with the cuts, which lies between the plain LP and the MIP. The
bound also assumes empty node queues (ETAs can only be later in reality, so costs can
only be higher): it is a lower bound for every policy that respects the same stock and
capacity.
"""

from __future__ import annotations

import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass, replace
from datetime import datetime

import numpy as np

from o2o.core.routing.basket import make_basket
from o2o.core.routing.config import RoutingConfig
from o2o.core.routing.cuts import Cut, broken_cuts
from o2o.core.routing.model import Node, NodeId, Order, Plan, SkuId
from o2o.core.routing.network import Network
from o2o.core.routing.single import solve
from o2o.core.routing.surcharges import Surcharges

__all__ = ["Bound", "Limits", "Prices", "clairvoyant_bound", "column_generation", "plan_cost"]


@dataclass(frozen=True)
class Bound:
    """The bound (fen), the last master LP value, rounds, columns, and how it stopped.

    ``integer_fen``: the best whole-plan choice among the columns found (a clairvoyant plan
    that respects stock and capacity), when asked for: the clairvoyant MIP optimum lies
    between ``lower_bound_fen`` and it.
    """

    lower_bound_fen: float
    lp_value_fen: float
    rounds: int
    columns: int
    seconds: float
    status: str
    integer_fen: float | None = None


def plan_cost(plan: Plan, config: RoutingConfig) -> int:
    """Money and penalties of a plan without the time value: shipments' cost + the unfilled-line penalty."""
    return plan.cost_fen + max(0, config.unfilled_line_penalty_fen) * len(plan.unfilled)


@dataclass
class _Col:
    order: int
    cost: int
    stock: dict[tuple[NodeId, SkuId], int]
    tasks: dict[NodeId, int]


def _column(o: int, plan: Plan) -> _Col:
    stock: dict[tuple[NodeId, SkuId], int] = {}
    tasks: dict[NodeId, int] = {}
    for s in plan.shipments:
        tasks[s.node_id] = tasks.get(s.node_id, 0) + 1
        for ln in s.lines:
            stock[(s.node_id, ln.sku_id)] = stock.get((s.node_id, ln.sku_id), 0) + ln.qty
    return _Col(o, plan.objective_fen, stock, tasks)


def _signature(col: _Col) -> tuple[object, ...]:
    return (tuple(sorted((str(k), v) for k, v in col.stock.items())), tuple(sorted((str(k), v) for k, v in col.tasks.items())))


class _Master:
    """The restricted master LP over the columns found so far."""

    def __init__(self, network: Network, hours: Sequence[int], limits: Limits) -> None:
        self.network = network
        self.hours = hours
        self.limits = limits
        self.cols: list[_Col] = []
        self.seen: list[dict[tuple[object, ...], int]] = [{} for _ in hours]
        self.cuts: list[Cut] = []
        self.x = np.zeros(0)  # the last LP solution, and the stock rows it was solved with (for separate)
        self.stock_rows: list[tuple[object, list[tuple[int, int]], float]] = []

    def add(self, col: _Col) -> bool:
        """Add a column; one with the same use of stock and capacity only lowers the kept cost.

        Two plans of one order can take the same stock and tasks at different costs (another
        carrier, pickup instead of delivery from the same store): only the cheaper matters.
        """
        sig = _signature(col)
        known = self.seen[col.order].get(sig)
        if known is not None:
            if col.cost < self.cols[known].cost:
                self.cols[known].cost = col.cost
                return True
            return False
        self.seen[col.order][sig] = len(self.cols)
        self.cols.append(col)
        return True

    def _rows(self) -> list[tuple[str, object, list[tuple[int, int]], float]]:
        """The stock and capacity rows that some choice of columns could break: (kind, key, entries, limit)."""
        stock_use: dict[tuple[NodeId, SkuId], list[tuple[int, int]]] = {}
        task_use: dict[tuple[NodeId, int], list[tuple[int, int]]] = {}
        for c, col in enumerate(self.cols):
            for key, q in col.stock.items():
                stock_use.setdefault(key, []).append((c, q))
            for node, t in col.tasks.items():
                task_use.setdefault((node, self.hours[col.order]), []).append((c, t))
        rows: list[tuple[str, object, list[tuple[int, int]], float]] = []
        for kind, uses, limit_of in (("stock", stock_use, self.limits.stock), ("tasks", task_use, self.limits.tasks)):
            for key, entries in uses.items():
                limit = limit_of(key[0], key[1])  # type: ignore[arg-type]
                if _worst(entries, self.cols) > limit:
                    rows.append((kind, key, entries, float(limit)))
        return rows

    def _matrices(self):  # noqa: ANN202
        """(order rows = 1, stock, capacity and cut rows <= limits, the rows, costs) as sparse matrices."""
        from scipy.sparse import csr_array

        n_orders, n_cols = len(self.hours), len(self.cols)
        eq = csr_array((np.ones(n_cols), (np.array([c.order for c in self.cols]), np.arange(n_cols))),
                       shape=(n_orders, n_cols))
        rows = self._rows()
        takers: dict[tuple[NodeId, SkuId], list[tuple[int, int]]] = {}  # a cut row's columns: those that take its stock
        if self.cuts:
            for c, col in enumerate(self.cols):
                for key, q in col.stock.items():
                    takers.setdefault(key, []).append((c, q))
        for i, cut in enumerate(self.cuts):
            entries = [(c, cut.coefficient(q, self.cols[c].order)) for c, q in takers.get(cut.key, ())]
            rows.append(("cut", i, [(c, v) for c, v in entries if v], float(cut.rhs)))
        ub = None
        if rows:
            r_idx, c_idx, vals = [], [], []
            for r, (_, _, entries, _) in enumerate(rows):
                for c, v in entries:
                    r_idx.append(r)
                    c_idx.append(c)
                    vals.append(float(v))
            ub = csr_array((vals, (r_idx, c_idx)), shape=(len(rows), n_cols))
        return eq, ub, rows, np.array([float(c.cost) for c in self.cols])

    def solve(self) -> tuple[float, np.ndarray, dict[tuple[NodeId, SkuId], float], dict[tuple[NodeId, int], float],
                             dict[int, float]]:
        """The master LP: its value, the order duals, the stock and capacity prices and the cut prices (>= 0).

        Keeps the solution (``self.x``) and the stock rows it was solved with, for :meth:`separate`.
        """
        from scipy.optimize import linprog  # imported here: only the benchmark needs the LP

        eq, ub, rows, cost = self._matrices()
        n_orders = len(self.hours)
        if ub is not None:
            res = linprog(cost, A_ub=ub, b_ub=np.array([r[3] for r in rows]), A_eq=eq,
                          b_eq=np.ones(n_orders), bounds=(0, None), method="highs")
        else:
            res = linprog(cost, A_eq=eq, b_eq=np.ones(n_orders), bounds=(0, None), method="highs")
        if res.status != 0:
            raise RuntimeError(f"master LP failed: {res.message}")
        pi: dict[tuple[NodeId, SkuId], float] = {}
        mu: dict[tuple[NodeId, int], float] = {}
        gamma: dict[int, float] = {}
        if rows:
            for (kind, key, _, _), marginal in zip(rows, res.ineqlin.marginals, strict=True):
                if marginal < -1e-9:
                    if kind == "stock":
                        pi[key] = -marginal  # type: ignore[index]
                    elif kind == "tasks":
                        mu[key] = -marginal  # type: ignore[index]
                    else:
                        gamma[key] = -marginal  # type: ignore[index]
        self.x = np.asarray(res.x, dtype=float)
        self.stock_rows = [(key, entries, limit) for kind, key, entries, limit in rows if kind == "stock"]
        return float(res.fun), np.asarray(res.eqlin.marginals, dtype=float), pi, mu, gamma

    def separate(self, most: int = 2000, largest_divisor: int = 12) -> int:
        """Add the cuts that the last LP solution breaks (:func:`.cuts.broken_cuts`); how many were added.

        Only rows with a fractional column can be broken.
        """
        known = set(self.cuts)  # frozen dataclasses: equal fields, the same cut
        order_of = [col.order for col in self.cols]
        found: list[tuple[float, Cut]] = []
        for key, entries, limit in self.stock_rows:
            if all(self.x[c] < 1e-6 or self.x[c] > 1 - 1e-6 for c, _ in entries):
                continue
            for excess, cut in broken_cuts(key, entries, int(limit), self.x, order_of, largest_divisor):  # type: ignore[arg-type]
                if cut not in known:
                    known.add(cut)
                    found.append((excess, cut))
        found.sort(key=lambda f: -f[0])
        self.cuts += [cut for _, cut in found[:most]]
        return min(len(found), most)

    def solve_integer(self, time_limit_s: float) -> float | None:
        """The best whole-plan choice among the columns (a feasible clairvoyant plan), or None.

        Its value is an upper bound on the clairvoyant MIP optimum; with the LP bound it
        brackets that optimum.
        """
        from scipy.optimize import Bounds, LinearConstraint, milp
        from scipy.sparse import vstack

        eq, ub, rows, cost = self._matrices()
        n_orders = len(self.hours)
        rhs = np.array([r[3] for r in rows])
        matrix = vstack([eq, ub]) if ub is not None else eq
        lower = np.concatenate([np.ones(n_orders), np.full(len(rows), -np.inf)])
        upper = np.concatenate([np.ones(n_orders), rhs])
        res = milp(c=cost, integrality=np.ones(len(cost)), bounds=Bounds(0, 1),
                   constraints=LinearConstraint(matrix, lower, upper),
                   options={"time_limit": max(1.0, time_limit_s), "disp": False})
        return float(res.fun) if res.x is not None else None


def _worst(entries: list[tuple[int, int]], cols: list[_Col]) -> int:
    per_order: dict[int, int] = {}
    for c, v in entries:
        o = cols[c].order
        per_order[o] = max(per_order.get(o, 0), v)
    return sum(per_order.values())


@dataclass(frozen=True)
class Limits:
    """Right-hand sides: usable stock of (node, SKU) and pick tasks of (node, hour)."""

    stock: Callable[[NodeId, SkuId], float]
    tasks: Callable[[NodeId, int], float]


@dataclass(frozen=True)
class Prices:
    """Duals of the last master LP: per unit of (node, SKU) and per task of (node, hour), fen, >= 0."""

    per_unit: dict[tuple[NodeId, SkuId], float]
    per_task: dict[tuple[NodeId, int], float]


def column_generation(
    orders: Sequence[Order | Sequence[Order]],
    decided_at: Sequence[datetime],
    hours: Sequence[int],
    network: Network,
    limits: Limits,
    seed_plans: Sequence[Sequence[Plan]] = (),
    *,
    max_rounds: int = 80,
    time_limit_s: float = 600.0,
    tolerance: float = 1e-4,
    integer_time_s: float = 0.0,
    max_cut_rounds: int = 8,
) -> tuple[Bound, Prices]:
    """The LP of the module doc over ``orders`` by column generation: its bound and its duals.

    An entry of ``orders`` may be a sequence of variants of one order (the same lines with
    different pickup stores, :meth:`.simulate.Arrival.variants`): the order takes a plan of
    any variant, and pricing takes the cheapest variant.

    ``network`` carries the config and empty queues; ``limits`` gives the right-hand sides.
    """
    started = time.perf_counter()
    cfg = network.config
    master = _Master(network, hours, limits)
    for plans in seed_plans:
        if len(plans) != len(orders):
            raise ValueError("each seed must hold one plan per order, in order")
        for o, plan in enumerate(plans):
            if plan.parcels <= cfg.max_parcels:  # the bound is over plans the optimiser may choose
                master.add(_column(o, plan))
    variants = [_variants(o) for o in orders]
    for o, group in enumerate(variants):  # each variant's own optimum, and the empty plan (always feasible)
        for order in group:
            master.add(_column(o, solve(order, network, decided_at[o]).plan))
        master.add(_Col(o, max(0, cfg.unfilled_line_penalty_fen) * len({ln.sku_id for ln in group[0].lines}), {}, {}))
    skus_of = [{ln.sku_id for order in group for ln in order.lines} for group in variants]
    qty_of: list[dict[SkuId, int]] = []  # a cut's schedule covers every line, as merged (two lines of a SKU ship as one)
    for group in variants:
        most: dict[SkuId, int] = {}
        for order in group:
            basket = make_basket(order.lines)
            for sku, q in zip(basket.skus, basket.qtys, strict=True):
                most[sku] = max(most.get(sku, 0), q)
        qty_of.append(most)
    cache: dict[int, tuple[tuple[object, ...], int, _Col]] = {}
    best_lb, lp_value, rounds, status, cut_rounds = -np.inf, np.inf, 0, "round limit", 0
    pi: dict[tuple[NodeId, SkuId], float] = {}
    mu: dict[tuple[NodeId, int], float] = {}
    while rounds < max_rounds:
        rounds += 1
        lp_value, sigma, pi, mu, gamma = master.solve()
        pi_int = {k: round(v) for k, v in pi.items() if round(v) > 0}
        mu_int = {k: round(v) for k, v in mu.items() if round(v) > 0}
        gamma_int = {i: round(v) for i, v in gamma.items() if round(v) > 0}
        by_sku: dict[SkuId, list[tuple[NodeId, int]]] = {}
        for (node, sku), v in pi_int.items():
            by_sku.setdefault(sku, []).append((node, v))
        cuts_of: dict[SkuId, dict[NodeId, list[tuple[Cut, int]]]] = {}
        for i, v in gamma_int.items():
            cut = master.cuts[i]
            cuts_of.setdefault(cut.key[1], {}).setdefault(cut.key[0], []).append((cut, v))
        lagrange = -sum(v * limits.stock(n, k) for (n, k), v in pi_int.items())
        lagrange -= sum(v * limits.tasks(n, h) for (n, h), v in mu_int.items())
        lagrange -= sum(v * master.cuts[i].rhs for i, v in gamma_int.items())
        added = 0
        for o, group in enumerate(variants):
            per_unit = {(n, sku): v for sku in skus_of[o] for n, v in by_sku.get(sku, ())}
            per_ship = {n: v for (n, h), v in mu_int.items() if h == hours[o]}
            per_line = {(n, sku): tuple(per_unit.get((n, sku), 0) * q + sum(v * cut.coefficient(q, o) for cut, v in cuts)
                                        for q in range(1, qty_of[o][sku] + 1))
                        for sku in skus_of[o] if sku in qty_of[o] for n, cuts in cuts_of.get(sku, {}).items()}
            sig = (tuple(sorted((str(k), v) for k, v in per_unit.items())),
                   tuple(sorted((str(k), v) for k, v in per_ship.items())),
                   tuple(sorted((str(k), v) for k, v in per_line.items())))
            surcharges = Surcharges(per_ship, per_unit, per_line=per_line)
            hit = cache.get(o)
            if hit is not None and hit[0] == sig:
                value, col = hit[1], hit[2]
            else:
                best: tuple[int, _Col] | None = None
                for order in group:
                    plan = solve(order, network, decided_at[o], surcharges=surcharges, k_best=1).plan
                    col = _column(o, plan)
                    value = col.cost + surcharges.of_plan(plan)
                    if best is None or value < best[0]:
                        best = (value, col)
                assert best is not None
                value, col = best
                cache[o] = (sig, value, col)
            lagrange += value
            reduced = col.cost - sigma[o] + sum(pi.get(k, 0.0) * q for k, q in col.stock.items()) + sum(
                mu.get((n, hours[o]), 0.0) * t for n, t in col.tasks.items()) + sum(
                v * master.cuts[i].coefficient(col.stock.get(master.cuts[i].key, 0), o) for i, v in gamma.items())
            if reduced < -0.5 and master.add(col):
                added += 1
        best_lb = max(best_lb, lagrange)
        closed = lp_value - best_lb <= tolerance * max(1.0, abs(lp_value))
        if added == 0 or closed:
            if cut_rounds < max_cut_rounds and time.perf_counter() - started <= time_limit_s and master.separate():
                cut_rounds += 1  # the LP of these columns is solved: cut off its fractions and price again
                continue
            status = "converged" if added == 0 else "gap closed"
            break
        if time.perf_counter() - started > time_limit_s:
            status = "time limit"
            break
    integer = master.solve_integer(integer_time_s) if integer_time_s > 0 else None
    bound = Bound(float(best_lb), float(lp_value), rounds, len(master.cols), time.perf_counter() - started, status,
                  integer)
    return bound, Prices(per_unit=pi, per_task=mu)


def _variants(entry: Order | Sequence[Order]) -> tuple[Order, ...]:
    return (entry,) if isinstance(entry, Order) else tuple(entry)


def clairvoyant_bound(
    orders: Sequence[Order | Sequence[Order]],
    decided_at: Sequence[datetime],
    hours: Sequence[int],
    nodes: Sequence[Node],
    config: RoutingConfig,
    seed_plans: Sequence[Sequence[Plan]] = (),
    *,
    max_rounds: int = 80,
    time_limit_s: float = 600.0,
    tolerance: float = 1e-4,
    integer_time_s: float = 120.0,
    max_cut_rounds: int = 8,
) -> Bound:
    """The LP lower bound of the whole horizon (module doc) for ``orders`` routed at ``decided_at``.

    ``hours[o]`` is the clock hour whose capacity order o's shipments use; ``nodes`` carry
    the initial stock and the hourly capacity; ``seed_plans`` are starting columns, one plan
    per order (for example every policy's plans; they need not be jointly feasible; plans of
    more than ``max_parcels`` parcels are skipped: the bound is over plans the optimiser may
    choose).
    """
    network = Network([replace(n, queue=0) for n in nodes], config)
    limits = Limits(stock=lambda n, k: float(network.usable(n, k)), tasks=lambda n, h: float(network.capacity_left(n)))
    bound, _ = column_generation(orders, decided_at, hours, network, limits, seed_plans,
                                 max_rounds=max_rounds, time_limit_s=time_limit_s, tolerance=tolerance,
                                 integer_time_s=integer_time_s, max_cut_rounds=max_cut_rounds)
    return bound
