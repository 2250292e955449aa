"""One-line explanations of a plan, compared with the next best plan.

Examples::

    store 徐汇店 had all 6 lines; 1.4 km; 38 min; ¥7.2 vs split 徐汇店+静安店 ¥12.5
    split 徐汇店 (4 lines, 1.4 km, 38 min) + 中心仓 (2 lines, express, next day); ¥15.1
    vs store 静安店 ¥7.5 with 2 lines unfilled
"""

from __future__ import annotations

from datetime import timedelta

from o2o.core.routing.costs import format_yuan
from o2o.core.routing.model import Mode, Plan, Shipment

__all__ = ["describe_shipment", "explain"]


CLOCK_AFTER_MIN = 120  # an ETA further off reads as a clock time, not "ready in 394 min"


def _lines(n: int) -> str:
    return f"{n} line" if n == 1 else f"{n} lines"


def describe_shipment(shipment: Shipment) -> str:
    """Distance and timing of a shipment: "1.4 km; 38 min", "pickup, ready in 25 min", "express, next day";
    beyond two hours (a closed store, a long queue) the clock time: "pickup, ready 07:15 next day"."""
    minutes = shipment.eta.earliest_min
    if shipment.mode is not Mode.EXPRESS and minutes > CLOCK_AFTER_MIN:
        at = shipment.eta.earliest
        days = (at.date() - (at - timedelta(minutes=minutes)).date()).days
        day = "today" if days <= 0 else "next day" if days == 1 else f"in {days} days"
        if shipment.mode is Mode.PICKUP:
            return f"pickup, ready {at:%H:%M} {day}"
        return f"{shipment.distance_m / 1000:.1f} km; {at:%H:%M} {day}"
    if shipment.mode is Mode.PICKUP:
        return f"pickup, ready in {minutes} min"
    if shipment.mode is Mode.EXPRESS:
        now = shipment.eta.earliest - timedelta(minutes=shipment.eta.earliest_min)
        days = (shipment.eta.earliest.date() - now.date()).days
        when = "today" if days <= 0 else "next day" if days == 1 else f"in {days} days"
        return f"express, {when}"
    return f"{shipment.distance_m / 1000:.1f} km; {shipment.eta.earliest_min} min"


def _short(plan: Plan) -> str:
    """A plan in a few words: "store 静安店 ¥7.5", "split A+B ¥12.5", "nothing shipped"."""
    if not plan.shipments:
        return "nothing shipped"
    if len(plan.shipments) == 1:
        s = plan.shipments[0]
        text = f"{s.node_kind.label} {s.node_name}"
        if s.mode is Mode.EXPRESS:
            text += " express"
        elif s.mode is Mode.PICKUP:
            text += " pickup"
    else:
        text = "split " + "+".join(s.node_name for s in plan.shipments)
    text += f" {format_yuan(plan.cost_fen)}"
    if plan.unfilled:
        text += f" with {_lines(len(plan.unfilled))} unfilled"
    return text


def explain(plan: Plan, runner_up: Plan | None, total_lines: int) -> str:
    """Why ``plan`` was chosen, against ``runner_up`` (the next best plan, if any)."""
    if not plan.shipments:
        reasons = sorted({u.reason.value for u in plan.unfilled})
        if not reasons:
            return "empty basket: nothing to ship"
        return f"nothing could be filled: {_lines(len(plan.unfilled))} unfilled ({', '.join(reasons)})"
    if len(plan.shipments) == 1:
        s = plan.shipments[0]
        have = f"all {_lines(total_lines)}" if len(s.lines) == total_lines else f"{len(s.lines)} of {total_lines} lines"
        text = f"{s.node_kind.label} {s.node_name} had {have}; {describe_shipment(s)}; {format_yuan(plan.cost_fen)}"
    else:
        parts = [f"{s.node_name} ({_lines(len(s.lines))}, {describe_shipment(s).replace(';', ',')})" for s in plan.shipments]
        text = f"split {' + '.join(parts)}; {format_yuan(plan.cost_fen)}"
    text += f" vs {_short(runner_up)}" if runner_up is not None else "; no alternative"
    if plan.unfilled:
        reasons = sorted({u.reason.value for u in plan.unfilled})
        text += f"; {_lines(len(plan.unfilled))} unfilled ({', '.join(reasons)})"
    return text
