"""Claim prices: what the next unit or pick task is worth to the rest of the day, priced now.

Bid prices (:mod:`.bid_prices`) are LP duals computed at a refresh and held until the
next one. On thin shelves that is too coarse: with two units left a unit may be free, with
one left it is worth a "fastest" customer's same-city delivery, and the price has to
change the moment the wave takes the first unit. Duals of a fluid LP also price a unit by
the expected demand against it, when what matters is the chance that some later customer
who needs it more will come (Littlewood's rule: protect a unit while the chance of a
higher-value request for it times its value exceeds what the request in hand would pay).

A claim book prices each unit and pick task from sampled days of forecast orders (never
the actual orders):

* Each forecast order states its **wish**: its best plan against the day's starting stock
  (over the forms its customer accepts: another pickup store, the delivery fallback). Every
  unit of (node, SKU) and every pick task of (node, clock hour) the wish uses is a
  **claim** on that resource, made at the order's decision time.
* A claim's **value** is what the order loses without the resource: its best objective
  with the resource barred, minus its wish (per unit for stock). Computed lazily, only for
  resources whose claims still outnumber what is left, and cached.
* At time ``now`` a resource with ``left`` units (tasks, this hour) left is priced, per
  sampled day, at the ``left``-th largest value among the claims still to come (zero when
  fewer units are claimed than left): taking one unit now leaves ``left - 1`` for the rest
  of the day, so the ``left``-th claim is the one displaced. The price is the mean over the
  sampled days: each day says "displaced, at this value" or "not", so the mean is the
  expected value of the unit to the rest of the day, state by state. A line of ``q``
  units pays the displaced values of ranks ``left - q + 1`` .. ``left`` (a schedule,
  :attr:`.surcharges.Surcharges.per_line`).
* **Splits** pay ``split_fen`` per parcel after the first, on top of the cost model's
  extra-parcel penalty. A split takes stock and a pick task at a second node: what the
  later orders find whole is fragmented, a cost the per-resource claims do not see (each
  claim is priced alone). Measured on the routing benchmark (demo chain, medium
  scarcity): myopic routing with a ¥20 split surcharge costs 4.5 % less over the day by
  the plain objective than without, so the externality is real; the wave's default is ¥30
  (see docs/routing.md for the figures).

Pure: the caller supplies the forecast days and the network; the only work is single-order
searches (:func:`.single.solve`).
"""

from __future__ import annotations

import bisect
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass, field
from datetime import datetime

from o2o.core.routing.model import NodeId, Order, Plan, SkuId
from o2o.core.routing.network import Network, Usage
from o2o.core.routing.single import solve
from o2o.core.routing.surcharges import Surcharges

__all__ = ["SPLIT_FEN", "ClaimBook", "ForecastOrder"]

_BARRED = 10**8  # a surcharge no plan pays: the search leaves the line unfilled instead
SPLIT_FEN = 3000


@dataclass(frozen=True)
class ForecastOrder:
    """One forecast order: when it is decided, the clock hour its pick tasks use, its forms."""

    at: datetime
    hour: int
    forms: tuple[Order, ...]


@dataclass
class _Claims:
    """Claims on one resource in one sampled day, in decision-time order (values filled lazily)."""

    times: list[datetime] = field(default_factory=list)
    owners: list[int] = field(default_factory=list)
    units: list[int] = field(default_factory=list)


class ClaimBook:
    """The claims of sampled forecast days on stock and pick tasks (module doc)."""

    def __init__(self, days: Sequence[Sequence[ForecastOrder]], network: Network, *,
                 split_fen: int = SPLIT_FEN) -> None:
        """State every forecast order's wish against ``network``'s starting stock (no usage, empty queues).

        ``split_fen``: what the wave adds for every parcel after an order's first (module doc).
        """
        self.network = network
        self.split_fen = split_fen
        self.days = [sorted(day, key=lambda f: f.at) for day in days]
        self.by_sku: dict[SkuId, set[NodeId]] = {}
        self.refresh(None, None)

    def refresh(self, now: datetime | None, usage: Usage | None) -> None:
        """State the wishes of the orders still to come (after ``now``) against the stock ``usage`` leaves.

        A wish made against the morning's stock claims units that are gone by the evening,
        and none of the units the order would really turn to; re-stating the wishes as the
        day goes keeps the claims on what is left. Cached claim values are dropped. For stock
        that changes outside routing (a delivery to the store, a run on the shelf at the
        till); on the benchmark, where only routing takes stock, re-stating every 2 hours
        changed the day's cost by under 0.1 %, so it does not.
        """
        stock_left = Usage(stock=dict(usage.stock)) if usage is not None else None
        self.wishes: list[dict[int, Plan]] = []
        self.stock: list[dict[tuple[NodeId, SkuId], _Claims]] = []
        self.tasks: list[dict[tuple[NodeId, int], _Claims]] = []
        self._usage = stock_left
        self._values: dict[tuple[int, int, object], float] = {}
        self._task_nodes: dict[int, set[NodeId]] = {}
        for day in self.days:
            wishes: dict[int, Plan] = {}
            stock: dict[tuple[NodeId, SkuId], _Claims] = {}
            tasks: dict[tuple[NodeId, int], _Claims] = {}
            first = 0 if now is None else bisect.bisect_right([f.at for f in day], now)
            for i in range(first, len(day)):
                f = day[i]
                wish = wishes[i] = self._best(f, None)
                for s in wish.shipments:
                    self._task_nodes.setdefault(f.hour, set()).add(s.node_id)
                    c = tasks.setdefault((s.node_id, f.hour), _Claims())
                    c.times.append(f.at)
                    c.owners.append(i)
                    c.units.append(1)
                    for ln in s.lines:
                        c = stock.setdefault((s.node_id, ln.sku_id), _Claims())
                        c.times.append(f.at)
                        c.owners.append(i)
                        c.units.append(ln.qty)
                        self.by_sku.setdefault(ln.sku_id, set()).add(s.node_id)
            self.wishes.append(wishes)
            self.stock.append(stock)
            self.tasks.append(tasks)

    def _best(self, f: ForecastOrder, surcharges: Surcharges | None) -> Plan:
        best: Plan | None = None
        for form in f.forms:
            plan = solve(form, self.network, f.at, usage=self._usage, k_best=1, surcharges=surcharges).plan
            if best is None or plan.objective_fen < best.objective_fen:
                best = plan
        if best is None:
            raise ValueError("a forecast order needs at least one form")
        return best

    def _value(self, d: int, f: int, resource: object, barred: Callable[[], Surcharges], units: int) -> float:
        key = (d, f, resource)
        value = self._values.get(key)
        if value is None:
            wish = self.wishes[d][f]
            without = self._best(self.days[d][f], barred())
            value = max(0.0, (without.objective_fen - wish.objective_fen) / max(1, units))
            self._values[key] = value
        return value

    def _schedule(self, d: int, claims: _Claims | None, now: datetime, left: int, units: int, resource: object,
                  barred: Callable[[], Surcharges]) -> list[float]:
        """Cumulative displaced value of taking 1..``units`` of ``left`` units, in one sampled day."""
        out = [0.0] * units
        if claims is None or left <= 0:
            return out
        start = bisect.bisect_right(claims.times, now)
        claimed = sum(claims.units[start:])
        if claimed <= left - units:
            return out
        values: list[float] = []
        for j in range(start, len(claims.times)):
            v = self._value(d, claims.owners[j], resource, barred, claims.units[j])
            values += [v] * claims.units[j]
        values.sort(reverse=True)
        total = 0.0
        for q in range(1, units + 1):  # the q-th unit taken displaces the claim ranked left - q + 1
            rank = left - q
            total += values[rank] if 0 <= rank < len(values) else 0.0
            out[q - 1] = total
        return out

    def _price(self, d: int, claims: _Claims | None, now: datetime, left: int, resource: object,
               barred: Callable[[], Surcharges]) -> float:
        return self._schedule(d, claims, now, left, 1, resource, barred)[0]

    def unit_schedule(self, node: NodeId, sku: SkuId, units: int, now: datetime, usage: Usage | None) -> list[float]:
        """Mean over the days of the cumulative displaced value of taking 1..``units`` units (fen)."""
        left = self.network.usable(node, sku, usage)
        total = [0.0] * units
        for d in range(len(self.days)):
            one = self._schedule(d, self.stock[d].get((node, sku)), now, left, units, (node, sku),
                                 lambda: Surcharges(per_unit={(node, sku): _BARRED}))
            total = [a + b for a, b in zip(total, one, strict=True)]
        return [v / max(1, len(self.days)) for v in total]

    def unit_price(self, node: NodeId, sku: SkuId, now: datetime, usage: Usage | None) -> float:
        """The mean over the days of the unit's displaced claim value (fen)."""
        return self.unit_schedule(node, sku, 1, now, usage)[0]

    def task_price(self, node: NodeId, hour: int, now: datetime, usage: Usage | None) -> float:
        """The mean over the days of the displaced claim value of a pick task at ``node`` this hour."""
        left = self.network.capacity_left(node, usage)
        total = 0.0
        for d in range(len(self.days)):
            total += self._price(d, self.tasks[d].get((node, hour)), now, left, (node, hour),
                                 lambda: Surcharges(per_shipment={node: _BARRED}))
        return total / max(1, len(self.days))

    def surcharges(self, orders: Iterable[Order], now: datetime, hour: int, usage: Usage | None) -> Surcharges:
        """Prices of everything ``orders`` could take, as surcharges for the wave.

        As with bid prices, the search's unfilled-line penalty is raised above any line's
        surcharges: prices choose between ways of filling a line, never refusing it.
        """
        units: dict[SkuId, int] = {}
        for order in orders:
            for ln in order.lines:
                units[ln.sku_id] = max(units.get(ln.sku_id, 0), ln.qty)
        per_line: dict[tuple[NodeId, SkuId], tuple[int, ...]] = {}
        for sku, most in units.items():
            for node in self.by_sku.get(sku, ()):
                schedule = tuple(round(v) for v in self.unit_schedule(node, sku, most, now, usage))
                if schedule[-1] > 0:
                    per_line[(node, sku)] = schedule
        per_task: dict[NodeId, int] = {}
        for node in self._task_nodes.get(hour, ()):
            price = round(self.task_price(node, hour, now, usage))
            if price > 0:
                per_task[node] = price
        extra = max(per_task.values(), default=0) + max((s[-1] for s in per_line.values()), default=0)
        split = max(0, self.split_fen)
        return Surcharges(per_shipment=per_task, per_line=per_line, unfilled_extra_fen=extra + split, split_fen=split)
