"""POS sync: a store's tills send batches of sales, returns and stock counts.

* **Idempotent per event**: each event is one ledger row keyed ``pos:{location_id}:{pos_event_id}``;
  events already in the ledger are skipped and reported as duplicates.
* **Order-independent**: sales and returns are deltas and commute. A count is absolute at its
  ``occurred_at``: ``adjustment = counted - (on_hand - Σ delta_on_hand of the item's movements
  after occurred_at)``. ``CountMark`` keeps the newest count per item; a sale or return older
  than it (and a count not newer than it) is already in that count: it is recorded with
  ``delta_on_hand = 0`` and ``details.superseded_by_count``.
* **Clock skew**: an event more than ``CLOCK_SKEW`` (5 min) ahead of the server is refused
  (422); one within it is taken as having happened when the batch was received -- it cannot
  have happened later -- (ledger ``occurred_at`` and count mark; the till's own stamp is kept
  in ``details.till_occurred_at``). Events before 2000 are refused too (see ``pos_events``).
* **The till is right**: a sale never drives on hand negative. It takes free stock first, then
  shorts active reservations of the item -- overdue ones first, then the newest -- whole
  (status ``shorted``, release movements for all their lines); if on hand is still short it
  applies what exists and records ``details.discrepancy``. A count below reserved does the same.
* **Set-based**: a batch costs a fixed number of queries whatever its size: existing keys, the
  stock row locks, stock totals, count marks, (for counts) later movements, one bulk INSERT of
  movements, the stock changes aggregated per item in SKU order, the count marks upsert, the
  device update.
* **Serialized per location**: a batch locks all of the location's ``PosDevice`` rows in key
  order. A new till's row is committed before the batch's transaction (when the caller has
  none), so two tills of one store always share a lock and their counts never interleave; a
  batch that then fails leaves that (empty) row behind, which is harmless. A location has at
  most ``MAX_DEVICES_PER_LOCATION`` tills (422 ``too_many_devices`` beyond).
* **Decided on current figures**: other writers (reservations, receipts) are not serialized
  with POS, so after the device rows the batch locks the items' stock rows (PostgreSQL,
  ``FOR UPDATE`` in (sku_id, id) order, the global order of ``buckets``) and then reads them
  with a fresh statement (a READ COMMITTED ``FOR UPDATE`` returns only rows of its own
  snapshot, so a row committed meanwhile would be missed). Reservations to short are taken
  with ``FOR UPDATE SKIP LOCKED``: a reservation being closed holds its row and then wants the
  stock rows the batch holds, so the batch never waits for it. When such a locked
  reservation is needed (the stock it holds must be freed), the batch does not decide around
  it: it rolls back, backs off (20-50 ms times the attempt) and runs again. A shorted
  reservation's other lines whose SKU sorts before the batch's items are locked with them on
  the next run, keeping the key order. Lock order: device rows, stock rows, reservation rows
  (never waited for); a reservation close takes its row, then stock rows: no cycle.
  After ``_ATTEMPTS`` runs: 409 ``concurrent_change``.
"""

from __future__ import annotations

import random
import time
from collections import defaultdict
from dataclasses import dataclass, field, replace
from datetime import datetime
from typing import Any

from django.db import connection, transaction
from django.db.models import Q
from django.utils import timezone

from o2o.catalog.models import Sku
from o2o.common.errors import Conflict, InvalidInput, NotFound
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
from o2o.inventory.pos_events import (
    CLOCK_SKEW,
    MAX_DEVICE_ID,
    MAX_EVENT_ID,
    PosEvent,
    check_device_id,
    check_events,
    event_key,
    merge_seqs,
)
from o2o.inventory.signals import send_reservation_shorted
from o2o.inventory.validation import check_location

__all__ = ["CLOCK_SKEW", "MAX_DEVICES_PER_LOCATION", "MAX_DEVICE_ID", "MAX_EVENT_ID", "PosEvent", "PosResult",
           "event_key", "merge_seqs", "pos_ingest"]

KINDS = {"sale": MovementKind.SALE, "return": MovementKind.RETURN, "count": MovementKind.COUNT}
REASONS = {"sale": "POS 销售 sale", "return": "POS 退货 return", "count": "POS 盘点 count"}
MAX_DEVICES_PER_LOCATION = 64
_ATTEMPTS = 5


class _Retry(Exception):
    """The batch cannot be decided as read (a reservation it needs is being closed, or stock
    rows must be locked in another order); roll back and run it again."""

    def __init__(self, lock_skus: set[int] | None = None) -> None:
        super().__init__("retry")
        self.lock_skus = frozenset(lock_skus or ())


def _backoff(attempt: int) -> None:
    """Let the transaction that holds what the batch needs finish (outside any transaction)."""
    time.sleep(random.uniform(0.02, 0.05) * (attempt + 1))


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


# --- validation -----------------------------------------------------------------------------

def _check_skus(events: list[PosEvent]) -> None:
    # Inactive SKUs are accepted: a till may sell off a product that is no longer listed online.
    ids = {e.sku_id for e in events}
    known = set(Sku.objects.filter(pk__in=ids).values_list("pk", flat=True))
    unknown = sorted(ids - known)
    if unknown:
        raise NotFound("SKU 不存在 Unknown SKU", code="unknown_sku", details={"sku_ids": unknown})


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

    def __init__(self, location_id: int, events: list[PosEvent], who: Who, now: datetime,
                 lock_skus: frozenset[int] = frozenset()) -> None:
        self.loc, self.who, self.now = location_id, who, now
        # An event cannot have happened after the batch was received (see CLOCK_SKEW).
        self.events = [replace(e, occurred_at=now) if e.occurred_at > now else e for e in events]
        self.till_stamp = {e.pos_event_id: e.occurred_at.isoformat() for e in events if e.occurred_at > now}
        self.lock_skus = lock_skus  # other SKUs to lock with the batch's (from an earlier run)
        self.top = 0  # the highest SKU whose stock rows the batch locked first
        self.entries: list[Entry] = []
        self.deltas: dict[int, list[int]] = defaultdict(lambda: [0, 0])  # sku -> [on_hand, reserved]
        self.marks: dict[int, datetime] = {}  # count marks to write
        self.shorted: dict[int, _Candidate] = {}
        self.candidates: dict[int, list[_Candidate]] = {}
        self.result = PosResult()

    def load(self) -> dict[int, _Item]:
        skus = sorted({e.sku_id for e in self.events} | self.lock_skus)
        self.top = skus[-1]
        self.loaded = set(skus)
        rows = Stock.objects.filter(location_id=self.loc, sku_id__in=skus)
        locked: set[int] | None = None
        if connection.vendor == "postgresql":
            # Lock in the global (sku_id, id) order, then read with a fresh statement: this
            # FOR UPDATE returns only rows of its own snapshot (a bucket committed meanwhile
            # would be missed); the rows it locked cannot change until we commit.
            locked = set(rows.select_for_update().order_by("sku_id", "pk").values_list("pk", flat=True))
        totals: dict[int, list[int]] = {s: [0, 0] for s in skus}
        self.rows = list(rows.values_list("pk", "sku_id", "on_hand", "reserved"))
        for pk, sku_id, on_hand, reserved in self.rows:
            if locked is not None and pk not in locked:
                raise _Retry  # a row appeared after the lock (a split, a first receipt): lock it in order
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
        if e.pos_event_id in self.till_stamp:
            details["till_occurred_at"] = self.till_stamp[e.pos_event_id]
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
        self.marks[e.sku_id] = e.occurred_at  # never after ``now`` (events are capped in __init__)
        self._entry(e, adjustment, details)

    def _short(self, sku_id: int, need: int, items: dict[int, _Item]) -> list[int]:
        """Short the newest active reservations holding ``sku_id`` until ``need`` is freed."""
        ids: list[int] = []
        candidates = self._candidates(sku_id)
        for cand in candidates:
            if need <= 0:
                break
            if cand.id in self.shorted:
                continue
            early = {s for s, _ in cand.lines if s not in items and s < self.top}
            if early:  # its stock rows would be locked out of key order: lock them first next time
                raise _Retry(early)
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
        if need > 0 and items[sku_id].reserved > 0 and self._skipped(sku_id, candidates):
            raise _Retry  # a reservation holding this stock is being closed right now: wait for it
        self.result.shorted_reservations.extend(ids)
        return ids

    def _skipped(self, sku_id: int, candidates: list[_Candidate]) -> bool:
        """Whether an active reservation of ``sku_id`` was skipped because another transaction holds it."""
        if connection.vendor != "postgresql":
            return False  # SQLite: one writer at a time, nothing is ever skipped
        return (Reservation.objects.filter(location_id=self.loc, status=ReservationStatus.ACTIVE, lines__sku_id=sku_id)
                .exclude(pk__in=[c.id for c in candidates]).exists())

    def _candidates(self, sku_id: int) -> list[_Candidate]:
        """Active reservations with a line of ``sku_id``: overdue first, then newest first.

        Reservations another transaction holds (being released, fulfilled or expired right
        now) are skipped on PostgreSQL instead of waited for (their closer may be waiting for
        the stock rows this batch holds); ``_short`` retries the batch if it needed one.
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
        changes = {s: (d[0], d[1]) for s, d in self.deltas.items() if (d[0], d[1]) != (0, 0)}
        # On PostgreSQL load() locked these rows and nothing changed them since: no second read,
        # unless shorting a reservation reached a SKU that load() did not lock.
        reuse = connection.vendor == "postgresql" and self.loaded.issuperset(changes)
        buckets.apply_many(location_id=self.loc, changes=changes, locked_rows=self.rows if reuse else None)


def _ensure_device(location_id: int, device_id: str) -> None:
    """Create the till's row if it is new, within ``MAX_DEVICES_PER_LOCATION``.

    In its own transaction (when the caller has none), committed before the batch's, so that
    two new tills of one store share the device lock from their first batch on.
    """
    if PosDevice.objects.filter(location_id=location_id, device_id=device_id).exists():
        return
    with transaction.atomic():
        qs = PosDevice.objects.filter(location_id=location_id).order_by("pk")
        if connection.vendor == "postgresql":
            qs = qs.select_for_update(no_key=True)  # two new tills: the second sees the first
        known = list(qs.values_list("device_id", flat=True))
        if device_id in known:
            return
        if len(known) >= MAX_DEVICES_PER_LOCATION:
            raise InvalidInput("POS 设备过多 Too many POS devices at this location", code="too_many_devices",
                               details={"location_id": location_id, "max": MAX_DEVICES_PER_LOCATION})
        PosDevice.objects.get_or_create(location_id=location_id, device_id=device_id)


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
    check_device_id(device_id)
    unique = check_events(events, now)
    check_location(location_id)
    _check_skus(unique)
    _ensure_device(location_id, device_id)
    lock_skus: set[int] = set()
    for attempt in range(_ATTEMPTS):
        try:
            with transaction.atomic():
                result = _ingest(location_id, device_id, unique, who, now, frozenset(lock_skus))
            send_reservation_shorted(result.shorted_reservations)  # after the commit
            if len(unique) != len(events):  # exact repeats inside the batch are duplicates too
                seen: set[str] = set()
                for e in events:
                    if e.pos_event_id in seen:
                        result.duplicates.append(e.pos_event_id)
                    seen.add(e.pos_event_id)
            return result
        except (buckets.CannotApply, _Retry) as exc:
            if attempt == _ATTEMPTS - 1:
                raise Conflict("库存并发变化，请重试 Stock changed concurrently; retry",
                               code="concurrent_change") from exc
            if isinstance(exc, _Retry) and exc.lock_skus:
                lock_skus |= exc.lock_skus  # run again at once, locking those rows in key order
            else:
                _backoff(attempt)
    raise AssertionError("unreachable")  # pragma: no cover


def _ingest(location_id: int, device_id: str, events: list[PosEvent], who: Who, now: datetime,
            lock_skus: frozenset[int]) -> PosResult:
    dev = _lock_devices(location_id, device_id)
    keys = [event_key(location_id, e.pos_event_id) for e in events]
    existing = set(Movement.objects.filter(idempotency_key__in=keys).values_list("idempotency_key", flat=True))
    new = [e for e, k in zip(events, keys, strict=True) if k not in existing]
    batch = _Batch(location_id, new, who, now, lock_skus)
    if new:
        batch.run()
        batch.write()
    result = batch.result
    result.duplicates = [e.pos_event_id for e, k in zip(events, keys, strict=True) if k in existing]
    result.last_seq, result.missing_seqs = merge_seqs(dev.last_seq, dev.missing_seqs or [], {e.seq for e in events})
    PosDevice.objects.filter(pk=dev.pk).update(last_seq=result.last_seq, missing_seqs=result.missing_seqs,
                                                last_seen_at=now)
    return result
