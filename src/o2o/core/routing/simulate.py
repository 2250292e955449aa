"""Replaying a stream of orders through a routing policy, the way the service would route them.

Used by the routing benchmark (``o2o bench routing``) to compare policies on the same
orders and the same network. Pure: the caller builds the scenario (nodes, arrivals); the
only clock read is :func:`time.perf_counter`, to measure how long the policy itself takes.

The replay
----------
* Orders arrive at given minutes after ``start``. Every policy decides at the close of each
  ``window_s`` window (default 60 s), so all of them see the same clock: the baselines
  route the window's orders one at a time in arrival order, the wave jointly.
* **Stock** is consumed for the whole horizon (no replenishment): what a plan ships is
  gone for later orders.
* **Pick capacity** is per clock hour: ``Node.capacity`` is the number of pick tasks the
  node can start in one hour; the count restarts at every hour boundary.
* **Queues**: each shipment joins its node's queue, which drains at ``pick_rate_per_hour``;
  the ETA of later orders includes the wait (fluid model, rounded up to whole orders).
* **Pickup**: a customer who wants pickup takes the first store of their list that the
  checkout offers (pick capacity left this hour and the whole basket, after what the
  window's earlier pickups hold), or a delivery when none is offered (:func:`checkout`).
  With ``steer``, the policy also decides what the checkout offers (:func:`offers`):
  another store of the customer's list (pre-selected), or no store, so the customer takes
  their delivery fallback (availability control). Nearest and priority keep the first;
  myopic takes the form of least objective (in practice the first); the wave weighs every
  form in its MIP with the rest.
* Violations (stock beyond the usable stock, tasks beyond the hour's capacity) are counted
  by recounting the plans, not trusted from the policy.
"""

from __future__ import annotations

import math
import time
from collections.abc import Callable
from dataclasses import dataclass, field, replace
from datetime import datetime, timedelta

from o2o.core.routing.baselines import myopic, nearest, priority, sequential
from o2o.core.routing.basket import make_basket
from o2o.core.routing.config import RoutingConfig
from o2o.core.routing.model import Choice, Node, NodeId, Order, Plan
from o2o.core.routing.network import Network, Usage
from o2o.core.routing.surcharges import Surcharges
from o2o.core.routing.wave import route_wave, violations

__all__ = ["POLICIES", "Arrival", "Replay", "Scenario", "checkout", "replay", "window_of"]

POLICIES = ("nearest", "priority", "myopic", "wave")


@dataclass(frozen=True, slots=True)
class Arrival:
    """An order and when it arrives, in minutes after the scenario's start.

    ``pickup_options``: for a pickup order, the stores the customer would collect from, in
    order of preference; the checkout offers those with pick capacity left this hour
    (:func:`checkout`). ``fallback``: the choice the customer takes instead (a delivery
    choice) when the checkout offers no pickup store; None: the order stays a pickup at its
    first store and finds no capacity. Without options: ``order`` as it is.
    """

    minute: float
    order: Order
    pickup_options: tuple[NodeId, ...] = ()
    fallback: Choice | None = None

    def variants(self) -> tuple[Order, ...]:
        """Every way the checkout could send this order (just the order without options)."""
        if not self.pickup_options:
            return (self.order,)
        out = [replace(self.order, pickup_node_id=n) for n in self.pickup_options]
        if self.fallback is not None and self.order.destination is not None:
            out.append(replace(self.order, choice=self.fallback, pickup_node_id=None))
        return tuple(out)


@dataclass(frozen=True)
class Scenario:
    """Nodes at the start (initial stock, hourly capacity), arrivals (sorted by minute), the clock."""

    nodes: tuple[Node, ...]
    arrivals: tuple[Arrival, ...]
    start: datetime
    window_s: int = 60
    config: RoutingConfig = field(default_factory=RoutingConfig)

    def decided_at(self, arrival: Arrival) -> datetime:
        """When every policy routes ``arrival``: the close of its window."""
        return self.start + timedelta(seconds=(window_of(arrival.minute, self.window_s) + 1) * self.window_s)

    def hour_of(self, arrival: Arrival) -> int:
        """The clock hour (from the start) whose capacity the order's shipments use."""
        return int((window_of(arrival.minute, self.window_s) + 1) * self.window_s // 3600)


def window_of(minute: float, window_s: int) -> int:
    """The index of the decision window an arrival at ``minute`` falls in."""
    return int(minute * 60 // max(1, window_s))


@dataclass
class Replay:
    """What one policy did: plans in arrival order, routing time, violations, wave statistics."""

    policy: str
    plans: list[Plan]
    seconds: float
    violations: list[str]
    windows: int = 0
    mip_windows: int = 0
    wave_options: int = 0


def _windows(scenario: Scenario) -> list[tuple[int, list[int]]]:
    groups: dict[int, list[int]] = {}
    for i, a in enumerate(scenario.arrivals):
        groups.setdefault(window_of(a.minute, scenario.window_s), []).append(i)
    return sorted(groups.items())


def checkout(arrivals: list[Arrival], network: Network, usage: Usage) -> list[Order]:
    """The window's orders as the checkout page sends them.

    As the quote does, pickup is offered at the stores of the customer's list that have
    pick capacity left this hour and can fill the whole basket alone, counting what the
    window's earlier pickups hold (the checkout reserves a pickup's basket at its store);
    the customer takes the first. With none offered, the customer takes the fallback
    delivery choice; without a fallback, the first store with capacity (or the first
    store), which then cannot fill everything.
    """
    held = usage.copy()
    orders = []
    for a in arrivals:
        if not a.pickup_options:
            orders.append(a.order)
            continue
        basket = make_basket(a.order.lines)
        open_ = [n for n in a.pickup_options if network.capacity_left(n, held) >= 1]
        whole = [n for n in open_ if network.cover_mask(n, basket.skus, basket.qtys, held) == basket.all_mask]
        if whole or a.fallback is None or a.order.destination is None:
            store = (whole or open_ or list(a.pickup_options))[0]
            held.shipments[store] = held.shipments.get(store, 0) + 1
            if whole:
                for ln in a.order.lines:
                    held.stock[(store, ln.sku_id)] = held.stock.get((store, ln.sku_id), 0) + ln.qty
            orders.append(replace(a.order, pickup_node_id=store))
        else:
            orders.append(replace(a.order, choice=a.fallback, pickup_node_id=None))
    return orders


def offers(arrivals: list[Arrival], chosen: list[Order], network: Network, usage: Usage) -> list[tuple[Order, ...]]:
    """Per arrival, the other forms the checkout could offer a pickup customer instead.

    A pickup customer accepts every store of their list and, when no store is offered,
    their fallback delivery. The checkout may pre-select another store of the list with
    pick capacity left this hour that holds the whole basket, or offer no store and go to
    the fallback (availability control: a store's last units or pick tasks may be worth
    more to the customers still to come than pickup saves over delivery). ``chosen`` is
    what :func:`checkout` sends; this returns the other forms (empty for delivery orders).
    """
    out: list[tuple[Order, ...]] = []
    for a, order in zip(arrivals, chosen, strict=True):
        if not a.pickup_options or order.pickup_node_id is None:
            out.append(())
            continue
        basket = make_basket(a.order.lines)
        forms = [replace(a.order, pickup_node_id=n) for n in a.pickup_options
                 if n != order.pickup_node_id and network.capacity_left(n, usage) >= 1
                 and network.cover_mask(n, basket.skus, basket.qtys, usage) == basket.all_mask]
        if a.fallback is not None and a.order.destination is not None:
            forms.append(replace(a.order, choice=a.fallback, pickup_node_id=None))
        out.append(tuple(forms))
    return out


Router = Callable[[list[Order], Network, datetime, Usage, list[tuple[Order, ...]] | None],
                  tuple[list[Plan], dict[str, int]]]


def _baseline(policy: str) -> Router:
    single = {"nearest": nearest, "priority": priority}

    def run(orders: list[Order], network: Network, now: datetime, usage: Usage,
            alternatives: list[tuple[Order, ...]] | None) -> tuple[list[Plan], dict[str, int]]:
        if policy == "myopic":
            return myopic(orders, network, now, usage, alternatives=alternatives), {}
        return sequential(orders, network, now, single[policy], usage), {}

    return run


PriceHook = Callable[[datetime, int, Usage, list[Order]], Surcharges | None]


def _wave(time_limit_s: float, prices: PriceHook | None, start: datetime) -> Router:
    def run(orders: list[Order], network: Network, now: datetime, usage: Usage,
            alternatives: list[tuple[Order, ...]] | None) -> tuple[list[Plan], dict[str, int]]:
        hour = int((now - start).total_seconds() // 3600)
        surcharges = prices(now, hour, usage, orders) if prices is not None else None
        result = route_wave(orders, network, now, usage=usage, time_limit_s=time_limit_s, surcharges=surcharges,
                            alternatives=alternatives)
        return list(result.plans), {"mip": int(result.method == "mip"), "options": result.options}

    return run


def replay(
    scenario: Scenario,
    policy: str,
    *,
    wave_time_limit_s: float = 10.0,
    prices: PriceHook | None = None,
    steer: bool = False,
) -> Replay:
    """Route every arrival of ``scenario`` with ``policy`` (one of :data:`POLICIES`).

    ``prices`` (wave only) is called before each window with the decision time, the clock
    hour from the start, what has been taken so far and the window's orders; the
    surcharges it returns (claim prices, :mod:`.claims`, or bid prices, :mod:`.bid_prices`)
    are added to the wave's objective. Its time counts as routing time. ``steer``: myopic
    and the wave also choose what the checkout offers a pickup customer (module doc).
    """
    if policy not in POLICIES:
        raise ValueError(f"unknown policy {policy!r}; expected one of {', '.join(POLICIES)}")
    router = _wave(wave_time_limit_s, prices, scenario.start) if policy == "wave" else _baseline(policy)
    config = scenario.config
    usage = Usage()
    queue: dict[NodeId, float] = {n.node_id: float(max(0, n.queue)) for n in scenario.nodes}
    plans: list[Plan | None] = [None] * len(scenario.arrivals)
    out = Replay(policy=policy, plans=[], seconds=0.0, violations=[])
    hour = -1
    last_min = 0.0
    for window, members in _windows(scenario):
        close_min = (window + 1) * scenario.window_s / 60
        now = scenario.start + timedelta(minutes=close_min)
        if int(close_min // 60) != hour:  # a new clock hour: pick capacity restarts
            hour = int(close_min // 60)
            usage.shipments = {}
        elapsed = close_min - last_min
        last_min = close_min
        nodes = []
        for n in scenario.nodes:
            rate = n.pick_rate_per_hour if n.pick_rate_per_hour > 0 else 0.0
            queue[n.node_id] = max(0.0, queue[n.node_id] - rate * elapsed / 60)
            nodes.append(replace(n, queue=math.ceil(queue[n.node_id] - 1e-9)))
        network = Network(nodes, config)
        arrivals = [scenario.arrivals[i] for i in members]
        orders = checkout(arrivals, network, usage)
        alternatives = offers(arrivals, orders, network, usage) if steer and policy in ("myopic", "wave") else None
        started = time.perf_counter()
        routed, stats = router(orders, network, now, usage, alternatives)
        out.seconds += time.perf_counter() - started
        out.violations += violations(routed, network, usage)  # recounted from the plans
        out.windows += 1
        out.mip_windows += stats.get("mip", 0)
        out.wave_options += stats.get("options", 0)
        for i, plan in zip(members, routed, strict=True):
            plans[i] = plan
            usage.take(plan)
            for s in plan.shipments:
                queue[s.node_id] = queue.get(s.node_id, 0.0) + 1
    out.plans = [p for p in plans if p is not None]
    return out
