"""Profiles' part of a OneID merge (``o2o.members.merge.member_merging``, connected in ``ProfilesConfig.ready``).

The merged member's behaviour events move to the survivor: each row is copied to the survivor with an
``INSERT ... ON CONFLICT DO NOTHING`` (where the survivor has the same kind, SKU and day already, the
survivor's row stands: it is one event of that day either way) and the merged member's rows are deleted.

The undo (``member_merge_undoing``) leaves the events with the survivor, on purpose: they are analytics, not
money or personal records (nothing is owed or lost by it), the copies no longer say which rows were whose,
and within the 90-day retention they only nudge the survivor's clickstream tags. So there is no undo receiver.

Tags (``MemberTag``) are not moved: the next ``compute-tags`` recomputes the survivor's from the merged
history, and the merged member is left out of it.
"""

from __future__ import annotations

from typing import Any

from django.dispatch import receiver

from o2o.accounts.models import Member
from o2o.members.merge import member_merging
from o2o.profiles.models import BehaviourEvent

_BATCH = 1000


@receiver(member_merging, sender=Member, dispatch_uid="profiles.merge_events")
def merge_events(sender: type, survivor: Member, merged: Member, **_: Any) -> tuple[str, dict[str, int]] | None:
    rows = list(BehaviourEvent.objects.filter(member=merged).values_list("kind", "sku_id", "channel", "day", "at"))
    if not rows:
        return None
    BehaviourEvent.objects.bulk_create(
        [BehaviourEvent(member_id=survivor.pk, kind=kind, sku_id=sku_id, channel=channel, day=day, at=at)
         for kind, sku_id, channel, day, at in rows], ignore_conflicts=True, batch_size=_BATCH)
    deleted = BehaviourEvent.objects.filter(member=merged).delete()[0]
    return "behaviour_events", {"moved": deleted, "kept_with_survivor_on_undo": True}
