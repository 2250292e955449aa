"""Marketing's part of a member's export and deletion (PIPL), through ``o2o.members.privacy``'s signals.

Export: the member's coupons (with their codes and use) and the places kept for nearby offers.
Deletion: the places and the birthday go (they are profiling); coupons stay as records of money
given (their member is the anonymised member), but the ones still available are voided.
"""

from __future__ import annotations

from typing import Any

from django.dispatch import receiver
from django.utils import timezone

from o2o.accounts.models import Member
from o2o.marketing.models import Coupon, CouponEvent, CouponEventKind, CouponStatus, MemberReach
from o2o.marketing.selectors import wallet
from o2o.members.privacy import member_erasing, member_exporting


@receiver(member_exporting, sender=Member, dispatch_uid="marketing.privacy.export")
def export_marketing(sender: type, member: Member, **_: Any) -> tuple[str, dict[str, Any]]:
    reach = MemberReach.objects.filter(member=member).first()
    places = {}
    if reach is not None:
        places = {"home": [reach.home_lat, reach.home_lng] if reach.home_lat is not None else None,
                  "recent": [reach.recent_lat, reach.recent_lng] if reach.recent_lat is not None else None,
                  "recent_at": timezone.localtime(reach.recent_at).isoformat() if reach.recent_at else None,
                  "birthday": reach.birthday.isoformat() if reach.birthday else None}
    coupons = [{**c, "template": c["template"]["name"]} for c in wallet(member.pk)]
    return "marketing", {"places": places, "coupons": coupons}


@receiver(member_erasing, sender=Member, dispatch_uid="marketing.privacy.erase")
def erase_marketing(sender: type, member: Member, **_: Any) -> tuple[str, int]:
    now = timezone.now()
    gone = MemberReach.objects.filter(member=member).delete()[0]
    live = list(Coupon.objects.filter(member=member, status=CouponStatus.AVAILABLE).values_list("pk", flat=True))
    Coupon.objects.filter(pk__in=live, status=CouponStatus.AVAILABLE).update(status=CouponStatus.VOID)
    CouponEvent.objects.bulk_create([CouponEvent(coupon_id=pk, kind=CouponEventKind.VOIDED, at=now,
                                                 note="会员注销 member deleted") for pk in live])
    return "marketing", gone + len(live)
