"""Opening hours in the ETA: picking, collection and courier hand-over only while a node is open."""

from __future__ import annotations

from dataclasses import replace
from datetime import datetime, timedelta

import pytest
from hypothesis import given
from hypothesis import strategies as st

from o2o.core.routing import Choice, Mode, Network, NodeKind, RoutingConfig, route
from o2o.core.routing.eta import dispatch_min, eta_window, open_spans, ready_min, week_pattern
from tests.unit.routing.helpers import CENTRE, SHANGHAI_TZ, order, store, warehouse

CONFIG = RoutingConfig()
PREP = CONFIG.prep_min[NodeKind.STORE]
DAY = 24 * 60


def at(day: int, hour: int, minute: int = 0, second: int = 0) -> datetime:
    """2026-11-30 is a Monday: ``at(0, ...)`` is Monday, ``at(1, ...)`` Tuesday."""
    return datetime(2026, 11, 30, hour, minute, second, tzinfo=SHANGHAI_TZ) + timedelta(days=day)


def every_day(*spans: tuple[int, int]) -> tuple:
    return tuple(tuple(spans) for _ in range(7))


SEVEN_TO_TEN = every_day((7 * 60, 22 * 60))  # 07:00-22:00, the demo stores' hours


def shop(hours=SEVEN_TO_TEN, **kw):  # noqa: ANN001, ANN201
    return store("A", 1000, 0, {"x": 10}, opening_hours=hours, **kw)


def ready(node, mode: Mode, now: datetime) -> datetime:  # noqa: ANN001
    return now + timedelta(minutes=ready_min(node, mode, now, CONFIG))


# --- the rules, at fixed clocks -----------------------------------------------------------


def test_at_0041_a_pickup_is_ready_after_the_morning_opening():
    now = at(0, 0, 41)
    assert ready(shop(), Mode.PICKUP, now) == at(0, 7, PREP)
    # Without hours (or with none given) it is the old 15 minutes.
    assert ready(shop(hours=None), Mode.PICKUP, now) == now + timedelta(minutes=PREP)


def test_at_2155_before_a_2200_closing_it_is_the_next_day():
    now = at(0, 21, 55)
    for mode in Mode:
        assert ready(shop(), mode, now) == at(1, 7, PREP), mode


def test_a_pickup_must_leave_time_to_collect_and_a_rider_must_come_while_open():
    collect, rider = CONFIG.pickup_collect_min, CONFIG.courier_pickup_min
    last_pickup = at(0, 22) - timedelta(minutes=PREP + collect)  # ready exactly `collect` before closing
    assert ready(shop(), Mode.PICKUP, last_pickup) == at(0, 22) - timedelta(minutes=collect)
    assert ready(shop(), Mode.PICKUP, last_pickup + timedelta(minutes=1)) == at(1, 7, PREP)
    last_rider = at(0, 22) - timedelta(minutes=PREP + rider)
    assert ready(shop(), Mode.SAME_CITY, last_rider) == at(0, 22) - timedelta(minutes=rider)
    assert ready(shop(), Mode.SAME_CITY, last_rider + timedelta(minutes=1)) == at(1, 7, PREP)


def test_the_queue_is_worked_off_in_open_minutes_and_waits_overnight():
    node = shop(queue=30, pick_rate_per_hour=30.0)  # 60 minutes of orders ahead
    now = at(0, 21, 30)  # 30 minutes of them tonight, 30 from 07:00; then this order's prep
    assert ready(node, Mode.PICKUP, now) == at(1, 7, 30 + PREP)
    # Closed now: the whole queue starts at the opening.
    assert ready(node, Mode.PICKUP, at(0, 3)) == at(0, 8, PREP)


def test_a_day_closed_and_a_lunch_break_are_skipped():
    week = list(SEVEN_TO_TEN)
    week[1] = ()  # closed on Tuesday
    node = shop(hours=tuple(week))
    assert ready(node, Mode.PICKUP, at(0, 23)) == at(2, 7, PREP)  # Monday night -> Wednesday
    lunch = shop(hours=every_day((9 * 60, 12 * 60), (13 * 60, 18 * 60)))
    assert ready(lunch, Mode.PICKUP, at(0, 11, 50)) == at(0, 13, PREP)
    assert ready(lunch, Mode.PICKUP, at(0, 11, 0)) == at(0, 11, PREP)


def test_openings_that_touch_at_midnight_are_one_opening():
    # Open 18:00 to 02:00 the next day, written as the validator allows it (no span past midnight).
    hours = every_day((0, 2 * 60), (18 * 60, DAY))
    node = shop(hours=hours)
    assert ready(node, Mode.PICKUP, at(0, 23, 55)) == at(1, 0, 10)  # not held to a "24:00 closing"
    assert ready(node, Mode.PICKUP, at(1, 1, 50)) == at(1, 18, PREP)
    # The engine also takes a span past midnight (close < open) directly: the same hours.
    assert week_pattern(every_day((18 * 60, 2 * 60))) == week_pattern(hours)
    assert ready(shop(hours=every_day((18 * 60, 2 * 60))), Mode.PICKUP, at(0, 23, 55)) == at(1, 0, 10)
    # Open round the clock is no hours at all.
    assert week_pattern(every_day((0, DAY))) is None


def test_seconds_of_now_round_up_like_every_eta():
    now = at(0, 6, 59, 30)
    minutes = ready_min(shop(), Mode.PICKUP, now, CONFIG)
    assert minutes == 1 + PREP  # the opening is half a minute away: one whole minute
    assert ready(shop(), Mode.PICKUP, at(0, 7, 0, 0)) == at(0, 7, PREP)


def test_never_open_or_openings_too_short_cannot_serve():
    assert ready_min(shop(hours=every_day()), Mode.PICKUP, at(0, 12), CONFIG) is None
    short = shop(hours=every_day((12 * 60, 12 * 60 + PREP)))  # no time left to collect
    assert ready_min(short, Mode.PICKUP, at(0, 11), CONFIG) is None
    assert ready_min(short, Mode.EXPRESS, at(0, 11), CONFIG) is None  # ready exactly at closing
    plan = route(order(("x", 1), choice=Choice.PICKUP, pickup_node_id="A"), Network([short], CONFIG), at(0, 11))
    assert not plan.shipments and plan.unfilled[0].reason.value == "pickup_store_unavailable"


def test_malformed_hours_are_ignored_not_raised():
    for bad in ((), (((1, 2),),) * 3, every_day(("07:00", "x")), every_day((-5, 3000))):
        node = shop(hours=bad)
        assert ready_min(node, Mode.PICKUP, at(0, 12), CONFIG) in (PREP, None)
    assert ready_min(shop(hours=every_day(("a", "b"))), Mode.PICKUP, at(0, 12), CONFIG) is None  # no valid span
    for junk in (5, "mon", [[[420, 1320]]] * 7, (None,) * 7):
        assert week_pattern(junk) in (None, week_pattern(SEVEN_TO_TEN))  # never raises
    assert week_pattern([[[420, 1320]]] * 7) == week_pattern(SEVEN_TO_TEN)  # lists work too, uncached


def test_a_huge_queue_skips_whole_weeks_exactly():
    node = shop(queue=10_000, pick_rate_per_hour=1.0)  # 600,000 minutes of open time
    now = at(0, 12)
    got = ready_min(node, Mode.PICKUP, now, CONFIG)
    slow = replace(node, queue=0)
    # Counted from Monday 07:00 (300 open minutes before now), 900 open minutes a day.
    days, left = divmod(300 + 600_000, 900)
    expected = at(0, 7) + timedelta(days=days, minutes=left + PREP)
    assert now + timedelta(minutes=got) == expected
    assert ready_min(slow, Mode.PICKUP, now, CONFIG) == PREP


# --- through the engine -------------------------------------------------------------------


def test_same_city_from_a_closed_store_leaves_at_the_opening_without_the_night_fee():
    now = at(0, 0, 41)
    net = Network([shop()], CONFIG)
    plan = route(order(("x", 1), choice=Choice.FASTEST, dest=CENTRE), net, now)
    [ship] = plan.shipments
    assert ship.mode is Mode.SAME_CITY and ship.eta.earliest > at(0, 7, PREP + CONFIG.courier_pickup_min)
    assert ship.cost.courier_night_fen == 0  # the rider is called at 07:15, not at night
    open_all_night = Network([shop(hours=None)], CONFIG)
    night = route(order(("x", 1), choice=Choice.FASTEST, dest=CENTRE), open_all_night, now).shipments[0]
    assert night.cost.courier_night_fen > 0 and night.eta.earliest_min < 60  # the old behaviour, unchanged


def test_fastest_prefers_an_open_node_at_night():
    now = at(0, 22, 30)
    closed = shop()
    late = store("B", 0, 1500, {"x": 10}, kind=NodeKind.DARK_STORE, opening_hours=every_day((7 * 60, 23 * 60)))
    plan = route(order(("x", 1), choice=Choice.FASTEST), Network([closed, late], CONFIG), now)
    assert [s.node_id for s in plan.shipments] == ["B"] and plan.shipments[0].eta.earliest_min < 60


def test_a_warehouse_ships_by_its_cutoff_from_its_opening():
    hours = every_day((8 * 60, 18 * 60))
    wh = warehouse("W", 20_000, 0, {"x": 10}, opening_hours=hours)
    prep = CONFIG.prep_min[NodeKind.WAREHOUSE]
    early = ready_min(wh, Mode.EXPRESS, at(0, 2), CONFIG)
    assert at(0, 2) + timedelta(minutes=early) == at(0, 8, prep)
    window = eta_window(at(0, 2), Mode.EXPRESS, early, 0.0, CONFIG)
    assert window.earliest.date() == at(1, 0).date()  # ready 08:30, before the cut-off: next day
    late = ready_min(wh, Mode.EXPRESS, at(0, 17, 45), CONFIG)  # would be ready after closing
    assert at(0, 17, 45) + timedelta(minutes=late) == at(1, 8, prep)
    assert eta_window(at(0, 17, 45), Mode.EXPRESS, late, 0.0, CONFIG).earliest.date() == at(2, 0).date()


def test_the_eta_does_not_depend_on_the_contents():
    now = at(0, 21, 50)
    node = store("A", 1000, 0, {"x": 10, "y": 10}, opening_hours=SEVEN_TO_TEN)
    one = route(order(("x", 1), choice=Choice.PICKUP, pickup_node_id="A"), Network([node], CONFIG), now)
    two = route(order(("x", 5, 9000), ("y", 3), choice=Choice.PICKUP, pickup_node_id="A"),
                Network([node], CONFIG), now)
    assert one.shipments[0].eta == two.shipments[0].eta


# --- properties ---------------------------------------------------------------------------

minutes_of_week = st.integers(min_value=0, max_value=7 * DAY - 1)
span = st.integers(0, DAY - 1).flatmap(lambda a: st.tuples(st.just(a), st.integers(a + 1, DAY)))  # open < close
weeks = st.lists(st.lists(span, max_size=3).map(tuple), min_size=7, max_size=7).map(tuple)


def _open_at(pattern, instant: datetime) -> bool:  # noqa: ANN001
    return next(open_spans(pattern, instant), (1, 1))[0] == 0


@given(hours=weeks, start=minutes_of_week, seconds=st.integers(0, 59), queue=st.integers(0, 200),
       mode=st.sampled_from(list(Mode)))
def test_hours_never_make_an_eta_earlier_and_pickups_are_ready_while_open(hours, start, seconds, queue, mode):
    now = at(0, 0, 0, seconds) + timedelta(minutes=start)
    node = shop(hours=hours, queue=queue, pick_rate_per_hour=20.0)
    with_hours = ready_min(node, mode, now, CONFIG)
    without = ready_min(replace(node, opening_hours=None), mode, now, CONFIG)
    assert without == dispatch_min(node, CONFIG)  # no hours: exactly the old queue + prep
    pattern = week_pattern(hours)
    if with_hours is None:  # never open, or never long enough for prep and hand-over
        return
    assert with_hours >= without
    done = now + timedelta(minutes=with_hours)
    if pattern is not None:
        handover = {Mode.PICKUP: CONFIG.pickup_collect_min, Mode.SAME_CITY: CONFIG.courier_pickup_min}.get(mode, 1)
        for k in range(-PREP, handover):  # open from the start of prep until the hand-over, without a break
            assert _open_at(pattern, done + timedelta(minutes=k)), k
    # A later order, or one more order in the queue, is never ready earlier.
    assert ready_min(node, mode, now + timedelta(minutes=7), CONFIG) + 7 >= with_hours
    assert ready_min(replace(node, queue=queue + 1), mode, now, CONFIG) >= with_hours


@given(hours=weeks, start=minutes_of_week)
def test_open_spans_match_the_week_pattern(hours, start):
    now = at(0, 0) + timedelta(minutes=start)
    pattern = week_pattern(hours)
    if not pattern:
        return
    spans = []
    for lo, hi in open_spans(pattern, now):
        if lo >= 2 * 7 * DAY:
            break
        spans.append((lo, hi))
    assert all(a < b for a, b in spans) and all(b1 < a2 for (_, b1), (a2, _) in zip(spans, spans[1:], strict=False))
    for k in range(0, 7 * DAY, 97):  # every 97th minute of the coming week, against the day's own spans
        instant = now + timedelta(minutes=k)
        minute = instant.hour * 60 + instant.minute
        expected = any(a <= minute < b for a, b in hours[instant.weekday()])
        assert any(lo <= k < hi for lo, hi in spans) == expected


@pytest.mark.parametrize("hours", [None, SEVEN_TO_TEN])
def test_a_store_without_hours_routes_as_before(hours):
    now = at(0, 14)  # open: the same ETA either way
    a = route(order(("x", 1), choice=Choice.FASTEST), Network([shop(hours=hours)], CONFIG), now)
    b = route(order(("x", 1), choice=Choice.FASTEST), Network([shop(hours=None)], CONFIG), now)
    assert a.shipments[0].eta == b.shipments[0].eta and a.cost_fen == b.cost_fen


def _brute_ready(hours, now: datetime, queue: int, prep: int, handover: int) -> int | None:  # noqa: ANN001
    """Minute by minute: the queue takes ``queue`` open minutes, then the first start s with every
    minute of [s, s + prep + handover) open; three weeks at most."""

    def is_open(k: int) -> bool:
        instant = now + timedelta(minutes=k)
        minute = instant.hour * 60 + instant.minute
        return any(a <= minute < b for a, b in hours[instant.weekday()])

    horizon = 3 * 7 * DAY
    k, left = 0, queue
    while left > 0 and k < horizon:
        left -= is_open(k)
        k += 1
    need = prep + handover
    run = 0  # open minutes in a row ending at s - 1... counted forwards
    for s in range(k, horizon):
        run = run + 1 if is_open(s) else 0
        if run >= need and s - need + 1 >= k:
            return s - need + 1 + prep
    return None


@given(hours=weeks, start=minutes_of_week, queue=st.integers(0, 40), mode=st.sampled_from(list(Mode)))
def test_ready_min_matches_a_minute_by_minute_walk(hours, start, queue, mode):
    now = at(0, 0) + timedelta(minutes=start)
    node = shop(hours=hours, queue=queue, pick_rate_per_hour=60.0)  # one minute per order ahead
    handover = {Mode.PICKUP: CONFIG.pickup_collect_min, Mode.SAME_CITY: CONFIG.courier_pickup_min}.get(mode, 1)
    got = ready_min(node, mode, now, CONFIG)
    if week_pattern(hours) is None:
        assert got == queue + PREP
        return
    assert got == _brute_ready(hours, now, queue, PREP, handover)


def test_the_explanation_names_the_clock_time_of_a_far_pickup_not_hundreds_of_minutes():
    from o2o.core.routing.explain import describe_shipment

    night = route(order(("x", 1, 100.0), choice=Choice.PICKUP, pickup_node_id="A"), Network([shop()], CONFIG), at(0, 0, 41))
    [shipment] = night.shipments
    assert describe_shipment(shipment) == f"pickup, ready 07:{PREP:02d} today"
    late = route(order(("x", 1, 100.0), choice=Choice.PICKUP, pickup_node_id="A"), Network([shop()], CONFIG), at(0, 21, 55))
    assert describe_shipment(late.shipments[0]) == f"pickup, ready 07:{PREP:02d} next day"
    day = route(order(("x", 1, 100.0), choice=Choice.PICKUP, pickup_node_id="A"), Network([shop()], CONFIG), at(0, 10))
    assert describe_shipment(day.shipments[0]) == f"pickup, ready in {PREP} min"
