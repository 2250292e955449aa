"""Finding a member at the counter (staff with ``order.view``): by phone, by member code (会员码) or POS card.

* phone: the blind index (``accounts.pii_services.members_by_phone``: nothing decrypted), then only
  the members this staff user may see (``selectors.members_for_staff``: HQ all, store and region
  staff the members who shop at or are served by one of their locations);
* card: the ``pos_card`` identity's blind index (``accounts.identities.identity_key``), same rule;
* code: a live member code means the member is standing at the counter showing it, so ANY staff
  user with ``order.view`` may see them (that is what showing the code is for).

Nothing visible: 404 (``unknown_member``, or ``unknown_member_code`` for a code), never a hint that
someone exists elsewhere. A malformed phone, card or code is 422. Every member found is written to
``PiiAccessLog`` (action ``lookup``, field ``lookup.<phone|code|card>``, the staff user) before anything
is returned (no log, no result); the phone itself is never logged.

Every attempt, found or not, is also a ``LookupAttempt`` row (user, way, members found, time; never the
value). A staff user whose look-ups found nobody ``O2O["MEMBER_LOOKUP_MISSES_PER_10_MIN"]`` times (default 20)
in ten minutes gets 429 ``too_many_lookups`` until the window moves on: a clerk guessing phone numbers is
stopped and leaves a trail, while a busy till scanning its customers' codes (hits) is never slowed.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta

from django.conf import settings
from django.http import HttpRequest
from django.utils import timezone

from o2o.accounts import pii
from o2o.accounts.identities import identity_key, identity_owned
from o2o.accounts.identity_rules import IdentityKind
from o2o.accounts.models import Member, PiiAccessLog
from o2o.accounts.permissions import actor_of, visible_location_ids
from o2o.accounts.pii_services import members_by_phone
from o2o.common.errors import ApiError, Forbidden, InvalidInput, NotFound
from o2o.core.access import ActorKind, Perm
from o2o.members import codes
from o2o.members.models import LookupAttempt
from o2o.members.selectors import members_for_staff

WAYS = ("phone", "code", "card")

__all__ = ["WAYS", "Found", "member_lookup", "require_staff"]


@dataclass(frozen=True)
class Found:
    way: str  # phone | code | card
    members: list[Member]
    locations: list[int] | None  # the staff user's locations for order.view (None: all)


def require_staff(request: HttpRequest) -> list[int] | None:
    """The staff user's ``order.view`` locations (None: all); members 403 ``staff_only``, others 403."""
    if actor_of(request).kind is ActorKind.MEMBER:
        raise Forbidden("仅员工可操作 Staff only", code="staff_only")
    return visible_location_ids(request, Perm.ORDER_VIEW)


def _one_way(phone: str | None, code: str | None, card: str | None) -> tuple[str, str]:
    given = [(way, value.strip()) for way, value in zip(WAYS, (phone, code, card), strict=True)
             if value is not None and value.strip()]
    if len(given) != 1:
        raise InvalidInput("请只填写手机号、会员码或会员卡号中的一项 Give exactly one of phone, code or card",
                           code="one_lookup_key", details={"given": [way for way, _ in given]})
    return given[0]


def _by_card(card: str) -> list[Member]:
    key, index = identity_key(IdentityKind.POS_CARD.value, card)
    found = identity_owned(key, index)  # one owner at most (UNIQUE kind, value_index)
    return [found.member] if found is not None and found.member.is_active else []


def misses_allowed() -> int:
    return int(settings.O2O.get("MEMBER_LOOKUP_MISSES_PER_10_MIN", 20))


def _throttle(user_id: int, now: datetime) -> None:
    misses = LookupAttempt.objects.filter(user_id=user_id, found=0, at__gt=now - timedelta(minutes=10)).count()
    if misses >= misses_allowed():
        raise ApiError("查询未命中次数过多，请稍后再试 Too many look-ups found nobody; try again in a few minutes",
                       code="too_many_lookups", status=429, details={"misses": misses, "minutes": 10})


def member_lookup(request: HttpRequest, *, phone: str | None = None, code: str | None = None,
                  card: str | None = None, source: str = "api", now: datetime | None = None) -> Found:
    """The members found one way (exactly one of ``phone``, ``code``, ``card``), logged; see the module doc."""
    locations = require_staff(request)
    way, value = _one_way(phone, code, card)
    user_id = actor_of(request).id
    at = now or timezone.now()
    _throttle(user_id, at)
    try:
        if way == "code":
            members = [codes.code_member(value, now=now)]
        elif way == "phone":
            members = members_for_staff(request, members_by_phone(pii.normalize_phone(value)))  # 422 masked
        else:
            members = members_for_staff(request, _by_card(value))
    except NotFound:
        LookupAttempt.objects.create(user_id=user_id, way=way, found=0, at=at)
        raise
    LookupAttempt.objects.create(user_id=user_id, way=way, found=len(members), at=at)
    if not members:
        raise NotFound("会员不存在 Unknown member", code="unknown_member", details={"by": way})
    PiiAccessLog.objects.bulk_create([
        PiiAccessLog(user_id=user_id, member=m, field=f"lookup.{way}", action="lookup",
                     reason=f"会员查询 member look-up by {way} ({source})"[:200]) for m in members])
    return Found(way=way, members=members, locations=locations)
