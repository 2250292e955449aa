"""Single-order routing is exact: it matches a brute force over every assignment."""

from __future__ import annotations

from datetime import timedelta

from hypothesis import given, settings
from hypothesis import strategies as st

from o2o.core.routing import (
    Choice,
    CourierRate,
    Mode,
    Network,
    Node,
    NodeKind,
    Order,
    OrderLine,
    RoutingConfig,
    route,
    solve,
)
from tests.unit.routing.helpers import CENTRE, NOW, assert_plan_consistent, brute_force, offset

SKUS = ["a", "b", "c", "d", "e", "zz"]  # "zz" is stocked nowhere


@st.composite
def instances(draw: st.DrawFn) -> tuple[Network, Order, object]:
    n_nodes = draw(st.integers(1, 5))
    nodes = []
    for i in range(n_nodes):
        kind = draw(st.sampled_from([NodeKind.STORE, NodeKind.STORE, NodeKind.DARK_STORE, NodeKind.WAREHOUSE]))
        caps = {Mode.EXPRESS} if kind is NodeKind.WAREHOUSE else {Mode.SAME_CITY, Mode.PICKUP}
        if kind is not NodeKind.WAREHOUSE and draw(st.booleans()):
            caps.add(Mode.EXPRESS)
        stock = {sku: draw(st.integers(0, 4)) for sku in SKUS[:-1] if draw(st.booleans())}
        nodes.append(
            Node(
                node_id=f"n{i}",
                name=f"店{i}",
                kind=kind,
                location=offset(CENTRE, draw(st.floats(-6000, 6000)), draw(st.floats(-6000, 6000))),
                capabilities=frozenset(caps),
                stock=stock,
                delivery_radius_m=draw(st.sampled_from([1500.0, 3000.0, 6000.0, 9000.0])),
                capacity=draw(st.integers(0, 2)),
                queue=draw(st.integers(0, 20)),
                walkin_share=draw(st.sampled_from([0.0, 0.2, 0.5])),
                pick_cost_line_fen=draw(st.none() | st.integers(0, 80)),
            )
        )
    config = RoutingConfig(
        unfilled_line_penalty_fen=draw(st.sampled_from([100_000, 2_000, 400])),
        extra_parcel_penalty_fen=draw(st.sampled_from([0, 300, 1500])),
        max_parcels=draw(st.integers(1, 3)),
        couriers=(
            CourierRate("dada", base_fee_fen=500, per_kg_fen=draw(st.sampled_from([20, 300]))),
            CourierRate("shansong", base_fee_fen=800, base_distance_m=5000, per_kg_fen=10, max_distance_m=8000),
        ),
    )
    lines = tuple(
        OrderLine(draw(st.sampled_from(SKUS)), draw(st.integers(1, 3)), draw(st.sampled_from([0, 120, 800, 2500, 6000])))
        for _ in range(draw(st.integers(0, 5)))
    )
    choice = draw(st.sampled_from([Choice.CHEAPEST, Choice.FASTEST, Choice.ANY]))
    promised = draw(st.none() | st.integers(20, 90).map(lambda m: NOW + timedelta(minutes=m)))
    now = NOW.replace(hour=draw(st.sampled_from([9, 14, 21, 23])))
    order = Order("o", lines, CENTRE, choice, promised_by=promised)
    return Network(nodes, config), order, now


@settings(deadline=None)
@given(instances())
def test_single_order_routing_matches_brute_force(case: tuple[Network, Order, object]) -> None:
    network, order, now = case
    plan = route(order, network, now)  # type: ignore[arg-type]
    assert plan.objective_fen == brute_force(order, network, now)  # type: ignore[arg-type]
    assert_plan_consistent(plan, order, network.config)
    assert plan.parcels <= network.config.max_parcels


@settings(deadline=None)
@given(instances())
def test_alternatives_are_distinct_and_no_better(case: tuple[Network, Order, object]) -> None:
    network, order, now = case
    solution = solve(order, network, now, k_best=4)  # type: ignore[arg-type]
    plans = [solution.plan, *solution.alternatives]
    assert [p.objective_fen for p in plans] == sorted(p.objective_fen for p in plans)
    keys = [frozenset((s.node_id, s.mode) for s in p.shipments) for p in plans]
    assert len(keys) == len(set(keys))
    for p in plans:
        assert_plan_consistent(p, order, network.config)


def test_lines_are_never_split_across_nodes() -> None:
    # Two stores with 5 each, the order wants 10: no single node has it, so it is unfilled.
    stores = [
        Node(f"s{i}", f"店{i}", NodeKind.STORE, offset(CENTRE, 300 * i, 0), frozenset({Mode.SAME_CITY}), {"a": 5},
             walkin_share=0.0)
        for i in range(2)
    ]
    plan = route(Order("o", (OrderLine("a", 10, 100),), CENTRE), Network(stores), NOW)
    assert plan.shipments == ()
    assert [u.reason.value for u in plan.unfilled] == ["no_single_node"]
    # With 10 at one of them it ships whole from that one.
    stores[1] = Node("s1", "店1", NodeKind.STORE, offset(CENTRE, 300, 0), frozenset({Mode.SAME_CITY}), {"a": 10},
                     walkin_share=0.0)
    plan = route(Order("o", (OrderLine("a", 10, 100),), CENTRE), Network(stores), NOW)
    assert [(s.node_id, s.lines[0].qty) for s in plan.shipments] == [("s1", 10)]


def test_same_sku_lines_are_merged() -> None:
    store = Node("s", "店", NodeKind.STORE, CENTRE, frozenset({Mode.SAME_CITY}), {"a": 5}, walkin_share=0.0)
    plan = route(Order("o", (OrderLine("a", 2, 100), OrderLine("a", 3, 200)), CENTRE), Network([store]), NOW)
    assert [(ln.sku_id, ln.qty, ln.weight_g) for ln in plan.shipments[0].lines] == [("a", 5, 800)]


def test_split_when_no_single_node_has_everything() -> None:
    nodes = [
        Node("x", "徐汇店", NodeKind.STORE, offset(CENTRE, 500, 0), frozenset({Mode.SAME_CITY}), {"a": 3, "b": 3},
             walkin_share=0.0),
        Node("y", "静安店", NodeKind.STORE, offset(CENTRE, -800, 0), frozenset({Mode.SAME_CITY}), {"c": 3},
             walkin_share=0.0),
    ]
    order = Order("o", (OrderLine("a", 1, 100), OrderLine("b", 1, 100), OrderLine("c", 1, 100)), CENTRE)
    plan = route(order, Network(nodes), NOW)
    assert sorted((s.node_id, len(s.lines)) for s in plan.shipments) == [("x", 2), ("y", 1)]
    assert plan.shipments[1].cost.extra_parcel_fen == RoutingConfig().extra_parcel_penalty_fen
    assert plan.unfilled == ()
