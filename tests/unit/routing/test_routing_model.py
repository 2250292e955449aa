"""Cost model, ETA model, walk-in buffer, capacity and explanations."""

from __future__ import annotations

from datetime import timedelta

import pytest

from o2o.core.routing import (
    Choice,
    CourierRate,
    ExpressRate,
    Mode,
    Network,
    NodeKind,
    Order,
    OrderLine,
    RoutingConfig,
    Usage,
    format_yuan,
    myopic,
    route,
)
from o2o.core.routing.costs import courier_tariff, express_tariff
from o2o.core.routing.eta import eta_window
from tests.unit.routing.helpers import CENTRE, NOW, assert_within_limits, offset, store, warehouse

# --- money and rate cards


@pytest.mark.parametrize(("fen", "text"), [(720, "¥7.2"), (1250, "¥12.5"), (705, "¥7.05"), (700, "¥7"), (0, "¥0"), (-150, "-¥1.5")])
def test_format_yuan(fen: int, text: str) -> None:
    assert format_yuan(fen) == text


def test_courier_rate_card() -> None:
    rate = CourierRate("dada", base_fee_fen=500, base_distance_m=3000, per_km_fen=100, per_kg_fen=20, night_fee_fen=300)
    near = courier_tariff(rate, 2999.0, night=False)
    assert near is not None and (near.base_fen, near.distance_fen, near.night_fen) == (500, 0, 0)
    far = courier_tariff(rate, 4200.0, night=True)  # 1.2 km beyond the base: two started km
    assert far is not None and (far.distance_fen, far.night_fen) == (200, 300)
    assert far.line_fen(1500) == 30 and far.line_fen(1) == 1 and far.line_fen(0) == 0
    assert courier_tariff(CourierRate("x", max_distance_m=5000), 5001.0, night=False) is None


def test_express_by_weight() -> None:
    tariff = express_tariff(ExpressRate(base_fee_fen=600, per_kg_fen=150))
    assert tariff.fixed_fen == 600
    assert tariff.line_fen(2000) == 300 and tariff.line_fen(333) == 50  # 49.95 rounds up


# --- walk-in buffer


def test_walkin_buffer_rounds_down_exactly() -> None:
    net = Network([
        store("a", 0, 0, {"x": 10}, walkin_share=0.1),
        store("b", 0, 0, {"x": 3}, walkin_share=0.2),
        store("c", 0, 0, {"x": 10}, walkin_share=None),  # the store default, 0.2
        store("d", 0, 0, {"x": 10}, walkin_share=1.7),  # clamped to 1: keep everything
        store("e", 0, 0, {"x": 10}, walkin_share=float("nan")),  # NaN: the kind's default
    ])
    assert [net.usable(n, "x") for n in "abcde"] == [9, 2, 8, 0, 8]


def test_routing_never_takes_the_walkin_buffer() -> None:
    net = Network([store("s", 0, 0, {"x": 10}, walkin_share=0.3)])  # usable 7
    ok = route(Order("o", (OrderLine("x", 7, 100),), CENTRE), net, NOW)
    assert ok.filled_lines == 1
    short = route(Order("o", (OrderLine("x", 8, 100),), CENTRE), net, NOW)
    assert short.filled_lines == 0
    assert [u.reason.value for u in short.unfilled] == ["walkin_buffer"]


# --- capacity


def test_a_node_without_capacity_is_never_used() -> None:
    net = Network([store("full", 0, 0, {"x": 5}, capacity=0), store("far", 2000, 0, {"x": 5})])
    plan = route(Order("o", (OrderLine("x", 1, 100),), CENTRE), net, NOW)
    assert [s.node_id for s in plan.shipments] == ["far"]
    only_full = Network([store("full", 0, 0, {"x": 5}, capacity=0)])
    plan = route(Order("o", (OrderLine("x", 1, 100),), CENTRE), only_full, NOW)
    assert [u.reason.value for u in plan.unfilled] == ["no_capacity"]


def test_myopic_consumes_capacity_and_stock() -> None:
    nodes = [store("near", 0, 0, {"x": 5}, capacity=1), store("far", 2500, 0, {"x": 1}, capacity=5)]
    net = Network(nodes)
    orders = [Order(i, (OrderLine("x", 1, 100),), CENTRE) for i in range(3)]
    plans = myopic(orders, net, NOW)
    assert [[s.node_id for s in p.shipments] for p in plans] == [["near"], ["far"], []]
    assert plans[2].unfilled[0].reason.value in {"no_capacity", "insufficient_stock", "no_single_node"}
    assert_within_limits(plans, nodes, net.config)
    used = Usage()
    for p in plans:
        used.take(p)
    assert net.capacity_left("near", used) == 0 and net.usable("far", "x", used) == 0


# --- ETA and choices


def test_eta_queue_prep_and_travel() -> None:
    config = RoutingConfig()
    node = store("s", 0, 0, {"x": 5}, queue=10, pick_rate_per_hour=30.0)  # 20 min of queue
    net = Network([node], config)
    plan = route(Order("o", (OrderLine("x", 1, 100),), offset(CENTRE, 2500, 0)), net, NOW)
    (ship,) = plan.shipments
    road = ship.distance_m
    expected = 20 + config.prep_min[NodeKind.STORE] + config.courier_pickup_min + -(-road // 250)
    assert ship.eta.earliest_min == pytest.approx(expected, abs=1)
    assert ship.eta.latest_min == ship.eta.earliest_min + config.same_city_window_min
    assert ship.eta.earliest == NOW + timedelta(minutes=ship.eta.earliest_min)


def test_express_after_cutoff_ships_a_day_later() -> None:
    config = RoutingConfig()
    early = eta_window(NOW.replace(hour=10), Mode.EXPRESS, 30, 0.0, config)
    late = eta_window(NOW.replace(hour=21), Mode.EXPRESS, 30, 0.0, config)
    assert early.earliest.date() == NOW.date() + timedelta(days=1)
    assert late.earliest.date() == NOW.date() + timedelta(days=2)
    assert early.earliest.hour == 9 and early.latest.hour == 21


def test_fastest_pays_for_speed_cheapest_does_not() -> None:
    nodes = [
        store("slow", 0, 0, {"x": 5}, queue=40, pick_rate_per_hour=20.0),  # 2 h of queue, cheap (near)
        store("quick", 2900, 0, {"x": 5}, kind=NodeKind.DARK_STORE),
    ]
    net = Network(nodes, RoutingConfig(lateness_fen_per_min=0))
    cheap = route(Order("o", (OrderLine("x", 1, 100),), CENTRE, Choice.CHEAPEST), net, NOW)
    fast = route(Order("o", (OrderLine("x", 1, 100),), CENTRE, Choice.FASTEST), net, NOW)
    assert fast.shipments[0].node_id == "quick"
    assert fast.latest_min < cheap.latest_min or cheap.shipments[0].node_id == "quick"


def test_lateness_penalty_against_the_promise() -> None:
    net = Network([store("s", 0, 0, {"x": 5}, queue=30, pick_rate_per_hour=30.0)])  # 60 min queue
    order = Order("o", (OrderLine("x", 1, 100),), CENTRE, promised_by=NOW + timedelta(minutes=60))
    (ship,) = route(order, net, NOW).shipments
    late = ship.eta.latest_min - 60
    assert late > 0 and ship.cost.lateness_fen == late * RoutingConfig().lateness_fen_per_min


def test_pickup_at_the_chosen_store() -> None:
    nodes = [store("a", 0, 0, {"x": 5, "y": 1}, walkin_share=0.2), store("b", 100, 0, {"x": 5, "y": 9})]
    net = Network(nodes)
    order = Order("o", (OrderLine("x", 1, 100), OrderLine("y", 1, 100)), None, Choice.PICKUP, pickup_node_id="a")
    plan = route(order, net, NOW)
    assert [(s.node_id, s.mode) for s in plan.shipments] == [("a", Mode.PICKUP)]
    assert [u.reason.value for u in plan.unfilled] == ["walkin_buffer"]  # 1 y, kept for walk-ins
    assert plan.shipments[0].cost.cash_fen == plan.shipments[0].cost.pick_fen


# --- explanation


def test_explanation_names_node_distance_time_and_cost() -> None:
    nodes = [
        store("x", 1000, 0, {f"s{i}": 9 for i in range(6)}, name="徐汇店"),
        store("y", -1500, 0, {f"s{i}": 9 for i in range(3)}, name="静安店"),
        store("z", 0, 1800, {f"s{i}": 9 for i in range(3, 6)}, name="长宁店"),
    ]
    order = Order("o", tuple(OrderLine(f"s{i}", 1, 300) for i in range(6)), CENTRE)
    plan = route(order, Network(nodes), NOW)
    ship = plan.shipments[0]
    text = plan.explanation
    assert text.startswith("store 徐汇店 had all 6 lines; ")
    assert f"{ship.distance_m / 1000:.1f} km" in text and f"{ship.eta.earliest_min} min" in text
    assert format_yuan(plan.cost_fen) in text and " vs " in text


def test_explanation_of_a_split_and_of_nothing() -> None:
    nodes = [store("x", 500, 0, {"a": 3}, name="徐汇店"), warehouse("w", 9000, 0, {"b": 30}, name="中心仓")]
    plan = route(Order("o", (OrderLine("a", 1, 100), OrderLine("b", 1, 100)), CENTRE), Network(nodes), NOW)
    assert plan.explanation.startswith("split ")
    assert "徐汇店 (1 line" in plan.explanation and "中心仓 (1 line, express, next day)" in plan.explanation
    nothing = route(Order("o", (OrderLine("nope", 1, 100),), CENTRE), Network(nodes), NOW)
    assert nothing.explanation == "nothing could be filled: 1 line unfilled (no_stock)"
