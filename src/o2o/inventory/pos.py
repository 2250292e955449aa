"""POS sync: a store's tills send batches of sales, returns and stock counts.

* **Idempotent per event**: each event is one ledger row keyed ``pos:{location_id}:{pos_event_id}``;
  events already in the ledger are skipped and reported as duplicates.
* **Order-independent**: sales and returns are deltas and commute. A count is absolute at its
  ``occurred_at``: ``adjustment = counted - (on_hand - Σ delta_on_hand of the item's movements
  after occurred_at)``. ``CountMark`` keeps the newest count per item; a sale or return older
  than it (and a count not newer than it) is already in that count: it is recorded with
  ``delta_on_hand = 0`` and ``details.superseded_by_count``.
* **The till is right**: a sale never drives on hand negative. It takes free stock first, then
  shorts active reservations of the item -- overdue ones first, then the newest -- whole
  (status ``shorted``, release movements for all their lines); if on hand is still short it
  applies what exists and records ``details.discrepancy``. A count below reserved does the same.
* **Set-based**: a batch costs a fixed number of queries whatever its size: existing keys, stock
  totals, count marks, (for counts) later movements, one bulk INSERT of movements, the stock
  changes aggregated per item in SKU order, the count marks upsert, the device update.
* **Serialized per location**: a batch locks all of the location's ``PosDevice`` rows in key
  order. A new till's row is committed before the batch's transaction (when the caller has
  none), so two tills of one store always share a lock and their counts never interleave.
  Other writers (reservations, receipts) are not serialized with POS: the batch reads stock
  without locks and applies deltas through ``buckets`` (conditional); if one no longer fits
  it reads again and recomputes (3 attempts, then 409 ``concurrent_change``).
"""

from __future__ import annotations

import bisect
from collections import defaultdict
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Any

from django.conf import settings
from django.db import connection, transaction
from django.db.models import Q
from django.utils import timezone

from o2o.catalog.models import Sku
from o2o.common.errors import ApiError, Conflict, InvalidInput, NotFound
from o2o.inventory import buckets
from o2o.inventory.ledger import Entry, Who, record
from o2o.inventory.models import (
    CountMark,
    Movement,
    MovementKind,
    PosDevice,
    Reservation,
    ReservationLine,
    ReservationStatus,
    Stock,
)
from o2o.inventory.validation import MAX_QTY, check_location

KINDS = {"sale": MovementKind.SALE, "return": MovementKind.RETURN, "count": MovementKind.COUNT}
REASONS = {"sale": "POS 销售 sale", "return": "POS 退货 return", "count": "POS 盘点 count"}
MAX_EVENT_ID = 100
MAX_DEVICE_ID = 64
FUTURE_SLACK = timedelta(days=1)
MAX_GAP_RANGES = 1000  # missing-sequence ranges kept per device (the newest)
_ATTEMPTS = 3


class _Retry(Exception):
    """Another writer changed what the batch read; run it again."""


@dataclass(frozen=True)
class PosEvent:
    kind: str  # "sale" | "return" | "count"
    pos_event_id: str
    seq: int
    sku_id: int
    qty: int  # sale/return: units (> 0); count: the counted quantity (>= 0)
    occurred_at: datetime


@dataclass
class PosResult:
    applied: list[str] = field(default_factory=list)
    duplicates: list[str] = field(default_factory=list)
    superseded: list[str] = field(default_factory=list)
    shorted_reservations: list[int] = field(default_factory=list)
    discrepancies: list[dict[str, Any]] = field(default_factory=list)
    last_seq: int = 0
    missing_seqs: list[list[int]] = field(default_factory=list)

    def as_dict(self) -> dict[str, Any]:
        return {
            "applied": self.applied, "duplicates": self.duplicates, "superseded": self.superseded,
            "shorted_reservations": self.shorted_reservations, "discrepancies": self.discrepancies,
            "last_seq": self.last_seq, "missing_seqs": self.missing_seqs,
            "missing_count": sum(hi - lo + 1 for lo, hi in self.missing_seqs),
        }


def event_key(location_id: int, pos_event_id: str) -> str:
    return f"pos:{location_id}:{pos_event_id}"


# --- validation -----------------------------------------------------------------------------

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
            bad.append({"index": i, "pos_event_id": str(e.pos_event_id)[:MAX_EVENT_ID], "problem": problem})
        elif e.pos_event_id not in seen:
            seen[e.pos_event_id] = e
            unique.append(e)
    if bad:
        raise InvalidInput("POS 事件有误 Invalid POS events", code="invalid_events", details={"events": bad[:50]})
    return unique


def _problem(e: PosEvent, now: datetime) -> str | None:
    if e.kind not in KINDS:
        return "kind must be sale, return or count"
    if not isinstance(e.pos_event_id, str) or not 0 < len(e.pos_event_id) <= MAX_EVENT_ID:
        return f"pos_event_id must be 1-{MAX_EVENT_ID} characters"
    if type(e.seq) is not int or not 0 < e.seq < 2**62:
        return "seq must be a positive integer"
    if type(e.qty) is not int or type(e.sku_id) is not int:
        return "sku_id and qty must be integers"
    low = 0 if e.kind == "count" else 1
    if not low <= e.qty <= MAX_QTY:
        return "qty must be positive (a count: zero or more)"
    if not isinstance(e.occurred_at, datetime) or timezone.is_naive(e.occurred_at):
        return "occurred_at must be an aware datetime"
    if e.occurred_at > now + FUTURE_SLACK:
        return "occurred_at is in the future"
    return None


def _check_skus(events: list[PosEvent]) -> None:
    # Inactive SKUs are accepted: a till may sell off a product that is no longer listed online.
    ids = {e.sku_id for e in events}
    known = set(Sku.objects.filter(pk__in=ids).values_list("pk", flat=True))
    unknown = sorted(ids - known)
    if unknown:
        raise NotFound("SKU 不存在 Unknown SKU", code="unknown_sku", details={"sku_ids": unknown})


# --- sequence numbers ---------------------------------------------------------------------

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


# --- the batch ----------------------------------------------------------------------------

@dataclass
class _Item:
    on_hand: int
    reserved: int
    mark: datetime | None
    later: list[tuple[datetime, int]] = field(default_factory=list)  # movements after the first count


@dataclass
class _Candidate:
    id: int
    reference: str
    lines: list[tuple[int, int]]  # (sku_id, qty)


class _Batch:
    """Works out the movements and per-item deltas of the new events of one batch."""

    def __init__(self, location_id: int, events: list[PosEvent], who: Who, now: datetime) -> None:
        self.loc, self.events, self.who, self.now = location_id, events, who, now
        self.entries: list[Entry] = []
        self.deltas: dict[int, list[int]] = defaultdict(lambda: [0, 0])  # sku -> [on_hand, reserved]
        self.marks: dict[int, datetime] = {}  # count marks to write
        self.shorted: dict[int, _Candidate] = {}
        self.candidates: dict[int, list[_Candidate]] = {}
        self.result = PosResult()

    def load(self) -> dict[int, _Item]:
        skus = sorted({e.sku_id for e in self.events})
        totals: dict[int, list[int]] = {s: [0, 0] for s in skus}
        for sku_id, on_hand, reserved in Stock.objects.filter(location_id=self.loc, sku_id__in=skus).values_list(
                "sku_id", "on_hand", "reserved"):
            totals[sku_id][0] += on_hand
            totals[sku_id][1] += reserved
        marks = dict(CountMark.objects.filter(location_id=self.loc, sku_id__in=skus).values_list("sku_id", "counted_at"))
        items = {s: _Item(totals[s][0], totals[s][1], marks.get(s)) for s in skus}
        first_count: dict[int, datetime] = {}
        for e in self.events:
            if e.kind == "count" and (items[e.sku_id].mark is None or e.occurred_at > items[e.sku_id].mark):
                first_count[e.sku_id] = min(first_count.get(e.sku_id, e.occurred_at), e.occurred_at)
        if first_count:
            cond = Q()
            for sku_id, t in first_count.items():
                cond |= Q(sku_id=sku_id, occurred_at__gt=t)
            rows = (Movement.objects.filter(cond, location_id=self.loc).exclude(delta_on_hand=0)
                    .values_list("sku_id", "occurred_at", "delta_on_hand"))
            for sku_id, at, delta in rows:
                items[sku_id].later.append((at, delta))
        return items

    def run(self) -> None:
        items = self.load()
        for e in sorted(self.events, key=lambda ev: (ev.occurred_at, ev.seq)):
            item = items[e.sku_id]
            if e.kind == "count":
                self._count(e, item, items)
            else:
                self._sale_or_return(e, item, items)
            self.result.applied.append(e.pos_event_id)

    def _entry(self, e: PosEvent, delta: int, details: dict[str, Any]) -> None:
        self.entries.append(Entry(self.loc, e.sku_id, KINDS[e.kind], e.qty, delta_on_hand=delta,
                                  key=event_key(self.loc, e.pos_event_id), reference=e.pos_event_id[:100],
                                  reason=REASONS[e.kind], details=details, occurred_at=e.occurred_at))
        if delta:
            self.deltas[e.sku_id][0] += delta
        if "discrepancy" in details:
            self.result.discrepancies.append({"pos_event_id": e.pos_event_id, "sku_id": e.sku_id,
                                              "missing": details["discrepancy"]})
        if "superseded_by_count" in details:
            self.result.superseded.append(e.pos_event_id)

    def _sale_or_return(self, e: PosEvent, item: _Item, items: dict[int, _Item]) -> None:
        if item.mark is not None and e.occurred_at < item.mark:
            self._entry(e, 0, {"superseded_by_count": item.mark.isoformat()})
            return
        if e.kind == "return":
            item.on_hand += e.qty
            self._entry(e, e.qty, {})
            return
        details: dict[str, Any] = {}
        short_by = e.qty - (item.on_hand - item.reserved)
        if short_by > 0:
            ids = self._short(e.sku_id, short_by, items)
            if ids:
                details["shorted_reservations"] = ids
        take = min(e.qty, max(0, item.on_hand - item.reserved))
        if take < e.qty:
            details["discrepancy"] = e.qty - take
        item.on_hand -= take
        self._entry(e, -take, details)

    def _count(self, e: PosEvent, item: _Item, items: dict[int, _Item]) -> None:
        if item.mark is not None and e.occurred_at <= item.mark:
            self._entry(e, 0, {"superseded_by_count": item.mark.isoformat()})
            return
        target = e.qty + sum(d for at, d in item.later if at > e.occurred_at)
        missing = max(0, -target)
        target = max(0, target)
        details: dict[str, Any] = {}
        if target < item.reserved:
            ids = self._short(e.sku_id, item.reserved - target, items)
            if ids:
                details["shorted_reservations"] = ids
        if target < item.reserved:  # reserved stock that no active reservation explains
            missing += item.reserved - target
            target = item.reserved
        if missing:
            details["discrepancy"] = missing
        adjustment = target - item.on_hand
        item.on_hand = target
        item.mark = e.occurred_at
        self.marks[e.sku_id] = e.occurred_at
        self._entry(e, adjustment, details)

    def _short(self, sku_id: int, need: int, items: dict[int, _Item]) -> list[int]:
        """Short the newest active reservations holding ``sku_id`` until ``need`` is freed."""
        ids: list[int] = []
        for cand in self._candidates(sku_id):
            if need <= 0:
                break
            if cand.id in self.shorted:
                continue
            self.shorted[cand.id] = cand
            ids.append(cand.id)
            for line_sku, qty in cand.lines:
                if line_sku == sku_id:
                    need -= qty
                if line_sku in items:
                    items[line_sku].reserved -= qty
                self.deltas[line_sku][1] -= qty
                self.entries.append(Entry(
                    self.loc, line_sku, MovementKind.RELEASE, qty, delta_reserved=-qty,
                    key=f"reservation:{cand.id}:{ReservationStatus.SHORTED}:{line_sku}",
                    reason="POS 销售超出可用库存 sold at the till", reference=cand.reference,
                    reservation_id=cand.id, occurred_at=self.now))
        self.result.shorted_reservations.extend(ids)
        return ids

    def _candidates(self, sku_id: int) -> list[_Candidate]:
        """Active reservations with a line of ``sku_id``: overdue first, then newest first.

        Reservations another transaction holds (being released, fulfilled or expired right
        now) are skipped on PostgreSQL instead of waited for.
        """
        if sku_id not in self.candidates:
            qs = Reservation.objects.filter(location_id=self.loc, status=ReservationStatus.ACTIVE,
                                            lines__sku_id=sku_id)
            if connection.vendor == "postgresql":
                qs = qs.select_for_update(skip_locked=True, of=("self",))
            rows = list(qs.values_list("pk", "reference", "created_at", "expires_at"))
            lines: dict[int, list[tuple[int, int]]] = defaultdict(list)
            for res_id, line_sku, qty in ReservationLine.objects.filter(
                    reservation_id__in=[r[0] for r in rows]).order_by("sku_id").values_list(
                    "reservation_id", "sku_id", "qty"):
                lines[res_id].append((line_sku, qty))
            overdue = [r for r in rows if r[3] <= self.now]
            current = sorted((r for r in rows if r[3] > self.now), key=lambda r: (r[2], r[0]), reverse=True)
            self.candidates[sku_id] = [_Candidate(r[0], r[1], lines[r[0]]) for r in overdue + current]
        return self.candidates[sku_id]

    def write(self) -> None:
        record(self.entries, self.who)
        if self.shorted:
            done = Reservation.objects.filter(pk__in=list(self.shorted), status=ReservationStatus.ACTIVE).update(
                status=ReservationStatus.SHORTED, closed_at=self.now)
            if done != len(self.shorted):
                raise _Retry
        if self.marks:
            CountMark.objects.bulk_create(
                [CountMark(location_id=self.loc, sku_id=s, counted_at=t) for s, t in sorted(self.marks.items())],
                update_conflicts=True, unique_fields=["location", "sku"], update_fields=["counted_at"])
        apply_changes(self.loc, {s: (d[0], d[1]) for s, d in self.deltas.items()})


def apply_changes(location_id: int, changes: dict[int, tuple[int, int]]) -> None:
    """Apply aggregated (on_hand, reserved) deltas per SKU, set-based, through ``buckets``."""
    buckets.apply_many(location_id=location_id, changes={s: d for s, d in changes.items() if d != (0, 0)})


def _lock_devices(location_id: int, device_id: str) -> PosDevice:
    """Lock every till of the location (key order); return this one."""
    qs = PosDevice.objects.filter(location_id=location_id).order_by("pk")
    if connection.vendor == "postgresql":
        qs = qs.select_for_update(no_key=True)
    for dev in qs:
        if dev.device_id == device_id:
            return dev
    raise Conflict("POS 设备状态异常 POS device vanished", code="device_missing")  # pragma: no cover


def pos_ingest(*, location_id: int, device_id: str, events: list[PosEvent], who: Who,
               now: datetime | None = None) -> PosResult:
    """Apply a batch of POS events (see the module docstring); all or nothing."""
    now = now or timezone.now()
    if not isinstance(device_id, str) or not 0 < len(device_id) <= MAX_DEVICE_ID:
        raise InvalidInput(f"设备编号无效 device_id must be 1-{MAX_DEVICE_ID} characters", code="invalid_device")
    unique = check_events(events, now)
    check_location(location_id)
    _check_skus(unique)
    # Outside the batch's transaction (when the caller has none) so the row is committed and
    # every later batch of the location locks it too.
    PosDevice.objects.get_or_create(location_id=location_id, device_id=device_id)
    for attempt in range(_ATTEMPTS):
        try:
            with transaction.atomic():
                result = _ingest(location_id, device_id, unique, who, now)
            if len(unique) != len(events):  # exact repeats inside the batch are duplicates too
                seen: set[str] = set()
                for e in events:
                    if e.pos_event_id in seen:
                        result.duplicates.append(e.pos_event_id)
                    seen.add(e.pos_event_id)
            return result
        except (buckets.CannotApply, _Retry) as exc:
            # Another writer changed an item between our read and our write: read again.
            if attempt == _ATTEMPTS - 1:
                raise Conflict("库存并发变化，请重试 Stock changed concurrently; retry",
                               code="concurrent_change") from exc
    raise AssertionError("unreachable")  # pragma: no cover


def _ingest(location_id: int, device_id: str, events: list[PosEvent], who: Who, now: datetime) -> PosResult:
    dev = _lock_devices(location_id, device_id)
    keys = [event_key(location_id, e.pos_event_id) for e in events]
    existing = set(Movement.objects.filter(idempotency_key__in=keys).values_list("idempotency_key", flat=True))
    new = [e for e, k in zip(events, keys, strict=True) if k not in existing]
    batch = _Batch(location_id, new, who, now)
    if new:
        batch.run()
        batch.write()
    result = batch.result
    result.duplicates = [e.pos_event_id for e, k in zip(events, keys, strict=True) if k in existing]
    result.last_seq, result.missing_seqs = merge_seqs(dev.last_seq, dev.missing_seqs or [], {e.seq for e in events})
    PosDevice.objects.filter(pk=dev.pk).update(last_seq=result.last_seq, missing_seqs=result.missing_seqs,
                                                last_seen_at=now)
    return result
