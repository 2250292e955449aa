"""The shape of a location's opening hours: ``{"mon": [["07:00", "22:00"]], ...}``.

Days are ``mon``..``sun``; each holds a list of ``[open, close]`` spans in 24-hour ``HH:MM`` with
open < close (a missing day: hours not given; an empty list: closed that day). Checked by the model
field (admin forms) and by the CSV/Excel import, so every reader (storefront, API) can rely on it.
A span never runs past midnight: a store open until 02:00 closes its day at "24:00" and opens the
next at "00:00" (the routing engine joins the two). ``routing_hours`` turns them into the routing
engine's minutes.
"""

from __future__ import annotations

import re

from django.core.exceptions import ValidationError

DAYS = ("mon", "tue", "wed", "thu", "fri", "sat", "sun")
_HHMM = re.compile(r"(?:[01]\d|2[0-3]):[0-5]\d|24:00")


def validate_opening_hours(value: object) -> None:
    if not isinstance(value, dict):
        raise ValidationError("营业时间须为按星期的对象，如 {\"mon\": [[\"07:00\", \"22:00\"]]} "
                              "Opening hours must be an object by weekday", code="invalid_opening_hours")
    for day, spans in value.items():
        if day not in DAYS:
            raise ValidationError(f"未知的星期 {str(day)[:10]!r}，须为 mon..sun Unknown weekday",
                                  code="invalid_opening_hours")
        if not isinstance(spans, list):
            raise ValidationError(f"{day}: 须为时间段列表 must be a list of spans", code="invalid_opening_hours")
        for span in spans:
            ok = (isinstance(span, list) and len(span) == 2 and all(isinstance(t, str) and _HHMM.fullmatch(t)
                                                                     for t in span) and span[0] < span[1])
            if not ok:
                raise ValidationError(f"{day}: 时间段须为 [\"HH:MM\", \"HH:MM\"] 且开始早于结束 "
                                      "each span is [open, close] in HH:MM, open before close",
                                      code="invalid_opening_hours")


def _minutes(hhmm: str) -> int:
    hours, minutes = hhmm.split(":")
    return int(hours) * 60 + int(minutes)


def routing_hours(value: object) -> tuple[tuple[tuple[int, int], ...], ...] | None:
    """The hours as the routing engine's ``Node.opening_hours``: per weekday (Monday first) the
    (open, close) minutes of the day; ``None``: always open.

    Not given (an empty object, or not an object) is always open; a missing day is open all
    day (hours not given for it, as the storefront says); an empty list is closed that day.
    A span that does not parse is left out (the validator keeps them out of the database).
    """
    if not isinstance(value, dict) or not value:
        return None
    week = []
    for day in DAYS:
        spans = value.get(day)
        if spans is None:
            week.append(((0, 24 * 60),))
            continue
        out = []
        for span in spans if isinstance(spans, list) else ():
            try:
                a, b = (_minutes(t) for t in span)
            except (TypeError, ValueError, AttributeError):
                continue
            if 0 <= a < b <= 24 * 60:
                out.append((a, b))
        week.append(tuple(out))
    return tuple(week)
