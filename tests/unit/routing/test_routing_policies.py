"""Baselines, re-routing and wave routing."""

from __future__ import annotations

import random

import pytest
import scipy.optimize
from hypothesis import given, settings
from hypothesis import strategies as st

from o2o.core.routing import (
    Choice,
    Mode,
    Network,
    Node,
    NodeKind,
    Order,
    OrderLine,
    RoutingConfig,
    myopic,
    nearest,
    priority,
    reroute,
    route,
    route_wave,
    sequential,
    violations,
)
from tests.unit.routing.helpers import (
    CENTRE,
    NOW,
    assert_plan_consistent,
    assert_within_limits,
    offset,
    store,
    warehouse,
)


def scarce_network(seed: int, n_stores: int = 8, skus: int = 6) -> tuple[list[Node], Network]:
    rng = random.Random(seed)
    nodes = [
        store(
            f"s{i}",
            rng.uniform(-3000, 3000),
            rng.uniform(-3000, 3000),
            {f"k{k}": rng.randint(0, 3) for k in range(skus) if rng.random() < 0.7},
            capacity=rng.randint(0, 3),
            queue=rng.randint(0, 8),
            walkin_share=rng.choice([0.0, 0.2]),
            delivery_radius_m=rng.choice([3000.0, 5000.0]),
        )
        for i in range(n_stores)
    ]
    nodes.append(warehouse("w", 15_000, 0, {f"k{k}": rng.randint(0, 6) for k in range(skus)}, capacity=rng.randint(1, 6)))
    return nodes, Network(nodes)


def batch(seed: int, n: int, skus: int = 6) -> list[Order]:
    rng = random.Random(seed)
    out = []
    for i in range(n):
        picked = rng.sample(range(skus), rng.randint(1, 4))
        lines = tuple(OrderLine(f"k{k}", rng.randint(1, 2), rng.choice([200, 900, 3000])) for k in picked)
        dest = offset(CENTRE, rng.uniform(-2500, 2500), rng.uniform(-2500, 2500))
        out.append(Order(i, lines, dest, rng.choice([Choice.CHEAPEST, Choice.ANY, Choice.FASTEST])))
    return out


# --- baselines


@pytest.mark.parametrize("seed", range(6))
def test_baselines_produce_valid_plans(seed: int) -> None:
    nodes, net = scarce_network(seed)
    orders = batch(seed, 12)
    for policy in (nearest, priority):
        plans = sequential(orders, net, NOW, policy)
        for order, plan in zip(orders, plans, strict=True):
            assert_plan_consistent(plan, order, net.config)
            assert plan.policy == policy.__name__
        assert_within_limits(plans, nodes, net.config)
    plans = myopic(orders, net, NOW)
    assert_within_limits(plans, nodes, net.config)
    assert all(p.policy == "myopic" for p in plans)


def test_nearest_takes_each_line_from_the_nearest_node() -> None:
    nodes = [store("near", 300, 0, {"a": 5}), store("mid", 900, 0, {"a": 5, "b": 5}), store("far", 2000, 0, {"b": 5, "c": 5})]
    order = Order("o", (OrderLine("a", 1, 1), OrderLine("b", 1, 1), OrderLine("c", 1, 1)), CENTRE)
    plan = nearest(order, Network(nodes), NOW)
    assert sorted((s.node_id, tuple(ln.sku_id for ln in s.lines)) for s in plan.shipments) == [
        ("far", ("c",)),
        ("mid", ("b",)),
        ("near", ("a",)),
    ]
    optimal = route(order, Network(nodes), NOW)
    assert optimal.objective_fen <= plan.objective_fen and optimal.parcels < plan.parcels


def test_priority_follows_the_given_node_order() -> None:
    nodes = [store("a", 0, 0, {"x": 5}), store("b", 100, 0, {"x": 5, "y": 5})]
    order = Order("o", (OrderLine("x", 1, 1), OrderLine("y", 1, 1)), CENTRE)
    default = priority(order, Network(nodes), NOW)
    assert [s.node_id for s in default.shipments] == ["a", "b"]
    flipped = priority(order, Network(nodes), NOW, node_order=["b", "a"])
    assert [s.node_id for s in flipped.shipments] == ["b"]


# --- re-routing


def test_reroute_excludes_the_rejecting_store() -> None:
    nodes = [store("x", 200, 0, {"a": 5, "b": 5}, name="徐汇店"), store("y", 900, 0, {"a": 5, "b": 5}, name="静安店")]
    net = Network(nodes)
    order = Order("o", (OrderLine("a", 1, 100), OrderLine("b", 2, 300)), CENTRE)
    first = route(order, net, NOW)
    assert [s.node_id for s in first.shipments] == ["x"]
    again = reroute(order, first, ["x"], net, NOW)
    assert [s.node_id for s in again.shipments] == ["y"]
    assert sorted((ln.sku_id, ln.qty, ln.weight_g) for ln in again.shipments[0].lines) == [("a", 1, 100), ("b", 2, 600)]
    assert again.policy == "reroute" and "excluding x" in again.explanation
    nothing_left = reroute(order, first, ["x", "y"], net, NOW)
    assert [u.reason.value for u in nothing_left.unfilled] == ["excluded", "excluded"]


def test_reroute_keeps_other_shipments_and_retries_unfilled_lines() -> None:
    nodes = [store("x", 200, 0, {"a": 5}), warehouse("w", 20_000, 0, {"b": 5})]
    net = Network(nodes)
    order = Order("o", (OrderLine("a", 1, 100), OrderLine("b", 1, 100), OrderLine("c", 1, 100)), CENTRE)
    first = route(order, net, NOW)
    again = reroute(order, first, ["w"], net, NOW)  # only b (from w) and c (unfilled) are routed again
    assert sorted(str(u.sku_id) for u in again.unfilled) == ["b", "c"]
    assert again.shipments == ()


# --- wave


@settings(deadline=None, max_examples=25)
@given(st.integers(0, 10_000), st.integers(2, 14))
def test_wave_is_never_worse_than_myopic_and_respects_joint_limits(seed: int, n_orders: int) -> None:
    nodes, net = scarce_network(seed)
    orders = batch(seed + 1, n_orders)
    result = route_wave(orders, net, NOW, options_per_order=4)
    mine = myopic(orders, net, NOW)
    assert result.myopic_objective_fen == sum(p.objective_fen for p in mine)
    assert result.objective_fen <= result.myopic_objective_fen
    assert result.objective_fen == sum(p.objective_fen for p in result.plans)
    assert_within_limits(result.plans, nodes, net.config)  # recounted from scratch
    assert violations(result.plans, net) == []
    for order, plan in zip(orders, result.plans, strict=True):
        assert plan.order_id == order.order_id
        assert_plan_consistent(plan, order, net.config)


def test_wave_beats_myopic_when_an_early_order_takes_what_a_later_one_needs() -> None:
    # Order 0 can use either store; order 1 only fits at "x". Myopic gives x to order 0.
    nodes = [
        store("x", 100, 0, {"a": 1, "b": 1}, capacity=1),
        store("y", 2800, 0, {"a": 1}, capacity=1),
    ]
    net = Network(nodes, RoutingConfig(walkin_share={k: 0.0 for k in NodeKind}))
    orders = [
        Order(0, (OrderLine("a", 1, 100),), CENTRE),
        Order(1, (OrderLine("a", 1, 100), OrderLine("b", 1, 100)), CENTRE),
    ]
    mine = myopic(orders, net, NOW)
    assert [s.node_id for s in mine[0].shipments] == ["x"] and mine[1].unfilled
    result = route_wave(orders, net, NOW)
    assert result.method == "mip"
    assert [[s.node_id for s in p.shipments] for p in result.plans] == [["y"], ["x"]]
    assert result.objective_fen < result.myopic_objective_fen


def test_wave_falls_back_to_myopic_when_the_solver_fails(monkeypatch: pytest.MonkeyPatch) -> None:
    nodes, net = scarce_network(3)
    orders = batch(4, 10)

    def broken(*args: object, **kwargs: object) -> object:
        raise RuntimeError("HiGHS exploded")

    monkeypatch.setattr(scipy.optimize, "milp", broken)
    result = route_wave(orders, net, NOW, polish=False)
    assert result.method == "myopic"
    assert [p.objective_fen for p in result.plans] == [p.objective_fen for p in myopic(orders, net, NOW)]


def test_wave_falls_back_on_a_time_limit_without_a_solution(monkeypatch: pytest.MonkeyPatch) -> None:
    nodes, net = scarce_network(5)
    orders = batch(6, 10)

    class NoSolution:
        x = None
        status = 1
        message = "time limit reached"

    monkeypatch.setattr(scipy.optimize, "milp", lambda *a, **k: NoSolution())
    result = route_wave(orders, net, NOW)
    assert result.method == "myopic"
    assert result.objective_fen <= result.myopic_objective_fen
    assert_within_limits(result.plans, nodes, net.config)


def test_empty_wave() -> None:
    result = route_wave([], Network([]), NOW)
    assert result.plans == () and result.objective_fen == 0


def test_modes_in_wave_plans_are_real_capabilities() -> None:
    nodes, net = scarce_network(11)
    for plan in route_wave(batch(12, 8), net, NOW).plans:
        for s in plan.shipments:
            assert s.mode in net.by_id[s.node_id].capabilities and s.mode is not Mode.PICKUP
