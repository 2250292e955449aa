"""A member's birthday (for the birthday coupons), mounted at ``/members`` (``o2o.marketing.birthday``).

* ``GET /members/me/birthday`` (the member): ``{birthday, locked}``.
* ``PUT /members/me/birthday`` {birthday: "YYYY-MM-DD"} (the member): once; the same date again is 200,
  another date 409 ``birthday_locked`` (customer service changes it); 422 ``invalid_birthday`` for a date
  in the future or before 1900.
* ``PUT /members/{member_id}/birthday`` {birthday, reason} (HQ staff with ``pii.reveal``: customer service,
  HQ admin): set or correct it, logged with the reason in the personal-data access log.
"""

from __future__ import annotations

from datetime import date

from django.http import HttpRequest
from ninja import Field, Router, Schema

from o2o.accounts.permissions import require
from o2o.core.access import Perm
from o2o.fulfilment.schemas import with_errors
from o2o.marketing import birthday
from o2o.orders.api.common import member_of

router = Router(tags=["members"])


class BirthdayIn(Schema):
    birthday: date = Field(description="YYYY-MM-DD, from 1900-01-01 to today (China time)")


class BirthdayChangeIn(BirthdayIn):
    reason: str = Field(max_length=200, description="why (2-200 characters); written to the access log")


class BirthdayOut(Schema):
    birthday: date | None
    locked: bool = Field(description="set: only customer service can change it now")


def _out(day: date | None) -> dict:
    return {"birthday": day, "locked": day is not None}


@router.get("/me/birthday", response=with_errors({200: BirthdayOut}), summary="My birthday (for birthday coupons)")
def my_birthday(request: HttpRequest):
    return _out(birthday.birthday_get(member_of(request).pk))


@router.put("/me/birthday", response=with_errors({200: BirthdayOut}, 409),
            summary="Set my birthday, once (customer service changes it afterwards)")
def set_my_birthday(request: HttpRequest, body: BirthdayIn):
    return _out(birthday.birthday_set(member_of(request).pk, body.birthday))


@router.put("/{int:member_id}/birthday", response=with_errors({200: BirthdayOut}),
            summary="Set or correct a member's birthday (HQ customer service, pii.reveal; logged with the reason)")
def change_birthday(request: HttpRequest, member_id: int, body: BirthdayChangeIn):
    actor = require(request, Perm.PII_REVEAL)
    return _out(birthday.birthday_change(member_id, body.birthday, by_user_id=actor.id, reason=body.reason))
