"""POS events as they arrive from a till, and the checks a batch passes before it touches stock.

Nothing here reads the database: a batch that fails these checks is refused whole (422, or
413 when it is too large) before any row is written or locked.
"""

from __future__ import annotations

import bisect
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any

from django.conf import settings
from django.utils import timezone

from o2o.common.errors import ApiError, InvalidInput
from o2o.inventory.validation import MAX_QTY

KIND_NAMES = ("sale", "return", "count")
MAX_EVENT_ID = 100
MAX_DEVICE_ID = 64
# How far ahead of the server clock a till's clock may run. An event later than that is
# refused; one within it is taken as having happened when the batch was received (it cannot
# have happened later), so a fast till clock never lets a count supersede sales made after it.
CLOCK_SKEW = timedelta(minutes=5)
OLDEST = datetime(2000, 1, 1, tzinfo=UTC)  # no till sends older events; far older ones overflow
MAX_GAP_RANGES = 1000  # missing-sequence ranges kept per device (the newest)


@dataclass(frozen=True)
class PosEvent:
    kind: str  # "sale" | "return" | "count"
    pos_event_id: str
    seq: int
    sku_id: int
    qty: int  # sale/return: units (> 0); count: the counted quantity (>= 0)
    occurred_at: datetime


def event_key(location_id: int, pos_event_id: str) -> str:
    return f"pos:{location_id}:{pos_event_id}"


def check_device_id(device_id: object) -> None:
    if not isinstance(device_id, str) or not 0 < len(device_id) <= MAX_DEVICE_ID or "\x00" in device_id:
        raise InvalidInput(f"设备编号无效 device_id must be 1-{MAX_DEVICE_ID} characters, without NUL",
                           code="invalid_device")


def check_events(events: list[PosEvent], now: datetime) -> list[PosEvent]:
    """Reject the whole batch when any event is malformed; drop exact repeats inside the batch."""
    limit = settings.O2O["POS_MAX_BATCH"]
    if len(events) > limit:
        raise ApiError("批次过大 POS batch too large", code="batch_too_large", status=413,
                       details={"max": limit, "got": len(events)})
    bad: list[dict[str, Any]] = []
    seen: dict[str, PosEvent] = {}
    unique: list[PosEvent] = []
    for i, e in enumerate(events):
        problem = _problem(e, now)
        if problem is None and e.pos_event_id in seen and seen[e.pos_event_id] != e:
            problem = "same pos_event_id twice with different content"
        if problem is not None:
            shown = str(e.pos_event_id)[:MAX_EVENT_ID].replace("\x00", "\ufffd")
            bad.append({"index": i, "pos_event_id": shown, "problem": problem})
        elif e.pos_event_id not in seen:
            seen[e.pos_event_id] = e
            unique.append(e)
    if bad:
        raise InvalidInput("POS 事件有误 Invalid POS events", code="invalid_events", details={"events": bad[:50]})
    return unique


def _problem(e: PosEvent, now: datetime) -> str | None:
    if e.kind not in KIND_NAMES:
        return "kind must be sale, return or count"
    if not isinstance(e.pos_event_id, str) or not 0 < len(e.pos_event_id) <= MAX_EVENT_ID:
        return f"pos_event_id must be 1-{MAX_EVENT_ID} characters"
    if "\x00" in e.pos_event_id:
        return "pos_event_id must not contain NUL characters"
    if type(e.seq) is not int or not 0 < e.seq < 2**62:
        return "seq must be a positive integer"
    if type(e.qty) is not int or type(e.sku_id) is not int:
        return "sku_id and qty must be integers"
    low = 0 if e.kind == "count" else 1
    if not low <= e.qty <= MAX_QTY:
        return "qty must be positive (a count: zero or more)"
    if not isinstance(e.occurred_at, datetime) or timezone.is_naive(e.occurred_at):
        return "occurred_at must be an aware datetime"
    # The year first: comparing or converting a datetime near year 1 or 9999 can overflow.
    if e.occurred_at.year < OLDEST.year or e.occurred_at < OLDEST:
        return "occurred_at must be 2000-01-01 or later"
    if e.occurred_at.year > now.year + 1 or e.occurred_at > now + CLOCK_SKEW:
        return f"occurred_at is more than {int(CLOCK_SKEW.total_seconds() // 60)} minutes in the future"
    return None


def merge_seqs(last_seq: int, missing: list[list[int]], seqs: set[int]) -> tuple[int, list[list[int]]]:
    """New (last_seq, missing ranges) after ``seqs`` arrived; ranges are inclusive [lo, hi]."""
    new_last = max([last_seq, *seqs])
    ranges = [(int(lo), int(hi)) for lo, hi in missing]
    if new_last > last_seq + 1:
        ranges.append((last_seq + 1, new_last))
    got = sorted(seqs)
    out: list[list[int]] = []
    for lo, hi in sorted(ranges):
        cur, i = lo, bisect.bisect_left(got, lo)
        while i < len(got) and got[i] <= hi:
            if got[i] > cur:
                out.append([cur, got[i] - 1])
            cur = got[i] + 1
            i += 1
        if cur <= hi:
            out.append([cur, hi])
    return new_last, out[-MAX_GAP_RANGES:]
