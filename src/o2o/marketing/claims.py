"""Issuing coupons: claimed online, handed out by store staff, automatic, or to members near a store.

Every issue is one transaction and the database holds the limits (see ``models``):

1. the template is read and checked (active, claim window, who may issue it, the member's tier);
2. the coupon row takes the member's next ``slot`` inside a savepoint: a parallel claim by the same
   member that took the slot first makes the insert fail (UNIQUE), and a slot past the template's
   ``member_limit`` fails the CHECK, so the per-member limit holds without any lock;
3. a campaign with a ``points_price`` (积分兑换: goods or a local service for points) takes the member's points
   (``members.points.points_spend``, the points-account lock; not enough points: 409 and nothing issued);
4. last, the budget: ``UPDATE template SET issued = issued + 1 WHERE issued < budget``. It is the
   only statement that touches the shared row, and it runs just before the commit, so a hot
   campaign's row is locked for as short a time as possible. No row updated: sold out, and the
   whole transaction (the coupon with it) rolls back.
"""

from __future__ import annotations

from datetime import datetime, timedelta

from django.db import IntegrityError, transaction
from django.db.models import F, Q
from django.utils import timezone

from o2o.accounts.models import Member
from o2o.common.errors import Conflict, Forbidden, NotFound
from o2o.marketing import codes
from o2o.marketing.models import (
    Coupon,
    CouponEvent,
    CouponEventKind,
    CouponSource,
    CouponTemplate,
    TemplateStatus,
)
from o2o.members.points import points_spend
from o2o.members.tiers import current_tier

_ATTEMPTS = 4


def exchange_ref(coupon_id: int) -> str:
    """The points spend of a coupon bought with points (积分兑换)."""
    return f"exchange:coupon:{coupon_id}"


def template_get(template_id: int) -> CouponTemplate:
    t = CouponTemplate.objects.filter(pk=template_id).first() if isinstance(template_id, int) else None
    if t is None:
        raise NotFound("优惠券不存在 Unknown coupon campaign", code="unknown_coupon_template",
                       details={"template_id": template_id})
    return t


def validity(t: CouponTemplate, now: datetime) -> tuple[datetime, datetime]:
    if t.valid_days:
        return now, now + timedelta(days=t.valid_days)
    assert t.valid_from is not None and t.valid_until is not None  # the CHECK says so
    return t.valid_from, t.valid_until


def _check_template(t: CouponTemplate, source: str, now: datetime) -> None:
    details = {"template_id": t.pk}
    if t.status != TemplateStatus.ACTIVE:
        raise Conflict("活动未进行 This campaign is not running", code="coupon_campaign_inactive",
                       details={**details, "status": t.status})
    if source == CouponSource.CLAIM and not t.claimable:
        raise Forbidden("该券不可自行领取 This coupon cannot be claimed", code="coupon_not_claimable", details=details)
    if source == CouponSource.STAFF and not t.staff_issuable:
        raise Forbidden("该券不可由门店发放 Stores cannot hand out this coupon", code="coupon_not_staff_issuable",
                        details=details)
    if t.claim_starts_at and now < t.claim_starts_at:
        raise Conflict("尚未开始领取 Claiming has not started", code="coupon_claim_not_started",
                       details={**details, "claim_starts_at": t.claim_starts_at.isoformat()})
    if t.claim_ends_at and now >= t.claim_ends_at:
        raise Conflict("领取已结束 Claiming has ended", code="coupon_claim_ended", details=details)
    if validity(t, now)[1] <= now:
        raise Conflict("券已过期 The coupons of this campaign have expired", code="coupon_campaign_expired",
                       details=details)


def _check_member(t: CouponTemplate, member: Member) -> None:
    if not member.is_active:
        raise Conflict("会员已停用 This member is not active", code="member_inactive", details={"member_id": member.pk})
    if t.tiers and current_tier(member.pk).value not in t.tiers:
        raise Forbidden("会员等级不符 This coupon is for other member tiers", code="coupon_tier_required",
                        details={"template_id": t.pk, "tiers": list(t.tiers)})


def coupon_issue(*, template_id: int, member: Member, source: str, now: datetime | None = None,
                 by_user_id: int | None = None, store_id: int | None = None) -> Coupon:
    """Issue one coupon of the template to the member (409 when sold out or over the member's limit)."""
    now = now or timezone.now()
    t = template_get(template_id)
    _check_template(t, source, now)
    _check_member(t, member)
    start, until = validity(t, now)
    with transaction.atomic():
        coupon = _take_slot(t, member, source=source, now=now, start=start, until=until, by_user_id=by_user_id,
                            store_id=store_id)
        CouponEvent.objects.create(coupon=coupon, kind=CouponEventKind.ISSUED, at=now, user_id=by_user_id,
                                   store_id=store_id, note=source)
        if t.points_price and source == CouponSource.CLAIM:
            # 积分兑换: the member pays in points, in this transaction (409 insufficient_points: no coupon).
            points_spend(member.pk, t.points_price, exchange_ref(coupon.pk), now)
        taken = CouponTemplate.objects.filter(pk=t.pk, status=TemplateStatus.ACTIVE).filter(
            Q(budget__isnull=True) | Q(issued__lt=F("budget"))).update(issued=F("issued") + 1)
        if taken == 0:
            raise Conflict("券已领完 All coupons of this campaign are gone", code="coupon_sold_out",
                           details={"template_id": t.pk})
    return coupon


def _take_slot(t: CouponTemplate, member: Member, *, source: str, now: datetime, start: datetime, until: datetime,
               by_user_id: int | None, store_id: int | None) -> Coupon:
    for _ in range(_ATTEMPTS):
        slot = Coupon.objects.filter(template=t, member=member).count() + 1
        if slot > t.member_limit:
            break
        try:
            with transaction.atomic():
                return Coupon.objects.create(
                    template=t, member=member, slot=slot, member_limit=t.member_limit, code=codes.new_code(),
                    source=source, issued_at=now, valid_from=start, valid_until=until, issued_by_id=by_user_id,
                    issued_at_store_id=store_id)
        except IntegrityError:
            continue  # a parallel claim by this member took the slot (or, once in 10^15, the code): count again
    raise Conflict("已达领取上限 You already hold the most coupons of this campaign", code="coupon_limit_reached",
                   details={"template_id": t.pk, "member_limit": t.member_limit})
