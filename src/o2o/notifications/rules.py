"""The clock rules of sending, pure (no Django): China day, quiet hours, the next window, retry backoff.

China has one time zone and no daylight saving, so a fixed +08:00 is exact. A quiet window may span
midnight (``21:00-09:00``, the default) or not (``12:00-14:00``); equal ends mean no quiet hours.
"""

from __future__ import annotations

from datetime import date, datetime, time, timedelta, timezone

CHINA = timezone(timedelta(hours=8), "Asia/Shanghai")


def parse_hhmm(text: str) -> time:
    """``"21:00"`` -> 21:00; ValueError (bilingual) for anything else."""
    try:
        hh, mm = text.split(":")
        if len(hh) != 2 or len(mm) != 2:
            raise ValueError
        return time(int(hh), int(mm))
    except (ValueError, AttributeError):
        raise ValueError(f"时间应为 HH:MM time must be HH:MM, not {text!r}") from None


def china_day(at: datetime) -> date:
    return at.astimezone(CHINA).date()


def in_quiet(at: datetime, start: time, end: time) -> bool:
    """Is ``at`` (China time) inside the quiet window [start, end)?"""
    if start == end:
        return False
    t = at.astimezone(CHINA).time()
    return start <= t < end if start < end else (t >= start or t < end)


def quiet_end(at: datetime, start: time, end: time) -> datetime:
    """When the quiet window that ``at`` is in ends (``at`` itself when it is not in one)."""
    if not in_quiet(at, start, end):
        return at
    local = at.astimezone(CHINA)
    candidate = datetime.combine(local.date(), end, tzinfo=CHINA)
    if candidate <= local:
        candidate += timedelta(days=1)
    return candidate


def next_day_start(at: datetime, start: time, end: time) -> datetime:
    """The first moment of the next China day that is outside the quiet window (09:00 with the default)."""
    midnight = datetime.combine(china_day(at) + timedelta(days=1), time(0), tzinfo=CHINA)
    return quiet_end(midnight, start, end)


def backoff(attempts: int) -> timedelta:
    """Wait before retry number ``attempts`` (1, 2, ...): 2, 4, 8... minutes, at most an hour."""
    return timedelta(minutes=min(2 ** max(attempts, 1), 60))
