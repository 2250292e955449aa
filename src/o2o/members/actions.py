"""Points for actions (签到 sign-in, 评价 review): a fixed number of points per action, capped per China day
(``O2O["POINTS"]["EARN_ACTIONS"]``, the core's :func:`~o2o.core.loyalty.earn_for_action`).

Each action is a lot with ref ``action:<action>:<key>``: the key makes it once per cause (sign-in: the
China date, so one sign-in a day; a review: the order line reviewed). What the action already earned today
is read under the member's points-account lock, so two sign-ins at once cannot both pass the cap.
"""

from __future__ import annotations

from datetime import datetime

from django.db import transaction
from django.db.models import Sum
from django.utils import timezone

from o2o.common.errors import Conflict
from o2o.core import loyalty as core
from o2o.core.loyalty import CHINA_TZ, local_day_start
from o2o.members.models import PointsLot
from o2o.members.points import account_lock, earn_rule, points_earn


def action_ref(action: str, key: str) -> str:
    return f"action:{action}:{key}"


def points_for_action(*, member_id: int, action: str, key: str, now: datetime | None = None) -> tuple[int, bool]:
    """(points earned, first time): 0 when the day's cap is reached; repeating ``key`` earns nothing more."""
    now = now or timezone.now()
    ref = action_ref(action, key)
    with transaction.atomic():
        account = account_lock(member_id)
        if PointsLot.objects.filter(account=account, ref=ref).exists():
            return 0, False
        today = PointsLot.objects.filter(account=account, ref__startswith=action_ref(action, ""),
                                         earned_at__gte=local_day_start(now)).aggregate(s=Sum("points"))["s"] or 0
        points = core.earn_for_action(action, today, earn_rule())
        if points > 0:
            points_earn(member_id, points, ref, now)
        return points, True


def sign_in(*, member_id: int, now: datetime | None = None) -> dict:
    """The daily sign-in: once per China day; 409 ``signed_in_today`` on a second one."""
    now = now or timezone.now()
    day = now.astimezone(CHINA_TZ).date().isoformat()
    points, first = points_for_action(member_id=member_id, action=core.Action.SIGN_IN, key=day, now=now)
    if not first:
        raise Conflict("今天已签到 Already signed in today", code="signed_in_today", details={"date": day})
    return {"date": day, "points": points}
