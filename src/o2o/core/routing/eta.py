"""The ETA model: when a shipment from a node arrives (or is ready for pickup).

All times are whole minutes from ``now`` (rounded up), turned into datetimes by adding them
to ``now``; ``now`` is given by the caller (aware or naive, its wall-clock hour is the
local hour). The model, in order:

1. **queue**: ``ceil(60 * queue / pick_rate_per_hour)`` minutes before picking starts;
2. **prep**: the node kind's pick/pack time (``RoutingConfig.prep_min``);
3. **travel**, by mode:

   * pickup: none; ready at queue + prep;
   * same city: rider arrival (``courier_pickup_min``) + road distance / courier speed;
     the promised window is [eta, eta + ``same_city_window_min``];
   * express: handed to the carrier today if ready before the cut-off hour (else the next
     day), delivered ``express_transit_days`` later within ``express_window_hours``.

The ETA does not depend on the shipment's size, so every (node, mode) pair has one ETA
per order; the optimiser relies on that.

Opening hours (``Node.opening_hours``; ``None``: always open, the model above unchanged).
The node works only while open, on the wall clock of ``now``; :func:`ready_min` gives the
minute the parcel is ready, and steps 1-2 become:

1. **queue**: the queue's minutes are minutes of *open* time from ``now``: the orders ahead
   are picked while the node is open and wait overnight (if the node is closed now, they
   start at its next opening);
2. **prep and hand-over**: the order's own pick (prep) then starts at the first open
   instant at or after the queue is done, and must be finished, and handed over, within
   one opening: ready + *hand-over* <= closing, where hand-over is
   ``pickup_collect_min`` for pickup (the customer can still collect it), the rider's
   ``courier_pickup_min`` for same city (riders collect from an open store) and 1 minute
   for express (ready before closing; the carrier's cut-off then applies as above). If it
   does not fit, it is picked at the next opening that fits it: ready = opening + prep.

So the ETA with hours is never earlier than without (open minutes are at most wall
minutes), a later ``now`` or a longer queue never gives an earlier ETA, and a pickup is
always ready inside an opening. The night surcharge is decided at the (later) ready time,
when the rider is really called. Openings that touch (Monday ``..24:00`` and Tuesday
``00:00..``) are one opening. A node that is never open, or whose openings are all too
short for the hand-over, cannot serve the mode (``None``: routed as having no capacity).
"""

from __future__ import annotations

import math
from collections.abc import Iterator
from datetime import date, datetime, time, timedelta
from functools import lru_cache

from o2o.core.routing.config import RoutingConfig
from o2o.core.routing.model import EtaWindow, Mode, Node, OpeningHours, Order

__all__ = [
    "dispatch_min",
    "eta_window",
    "is_night",
    "late_minutes",
    "open_spans",
    "promised_by",
    "queue_min",
    "ready_min",
    "week_pattern",
]

DAY_MIN = 24 * 60
WEEK_MIN = 7 * DAY_MIN
_US_PER_MIN = 60_000_000


def _whole_minutes(delta: timedelta) -> int:
    """A timedelta in whole minutes, rounded up (never negative)."""
    return max(0, math.ceil(delta.total_seconds() / 60.0 - 1e-9))


def queue_min(node: Node) -> int | None:
    """Minutes of queue before the node starts picking a new order; None if it cannot pick."""
    rate = node.pick_rate_per_hour
    if not (isinstance(rate, int | float) and math.isfinite(rate) and rate > 0):
        return None
    return math.ceil(60.0 * max(0, node.queue) / rate - 1e-9)


def dispatch_min(node: Node, config: RoutingConfig) -> int | None:
    """Minutes until a new order is picked and packed at ``node`` (queue + prep)."""
    waiting = queue_min(node)
    if waiting is None:
        return None
    return waiting + max(0, config.prep_min.get(node.kind, 0))


def _pattern(hours: OpeningHours) -> tuple[tuple[int, int], ...] | None:
    if len(hours) != 7:
        return None  # malformed: ignored (bad input never raises), always open
    spans: list[tuple[int, int]] = []
    for day, opening in enumerate(hours):
        for span in opening:
            try:
                a, b = (int(t) for t in span)
            except (TypeError, ValueError):
                continue
            if not (0 <= a < DAY_MIN and 0 <= b <= DAY_MIN) or a == b:
                continue
            start = day * DAY_MIN + a
            end = day * DAY_MIN + (b if b > a else b + DAY_MIN)  # close < open: past midnight
            if end > WEEK_MIN:  # Sunday past midnight: the rest is Monday morning
                spans.append((0, end - WEEK_MIN))
                end = WEEK_MIN
            spans.append((start, end))
    merged: list[tuple[int, int]] = []
    for a, b in sorted(spans):
        if merged and a <= merged[-1][1]:
            merged[-1] = (merged[-1][0], max(merged[-1][1], b))
        else:
            merged.append((a, b))
    if merged == [(0, WEEK_MIN)]:
        return None
    return tuple(merged)


_pattern_cached = lru_cache(maxsize=4096)(_pattern)


def week_pattern(hours: OpeningHours | None) -> tuple[tuple[int, int], ...] | None:
    """The openings as merged [start, end) minutes of the week (Monday 00:00 = 0).

    ``None``: always open (no hours, open round the clock, or malformed hours); ``()``: never open.
    """
    if hours is None:
        return None
    try:
        return _pattern_cached(hours)
    except (TypeError, ValueError, AttributeError):
        pass
    try:  # unhashable (lists): the same answer, uncached
        return _pattern(hours)
    except (TypeError, ValueError, AttributeError):
        return None  # not hours at all: ignored


def open_spans(pattern: tuple[tuple[int, int], ...], now: datetime) -> Iterator[tuple[int, int]]:
    """The openings from ``now`` on as [start, end) whole minutes from ``now`` (rounded up), forever.

    The one ``now`` falls in starts at 0; openings that touch across the week's end are one.
    An instant ``now + k`` minutes (k whole) is open exactly when some span has start <= k < end.
    """
    if not pattern:
        return
    at_us = (((now.weekday() * DAY_MIN + now.hour * 60 + now.minute) * 60 + now.second) * 1_000_000
             + now.microsecond)

    def rel(minute: int) -> int:  # ceil((minute - now) in minutes), exactly
        return -((at_us - minute * _US_PER_MIN) // _US_PER_MIN)

    week, pending = -1, None
    while True:
        for a, b in pattern:
            lo, hi = rel(a + week * WEEK_MIN), rel(b + week * WEEK_MIN)
            if hi <= 0:
                continue
            lo = max(lo, 0)
            if pending is not None and lo <= pending[1]:
                pending = (pending[0], hi)
                continue
            if pending is not None:
                yield pending
            pending = (lo, hi)
        week += 1


def _longest(pattern: tuple[tuple[int, int], ...]) -> int:
    longest = max(b - a for a, b in pattern)
    if len(pattern) > 1 and pattern[0][0] == 0 and pattern[-1][1] == WEEK_MIN:
        longest = max(longest, pattern[0][1] + WEEK_MIN - pattern[-1][0])
    return longest


def _handover_min(mode: Mode, config: RoutingConfig) -> int:
    if mode is Mode.PICKUP:
        return max(1, config.pickup_collect_min)
    if mode is Mode.SAME_CITY:
        return max(1, config.courier_pickup_min)
    return 1


def ready_min(node: Node, mode: Mode, now: datetime, config: RoutingConfig) -> int | None:
    """Minutes until a new order is ready to leave ``node`` in ``mode``, given its opening hours.

    Without hours: :func:`dispatch_min`. With them: the module docstring's steps 1-2. None:
    the node cannot pick (no pick rate), is never open, or never opens long enough.
    """
    waiting = queue_min(node)
    if waiting is None:
        return None
    prep = max(0, config.prep_min.get(node.kind, 0))
    pattern = week_pattern(node.opening_hours)
    if pattern is None:
        return waiting + prep
    if not pattern:
        return None
    need = prep + _handover_min(mode, config)
    if need > _longest(pattern):
        return None
    weekly = sum(b - a for a, b in pattern)
    # Whole weeks of queue: every week holds ``weekly`` open minutes, wherever it starts.
    weeks = max(0, (waiting - 1) // weekly)
    left = waiting - weeks * weekly
    spans = open_spans(pattern, now)
    for lo, hi in spans:
        if left < hi - lo:
            start = lo + left
            if start + need <= hi:
                return weeks * WEEK_MIN + start + prep
            break
        left -= hi - lo
    for lo, hi in spans:  # the next opening long enough for prep and hand-over (one exists)
        if lo + need <= hi:
            return weeks * WEEK_MIN + lo + prep
    return None  # pragma: no cover - open_spans never ends


def is_night(now: datetime, minutes: int, config: RoutingConfig) -> bool:
    """True when ``now + minutes`` falls in the night window [start, end) (may wrap midnight)."""
    start, end = config.night_hours
    hour = (now + timedelta(minutes=minutes)).hour
    if start == end:
        return False
    if start < end:
        return start <= hour < end
    return hour >= start or hour < end


def _at(day: date, hour: int, tz: object) -> datetime:
    hour = min(23, max(0, hour))
    return datetime.combine(day, time(hour), tzinfo=tz)  # type: ignore[arg-type]


def eta_window(now: datetime, mode: Mode, ready_min: int, road_m: float, config: RoutingConfig) -> EtaWindow:
    """The promised window of a shipment in ``mode`` whose parcel is ready after ``ready_min``."""
    if mode is Mode.PICKUP:
        at = now + timedelta(minutes=ready_min)
        return EtaWindow(earliest=at, latest=at, earliest_min=ready_min, latest_min=ready_min)
    if mode is Mode.SAME_CITY:
        speed = config.courier_speed_m_per_min if config.courier_speed_m_per_min > 0 else 250.0
        travel = math.ceil(max(0.0, road_m) / speed - 1e-9)
        first = ready_min + max(0, config.courier_pickup_min) + travel
        last = first + max(0, config.same_city_window_min)
        return EtaWindow(
            earliest=now + timedelta(minutes=first),
            latest=now + timedelta(minutes=last),
            earliest_min=first,
            latest_min=last,
        )
    ready_at = now + timedelta(minutes=ready_min)
    ship_day = ready_at.date()
    if ready_at.hour >= config.express_cutoff_hour:
        ship_day += timedelta(days=1)
    day = ship_day + timedelta(days=max(0, config.express_transit_days))
    start_h, end_h = config.express_window_hours
    earliest = max(_at(day, start_h, now.tzinfo), ready_at)
    latest = max(_at(day, end_h, now.tzinfo), earliest)
    return EtaWindow(
        earliest=earliest,
        latest=latest,
        earliest_min=_whole_minutes(earliest - now),
        latest_min=_whole_minutes(latest - now),
    )


def promised_by(order: Order, mode: Mode, now: datetime, eta: EtaWindow, config: RoutingConfig) -> datetime:
    """The deadline the shipment is measured against: the order's, else the mode's standard."""
    if order.promised_by is not None:
        try:
            order.promised_by - now  # a naive/aware mix cannot be compared: ignore it
        except TypeError:
            pass
        else:
            return order.promised_by
    if mode is Mode.SAME_CITY:
        return now + timedelta(minutes=max(0, config.same_city_promise_min))
    if mode is Mode.PICKUP:
        return now + timedelta(minutes=max(0, config.pickup_promise_min))
    return eta.latest


def late_minutes(eta: EtaWindow, promise: datetime) -> int:
    """Whole minutes by which the window's end passes the promise (0 when on time)."""
    return _whole_minutes(eta.latest - promise)
