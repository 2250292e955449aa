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
"""

from __future__ import annotations

import math
from datetime import date, datetime, time, timedelta

from o2o.core.routing.config import RoutingConfig
from o2o.core.routing.model import EtaWindow, Mode, Node, Order

__all__ = ["dispatch_min", "eta_window", "is_night", "late_minutes", "promised_by", "queue_min"]


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
