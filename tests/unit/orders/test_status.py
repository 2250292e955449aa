"""The order and shipment transition tables, pair by pair, and the derivation rule."""

from __future__ import annotations

import itertools

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from o2o.core.orders import (
    CANCELLABLE_ORDER,
    CANCELLABLE_SHIPMENT,
    CLOSED_ORDER,
    DROPPED_SHIPMENT,
    FULFILMENT_ORDER,
    ORDER_TRANSITIONS,
    REROUTABLE_SHIPMENT,
    SHIPMENT_TRANSITIONS,
    TERMINAL_ORDER,
    TERMINAL_SHIPMENT,
    IllegalTransition,
    OrderStatus,
    ShipmentMode,
    ShipmentStatus,
    can_cancel,
    check_order,
    check_shipment,
    order_status_for,
)

OS, S, M = OrderStatus, ShipmentStatus, ShipmentMode


def closure(table, start):
    seen, todo = set(), [start]
    while todo:
        for nxt in table.get(todo.pop(), ()):
            if nxt not in seen:
                seen.add(nxt)
                todo.append(nxt)
    return seen


# --- every pair of the tables ----------------------------------------------------------------


@pytest.mark.parametrize(("current", "target"), list(itertools.product(OS, OS)))
def test_order_pairs(current, target):
    if target in ORDER_TRANSITIONS[current]:
        check_order(current, target)
    else:
        with pytest.raises(IllegalTransition) as err:
            check_order(current, target)
        assert (err.value.kind, err.value.current, err.value.target, err.value.mode) == (
            "order",
            current,
            target,
            None,
        )


@pytest.mark.parametrize(("mode", "current", "target"), list(itertools.product(M, S, S)))
def test_shipment_pairs(mode, current, target):
    if target in SHIPMENT_TRANSITIONS[mode].get(current, frozenset()):
        check_shipment(mode, current, target)
    else:
        with pytest.raises(IllegalTransition) as err:
            check_shipment(mode, current, target)
        assert (err.value.kind, err.value.current, err.value.target, err.value.mode) == (
            "shipment",
            current,
            target,
            mode,
        )


def test_messages_are_bilingual():
    with pytest.raises(
        IllegalTransition, match=r"^不允许的订单状态变更 Illegal order transition: completed -> paid$"
    ):
        check_order(OS.COMPLETED, OS.PAID)
    msg = r"^不允许的发货单状态变更 Illegal shipment transition \(express\): shipped -> cancelled$"
    with pytest.raises(IllegalTransition, match=msg):
        check_shipment(M.EXPRESS, S.SHIPPED, S.CANCELLED)


def test_plain_strings_work_like_the_enums():
    check_order("pending_payment", "paid")
    check_shipment("pickup", "allocated", "picking")
    with pytest.raises(IllegalTransition):
        check_shipment("teleport", "pending", "completed")


# --- the shape of the tables -----------------------------------------------------------------


def test_order_table_shape():
    assert set(ORDER_TRANSITIONS) == set(OS)
    for status in TERMINAL_ORDER:
        assert ORDER_TRANSITIONS[status] == frozenset()
    assert ORDER_TRANSITIONS[OS.COMPLETED] == {OS.REFUNDED}
    for status in set(OS) - TERMINAL_ORDER:
        assert status not in ORDER_TRANSITIONS[status]  # no self-loops
        assert closure(ORDER_TRANSITIONS, status) & TERMINAL_ORDER  # every order can end
    # Only pending_payment leads to paid and to expired; only completed to refunded.
    for status in OS:
        assert (OS.PAID in ORDER_TRANSITIONS[status]) == (status is OS.PENDING_PAYMENT)
        assert (OS.EXPIRED in ORDER_TRANSITIONS[status]) == (status is OS.PENDING_PAYMENT)
        assert (OS.REFUNDED in ORDER_TRANSITIONS[status]) == (status is OS.COMPLETED)
        assert (OS.CANCELLED in ORDER_TRANSITIONS[status]) == (status in CANCELLABLE_ORDER)
    # Nothing returns to the payment stage.
    assert all(OS.PENDING_PAYMENT not in targets for targets in ORDER_TRANSITIONS.values())


def test_order_moves_back_only_where_shipments_can():
    stage = [
        OS.PAID,
        OS.ALLOCATED,
        OS.PICKING,
        OS.READY_FOR_PICKUP,
        OS.OUT_FOR_DELIVERY,
        OS.SHIPPED,
        OS.COMPLETED,
    ]
    back = {
        (a, b) for a in stage for b in ORDER_TRANSITIONS[a] if b in stage and stage.index(b) < stage.index(a)
    }
    assert back == {
        (OS.PICKING, OS.ALLOCATED),  # reroute
        (OS.READY_FOR_PICKUP, OS.PICKING),  # courier re-dispatch in a split order
        (OS.OUT_FOR_DELIVERY, OS.PICKING),  # courier re-dispatch
    }
    for i, a in enumerate(stage[:-1]):  # every forward skip is allowed
        assert set(stage[i + 1 :]) <= ORDER_TRANSITIONS[a]


def test_shipment_tables_shape():
    for mode, table in SHIPMENT_TRANSITIONS.items():
        used = set(table) | set().union(*table.values())
        assert S.PENDING in table and S.COMPLETED in used and S.CANCELLED in used
        assert used <= closure(table, S.PENDING) | {S.PENDING}  # every status is reachable
        for status in set(table):
            assert status not in TERMINAL_SHIPMENT
            assert closure(table, status) & {S.COMPLETED}  # every open shipment can complete
            assert (S.CANCELLED in table[status]) == (status in CANCELLABLE_SHIPMENT), (mode, status)
            assert (S.REROUTED in table[status]) == (status in REROUTABLE_SHIPMENT and mode is not M.COUNTER), (mode, status)
            self_loop = status in table[status]
            assert self_loop == (mode is M.SAME_CITY and status is S.AWAITING_COURIER)


def test_shipment_paths_per_mode():
    paths = {
        M.PICKUP: [S.PENDING, S.ALLOCATED, S.PICKING, S.READY_FOR_PICKUP, S.COMPLETED],
        M.SAME_CITY: [S.PENDING, S.ALLOCATED, S.PICKING, S.AWAITING_COURIER, S.OUT_FOR_DELIVERY, S.COMPLETED],
        M.EXPRESS: [S.PENDING, S.ALLOCATED, S.PICKING, S.SHIPPED, S.COMPLETED],
        M.COUNTER: [S.PENDING, S.COMPLETED],
    }
    for mode, path in paths.items():
        for a, b in itertools.pairwise(path):
            check_shipment(mode, a, b)
    # A clerk may skip "start picking"; a failed courier brings the parcel back.
    check_shipment(M.PICKUP, S.ALLOCATED, S.READY_FOR_PICKUP)
    check_shipment(M.SAME_CITY, S.ALLOCATED, S.AWAITING_COURIER)
    check_shipment(M.EXPRESS, S.ALLOCATED, S.SHIPPED)
    check_shipment(M.SAME_CITY, S.OUT_FOR_DELIVERY, S.AWAITING_COURIER)
    check_shipment(M.SAME_CITY, S.AWAITING_COURIER, S.AWAITING_COURIER)
    for illegal in [
        (M.PICKUP, S.PICKING, S.PICKING),
        (M.SAME_CITY, S.OUT_FOR_DELIVERY, S.CANCELLED),
        (M.EXPRESS, S.SHIPPED, S.CANCELLED),
        (M.PICKUP, S.PICKING, S.SHIPPED),
        (M.COUNTER, S.PENDING, S.ALLOCATED),
        (M.PICKUP, S.READY_FOR_PICKUP, S.REROUTED),
        (M.PICKUP, S.PENDING, S.COMPLETED),
    ]:
        with pytest.raises(IllegalTransition):
            check_shipment(*illegal)


# --- the derivation rule: concrete cases -----------------------------------------------------


def derive(current, *shipments):
    return order_status_for(current, list(shipments))


def test_split_order_shows_the_least_advanced_shipment():
    assert derive(OS.ALLOCATED, (M.PICKUP, S.READY_FOR_PICKUP), (M.EXPRESS, S.PICKING)) is OS.PICKING
    assert (
        derive(OS.PICKING, (M.PICKUP, S.COMPLETED), (M.SAME_CITY, S.OUT_FOR_DELIVERY)) is OS.OUT_FOR_DELIVERY
    )
    assert (
        derive(OS.PICKING, (M.PICKUP, S.READY_FOR_PICKUP), (M.SAME_CITY, S.OUT_FOR_DELIVERY))
        is OS.READY_FOR_PICKUP
    )
    assert (
        derive(OS.PICKING, (M.EXPRESS, S.SHIPPED), (M.SAME_CITY, S.OUT_FOR_DELIVERY)) is OS.OUT_FOR_DELIVERY
    )
    assert derive(OS.PICKING, (M.EXPRESS, S.SHIPPED), (M.PICKUP, S.COMPLETED)) is OS.SHIPPED
    assert derive(OS.PAID, (M.SAME_CITY, S.AWAITING_COURIER), (M.EXPRESS, S.SHIPPED)) is OS.PICKING


def test_completion_and_dropped_shipments():
    assert derive(OS.SHIPPED, (M.EXPRESS, S.COMPLETED), (M.PICKUP, S.COMPLETED)) is OS.COMPLETED
    assert derive(OS.PICKING, (M.PICKUP, S.COMPLETED), (M.EXPRESS, S.CANCELLED)) is OS.COMPLETED
    assert derive(OS.PICKING, (M.PICKUP, S.REROUTED), (M.PICKUP, S.ALLOCATED)) is OS.ALLOCATED
    assert derive(OS.PAID, (M.COUNTER, S.COMPLETED)) is OS.COMPLETED
    # Nothing counts any more: cancelling the order is the caller's call.
    assert derive(OS.PICKING, (M.PICKUP, S.CANCELLED), (M.EXPRESS, S.REROUTED)) is OS.PICKING
    assert derive(OS.ALLOCATED) is OS.ALLOCATED


def test_what_shipments_cannot_tell_is_kept():
    assert derive(OS.PENDING_PAYMENT, (M.PICKUP, S.PENDING)) is OS.PENDING_PAYMENT
    assert derive(OS.PENDING_PAYMENT, (M.PICKUP, S.ALLOCATED)) is OS.PENDING_PAYMENT  # pay explicitly
    assert derive(OS.PAID, (M.PICKUP, S.PENDING), (M.EXPRESS, S.SHIPPED)) is OS.PAID
    for closed in CLOSED_ORDER:
        assert derive(closed, (M.PICKUP, S.PICKING)) is closed


def test_the_three_backward_moves_happen():
    # Reroute: the shipment being picked is replaced by a new allocated one.
    before = derive(OS.ALLOCATED, (M.PICKUP, S.PICKING), (M.EXPRESS, S.SHIPPED))
    after = derive(before, (M.PICKUP, S.REROUTED), (M.PICKUP, S.ALLOCATED), (M.EXPRESS, S.SHIPPED))
    assert (before, after) == (OS.PICKING, OS.ALLOCATED)
    check_order(before, after)
    # Courier re-dispatch, alone and next to a pickup that is ready.
    for other in [(M.EXPRESS, S.COMPLETED), (M.PICKUP, S.READY_FOR_PICKUP)]:
        before = derive(OS.PICKING, (M.SAME_CITY, S.OUT_FOR_DELIVERY), other)
        after = derive(before, (M.SAME_CITY, S.AWAITING_COURIER), other)
        assert after is OS.PICKING
        check_order(before, after)


def test_can_cancel():
    assert can_cancel(
        [(M.PICKUP, S.READY_FOR_PICKUP), (M.SAME_CITY, S.AWAITING_COURIER), (M.EXPRESS, S.REROUTED)]
    )
    assert not can_cancel([(M.PICKUP, S.PICKING), (M.EXPRESS, S.SHIPPED)])
    assert not can_cancel([(M.PICKUP, S.COMPLETED)])
    assert can_cancel([])


# --- the derivation rule: properties ---------------------------------------------------------

shipments = st.lists(st.tuples(st.sampled_from(M), st.sampled_from(S)), max_size=5)


@given(st.sampled_from(OS), shipments)
def test_derivation_never_invents_payment_or_endings(current, ships):
    result = order_status_for(current, ships)
    if current is OS.PENDING_PAYMENT or current in CLOSED_ORDER:
        assert result is current
    else:
        assert result is current or result in FULFILMENT_ORDER | {OS.COMPLETED}
    if current is OS.PAID:  # from paid, whatever the shipments say is a legal move
        assert result is OS.PAID or result in ORDER_TRANSITIONS[OS.PAID]
    if all(status in DROPPED_SHIPMENT for _, status in ships):
        assert result is current


@settings(max_examples=200)
@given(st.data())
def test_derived_changes_are_legal_order_transitions(data):
    """Replay random legal shipment events (batched, with reroutes); every derived change is legal.

    For arbitrary shipment sets the derived status need not be reachable (a shipped order
    cannot see an allocated shipment appear); it is for every history the shipment tables allow.
    """
    delivery_modes = [M.PICKUP, M.SAME_CITY, M.EXPRESS]
    ships = [[m, S.PENDING] for m in data.draw(st.lists(st.sampled_from(M), min_size=1, max_size=3))]
    order = OS.PENDING_PAYMENT
    check_order(order, OS.PAID)
    order = order_status_for(OS.PAID, [tuple(s) for s in ships])
    assert order is OS.PAID
    for _ in range(data.draw(st.integers(1, 25))):
        for _ in range(data.draw(st.integers(1, 3))):  # a batch of events, then one derivation
            movable = [s for s in ships if SHIPMENT_TRANSITIONS[s[0]].get(s[1])]
            if not movable:
                break
            ship = data.draw(st.sampled_from(movable))
            target = data.draw(st.sampled_from(sorted(SHIPMENT_TRANSITIONS[ship[0]][ship[1]])))
            check_shipment(ship[0], ship[1], target)
            ship[1] = target
            if target is S.REROUTED:
                new_status = data.draw(st.sampled_from([S.PENDING, S.ALLOCATED]))
                ships.append([data.draw(st.sampled_from(delivery_modes)), new_status])
        new = order_status_for(order, [tuple(s) for s in ships])
        if new is not order:
            check_order(order, new)
        order = new
    if all(status in TERMINAL_SHIPMENT for _, status in ships) and any(s == S.COMPLETED for _, s in ships):
        assert order is OS.COMPLETED
