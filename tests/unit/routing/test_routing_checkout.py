"""The replay's checkout: what a pickup customer is offered, and the policy's say in it."""

from __future__ import annotations

from o2o.core.routing import Choice, Mode, Network
from o2o.core.routing.claims import ClaimBook, ForecastOrder
from o2o.core.routing.network import Usage
from o2o.core.routing.simulate import Arrival, Scenario, checkout, offers, replay
from tests.unit.routing.helpers import NOW, order, store, warehouse


def pickup(order_id: str, stores: tuple[str, ...], minute: float = 0.5) -> Arrival:
    o = order(("a", 1, 500), choice=Choice.PICKUP, order_id=order_id, pickup_node_id=stores[0])
    return Arrival(minute, o, stores, Choice.ANY)


def test_the_window_s_earlier_pickups_hold_their_basket() -> None:
    net = Network([store("s", 500, 0, {"a": 1}), warehouse("wh", 25_000, 0, {"a": 9})])
    sent = checkout([pickup("p1", ("s",)), pickup("p2", ("s",))], net, Usage())
    assert (sent[0].choice, sent[0].pickup_node_id) == (Choice.PICKUP, "s")
    # One unit: the second customer of the same minute is not offered the store (before, both were).
    assert (sent[1].choice, sent[1].pickup_node_id) == (Choice.ANY, None)


def test_offers_are_the_other_whole_stores_and_the_fallback() -> None:
    net = Network([store("s", 500, 0, {"a": 1}), store("t", -800, 0, {"a": 2}), store("u", 0, 900, {}),
                   warehouse("wh", 25_000, 0, {"a": 9})])
    arrivals = [pickup("p1", ("s", "t", "u")), Arrival(0.5, order(("a", 1, 500), choice=Choice.ANY, order_id="d"))]
    sent = checkout(arrivals, net, Usage())
    other = offers(arrivals, sent, net, Usage())
    assert [(o.choice, o.pickup_node_id) for o in other[0]] == [(Choice.PICKUP, "t"), (Choice.ANY, None)]
    assert other[1] == ()  # a delivery order has no other form
    full = Usage(shipments={"t": net.by_id["t"].capacity})
    assert [o.pickup_node_id for o in offers(arrivals, sent, net, full)[0]] == [None]  # t is full this hour


def test_the_wave_pre_selects_another_store_to_keep_the_only_store_of_a_later_customer() -> None:
    nodes = (store("s", 500, 0, {"a": 1}), store("t", -800, 0, {"a": 1}, capabilities=frozenset({Mode.PICKUP})),
             warehouse("wh", 25_000, 0, {"a": 9}))
    first = pickup("p1", ("s", "t"))  # accepts either store; s is nearer
    later = pickup("p2", ("s",), minute=30.5)  # only s
    sc = Scenario(nodes=nodes, arrivals=(first, later), start=NOW)
    book = ClaimBook([[ForecastOrder(sc.decided_at(later), sc.hour_of(later), later.variants())]], Network(nodes))

    def prices(now, hour, usage, orders):  # noqa: ANN001, ANN202
        return book.surcharges(orders, now, hour, usage)

    plain = replay(sc, "wave", prices=prices)
    steered = replay(sc, "wave", prices=prices, steer=True)
    assert [s.node_id for s in plain.plans[0].shipments] == ["s"]  # the checkout sent p1 to s
    assert [s.node_id for s in plain.plans[1].shipments] == ["wh"]  # p2 found s empty: delivery tomorrow
    assert [s.node_id for s in steered.plans[0].shipments] == ["t"]
    assert [(s.node_id, s.mode.value) for s in steered.plans[1].shipments] == [("s", "pickup")]
    assert sum(p.objective_fen for p in steered.plans) < sum(p.objective_fen for p in plain.plans)
    assert steered.violations == [] and plain.violations == []
