"""Claim prices: Littlewood's rule per unit and pick task, from sampled forecast days."""

from __future__ import annotations

from datetime import timedelta

from o2o.core.routing import Choice, Network, route
from o2o.core.routing.claims import ClaimBook, ForecastOrder
from o2o.core.routing.network import Usage
from o2o.core.routing.simulate import Arrival, Scenario, replay
from tests.unit.routing.helpers import CENTRE, NOW, order, store, warehouse

LATER = NOW + timedelta(minutes=30)


def network(units: int = 1, capacity: int = 10) -> Network:
    return Network([store("s", 500, 0, {"a": units, "b": 5}, capacity=capacity),
                    warehouse("wh", 25_000, 0, {"a": 50, "b": 50})])


def fastest(order_id: str = "f", qty: int = 1):  # noqa: ANN201
    return order(("a", qty, 500), choice=Choice.FASTEST, order_id=order_id)


def claim(at=LATER, qty: int = 1, order_id: str = "f") -> ForecastOrder:  # noqa: ANN001
    return ForecastOrder(at, 0, (fastest(order_id, qty),))


def test_the_last_unit_is_priced_at_what_the_later_customer_would_lose() -> None:
    net = network(units=1)
    book = ClaimBook([[claim()]], net)
    with_unit = route(fastest(), net, LATER).objective_fen
    without = route(fastest(), Network([n for n in net.nodes if n.node_id == "wh"]), LATER).objective_fen
    assert without - with_unit > 10_000  # next-day express for a "fastest" customer: hundreds of yuan
    assert round(book.unit_price("s", "a", NOW, None)) == without - with_unit
    assert book.unit_price("wh", "a", NOW, None) == 0  # plenty left at the warehouse


def test_a_unit_is_free_while_more_are_left_than_claimed_and_a_schedule_prices_the_rest() -> None:
    net = network(units=2)
    book = ClaimBook([[claim()]], net)
    assert book.unit_price("s", "a", NOW, None) == 0  # one claim, two units: taking one displaces nobody
    first, second = book.unit_schedule("s", "a", 2, NOW, None)
    assert first == 0 and second > 10_000  # taking both displaces the later customer
    taken = Usage(stock={("s", "a"): 1})
    assert book.unit_price("s", "a", NOW, taken) == second  # the price moves with the stock, not at a refresh


def test_only_claims_still_to_come_count() -> None:
    book = ClaimBook([[claim()]], network(units=1))
    assert book.unit_price("s", "a", NOW, None) > 0
    assert book.unit_price("s", "a", LATER + timedelta(minutes=1), None) == 0


def test_the_price_is_the_mean_over_the_sampled_days() -> None:
    net = network(units=1)
    one = ClaimBook([[claim()]], net).unit_price("s", "a", NOW, None)
    mean = ClaimBook([[claim()], [], [claim(order_id="g")], []], net).unit_price("s", "a", NOW, None)
    assert one > 0 and abs(mean - one / 2) < 1e-6


def test_a_pick_task_is_priced_against_claims_of_the_same_hour() -> None:
    net = network(units=5, capacity=1)
    same_hour = ClaimBook([[ForecastOrder(LATER, 3, (fastest(),))]], net)
    other_hour = ClaimBook([[ForecastOrder(LATER, 4, (fastest(),))]], net)
    assert same_hour.task_price("s", 3, NOW, None) > 10_000
    assert other_hour.task_price("s", 3, NOW, None) == 0
    assert same_hour.task_price("s", 3, NOW, Usage(shipments={"s": 1})) == 0  # nothing left to protect


def test_a_customer_with_another_store_to_turn_to_claims_little() -> None:
    net = Network([store("s", 500, 0, {"a": 1}), store("t", -500, 0, {"a": 3}),
                   warehouse("wh", 25_000, 0, {"a": 50})])
    book = ClaimBook([[claim()]], net)
    assert 0 <= book.unit_price("s", "a", NOW, None) < 500  # t is as good a store, a few fen further


def test_refresh_moves_the_claims_to_what_is_left() -> None:
    net = Network([store("s", 500, 0, {"a": 1}), store("t", -900, 0, {"a": 1}),
                   warehouse("wh", 25_000, 0, {"a": 50})])
    book = ClaimBook([[claim(), claim(order_id="g")]], net)
    assert book.unit_price("t", "a", NOW, None) == 0 or book.unit_price("s", "a", NOW, None) > 0
    gone = Usage(stock={("s", "a"): 1})
    book.refresh(NOW, gone)  # s's unit went to a real order: both later customers now want t's
    assert book.unit_price("t", "a", NOW, gone) > 10_000


def test_the_wave_keeps_the_last_unit_for_the_customer_who_needs_it_most() -> None:
    # An "any" customer first, who can take the store's last unit or wait for express at a
    # small cost of time; then a "fastest" customer for whom express costs hundreds of yuan.
    nodes = (store("s", 500, 0, {"a": 1}), warehouse("wh", 25_000, 0, {"a": 50}))
    first = order(("a", 1, 500), choice=Choice.ANY, order_id="any")
    second = fastest()
    sc = Scenario(nodes=nodes, arrivals=(Arrival(0.5, first), Arrival(20.5, second)), start=NOW)
    book = ClaimBook([[ForecastOrder(sc.decided_at(a), sc.hour_of(a), (a.order,)) for a in sc.arrivals[1:]]],
                     Network(nodes))
    myopic = replay(sc, "myopic")
    wave = replay(sc, "wave", prices=lambda now, hour, usage, orders: book.surcharges(orders, now, hour, usage))
    assert [s.node_id for s in myopic.plans[0].shipments] == ["s"]  # myopic gives the unit away
    assert [s.node_id for s in wave.plans[0].shipments] == ["wh"]
    assert [s.node_id for s in wave.plans[1].shipments] == ["s"]
    assert sum(p.objective_fen for p in wave.plans) < sum(p.objective_fen for p in myopic.plans)
    assert wave.violations == [] and myopic.violations == []


def test_a_split_surcharge_prefers_one_parcel() -> None:
    from o2o.core.routing.surcharges import Surcharges

    # Two stores with one line each, or tomorrow's express with both.
    nodes = [store("s", 500, 0, {"a": 2}), store("t", -500, 0, {"b": 2}), warehouse("wh", 25_000, 0, {"a": 9, "b": 9})]
    o = order(("a", 1, 500), ("b", 1, 500), choice=Choice.ANY, dest=CENTRE)
    plain = route(o, Network(nodes), NOW)
    split = route(o, Network(nodes), NOW, surcharges=Surcharges(split_fen=20_000))
    assert plain.parcels == 2 and split.parcels == 1
    assert split.objective_fen >= plain.objective_fen  # plans are priced by the cost model alone
    assert Surcharges(split_fen=2_000).of_plan(plain) == 2_000
