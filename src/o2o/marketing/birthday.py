"""A member's birthday (``MemberReach.birthday``), which the birthday coupons (``marketing.auto``) read.

* The member sets it once (``birthday_set``): a conditional UPDATE ``WHERE birthday IS NULL`` on the
  member's one ``MemberReach`` row, so two parallel first settings cannot both win and a set birthday is
  never overwritten; setting the same date again is a no-op, another date is 409 ``birthday_locked``
  (otherwise a member could move the date around the calendar for a birthday coupon every month).
* Customer service or HQ change it afterwards (``birthday_change``), with a reason, logged in
  ``PiiAccessLog`` (field ``birthday``, action ``change``: who, whose, why, when).

A birthday is personal data: the member's export carries it and erasure deletes it with the member's
places (``marketing.privacy``). Dates are plain dates (no time zone); the year is kept (the auto-issue
reads the month and day only, 29 February counting as the 28th in other years).
"""

from __future__ import annotations

from datetime import date, datetime

from django.db import transaction
from django.utils import timezone

from o2o.accounts.models import Member, PiiAccessLog
from o2o.common.errors import Conflict, InvalidInput, NotFound
from o2o.core.loyalty import CHINA_TZ
from o2o.marketing.models import MemberReach

EARLIEST = date(1900, 1, 1)


def birthday_get(member_id: int) -> date | None:
    return MemberReach.objects.filter(member_id=member_id).values_list("birthday", flat=True).first()


def _checked(day: object, now: datetime) -> date:
    today = now.astimezone(CHINA_TZ).date()
    if not isinstance(day, date) or isinstance(day, datetime) or not EARLIEST <= day <= today:
        raise InvalidInput("生日应为 1900-01-01 至今天之间的日期 The birthday must be a date from 1900-01-01 to today",
                           code="invalid_birthday", details={"birthday": str(day), "latest": today.isoformat()})
    return day


def _member(member_id: int) -> Member:
    member = Member.objects.filter(pk=member_id, is_active=True).first()
    if member is None:
        raise NotFound("会员不存在 Unknown member", code="unknown_member", details={"member_id": member_id})
    return member


def birthday_set(member_id: int, day: object, now: datetime | None = None) -> date:
    """The member's own setting, once: the stored date (the same date again is a no-op)."""
    day = _checked(day, now or timezone.now())
    _member(member_id)
    with transaction.atomic():
        MemberReach.objects.get_or_create(member_id=member_id)
        if MemberReach.objects.filter(member_id=member_id, birthday__isnull=True).update(
                birthday=day, birthday_set_at=now or timezone.now()):
            return day
        current = birthday_get(member_id)
    if current == day:
        return day
    raise Conflict("生日已设置，如需修改请联系客服 Your birthday is already set; customer service can change it",
                   code="birthday_locked", details={"birthday": current.isoformat() if current else None})


def birthday_change(member_id: int, day: object, *, by_user_id: int, reason: str,
                    now: datetime | None = None) -> date:
    """Customer service / HQ: set or correct a member's birthday, with the reason logged."""
    day = _checked(day, now or timezone.now())
    reason = (reason or "").strip()
    if len(reason) < 2:
        raise InvalidInput("请填写修改原因 A reason is required", code="reason_required", details={"reason": reason})
    member = _member(member_id)
    with transaction.atomic():
        MemberReach.objects.update_or_create(member_id=member.pk, defaults={
            "birthday": day, "birthday_set_at": now or timezone.now()})
        PiiAccessLog.objects.create(user_id=by_user_id, member=member, field="birthday", action="change",
                                    reason=reason[:200])
    return day
