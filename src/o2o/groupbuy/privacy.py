"""Group buying's part of a member's export and deletion (PIPL), through ``o2o.members.privacy``'s signals.

Export: the member's places in groups, their community orders, and the pickup points they run.
Deletion: a pickup point the member ran is closed and its name and address (which locate the member's home
in most neighbourhoods) are wiped; places and community orders stay as records of orders (their member is
the anonymised member).
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

from django.dispatch import receiver
from django.utils import timezone

from o2o.accounts.models import Member
from o2o.groupbuy.community import member_orders
from o2o.groupbuy.models import CommunityLeader
from o2o.groupbuy.selectors import my_groups
from o2o.members.privacy import ANONYMISED, member_erasing, member_exporting


def _iso(value: Any) -> Any:
    return timezone.localtime(value).isoformat() if isinstance(value, datetime) else value


def _plain(d: dict[str, Any]) -> dict[str, Any]:
    return {k: (_plain(v) if isinstance(v, dict) else _iso(v)) for k, v in d.items()}


@receiver(member_exporting, sender=Member, dispatch_uid="groupbuy.privacy.export")
def export_groupbuy(sender: type, member: Member, **_: Any) -> tuple[str, dict[str, Any]]:
    points = [{"id": r.pk, "name": r.name, "address": r.address, "lat": r.lat, "lng": r.lng, "active": r.active}
              for r in CommunityLeader.objects.filter(member=member).order_by("pk")]
    return "groupbuy", {"groups": [_plain(g) for g in my_groups(member.pk, limit=10_000)],
                        "community_orders": [_plain(o) for o in member_orders(member.pk, limit=10_000)],
                        "pickup_points": points}


@receiver(member_erasing, sender=Member, dispatch_uid="groupbuy.privacy.erase")
def erase_groupbuy(sender: type, member: Member, **_: Any) -> tuple[str, int]:
    n = CommunityLeader.objects.filter(member=member).exclude(name=ANONYMISED, address="", active=False).update(
        name=ANONYMISED, address="", active=False)
    return "groupbuy", n
