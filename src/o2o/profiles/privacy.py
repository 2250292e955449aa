"""Profiles' part of a member's export and deletion (PIPL), joined through ``o2o.members.privacy``'s signals.

``members`` may not import ``profiles`` (profiles is the layer above), so the export asks and the deletion
tells through :data:`~o2o.members.privacy.member_exporting` / :data:`~o2o.members.privacy.member_erasing`;
the receivers below run inside that transaction. They are connected when this module is imported: the
app's ``ready()`` imports it (``ProfilesConfig.ready``).

Behaviour events (``BehaviourEvent``: views, cart adds, searches) are in the export as counts per kind and the
rows of the last 30 days (what the tags read; older rows are only kept until the retention purge), and the
deletion deletes all of them (profiling, not records the law needs). Sign-ins are points lots: the members
app exports and keeps those.
"""

from __future__ import annotations

from datetime import timedelta
from typing import Any

from django.db.models import Count, Q
from django.dispatch import receiver
from django.utils import timezone

from o2o.accounts.models import Member
from o2o.core.loyalty import CHINA_TZ
from o2o.members.privacy import member_erasing, member_exporting
from o2o.profiles.models import BehaviourEvent, MemberTag

RECENT_DAYS = 30


@receiver(member_exporting, sender=Member, dispatch_uid="profiles.privacy.export_tags")
def export_tags(sender: type, member: Member, **_: Any) -> tuple[str, list[dict[str, Any]]]:
    """The tags shown to the member themself (as ``GET /members/me/tags``), with their explanations."""
    rows = MemberTag.objects.filter(member=member, visible=True).order_by("name")
    return "tags", [{"name": t.name, "value": t.value, "explanation": t.explanation, "version": t.version,
                     "as_of": timezone.localtime(t.as_of).isoformat()} for t in rows]


@receiver(member_erasing, sender=Member, dispatch_uid="profiles.privacy.erase_tags")
def erase_tags(sender: type, member: Member, **_: Any) -> tuple[str, int]:
    """Every tag of the member goes (tags are profiling, not records the law needs)."""
    return "tags", MemberTag.objects.filter(member=member).delete()[0]


@receiver(member_exporting, sender=Member, dispatch_uid="profiles.privacy.export_events")
def export_events(sender: type, member: Member, **_: Any) -> tuple[str, dict[str, Any]]:
    """Counts of the member's behaviour events per kind (all kept) and the rows of the last 30 days."""
    counts = dict(BehaviourEvent.objects.filter(member=member).values("kind").annotate(n=Count("id"))
                  .values_list("kind", "n"))
    since = timezone.localtime(timezone.now(), CHINA_TZ).date() - timedelta(days=RECENT_DAYS)
    rows = BehaviourEvent.objects.filter(member=member, day__gte=since).order_by("at", "pk")
    return "behaviour_events", {
        "counts": {kind: counts[kind] for kind in sorted(counts)},
        "recent_days": RECENT_DAYS,
        "recent": [{"kind": e.kind, "sku_id": e.sku_id, "channel": e.channel, "day": e.day.isoformat(),
                    "at": timezone.localtime(e.at).isoformat()} for e in rows],
    }


@receiver(member_erasing, sender=Member, dispatch_uid="profiles.privacy.erase_events")
def erase_events(sender: type, member: Member, **_: Any) -> tuple[str, int]:
    """Every behaviour event of the member (and of members merged into them: the same person) goes."""
    return "behaviour_events", BehaviourEvent.objects.filter(
        Q(member=member) | Q(member__merged_into=member)).delete()[0]
