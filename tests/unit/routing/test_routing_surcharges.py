"""Surcharges (bid prices, LP duals) keep single-order routing exact, and never make a real order refused."""

from __future__ import annotations

import itertools

from hypothesis import given, settings
from hypothesis import strategies as st

from o2o.core.routing import Choice, Network, Order, OrderLine, route, solve
from o2o.core.routing.surcharges import Surcharges
from tests.unit.routing.helpers import CENTRE, NOW, brute_force, order, store, warehouse
from tests.unit.routing.test_routing_exact import SKUS, instances


@st.composite
def priced(draw: st.DrawFn) -> tuple[Network, Order, object, Surcharges]:
    network, order_, now = draw(instances())
    ids = [n.node_id for n in network.nodes]
    per_shipment = {n: draw(st.sampled_from([0, 50, 400, 3000])) for n in ids if draw(st.booleans())}
    per_unit = {(n, k): draw(st.sampled_from([0, 20, 300, 5000])) for n in ids for k in SKUS if draw(st.booleans())}
    # Unit-level schedules (claim prices): cumulative, non-decreasing, the first units maybe free.
    steps = st.lists(st.sampled_from([0, 0, 15, 250, 4000]), min_size=1, max_size=3)
    per_line = {(n, k): tuple(itertools.accumulate(draw(steps))) for n in ids for k in SKUS if draw(st.booleans())}
    return network, order_, now, Surcharges(per_shipment, per_unit, per_line=per_line)


@settings(deadline=None, max_examples=300)
@given(priced())
def test_search_with_surcharges_matches_brute_force(case: tuple[Network, Order, object, Surcharges]) -> None:
    network, order_, now, s = case
    plan = solve(order_, network, now, surcharges=s, k_best=1).plan  # type: ignore[arg-type]
    assert plan.objective_fen + s.of_plan(plan) == brute_force(order_, network, now, surcharges=s)  # type: ignore[arg-type]


@settings(deadline=None, max_examples=150)
@given(priced())
def test_plans_are_priced_without_surcharges(case: tuple[Network, Order, object, Surcharges]) -> None:
    network, order_, now, s = case
    plan = solve(order_, network, now, surcharges=s, k_best=1).plan  # type: ignore[arg-type]
    # Repricing the same shipments with no surcharge: the plan's own objective is the plain one.
    plain = route(order_, network, now)  # type: ignore[arg-type]
    assert plan.objective_fen >= plain.objective_fen  # the plain optimum is no worse by the plain measure
    assert sum(sh.cost.total_fen for sh in plan.shipments) == plan.cost_fen


def test_surcharge_moves_an_order_to_the_next_best_node() -> None:
    nodes = [store("near", 500, 0, {"a": 5}, walkin_share=0.0), warehouse("wh", 20_000, 0, {"a": 50})]
    network = Network(nodes)
    o = order(("a", 1, 500), choice=Choice.CHEAPEST)
    assert [s.node_id for s in route(o, network, NOW).shipments] == ["near"]
    priced_plan = route(o, network, NOW, surcharges=Surcharges(per_unit={("near", "a"): 5000}))
    assert [s.node_id for s in priced_plan.shipments] == ["wh"]


def test_unfilled_extra_never_refuses_an_order_it_can_fill() -> None:
    network = Network([store("only", 500, 0, {"a": 5}, walkin_share=0.0)])
    o = order(("a", 2, 500), choice=Choice.CHEAPEST)
    high = {("only", "a"): network.config.unfilled_line_penalty_fen}  # two units cost twice the penalty
    refused = route(o, network, NOW, surcharges=Surcharges(per_unit=high))
    assert refused.shipments == () and [u.reason.value for u in refused.unfilled] == ["not_worth_shipping"]
    kept = route(o, network, NOW, surcharges=Surcharges(per_unit=high, unfilled_extra_fen=10 * max(high.values())))
    assert [s.node_id for s in kept.shipments] == ["only"] and kept.unfilled == ()


def test_of_plan_counts_every_shipment_and_unit() -> None:
    nodes = [store("x", 300, 0, {"a": 5}, walkin_share=0.0), store("y", -300, 0, {"b": 5}, walkin_share=0.0)]
    plan = route(Order("o", (OrderLine("a", 2, 100), OrderLine("b", 3, 100)), CENTRE), Network(nodes), NOW)
    s = Surcharges(per_shipment={"x": 7, "y": 11}, per_unit={("x", "a"): 5, ("y", "b"): 2, ("x", "b"): 1000})
    assert s.of_plan(plan) == 7 + 11 + 2 * 5 + 3 * 2
    assert Surcharges(per_shipment={"x": -5}).of_plan(plan) == 0  # negative prices count as nothing


def test_a_schedule_prices_each_unit_and_replaces_the_unit_price() -> None:
    s = Surcharges(per_unit={("x", "a"): 9}, per_line={("x", "a"): (0, 0, 300)})
    assert [s.line("x", "a", q) for q in (1, 2, 3)] == [0, 0, 300]  # the third unit displaces a claim
    assert s.line("x", "a", 5) == 900  # beyond the schedule: each further unit as the last one
    assert s.line("x", "b", 2) == 0 and Surcharges(per_unit={("x", "a"): 9}).line("x", "a", 2) == 18


def test_a_schedule_moves_a_large_line_but_not_a_small_one() -> None:
    nodes = [store("near", 500, 0, {"a": 5}, walkin_share=0.0), warehouse("wh", 20_000, 0, {"a": 50})]
    network = Network(nodes)
    s = Surcharges(per_line={("near", "a"): (0, 0, 5000)})
    small = route(order(("a", 2, 500), choice=Choice.CHEAPEST), network, NOW, surcharges=s)
    large = route(order(("a", 3, 500), choice=Choice.CHEAPEST), network, NOW, surcharges=s)
    assert [x.node_id for x in small.shipments] == ["near"]
    assert [x.node_id for x in large.shipments] == ["wh"]
