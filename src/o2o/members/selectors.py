"""Reading points: a member's account as the API shows it, and who may see whose points."""

from __future__ import annotations

from datetime import datetime

from django.http import HttpRequest
from django.utils import timezone

from o2o.accounts.models import Member
from o2o.accounts.permissions import visible_location_ids
from o2o.common.errors import NotFound
from o2o.core.access import Perm
from o2o.members.models import PointsAccount, PointsEntry, PointsLot
from o2o.orders.models import Order

RECENT_ENTRIES = 50


def points_view(member_id: int, now: datetime | None = None) -> dict:
    """Balance, debt, what can be spent now, the lots with points left (soonest expiry first), last 50 entries."""
    now = now or timezone.now()
    account = PointsAccount.objects.filter(member_id=member_id).first()
    if account is None:
        return {"member_id": member_id, "balance": 0, "debt": 0, "net": 0, "available": 0, "lots": [],
                "entries": []}
    lots = list(PointsLot.objects.filter(account=account, remaining__gt=0).order_by("expires_at", "earned_at", "no"))
    valid = sum(lot.remaining for lot in lots if now < lot.expires_at)
    entries = PointsEntry.objects.filter(account=account).order_by("-pk")[:RECENT_ENTRIES]
    return {
        "member_id": member_id, "balance": account.balance, "debt": account.debt, "net": account.net,
        "available": valid - account.debt,
        "lots": [{"ref": lot.ref, "points": lot.points, "remaining": lot.remaining,
                  "earned_at": timezone.localtime(lot.earned_at), "expires_at": timezone.localtime(lot.expires_at),
                  "expired": not now < lot.expires_at} for lot in lots],
        "entries": [{"kind": e.kind, "points": e.points, "ref": e.ref, "at": timezone.localtime(e.at)}
                    for e in entries],
    }


def available_points(member_id: int, now: datetime | None = None) -> int:
    return points_view(member_id, now)["available"]


def member_for_staff(request: HttpRequest, member_id: int) -> Member:
    """The member if this staff member may see them: HQ (all), else a member with an order at one of the
    staff member's locations (``order.view``). 403 without the permission, 404 otherwise."""
    locations = visible_location_ids(request, Perm.ORDER_VIEW)
    member = Member.objects.filter(pk=member_id).first()
    if member is not None and (locations is None
                               or Order.objects.filter(member_id=member_id, store_id__in=locations).exists()):
        return member
    raise NotFound("会员不存在 Unknown member", code="unknown_member", details={"member_id": member_id})
