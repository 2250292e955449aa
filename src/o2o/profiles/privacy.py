"""Profiles' part of a member's export and deletion (PIPL), joined through ``o2o.members.privacy``'s signals.

``members`` may not import ``profiles`` (profiles is the layer above), so the export asks and the deletion
tells through :data:`~o2o.members.privacy.member_exporting` / :data:`~o2o.members.privacy.member_erasing`;
the receivers below run inside that transaction. They are connected when this module is imported: the
app's ``ready()`` imports it (``ProfilesConfig.ready``).
"""

from __future__ import annotations

from typing import Any

from django.dispatch import receiver
from django.utils import timezone

from o2o.accounts.models import Member
from o2o.members.privacy import member_erasing, member_exporting
from o2o.profiles.models import MemberTag


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
