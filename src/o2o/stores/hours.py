"""The shape of a location's opening hours: ``{"mon": [["07:00", "22:00"]], ...}``.

Days are ``mon``..``sun``; each holds a list of ``[open, close]`` spans in 24-hour ``HH:MM`` with
open < close (a missing day: hours not given; an empty list: closed that day). Checked by the model
field (admin forms) and by the CSV/Excel import, so every reader (storefront, API) can rely on it.
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
