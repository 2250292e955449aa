"""What the group-buying API shows: live deals, a group (to anyone who may join it: no other member's
ids or orders), and a member's own places."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from django.db.models import Count, F, Q
from django.utils import timezone

from o2o.groupbuy.models import Group, GroupDeal, GroupMember, GroupStatus


def _local(at: datetime | None) -> datetime | None:
    return timezone.localtime(at) if at is not None else None


def deal_dict(d: GroupDeal, *, open_groups: int = 0) -> dict[str, Any]:
    return {"id": d.pk, "name": d.name, "name_en": d.name_en, "sku_id": d.sku_id, "sku_name": d.sku.name,
            "list_price_fen": d.sku.list_price_fen, "deal_price_fen": d.deal_price_fen, "group_size": d.group_size,
            "window_hours": d.window_hours, "starts_at": _local(d.starts_at), "ends_at": _local(d.ends_at),
            "store_id": d.store_id, "member_limit": d.member_limit, "open_groups": open_groups}


def live_deals(now: datetime | None = None) -> list[dict[str, Any]]:
    now = now or timezone.now()
    rows = (GroupDeal.objects.filter(active=True, starts_at__lte=now, ends_at__gt=now).select_related("sku")
            .annotate(n=Count("groups", filter=Q(groups__status=GroupStatus.OPEN, groups__expires_at__gt=now)))
            .order_by("ends_at", "pk"))
    return [deal_dict(d, open_groups=d.n) for d in rows]


def place_dict(p: GroupMember) -> dict[str, Any]:
    """The caller's own place: their order and its state."""
    o = p.order
    return {"order_id": o.pk, "order_number": o.number, "order_status": o.status, "total_fen": o.total_fen,
            "payment_deadline": _local(o.payment_deadline), "on_hold": bool(o.hold), "qty": p.qty,
            "joined_at": _local(p.joined_at), "dropped_at": _local(p.dropped_at)}


def group_dict(g: Group, *, member_id: int | None = None, now: datetime | None = None,
               place: GroupMember | None = None) -> dict[str, Any]:
    """A group as any member may see it (counts and times), with the caller's own place when they have one."""
    now = now or timezone.now()
    if place is None and member_id is not None:
        place = (GroupMember.objects.select_related("order").filter(group=g, member_id=member_id)
                 .order_by(F("dropped_at").desc(nulls_first=True), "-pk").first())  # the live place first
    left = int((g.expires_at - now).total_seconds()) if g.status == GroupStatus.OPEN else 0
    return {"id": g.pk, "deal_id": g.deal_id, "deal_name": g.deal.name, "sku_id": g.deal.sku_id,
            "deal_price_fen": g.deal.deal_price_fen, "size": g.size, "joined": g.joined,
            "places_left": g.size - g.joined, "status": g.status, "opened_at": _local(g.opened_at),
            "expires_at": _local(g.expires_at), "seconds_left": max(0, left), "full_at": _local(g.full_at),
            "expired_at": _local(g.expired_at), "mine": place_dict(place) if place is not None else None}


def open_groups(deal_id: int, *, now: datetime | None = None, limit: int = 50) -> list[dict[str, Any]]:
    """Groups of a deal one may still join: fullest first, then the soonest to expire."""
    now = now or timezone.now()
    rows = (Group.objects.filter(deal_id=deal_id, status=GroupStatus.OPEN, expires_at__gt=now)
            .select_related("deal").order_by("-joined", "expires_at", "pk")[:limit])
    return [group_dict(g, now=now) for g in rows]


def my_groups(member_id: int, *, limit: int = 100) -> list[dict[str, Any]]:
    now = timezone.now()
    places = (GroupMember.objects.filter(member_id=member_id).select_related("group", "group__deal", "order")
              .order_by("-joined_at", "-pk")[:limit])
    return [group_dict(p.group, now=now, place=p) for p in places]
