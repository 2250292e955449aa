"""Automatic coupons (a campaign's ``auto_on``), issued by ``o2o issue-auto-coupons`` (run it daily):

* ``new_member``: members registered in the last ``NEW_MEMBER_DAYS`` days who hold none of the campaign;
* ``tier``: members whose current tier is among the campaign's ``tiers`` (a tier benefit: one each, up to
  the campaign's ``member_limit``; a member who reaches the tier later gets theirs on the next run);
* ``birthday``: members whose birthday (``MemberReach.birthday``) is today, China time, who got none of the
  campaign this calendar year (give the campaign a ``member_limit`` of the years it should run), and whose
  birthday was not set or changed in the last ``O2O["BIRTHDAY_COUPON_MIN_DAYS"]`` days (default 30;
  imported or seeded birthdays, without ``birthday_set_at``, count as settled).

Each coupon goes through ``claims.coupon_issue`` (its own transaction, the same limits as a claim); a run
twice on one day issues nothing more. Members at their limit are skipped; a sold-out campaign stops.
"""

from __future__ import annotations

import calendar
from datetime import datetime, timedelta

from django.conf import settings
from django.db.models import Q
from django.utils import timezone

from o2o.accounts.models import Member
from o2o.common.errors import ApiError
from o2o.core.loyalty import CHINA_TZ, local_day_start
from o2o.marketing.claims import coupon_issue
from o2o.marketing.models import Coupon, CouponTemplate, MemberReach, TemplateStatus
from o2o.members.models_tiers import TierState

NEW_MEMBER_DAYS = 7
_STOP = {"coupon_sold_out", "coupon_campaign_inactive", "coupon_claim_ended", "coupon_campaign_expired",
         "coupon_claim_not_started"}


def _min_days() -> int:
    return int(settings.O2O.get("BIRTHDAY_COUPON_MIN_DAYS", 30))


def _candidates(t: CouponTemplate, now: datetime) -> list[int]:
    members = Member.objects.filter(is_active=True)
    if t.auto_on == "new_member":
        ids = members.filter(created_at__gte=now - timedelta(days=NEW_MEMBER_DAYS))
        return list(ids.exclude(coupons__template=t).values_list("pk", flat=True))
    if t.auto_on == "tier":
        tiered = TierState.objects.filter(tier__in=list(t.tiers or [])).values_list("member_id", flat=True)
        return list(members.filter(pk__in=tiered).exclude(coupons__template=t).values_list("pk", flat=True))
    if t.auto_on == "birthday":
        today = now.astimezone(CHINA_TZ).date()
        year_start = local_day_start(now.astimezone(CHINA_TZ).replace(month=1, day=1))
        born_today = Q(birthday__month=today.month, birthday__day=today.day)
        if today.month == 2 and today.day == 28 and not calendar.isleap(today.year):
            born_today |= Q(birthday__month=2, birthday__day=29)  # 29 February: the 28th in other years
        # A birthday set (or changed) in the last BIRTHDAY_COUPON_MIN_DAYS days gives no coupon this year:
        # otherwise a new member could enter today's date and collect the gift at once.
        settled = Q(birthday_set_at__isnull=True) | Q(birthday_set_at__lte=now - timedelta(days=_min_days()))
        born = MemberReach.objects.filter(born_today & settled).values_list("member_id", flat=True)
        got = Coupon.objects.filter(template=t, issued_at__gte=year_start).values_list("member_id", flat=True)
        return list(members.filter(pk__in=born).exclude(pk__in=got).values_list("pk", flat=True))
    return []


def coupons_issue_auto(now: datetime | None = None) -> dict[str, dict[str, int | str | None]]:
    now = now or timezone.now()
    out: dict[str, dict[str, int | str | None]] = {}
    live = CouponTemplate.objects.filter(status=TemplateStatus.ACTIVE).exclude(auto_on="").filter(
        Q(claim_ends_at__isnull=True) | Q(claim_ends_at__gt=now)).order_by("pk")
    for t in live:
        ids = sorted(_candidates(t, now))
        row: dict[str, int | str | None] = {"issued": 0, "skipped": 0, "stopped": None}
        members = Member.objects.in_bulk(ids)
        for member_id in ids:
            try:
                coupon_issue(template_id=t.pk, member=members[member_id], source=t.auto_on, now=now)
                row["issued"] += 1  # type: ignore[operator]
            except ApiError as exc:
                if exc.code in _STOP:
                    row["stopped"] = exc.code
                    break
                row["skipped"] += 1  # type: ignore[operator]
        out[t.code] = row
    return out
