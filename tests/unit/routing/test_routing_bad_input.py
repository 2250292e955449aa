"""Bad input never raises: the plan says what cannot be filled and why."""

from __future__ import annotations

import math

from hypothesis import example, given, settings
from hypothesis import strategies as st

from o2o.core.geo import LatLng
from o2o.core.routing import (
    Choice,
    Mode,
    Network,
    Node,
    NodeKind,
    Order,
    OrderLine,
    Reason,
    nearest,
    priority,
    reroute,
    route,
    route_wave,
)
from tests.unit.routing.helpers import CENTRE, NOW, assert_plan_consistent, offset, store, warehouse

NET = Network([
    store("a", 0, 0, {"x": 5, "y": 2}, delivery_radius_m=3000.0),
    store("b", 1500, 0, {"x": 1, "y": 2}, delivery_radius_m=3000.0),
    store("far", 60_000, 0, {"z": 9}, delivery_radius_m=3000.0),
    store("buffer", 500, 0, {"w": 4}, walkin_share=0.5),
])


def reasons(plan: object) -> list[str]:
    return [u.reason.value for u in plan.unfilled]  # type: ignore[attr-defined]


def test_empty_basket() -> None:
    plan = route(Order("o", (), CENTRE), NET, NOW)
    assert plan.shipments == () and plan.unfilled == () and plan.objective_fen == 0
    assert plan.explanation == "empty basket: nothing to ship"


def test_unknown_sku_and_quantity_beyond_stock() -> None:
    plan = route(Order("o", (OrderLine("nope", 1, 1), OrderLine("x", 50, 1), OrderLine("y", 3, 1)), CENTRE), NET, NOW)
    assert dict(zip([u.sku_id for u in plan.unfilled], reasons(plan), strict=True)) == {
        "nope": "no_stock",
        "x": "insufficient_stock",
        "y": "no_single_node",
    }


def test_out_of_reach_and_walkin_buffer() -> None:
    plan = route(Order("o", (OrderLine("z", 1, 1), OrderLine("w", 3, 1)), CENTRE), NET, NOW)
    assert sorted(reasons(plan)) == ["out_of_reach", "walkin_buffer"]


def test_destination_outside_china_and_missing() -> None:
    paris = route(Order("o", (OrderLine("x", 1, 1),), LatLng(48.8566, 2.3522)), NET, NOW)
    assert reasons(paris) == ["outside_china"]
    nowhere = route(Order("o", (OrderLine("x", 1, 1),), None, Choice.FASTEST), NET, NOW)
    assert reasons(nowhere) == ["no_destination"]


def test_invalid_lines() -> None:
    lines = (OrderLine("x", 0, 1), OrderLine("x", -2, 1), OrderLine("y", 1, -5), OrderLine("x", 1.5, 1))  # type: ignore[arg-type]
    plan = route(Order("o", (*lines, OrderLine("x", 1, 1)), CENTRE), NET, NOW)
    assert reasons(plan) == ["invalid_line"] * 4
    assert plan.filled_lines == 1


def test_pickup_store_unknown_or_short() -> None:
    unknown = route(Order("o", (OrderLine("x", 1, 1),), None, Choice.PICKUP, pickup_node_id="nope"), NET, NOW)
    assert reasons(unknown) == ["pickup_store_unavailable"]
    unhashable = route(Order("o", (OrderLine("x", 1, 1),), None, Choice.PICKUP, pickup_node_id=[1]), NET, NOW)  # type: ignore[arg-type]
    assert reasons(unhashable) == ["pickup_store_unavailable"]
    short = route(Order("o", (OrderLine("x", 3, 1),), None, Choice.PICKUP, pickup_node_id="b"), NET, NOW)
    assert reasons(short) == ["pickup_store_short"]


def test_parcel_limit() -> None:
    nodes = [store(f"s{i}", 200 * i, 0, {f"k{i}": 5}) for i in range(4)]
    plan = route(Order("o", tuple(OrderLine(f"k{i}", 1, 1) for i in range(4)), CENTRE), Network(nodes), NOW)
    assert plan.parcels == 3 and reasons(plan) == ["parcel_limit"]


def test_bad_node_data_never_raises() -> None:
    nodes = [
        Node("n1", "负库存", NodeKind.STORE, CENTRE, frozenset({Mode.SAME_CITY}), {"x": -5, "y": "many"}),  # type: ignore[dict-item]
        Node("n2", "NaN半径", NodeKind.STORE, CENTRE, frozenset({Mode.SAME_CITY}), {"x": 5}, delivery_radius_m=math.nan),
        Node("n3", "停摆", NodeKind.STORE, CENTRE, frozenset({Mode.SAME_CITY}), {"x": 5}, pick_rate_per_hour=0.0),
        Node("n1", "重复", NodeKind.STORE, CENTRE, frozenset({Mode.SAME_CITY}), {"x": 5}),
    ]
    plan = route(Order("o", (OrderLine("x", 1, 1), OrderLine("y", 1, 1)), CENTRE), Network(nodes), NOW)
    assert plan.shipments == ()
    assert sorted(reasons(plan)) == ["no_capacity", "no_stock"]


skus = st.sampled_from(["x", "y", "z", "w", "nope", 7, None])
lines = st.builds(
    OrderLine,
    skus,
    st.integers(-3, 60) | st.floats(allow_nan=True),
    st.integers(-100, 50_000) | st.floats(allow_nan=True, allow_infinity=True),
)
points = st.builds(LatLng, st.floats(-90, 90), st.floats(-180, 180)) | st.builds(
    LatLng, st.floats(31.1, 31.3), st.floats(121.35, 121.55)
)


@settings(deadline=None)
@given(
    st.lists(lines, max_size=8),
    st.none() | points,
    st.sampled_from(list(Choice)),
    st.sampled_from([None, "a", "b", "far", "ghost"]),
)
# Found by hypothesis: 51 units of 3.5e306 g made the line's weight infinite (OverflowError in ceil).
@example([OrderLine("x", 51, 0), OrderLine("x", 0, 3.524888499730031e306), OrderLine("y", 51, 3.5e306)],
         None, Choice.PICKUP, None)
def test_fuzzed_orders_always_return_a_consistent_plan(
    basket: list[OrderLine], dest: LatLng | None, choice: Choice, pickup: str | None
) -> None:
    order = Order("o", tuple(basket), dest, choice, pickup_node_id=pickup)
    for policy in (route, nearest, priority):
        plan = policy(order, NET, NOW)
        assert_plan_consistent(plan, order, NET.config)
        for u in plan.unfilled:
            assert isinstance(u.reason, Reason) and u.detail
    again = reroute(order, route(order, NET, NOW), ["a"], NET, NOW)
    assert all(s.node_id != "a" for s in again.shipments)
    assert route_wave([order, order], NET, NOW).objective_fen >= 0


def test_express_from_a_warehouse_reaches_what_stores_cannot() -> None:
    nodes = [store("s", 0, 0, {"x": 1}), warehouse("w", 40_000, 0, {"x": 99})]
    dest = offset(CENTRE, -20_000, 0)
    plan = route(Order("o", (OrderLine("x", 5, 500),), dest), Network(nodes), NOW)
    assert [(s.node_id, s.mode) for s in plan.shipments] == [("w", Mode.EXPRESS)]
