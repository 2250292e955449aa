"""Marketing's part of a OneID merge and its undo (``o2o.members.merge``'s signals, connected in ready()).

Coupons: every coupon of the merged member moves to the survivor. Its ``slot`` is renumbered after the
survivor's highest slot of the same campaign and the row's ``member_limit`` widened to fit (both coupons were
issued legitimately to what were two accounts; the campaign's limit still binds new claims). Old slot and
limit are recorded, so the undo puts exactly those rows back (if they are still the survivor's). Places: the
merged member's move only if the survivor has none (recorded; the undo moves them back).
"""

from __future__ import annotations

from typing import Any

from django.db.models import Max
from django.dispatch import receiver

from o2o.accounts.models import Member
from o2o.common.errors import Conflict
from o2o.marketing.models import Coupon, MemberReach
from o2o.members.merge import member_merge_undoing, member_merging


@receiver(member_merging, sender=Member, dispatch_uid="marketing.merge")
def merge_marketing(sender: type, survivor: Member, merged: Member, **_: Any) -> tuple[str, dict[str, Any]]:
    moved: list[list[int]] = []
    tops = dict(Coupon.objects.filter(member=survivor).values("template_id").annotate(top=Max("slot")).values_list(
        "template_id", "top"))
    for c in Coupon.objects.filter(member=merged).order_by("template_id", "slot"):
        slot = tops.get(c.template_id, 0) + 1
        tops[c.template_id] = slot
        Coupon.objects.filter(pk=c.pk).update(member=survivor, slot=slot, member_limit=max(c.member_limit, slot))
        moved.append([c.pk, c.slot, c.member_limit])
    reach, birthday = False, None
    if not MemberReach.objects.filter(member=survivor).exists():
        reach = MemberReach.objects.filter(member=merged).update(member=survivor) > 0
    else:  # the survivor keeps its places; a birthday only the merged member told us is not lost
        theirs = MemberReach.objects.filter(member=merged, birthday__isnull=False).first()
        if theirs is not None and MemberReach.objects.filter(member=survivor, birthday__isnull=True).update(
                birthday=theirs.birthday, birthday_set_at=theirs.birthday_set_at):
            birthday = theirs.birthday.isoformat()
    return "marketing", {"coupons": moved, "reach": reach, "birthday": birthday}


@receiver(member_merge_undoing, sender=Member, dispatch_uid="marketing.merge_undo")
def undo_marketing(sender: type, survivor: Member, merged: Member, moved: dict[str, Any], **_: Any) -> None:
    part = moved.get("marketing") or {}
    for coupon_id, slot, limit in part.get("coupons") or []:
        done = Coupon.objects.filter(pk=coupon_id, member=survivor).update(member=merged, slot=slot,
                                                                           member_limit=limit)
        if done == 0:
            raise Conflict("合并后的优惠券已变化 A moved coupon changed since the merge", code="merge_changed",
                           details={"coupon_id": coupon_id})
    if part.get("reach"):
        MemberReach.objects.filter(member=survivor).update(member=merged)
    elif part.get("birthday"):  # the copied birthday goes back (the merged member's own row still has it)
        MemberReach.objects.filter(member=survivor, birthday=part["birthday"]).update(birthday=None,
                                                                                      birthday_set_at=None)
