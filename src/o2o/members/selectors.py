"""Reading points: a member's account as the API shows it, and which members a staff user may see.

A staff user with ``order.view`` sees (``member_for_staff``, ``served_at``): at HQ every member; in a
store or region the members who shop at or are served by one of their locations, that is who have
an order there (online pickup or POS sale: ``Order.store``; POS sales are orders with the till's
store) or a shipment from there (delivery or express, even with no ``Order.store``; a shipment
re-routed away does not count, as for the order list). One EXISTS query per rule.
"""

from __future__ import annotations

from datetime import datetime

from django.db.models import Exists, OuterRef, Q
from django.http import HttpRequest
from django.utils import timezone

from o2o.accounts.models import Member
from o2o.accounts.permissions import visible_location_ids
from o2o.common.errors import NotFound
from o2o.core.access import Perm
from o2o.members.models import PointsAccount, PointsEntry, PointsLot
from o2o.orders.models import Order, Shipment
from o2o.orders.selectors import STORE_VISIBLE

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


def served_at(locations: list[int]) -> Q:
    """A filter on ``Member``: has an order at one of ``locations`` or a live shipment from one of them."""
    ordered = Order.objects.filter(member_id=OuterRef("pk"), store_id__in=locations)
    shipped = Shipment.objects.filter(order__member_id=OuterRef("pk"), location_id__in=locations,
                                      status__in=STORE_VISIBLE)
    return Q(Exists(ordered)) | Q(Exists(shipped))


def members_for_staff(request: HttpRequest, members: list[Member]) -> list[Member]:
    """Those of ``members`` this staff user may see (order kept); 403 without ``order.view``."""
    locations = visible_location_ids(request, Perm.ORDER_VIEW)
    if locations is None or not members:
        return list(members)
    seen = set(Member.objects.filter(served_at(locations), pk__in=[m.pk for m in members]).values_list("pk", flat=True))
    return [m for m in members if m.pk in seen]


def member_for_staff(request: HttpRequest, member_id: int) -> Member:
    """The member if this staff member may see them: HQ (all), else a member who shops at or is served by one
    of the staff member's locations (``served_at``, ``order.view``). 403 without the permission, 404 otherwise."""
    locations = visible_location_ids(request, Perm.ORDER_VIEW)
    qs = Member.objects.filter(pk=member_id)
    if locations is not None:
        qs = qs.filter(served_at(locations))
    member = qs.first()
    if member is None:
        raise NotFound("会员不存在 Unknown member", code="unknown_member", details={"member_id": member_id})
    return member
