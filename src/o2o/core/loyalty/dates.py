"""Calendar arithmetic for points expiry and tier windows, in China's local time.

Loyalty rules are stated in calendar terms that members read ("积分于次年12月31日清零",
"近12个月消费"), so a day, a month and a year are the member's local ones, not UTC's.
:data:`CHINA_TZ` is a fixed UTC+08:00: mainland China has had no daylight saving time since
1991, so a fixed offset is exact and needs no tz database (no file reads in the core).
Every rule still takes a ``tz`` so a retailer elsewhere can pass its own ``tzinfo``.

All datetimes must be aware: a naive one raises ValueError (bilingual), since comparing a
naive with an aware datetime would be a silent bug or a TypeError deep inside a rule.
"""

from __future__ import annotations

import calendar
from datetime import datetime, time, timedelta, timezone, tzinfo

__all__ = ["CHINA_TZ", "add_months", "local_day_start", "require_aware"]

CHINA_TZ = timezone(timedelta(hours=8), "Asia/Shanghai")


def require_aware(dt: object, name: str = "时间 time") -> datetime:
    """``dt`` if it is an aware datetime, else ValueError."""
    if not isinstance(dt, datetime) or dt.tzinfo is None or dt.utcoffset() is None:
        raise ValueError(f"{name} 必须是带时区的 datetime must be an aware datetime: {dt!r}")
    return dt


def local_day_start(dt: datetime, tz: tzinfo = CHINA_TZ) -> datetime:
    """Midnight that starts ``dt``'s local day (for per-day caps and "end of day" rules)."""
    local = require_aware(dt).astimezone(tz)
    return datetime.combine(local.date(), time(0), tzinfo=tz)


def add_months(dt: datetime, months: int, tz: tzinfo = CHINA_TZ) -> datetime:
    """``dt`` moved by ``months`` calendar months in local time, the day clamped to the month's end.

    2024-01-31 + 1 month = 2024-02-29; 2024-02-29 - 12 months = 2023-02-28. The time of day is
    kept. Negative ``months`` go back.
    """
    local = require_aware(dt).astimezone(tz)
    index = local.year * 12 + (local.month - 1) + months
    year, month0 = divmod(index, 12)
    day = min(local.day, calendar.monthrange(year, month0 + 1)[1])
    return local.replace(year=year, month=month0 + 1, day=day)
