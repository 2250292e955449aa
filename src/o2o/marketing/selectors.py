"""Reads for the coupon pages and the API: the member's wallet, the campaigns open to claim, one coupon
as the counter sees it."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from django.db.models import Count, F, Q
from django.utils import timezone

from o2o.marketing import codes
from o2o.marketing.claims import validity
from o2o.marketing.models import Coupon, CouponTemplate, TemplateStatus
from o2o.marketing.redemption import offline_refusal, state_of


def template_json(t: CouponTemplate) -> dict[str, Any]:
    return {"id": t.pk, "code": t.code, "name": t.name, "name_en": t.name_en, "kind": t.kind,
            "offer": t.describe(), "threshold_fen": t.threshold_fen, "amount_fen": t.amount_fen,
            "percent": t.percent, "redeem_online": t.redeem_online, "redeem_offline": t.redeem_offline,
            "store_ids": sorted(s.pk for s in t.stores.all()), "channels": list(t.channels or []),
            "tiers": list(t.tiers or []), "points_price": t.points_price}


def _local(dt: datetime | None) -> str | None:
    return timezone.localtime(dt).isoformat() if dt is not None else None


def coupon_json(c: Coupon, now: datetime, *, with_code: bool = True) -> dict[str, Any]:
    """A coupon as JSON (times in local ISO text: the body may be stored for an idempotent replay)."""
    out = {"id": c.pk, "template": template_json(c.template), "state": state_of(c, now), "source": c.source,
           "issued_at": _local(c.issued_at), "valid_from": _local(c.valid_from), "valid_until": _local(c.valid_until),
           "used_at": _local(c.used_at), "used_channel": c.used_channel or None, "used_store_id": c.used_store_id,
           "used_order_id": c.used_order_id}
    if with_code:
        out["code"] = codes.format_code(c.code)
    return out


def wallet(member_id: int, *, state: str | None = None, now: datetime | None = None) -> list[dict[str, Any]]:
    """The member's coupons, usable first (soonest to expire first), then used/expired, newest first."""
    now = now or timezone.now()
    rows = Coupon.objects.select_related("template").prefetch_related("template__stores").filter(
        member_id=member_id).order_by("-issued_at", "-pk")
    items = [coupon_json(c, now) for c in rows]
    if state:
        items = [i for i in items if i["state"] == state]
    usable = sorted((i for i in items if i["state"] == "available"), key=lambda i: (i["valid_until"], i["id"]))
    return usable + [i for i in items if i["state"] != "available"]


def claimable(member_id: int | None, now: datetime | None = None) -> list[dict[str, Any]]:
    """Campaigns a member may claim now, with how many they hold and whether any are left."""
    now = now or timezone.now()
    rows = CouponTemplate.objects.prefetch_related("stores").filter(
        status=TemplateStatus.ACTIVE, claimable=True).filter(
        Q(claim_starts_at__isnull=True) | Q(claim_starts_at__lte=now)).filter(
        Q(claim_ends_at__isnull=True) | Q(claim_ends_at__gt=now)).order_by("pk")
    held: dict[int, int] = {}
    if member_id is not None:
        held = dict(Coupon.objects.filter(member_id=member_id, template__in=rows).values("template_id").annotate(
            n=Count("pk")).values_list("template_id", "n"))
    out = []
    for t in rows.annotate(left=F("budget") - F("issued")):
        if validity(t, now)[1] <= now:
            continue
        n = held.get(t.pk, 0)
        out.append({**template_json(t), "held": n, "member_limit": t.member_limit,
                    "left": t.left if t.budget is not None else None,
                    "can_claim": n < t.member_limit and (t.budget is None or t.left > 0)})
    return out


def counter_view(coupon: Coupon, store_id: int, now: datetime | None = None) -> dict[str, Any]:
    """What the counter sees before 核销: the offer, the state, the masked member, and whether it may be used here."""
    now = now or timezone.now()
    refusal = offline_refusal(coupon, store_id, now)
    return {**coupon_json(coupon, now), "member_id": coupon.member_id,
            "member_phone_masked": coupon.member.phone_masked, "member_name": coupon.member.display_name,
            "usable_here": refusal is None, "refusal_code": refusal[0] if refusal else None,
            "refusal": refusal[1] if refusal else None}
