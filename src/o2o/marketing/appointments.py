"""Store appointments (到店预约): book, list, cancel; the API is mounted at ``/appointments`` (members only).

* ``POST /appointments`` {location_id, service, starts_at, coupon_id?, note?} (``Idempotency-Key``): 201 the
  booking. ``starts_at`` at least 30 minutes ahead and at most 90 days (422 ``appointment_too_soon`` /
  ``appointment_too_far``; a time without an offset is China time); the store must be an active store
  (404 ``unknown_location``). A voucher must be the member's own (404 ``unknown_coupon`` otherwise, so an
  id reveals nothing), usable at that store's counter now (409 ``coupon_used``, ``coupon_expired``..., 403
  ``coupon_not_valid_here``), still valid at the appointment (409 ``coupon_expires_before``) and not held
  by another live booking (409 ``coupon_reserved``: ``UNIQUE (coupon) WHERE status = 'booked'``).
* ``GET /appointments/mine``: the member's bookings, soonest first.
* ``POST /appointments/{id}/cancel``: the member's own booked appointment (404 for anyone else's; 409
  ``appointment_not_booked`` when done or cancelled); the voucher is free again.

The voucher is not used by booking: the store redeems it at the counter (核销) when the service is given.
"""

from __future__ import annotations

from datetime import datetime, timedelta
from typing import Any, Literal

from django.db import IntegrityError, transaction
from django.http import HttpRequest
from django.utils import timezone
from ninja import Field, Router, Schema

from o2o.accounts.models import Member
from o2o.common.errors import Conflict, Forbidden, InvalidInput, NotFound
from o2o.fulfilment.schemas import with_errors
from o2o.marketing.models import Coupon
from o2o.marketing.models_appointments import Appointment, AppointmentStatus
from o2o.marketing.redemption import offline_refusal
from o2o.notifications.rules import CHINA
from o2o.orders.api.common import IdemKey, Status, idempotent, member_of
from o2o.stores.models import Location, LocationKind

MIN_LEAD = timedelta(minutes=30)
MAX_AHEAD = timedelta(days=90)
_BIGINT = 2**63 - 1

router = Router(tags=["appointments"])


def _local(dt: datetime | None) -> str | None:
    return timezone.localtime(dt).isoformat() if dt is not None else None


def appointment_json(a: Appointment) -> dict[str, Any]:
    return {"id": a.pk, "location_id": a.location_id, "location_name": a.location.name, "service": a.service,
            "starts_at": _local(a.starts_at), "status": a.status, "coupon_id": a.coupon_id, "note": a.note,
            "created_at": _local(a.created_at)}


def appointment_book(*, member: Member, location_id: int, service: str, starts_at: datetime,
                     coupon_id: int | None = None, note: str = "", now: datetime | None = None) -> Appointment:
    now = now or timezone.now()
    service = " ".join((service or "").split())
    if not service:
        raise InvalidInput("请填写预约项目 Name the service", code="invalid_service")
    if timezone.is_naive(starts_at):
        starts_at = starts_at.replace(tzinfo=CHINA)
    if starts_at < now + MIN_LEAD:
        raise InvalidInput("预约时间至少在 30 分钟后 Book at least 30 minutes ahead", code="appointment_too_soon",
                           details={"starts_at": starts_at.isoformat()})
    if starts_at > now + MAX_AHEAD:
        raise InvalidInput("最多可预约 90 天内 Book at most 90 days ahead", code="appointment_too_far",
                           details={"starts_at": starts_at.isoformat()})
    location = Location.objects.filter(pk=location_id, active=True, kind=LocationKind.STORE).first()
    if location is None:
        raise NotFound("门店不存在 Unknown store", code="unknown_location", details={"location_id": location_id})
    with transaction.atomic():
        if coupon_id is not None:
            coupon = (Coupon.objects.select_for_update(of=("self",)).select_related("template")
                      .filter(pk=coupon_id, member_id=member.pk).first())
            if coupon is None:
                raise NotFound("券不存在 Unknown coupon", code="unknown_coupon", details={"coupon_id": coupon_id})
            refusal = offline_refusal(coupon, location.pk, now)
            if refusal is not None:
                err = Forbidden if refusal[0] == "coupon_not_valid_here" else Conflict
                raise err(refusal[1], code=refusal[0], details={"coupon_id": coupon_id})
            if coupon.valid_until <= starts_at:
                raise Conflict("券在预约时间前过期 The voucher expires before the appointment",
                               code="coupon_expires_before", details={"coupon_id": coupon_id,
                                                                      "valid_until": _local(coupon.valid_until)})
        try:
            with transaction.atomic():
                return Appointment.objects.create(member=member, location=location, service=service[:100],
                                                  starts_at=starts_at, coupon_id=coupon_id, note=note[:200],
                                                  created_at=now)
        except IntegrityError:
            raise Conflict("该券已用于另一个预约 The voucher backs another booking", code="coupon_reserved",
                           details={"coupon_id": coupon_id}) from None


def appointments_of(member_id: int) -> list[dict[str, Any]]:
    rows = Appointment.objects.select_related("location").filter(member_id=member_id).order_by("starts_at", "pk")
    return [appointment_json(a) for a in rows]


def appointment_cancel(*, member: Member, appointment_id: int, now: datetime | None = None) -> Appointment:
    now = now or timezone.now()
    with transaction.atomic():
        a = Appointment.objects.select_related("location").filter(pk=appointment_id, member_id=member.pk).first()
        if a is None:
            raise NotFound("预约不存在 Unknown appointment", code="unknown_appointment",
                           details={"appointment_id": appointment_id})
        if not Appointment.objects.filter(pk=a.pk, status=AppointmentStatus.BOOKED).update(
                status=AppointmentStatus.CANCELLED, cancelled_at=now):
            raise Conflict("该预约已完成或已取消 The appointment is done or cancelled", code="appointment_not_booked",
                           details={"appointment_id": a.pk, "status": a.status})
        a.status, a.cancelled_at = AppointmentStatus.CANCELLED, now
        return a


# --- API --------------------------------------------------------------------------------------

class AppointmentIn(Schema):
    location_id: int = Field(gt=0, le=_BIGINT)
    service: str = Field(min_length=1, max_length=100, description="e.g. 皮肤检测 skin check")
    starts_at: datetime = Field(description="ISO 8601; without an offset it is China time")
    coupon_id: int | None = Field(None, gt=0, le=_BIGINT, description="one of my coupons, as a service voucher")
    note: str = Field("", max_length=200)


class AppointmentOut(Schema):
    id: int
    location_id: int
    location_name: str
    service: str
    starts_at: datetime
    status: Literal["booked", "done", "cancelled"]
    coupon_id: int | None
    note: str
    created_at: datetime


@router.post("", response=with_errors({201: AppointmentOut}, 409), summary="Book a store appointment (到店预约)")
def book(request: HttpRequest, body: AppointmentIn, idempotency_key: str | None = IdemKey):
    member = member_of(request)

    def work() -> tuple[int, Any]:
        a = appointment_book(member=member, location_id=body.location_id, service=body.service,
                             starts_at=body.starts_at, coupon_id=body.coupon_id, note=body.note)
        return 201, appointment_json(a)
    return idempotent(request, "appointment.book", idempotency_key, body.dict(), work)


@router.get("/mine", response=with_errors({200: list[AppointmentOut]}), summary="My appointments")
def mine(request: HttpRequest):
    return appointments_of(member_of(request).pk)


@router.post("/{int:appointment_id}/cancel", response=with_errors({200: AppointmentOut}, 409),
             summary="Cancel my appointment")
def cancel(request: HttpRequest, appointment_id: int):
    a = appointment_cancel(member=member_of(request), appointment_id=appointment_id)
    return Status(200, appointment_json(a))
