"""Notifications' part of a member's export and deletion (PIPL), through ``o2o.members.privacy``'s signals.

Export: the member's messages (every channel, with status), channel choices and push devices.
Deletion: all of it goes (the messages name stores, orders and coupons of the member; a deleted member
is inactive, so no trigger queues anything for them again).
"""

from __future__ import annotations

from typing import Any

from django.dispatch import receiver
from django.utils import timezone

from o2o.accounts.models import Member
from o2o.members.privacy import member_erasing, member_exporting
from o2o.notifications.models import ChannelPreference, FrequencyCounter, Notification, PushDevice


def _local(dt) -> str | None:  # noqa: ANN001
    return timezone.localtime(dt).isoformat() if dt else None


@receiver(member_exporting, sender=Member, dispatch_uid="notifications.privacy.export")
def export_notifications(sender: type, member: Member, **_: Any) -> tuple[str, dict[str, Any]]:
    messages = [{"kind": n.kind, "channel": n.channel, "title": n.title, "body": n.body, "status": n.status,
                 "created_at": _local(n.created_at), "sent_at": _local(n.sent_at)}
                for n in Notification.objects.filter(member=member).order_by("pk")]
    prefs = dict(ChannelPreference.objects.filter(member=member).values_list("channel", "subscribed"))
    devices = [{"platform": d.platform, "registration_id": d.registration_id, "last_seen_at": _local(d.last_seen_at)}
               for d in PushDevice.objects.filter(member=member)]
    return "notifications", {"messages": messages, "preferences": prefs, "push_devices": devices}


@receiver(member_erasing, sender=Member, dispatch_uid="notifications.privacy.erase")
def erase_notifications(sender: type, member: Member, **_: Any) -> tuple[str, int]:
    gone = Notification.objects.filter(member=member).delete()[0]
    gone += ChannelPreference.objects.filter(member=member).delete()[0]
    gone += PushDevice.objects.filter(member=member).delete()[0]
    gone += FrequencyCounter.objects.filter(member=member).delete()[0]
    return "notifications", gone
