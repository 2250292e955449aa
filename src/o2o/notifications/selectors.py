"""What the member's inbox and the HQ page read."""

from __future__ import annotations

from typing import Any

from django.db.models import QuerySet

from o2o.notifications.models import Channel, Notification, Status


def inbox(member_id: int, *, limit: int = 50) -> list[dict[str, Any]]:
    """The member's in-app inbox: their ``outbox`` rows that were sent, newest first, each with how every
    channel of the same cause went (``{"sms": "sent", "wechat": "suppressed"}``)."""
    rows = list(Notification.objects.filter(member_id=member_id, channel=Channel.OUTBOX, status=Status.SENT)
                .order_by("-sent_at", "-pk")[:limit])
    channels: dict[str, dict[str, str]] = {}
    for cause, channel, status in (Notification.objects.filter(member_id=member_id,
                                                               cause_key__in=[r.cause_key for r in rows])
                                   .values_list("cause_key", "channel", "status")):
        channels.setdefault(cause, {})[channel] = status
    return [{"id": r.pk, "kind": r.kind, "category": r.category, "title": r.title, "body": r.body,
             "data": r.payload or {}, "created_at": r.created_at, "sent_at": r.sent_at,
             "channels": channels.get(r.cause_key, {})} for r in rows]


def latest(*, channel: str = "", status: str = "", kind: str = "", limit: int = 200) -> QuerySet[Notification]:
    """The newest notifications (HQ page), optionally of one channel / status / kind."""
    qs = Notification.objects.select_related("member").order_by("-created_at", "-pk")
    if channel:
        qs = qs.filter(channel=channel)
    if status:
        qs = qs.filter(status=status)
    if kind:
        qs = qs.filter(kind=kind)
    return qs[:limit]


def kinds() -> list[str]:
    return sorted(Notification.objects.order_by().values_list("kind", flat=True).distinct())
