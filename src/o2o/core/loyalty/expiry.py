"""When a lot of points expires: :class:`ExpiryPolicy`.

``expires_at`` is **exclusive**: a lot can be spent while ``now < expires_at`` and is expired
from ``expires_at`` on. Every rule ends at a local midnight, so "valid until 31 December"
means usable through 23:59:59.999999 on the 31st and gone at 00:00 on 1 January.

The default, :attr:`ExpiryKind.END_OF_NEXT_YEAR`: points expire at the end of the calendar
year after the year they were earned (earned any day of 2024 -> expire at the end of
2025-12-31). It is the most common rule in Chinese retail (年度清零, "每年12月31日清零上一年度
积分"), and we keep it as the default because:

* every point lives 12 to 24 months, never less than a full year, so no member loses points
  earned last week;
* members get one date to remember and one reminder to send ("你有 N 积分将于12月31日过期");
* all lots of one year share one expiry, so the expiry job is one batch a year and FIFO by
  expiry is simply "oldest year first".

Rolling rules are there for retailers who want them: ``END_OF_MONTH`` with ``n`` (the end of
the n-th calendar month after the month earned: earned 2024-03-15, n=12 -> gone at
2025-04-01 00:00) and ``DAYS`` with ``n`` (the end of the n-th local day after the day
earned: earned 2024-03-15 10:00, n=365 -> gone at 2025-03-16 00:00). Rounding to a day's end
avoids "expired at 10:17" surprises and lets one nightly job expire a whole day's lots.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta, tzinfo
from enum import StrEnum

from o2o.core.loyalty.dates import CHINA_TZ, add_months, local_day_start, require_aware

__all__ = ["DEFAULT_EXPIRY", "ExpiryKind", "ExpiryPolicy"]


class ExpiryKind(StrEnum):
    END_OF_NEXT_YEAR = "end_of_next_year"  # 次年年底清零 (default)
    END_OF_MONTH = "end_of_month"  # the end of the n-th month after the month earned
    DAYS = "days"  # the end of the n-th day after the day earned


@dataclass(frozen=True, slots=True)
class ExpiryPolicy:
    """How long earned points live; ``n`` is months or days (ignored for END_OF_NEXT_YEAR)."""

    kind: ExpiryKind = ExpiryKind.END_OF_NEXT_YEAR
    n: int = 0
    tz: tzinfo = CHINA_TZ

    def __post_init__(self) -> None:
        object.__setattr__(self, "kind", ExpiryKind(self.kind))
        if self.kind is not ExpiryKind.END_OF_NEXT_YEAR and (
            not isinstance(self.n, int) or isinstance(self.n, bool) or self.n < 1
        ):
            raise ValueError(
                f"有效期必须是正整数 Expiry n must be a positive integer for {self.kind}: {self.n!r}"
            )

    def expires_at(self, earned_at: datetime) -> datetime:
        """The first instant at which points earned at ``earned_at`` are no longer usable."""
        day = local_day_start(require_aware(earned_at, "获得时间 earned_at"), self.tz)
        if self.kind is ExpiryKind.END_OF_NEXT_YEAR:
            return day.replace(year=day.year + 2, month=1, day=1)
        if self.kind is ExpiryKind.END_OF_MONTH:
            return add_months(day.replace(day=1), self.n + 1, self.tz)
        return day + timedelta(days=self.n + 1)


DEFAULT_EXPIRY = ExpiryPolicy()
"""End of the calendar year after the year earned, China time."""
