"""A horizon of orders: the replay, the clairvoyant bound and bid prices."""

from __future__ import annotations

import math
import random
from dataclasses import replace
from datetime import timedelta

from o2o.core.routing import Choice, Network, Order, OrderLine, RoutingConfig, route
from o2o.core.routing.bid_prices import bid_prices
from o2o.core.routing.bound import clairvoyant_bound
from o2o.core.routing.simulate import POLICIES, Arrival, Scenario, replay
from o2o.core.routing.single import solve
from tests.unit.routing.helpers import CENTRE, NOW, offset, store, warehouse

START = NOW.replace(hour=9)


def random_scenario(seed: int, n_orders: int = 40) -> Scenario:
    rng = random.Random(seed)
    skus = [f"k{i}" for i in range(8)]
    nodes = [store(f"s{i}", rng.uniform(-3000, 3000), rng.uniform(-3000, 3000),
                   {k: rng.randint(0, 4) for k in skus if rng.random() < 0.7}, capacity=rng.randint(1, 4),
                   pick_rate_per_hour=4.0) for i in range(5)]
    nodes.append(warehouse("wh", 25_000, 0, {k: rng.randint(0, 6) for k in skus}, capacity=6, pick_rate_per_hour=6.0))
    arrivals = []
    for i in range(n_orders):
        lines = tuple(OrderLine(k, rng.randint(1, 2), rng.choice([200, 900])) for k in rng.sample(skus, rng.randint(1, 4)))
        dest = offset(CENTRE, rng.uniform(-2500, 2500), rng.uniform(-2500, 2500))
        if rng.random() < 0.3:
            options = tuple(f"s{j}" for j in rng.sample(range(5), 2))
            o = Order(f"o{i}", lines, dest, Choice.PICKUP, options[0])
            arrivals.append(Arrival(rng.uniform(0, 180), o, options))
        else:
            o = Order(f"o{i}", lines, dest, rng.choice([Choice.ANY, Choice.CHEAPEST, Choice.FASTEST]))
            arrivals.append(Arrival(rng.uniform(0, 180), o))
    arrivals.sort(key=lambda a: a.minute)
    return Scenario(nodes=tuple(nodes), arrivals=tuple(arrivals), start=START)


def bound_of(sc: Scenario, seeds=()) -> float:  # noqa: ANN001
    bound = clairvoyant_bound([a.variants() for a in sc.arrivals], [sc.decided_at(a) for a in sc.arrivals],
                              [sc.hour_of(a) for a in sc.arrivals], sc.nodes, sc.config, seeds)
    # The clairvoyant optimum lies between the LP bound and the best integer choice among the columns.
    assert bound.integer_fen is not None and bound.lower_bound_fen <= bound.integer_fen + 1e-6
    assert bound.lower_bound_fen <= bound.lp_value_fen + 1e-6
    return bound.lower_bound_fen


def test_every_policy_respects_stock_and_hourly_capacity() -> None:
    for seed in range(4):
        sc = random_scenario(seed)
        for policy in POLICIES:
            result = replay(sc, policy)
            assert result.violations == []
            assert len(result.plans) == len(sc.arrivals)
            # Recount independently: per node and SKU over the horizon, per node and clock hour.
            units: dict = {}
            tasks: dict = {}
            for plan, arrival in zip(result.plans, sc.arrivals, strict=True):
                for s in plan.shipments:
                    tasks[(s.node_id, sc.hour_of(arrival))] = tasks.get((s.node_id, sc.hour_of(arrival)), 0) + 1
                    for ln in s.lines:
                        units[(s.node_id, ln.sku_id)] = units.get((s.node_id, ln.sku_id), 0) + ln.qty
            network = Network(sc.nodes)
            assert all(q <= network.usable(n, k) for (n, k), q in units.items())
            assert all(t <= network.capacity_left(n) for (n, _), t in tasks.items())


def test_bound_is_below_every_policy() -> None:
    for seed in range(4):
        sc = random_scenario(seed)
        results = {p: replay(sc, p) for p in POLICIES}
        lb = bound_of(sc, [r.plans for r in results.values()])
        for policy, result in results.items():
            if policy in ("nearest", "priority") and any(p.parcels > sc.config.max_parcels for p in result.plans):
                continue  # the bound is over plans of at most max_parcels parcels
            total = sum(p.objective_fen for p in result.plans)
            assert lb <= total + 1e-6, (seed, policy, lb, total)


def test_bound_equals_the_sum_of_optima_when_nothing_is_contested() -> None:
    nodes = (store("a", 500, 0, {"x": 100, "y": 100}, capacity=100), warehouse("wh", 30_000, 0, {"x": 100}))
    arrivals = tuple(Arrival(float(i), Order(f"o{i}", (OrderLine("x", 1, 300), OrderLine("y", 1, 300)),
                                             offset(CENTRE, 100 * i, 0), Choice.CHEAPEST)) for i in range(5))
    sc = Scenario(nodes=nodes, arrivals=arrivals, start=START)
    optima = sum(route(a.order, Network(nodes, sc.config), sc.decided_at(a)).objective_fen for a in arrivals)
    assert abs(bound_of(sc) - optima) < 1.0


def test_bound_sees_contention_that_single_orders_do_not() -> None:
    # One unit at the store and two orders that want it; the second must go to the warehouse.
    nodes = (store("a", 500, 0, {"x": 1}, capacity=10), warehouse("wh", 30_000, 0, {"x": 5}))
    arrivals = tuple(Arrival(float(i), Order(f"o{i}", (OrderLine("x", 1, 300),), CENTRE, Choice.CHEAPEST))
                     for i in range(2))
    sc = Scenario(nodes=nodes, arrivals=arrivals, start=START)
    network = Network(nodes, sc.config)
    each = [route(a.order, network, sc.decided_at(a)).objective_fen for a in arrivals]
    lb = bound_of(sc)
    assert lb > sum(each)  # the second order pays the express difference
    # Here the LP is integral: the bound is exactly what routing one at a time pays.
    assert abs(lb - sum(p.objective_fen for p in replay(sc, "myopic").plans)) < 1.0


def test_rounding_cuts_lift_the_bound_to_the_whole_answer_when_lines_take_several_units() -> None:
    # Three units at the store and two orders that want two each: the LP ships one order and half
    # of the other from the store (2 + 1 = 3 units); whole plans can ship only one. The cut
    # "at most floor(3 / 2) = 1 line of 2 or more" closes the gap, and the bound is what myopic pays.
    nodes = (store("a", 500, 0, {"x": 3}, capacity=10), warehouse("wh", 30_000, 0, {"x": 10}))
    arrivals = tuple(Arrival(float(i), Order(f"o{i}", (OrderLine("x", 2, 300),), CENTRE, Choice.FASTEST))
                     for i in range(2))
    sc = Scenario(nodes=nodes, arrivals=arrivals, start=START)
    args = ([a.variants() for a in arrivals], [sc.decided_at(a) for a in arrivals], [sc.hour_of(a) for a in arrivals],
            nodes, sc.config)
    plain = clairvoyant_bound(*args, max_cut_rounds=0).lower_bound_fen
    cut = clairvoyant_bound(*args).lower_bound_fen
    whole = sum(p.objective_fen for p in replay(sc, "myopic").plans)
    assert plain < whole - 100  # the LP's half order
    assert abs(cut - whole) < 1.0


def test_rounding_cuts_never_lower_the_bound_and_keep_it_below_every_whole_answer() -> None:
    for seed in range(6):
        sc = random_scenario(seed, n_orders=30)
        args = ([a.variants() for a in sc.arrivals], [sc.decided_at(a) for a in sc.arrivals],
                [sc.hour_of(a) for a in sc.arrivals], sc.nodes, sc.config)
        plain = clairvoyant_bound(*args, max_cut_rounds=0)
        cut = clairvoyant_bound(*args)
        assert cut.lower_bound_fen >= plain.lower_bound_fen - 1.0, seed
        assert cut.integer_fen is not None and cut.lower_bound_fen <= cut.integer_fen + 1e-6, seed
        myopic = sum(p.objective_fen for p in replay(sc, "myopic").plans)
        assert cut.lower_bound_fen <= myopic + 1e-6, seed


def exact_single_line_optimum(sc: Scenario) -> float:
    """The clairvoyant MIP optimum of a horizon of one-SKU orders, by listing every plan.

    An order of one SKU (its lines merge into one) ships from one node or none, so its plans
    are: the cheapest plan at each node (any mode or carrier there takes the same stock and
    task) and the empty plan.
    """
    import numpy as np
    from scipy.optimize import Bounds, LinearConstraint, milp

    network = Network([replace(n, queue=0) for n in sc.nodes], sc.config)
    ids = [n.node_id for n in sc.nodes]
    cols: list[tuple[int, float, dict, dict]] = []
    for o, arrival in enumerate(sc.arrivals):
        assert all(len({ln.sku_id for ln in v.lines}) == 1 for v in arrival.variants())
        best: dict = {}
        for variant in arrival.variants():
            for node in ids:
                plan = solve(variant, network, sc.decided_at(arrival), exclude=[n for n in ids if n != node],
                             k_best=1).plan
                if plan.shipments and plan.parcels == 1 and plan.objective_fen < best.get(node, (math.inf,))[0]:
                    best[node] = (plan.objective_fen, plan)
        for cost, plan in best.values():
            s = plan.shipments[0]
            cols.append((o, cost, {(s.node_id, ln.sku_id): ln.qty for ln in s.lines}, {(s.node_id, sc.hour_of(arrival)): 1}))
        cols.append((o, sc.config.unfilled_line_penalty_fen, {}, {}))
    rows = sorted({k for _, _, st, _ in cols for k in st}) + sorted({k for _, _, _, t in cols for k in t})
    limit = [network.usable(*k) for k in rows[: len({k for _, _, st, _ in cols for k in st})]]
    limit += [network.capacity_left(k[0]) for k in rows[len(limit):]]
    index = {k: i for i, k in enumerate(rows)}
    a = np.zeros((len(sc.arrivals) + len(rows), len(cols)))
    for j, (o, _, st, t) in enumerate(cols):
        a[o, j] = 1
        for k, q in (*st.items(), *t.items()):
            a[len(sc.arrivals) + index[k], j] = q
    lower = np.concatenate([np.ones(len(sc.arrivals)), np.full(len(rows), -np.inf)])
    upper = np.concatenate([np.ones(len(sc.arrivals)), np.array(limit, dtype=float)])
    res = milp(c=np.array([c for _, c, _, _ in cols], dtype=float), integrality=np.ones(len(cols)), bounds=Bounds(0, 1),
               constraints=LinearConstraint(a, lower, upper))
    assert res.status == 0
    return float(res.fun)


def test_cover_cuts_lift_the_bound_where_no_rounding_cut_can() -> None:
    # Four units at the store; three orders want one each and a fourth wants two. The LP serves
    # the three and half of the fourth (1 + 1 + 1 + 2 x 1/2 = 4). No rounding cut, whose
    # coefficient depends only on the quantity, cuts that off (each order of one unit counts 0),
    # but the cover "at most 3 of these 4 orders from the store" does: the bound is the whole answer.
    nodes = (store("a", 500, 0, {"x": 4}, capacity=10), warehouse("wh", 30_000, 0, {"x": 10}))
    arrivals = tuple(Arrival(float(i), Order(f"o{i}", (OrderLine("x", 2 if i == 3 else 1, 300),), CENTRE,
                                             Choice.FASTEST)) for i in range(4))
    sc = Scenario(nodes=nodes, arrivals=arrivals, start=START)
    args = ([a.variants() for a in arrivals], [sc.decided_at(a) for a in arrivals], [sc.hour_of(a) for a in arrivals],
            nodes, sc.config)
    plain = clairvoyant_bound(*args, max_cut_rounds=0).lower_bound_fen
    exact = exact_single_line_optimum(sc)
    assert plain < exact - 100
    assert abs(clairvoyant_bound(*args).lower_bound_fen - exact) < 1.0


def test_cut_bound_never_exceeds_the_exact_optimum_on_thin_shelves() -> None:
    # Random horizons of one-SKU orders of 1-4 units on shelves of 0-5 units, where the exact
    # clairvoyant optimum can be listed: the cut bound lies between the plain LP and it.
    lifted = 0.0
    for seed in range(16):  # seed 15 caught cut schedules shorter than a merged line (1 + 2 units)
        rng = random.Random(100 + seed)
        skus = ["x", "y", "z"]
        nodes = tuple(store(f"s{i}", rng.uniform(-2500, 2500), rng.uniform(-2500, 2500),
                            {k: rng.randint(0, 5) for k in skus}, capacity=rng.randint(2, 6)) for i in range(3))
        nodes += (warehouse("wh", 25_000, 0, {k: rng.randint(0, 8) for k in skus}, capacity=8),)
        arrivals = []
        for i in range(24):
            sku = rng.choice(skus)  # sometimes two lines of the SKU, which ship merged (1 + 2 = a line of 3)
            lines = tuple(OrderLine(sku, rng.randint(1, 2 if n else 4), 500) for n in range(rng.choice([1, 1, 2])))
            arrivals.append(Arrival(rng.uniform(0, 150), Order(
                f"o{i}", lines, offset(CENTRE, rng.uniform(-2000, 2000), rng.uniform(-2000, 2000)),
                rng.choice([Choice.FASTEST, Choice.ANY, Choice.CHEAPEST]))))
        arrivals.sort(key=lambda a: a.minute)
        sc = Scenario(nodes=nodes, arrivals=tuple(arrivals), start=START)
        args = ([a.variants() for a in sc.arrivals], [sc.decided_at(a) for a in sc.arrivals],
                [sc.hour_of(a) for a in sc.arrivals], sc.nodes, sc.config)
        plain = clairvoyant_bound(*args, max_cut_rounds=0).lower_bound_fen
        cut = clairvoyant_bound(*args).lower_bound_fen
        exact = exact_single_line_optimum(sc)
        assert plain - 1.0 <= cut <= exact + 1e-6, (seed, plain, cut, exact)
        lifted += cut - plain
    assert lifted > 0  # the cuts do bind somewhere on thin shelves


def test_pickup_customer_takes_the_next_store_when_the_first_is_full() -> None:
    nodes = (store("first", 300, 0, {"x": 9}, capacity=1), store("second", 900, 0, {"x": 9}, capacity=5))
    arrivals = tuple(Arrival(0.1 * i, Order(f"o{i}", (OrderLine("x", 1, 100),), CENTRE, Choice.PICKUP, "first"),
                             ("first", "second")) for i in range(3))
    sc = Scenario(nodes=nodes, arrivals=arrivals, start=START)
    plans = replay(sc, "myopic").plans
    assert [p.shipments[0].node_id for p in plans] == ["first", "second", "second"]


def test_capacity_restarts_every_clock_hour() -> None:
    nodes = (store("a", 300, 0, {"x": 50}, capacity=1),)
    minutes = [5.0, 10.0, 65.0]  # two in the first hour, one in the second
    arrivals = tuple(Arrival(m, Order(f"o{i}", (OrderLine("x", 1, 100),), CENTRE, Choice.CHEAPEST))
                     for i, m in enumerate(minutes))
    plans = replay(Scenario(nodes=nodes, arrivals=arrivals, start=START), "myopic").plans
    assert [p.parcels for p in plans] == [1, 0, 1]
    assert plans[1].unfilled[0].reason.value == "no_capacity"


def test_bid_prices_keep_scarce_stock_for_the_order_that_has_no_alternative() -> None:
    # A delivery could use the store's last units or the warehouse; a later pickup at that store cannot.
    nodes = (store("a", 500, 0, {"x": 2}, capacity=10), warehouse("wh", 30_000, 0, {"x": 10}))
    delivery = Order("d", (OrderLine("x", 1, 300),), CENTRE, Choice.CHEAPEST)
    pickup = Order("p", (OrderLine("x", 1, 300),), CENTRE, Choice.PICKUP, "a")
    config = RoutingConfig()
    network = Network(nodes, config)
    assert route(delivery, network, START).shipments[0].node_id == "a"  # myopic takes the store's unit
    later = START + timedelta(minutes=30)
    # The forecast: three pickups at the store that holds two units (one will go without).
    prices = bid_prices([pickup] * 3, [later] * 3, [0] * 3, nodes, config)
    assert prices.per_unit.get(("a", "x"), 0) > 0
    steered = route(delivery, network, START, surcharges=prices.surcharges(0))
    assert steered.shipments[0].node_id == "wh"
    # The pickup itself is never refused because of its own store's price.
    assert route(pickup, network, later, surcharges=prices.surcharges(0)).unfilled == ()


def test_wave_with_prices_never_violates_and_is_no_worse_on_its_own_objective() -> None:
    from o2o.core.routing import myopic, route_wave

    sc = random_scenario(11, n_orders=25)
    network = Network(sc.nodes, sc.config)
    orders = [a.order for a in sc.arrivals]
    prices = bid_prices(orders, [START] * len(orders), [0] * len(orders), sc.nodes, sc.config).surcharges(0)
    wave = route_wave(orders, network, START, surcharges=prices)
    base = myopic(orders, network, START, None, prices)

    def value(p):  # noqa: ANN001, ANN202
        return p.objective_fen + prices.of_plan(p) + prices.unfilled_extra_fen * len(p.unfilled)

    assert wave.objective_fen <= sum(value(p) for p in base)
    assert wave.objective_fen == sum(value(p) for p in wave.plans)
    from o2o.core.routing import violations

    assert violations(list(wave.plans), network) == []


def test_checkout_offers_stores_with_capacity_and_the_whole_basket_else_delivery() -> None:
    from o2o.core.routing.network import Usage
    from o2o.core.routing.simulate import checkout

    nodes = (store("near", 300, 0, {"x": 9}, capacity=1), store("full", 600, 0, {"x": 9, "y": 9}, capacity=1),
             store("far", 900, 0, {"x": 9, "y": 9}, capacity=1))
    network = Network(nodes)
    lines = (OrderLine("x", 1, 100), OrderLine("y", 1, 100))
    usage = Usage(shipments={"full": 1})  # "full" has no pick task left this hour
    arrivals = [Arrival(0.0, Order(f"o{i}", lines, CENTRE, Choice.PICKUP, "near"), ("near", "full", "far"), Choice.ANY)
                for i in range(2)]
    first, second = checkout(arrivals, network, usage)
    assert first.pickup_node_id == "far"  # "near" lacks y, "full" has no capacity
    assert second.choice is Choice.ANY and second.pickup_node_id is None  # "far" is taken: delivery instead
    # Without a fallback the order goes to the first store with capacity, which cannot fill it all.
    stay = checkout([Arrival(0.0, arrivals[0].order, ("full", "near"))], network, usage)[0]
    assert stay.pickup_node_id == "near" and stay.choice is Choice.PICKUP
    nowhere = checkout([Arrival(0.0, arrivals[0].order, ("full",))], network, usage)[0]
    assert nowhere.pickup_node_id == "full"
