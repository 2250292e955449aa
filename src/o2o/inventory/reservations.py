"""Reservations: holds on stock for carts and unpaid orders, released on demand or at expiry.

A reservation covers one location and one or more lines; it is created whole or not at all.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass
from datetime import datetime, timedelta

from django.conf import settings
from django.db import DatabaseError, connection, transaction
from django.db.models import Q
from django.utils import timezone

from o2o.common.errors import Conflict, InvalidInput, NotFound
from o2o.inventory import buckets
from o2o.inventory.errors import InsufficientStock, shortage
from o2o.inventory.ledger import SYSTEM, Entry, Who, record
from o2o.inventory.models import MovementKind, Reservation, ReservationLine, ReservationStatus
from o2o.inventory.validation import Line, check_lines, check_location

log = logging.getLogger("o2o.inventory")


@dataclass(frozen=True)
class ReservationView:
    id: int
    location_id: int
    status: str
    reference: str
    expires_at: datetime
    lines: list[Line]

    def as_dict(self) -> dict:
        return {
            "id": self.id, "location_id": self.location_id, "status": self.status, "reference": self.reference,
            "expires_at": self.expires_at.isoformat(),
            "lines": [{"sku_id": ln.sku_id, "qty": ln.qty} for ln in self.lines],
        }


def reservation_create(*, location_id: int, lines: list[Line], who: Who, reference: str = "",
                       ttl_s: int | None = None, key_prefix: str | None = None,
                       now: datetime | None = None) -> ReservationView:
    """Reserve every line at the location, or nothing (``InsufficientStock`` names the short lines).

    Runs in the caller's transaction (wrap it in ``transaction.atomic``).
    """
    check_location(location_id)
    lines = check_lines(lines)
    ttl = settings.O2O["RESERVATION_TTL_S"] if ttl_s is None else ttl_s
    if not 1 <= ttl <= 7 * 24 * 3600:
        raise InvalidInput("预占时长应为 1 秒到 7 天 ttl_s must be between 1 s and 7 days", details={"ttl_s": ttl})
    now = now or timezone.now()
    res = Reservation.objects.create(location_id=location_id, reference=reference[:100],
                                     expires_at=now + timedelta(seconds=ttl))
    ReservationLine.objects.bulk_create([ReservationLine(reservation=res, sku_id=ln.sku_id, qty=ln.qty) for ln in lines])
    prefix = key_prefix or f"reservation:{res.pk}"
    record([Entry(location_id, ln.sku_id, MovementKind.RESERVE, ln.qty, delta_reserved=ln.qty,
                  key=f"{prefix}:reserve:{ln.sku_id}", reference=reference, reservation_id=res.pk, occurred_at=now)
            for ln in lines], who)
    # Stock rows last: their locks are then held only until commit.
    short = []
    for ln in lines:
        try:
            buckets.apply_change(location_id=location_id, sku_id=ln.sku_id, d_reserved=ln.qty)
        except buckets.CannotApply as exc:
            short.append(shortage(location_id, ln.sku_id, ln.qty, exc.totals.available))
    if short:
        raise InsufficientStock(short)
    return ReservationView(res.pk, location_id, str(res.status), res.reference, res.expires_at, lines)


def _close(res: Reservation, status: str, who: Who, reason: str, now: datetime, *, fulfil: bool = False,
           only_if: Q | None = None) -> bool:
    """Move an active reservation to ``status`` once; False if it was already closed.

    ``only_if``: a further condition of the conditional UPDATE (the expiry passes
    ``expires_at <= now``, so a hold extended meanwhile stays active); False when it fails.
    """
    cond = Q(pk=res.pk, status=ReservationStatus.ACTIVE) & (only_if if only_if is not None else Q())
    won = Reservation.objects.filter(cond).update(status=status, closed_at=now)
    if not won:
        return False
    lines = sorted(res.lines.all(), key=lambda ln: ln.sku_id)
    kind = MovementKind.FULFIL if fulfil else MovementKind.RELEASE
    record([Entry(res.location_id, ln.sku_id, kind, ln.qty, delta_reserved=-ln.qty,
                  delta_on_hand=-ln.qty if fulfil else 0, key=f"reservation:{res.pk}:{status}:{ln.sku_id}",
                  reason=reason, reference=res.reference, reservation_id=res.pk, occurred_at=now)
            for ln in lines], who)
    for ln in lines:
        try:
            buckets.apply_change(location_id=res.location_id, sku_id=ln.sku_id, d_reserved=-ln.qty,
                                 d_on_hand=-ln.qty if fulfil else 0)
        except buckets.CannotApply as exc:  # the stock no longer holds this reservation: report it
            raise Conflict("库存与预占不一致，请运行 check-inventory Stock does not hold this reservation",
                           code="stock_inconsistent",
                           details={"reservation_id": res.pk, "sku_id": ln.sku_id,
                                    "on_hand": exc.totals.on_hand, "reserved": exc.totals.reserved}) from exc
    return True


def view(res: Reservation) -> ReservationView:
    return ReservationView(res.pk, res.location_id, str(res.status), res.reference, res.expires_at,
                           [Line(ln.sku_id, ln.qty) for ln in res.lines.all()])


def _get(reservation_id: int) -> Reservation:
    res = Reservation.objects.filter(pk=reservation_id).first()
    if res is None:
        raise NotFound("预占不存在 Unknown reservation", code="unknown_reservation",
                       details={"reservation_id": reservation_id})
    return res


def _after_close(res: Reservation, won: bool, wanted: str) -> ReservationView:
    res.refresh_from_db()
    if not won and res.status != wanted:
        # Closing a closed reservation another way would lose goods or invent them: say so.
        handed_over = res.status == ReservationStatus.FULFILLED
        raise Conflict(
            "预占已出库 The reserved goods were already handed over" if handed_over
            else "预占已关闭 The reservation is no longer active",
            code="reservation_fulfilled" if handed_over else "reservation_not_active",
            details={"reservation_id": res.pk, "status": str(res.status)},
        )
    return view(res)


def reservation_release(*, reservation_id: int, who: Who, reason: str = "released on demand") -> ReservationView:
    """Release an active reservation. Releasing a released, expired or shorted one changes
    nothing (idempotent); releasing one whose goods were handed over is a 409."""
    with transaction.atomic():
        res = _get(reservation_id)
        won = _close(res, ReservationStatus.RELEASED, who, reason, timezone.now())
        res.refresh_from_db()
        if not won and res.status in (ReservationStatus.EXPIRED, ReservationStatus.SHORTED):
            return view(res)
        return _after_close(res, won, ReservationStatus.RELEASED)


def reservation_fulfil(*, reservation_id: int, who: Who, reason: str = "picked and handed over") -> ReservationView:
    """The reserved goods leave the location: on hand and reserved both go down. Fulfilling it
    again changes nothing; fulfilling a released, expired or shorted one is a 409."""
    with transaction.atomic():
        res = _get(reservation_id)
        won = _close(res, ReservationStatus.FULFILLED, who, reason, timezone.now(), fulfil=True)
        return _after_close(res, won, ReservationStatus.FULFILLED)


def reservations_release_expired(*, now: datetime | None = None, limit: int = 500) -> int:
    """Expire due reservations (the periodic job), one transaction each so that stock rows are
    locked in SKU order within every transaction. Safe to run in several processes at once.

    A reservation is picked as due by a plain SELECT; ``_expire_due`` checks again
    that it is still active and due under its row lock and in the closing UPDATE, so a hold
    extended in between (``reservation_extend``: a pickup marked ready) is left alone."""
    now = now or timezone.now()
    done = 0
    due = Reservation.objects.filter(status=ReservationStatus.ACTIVE, expires_at__lte=now).order_by("pk")
    for pk in list(due.values_list("pk", flat=True)[:limit]):
        done += _expire_due(pk, now=now)
    return done


def _expire_due(reservation_id: int, *, now: datetime) -> bool:
    """Expire one reservation if it is still active and due at ``now`` (its own transaction)."""
    still_due = Q(status=ReservationStatus.ACTIVE, expires_at__lte=now)
    with transaction.atomic():
        qs = Reservation.objects.filter(still_due, pk=reservation_id)
        if connection.vendor == "postgresql":
            qs = qs.select_for_update(skip_locked=True)
        res = qs.first()
        if res is None:
            return False
        try:
            with transaction.atomic():
                return _close(res, ReservationStatus.EXPIRED, SYSTEM, "reservation expired", now,
                              only_if=Q(expires_at__lte=now))
        except (Conflict, DatabaseError):
            # One broken reservation must not stop every other one from expiring.
            log.exception("could not expire reservation %s", reservation_id)
            return False


def reservation_extend(*, reservation_id: int, expires_at: datetime) -> bool:
    """Hold an active reservation until ``expires_at`` (a paid order waits for its pick, a ready
    pickup for its customer). Never shortens a hold; False when it is no longer active."""
    if expires_at > timezone.now() + timedelta(days=30):
        raise InvalidInput("预占最长 30 天 A hold lasts at most 30 days", details={"expires_at": expires_at.isoformat()})
    return bool(Reservation.objects.filter(pk=reservation_id, status=ReservationStatus.ACTIVE,
                                           expires_at__lt=expires_at).update(expires_at=expires_at)
                or Reservation.objects.filter(pk=reservation_id, status=ReservationStatus.ACTIVE).exists())
