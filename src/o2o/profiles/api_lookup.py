"""Member look-up at the counter (staff): by phone, member code (会员码) or POS member card.

``POST /members/lookup`` {phone | code | card} (exactly one; otherwise 422 ``one_lookup_key``), staff
with ``order.view`` (members: 403 ``staff_only``). Who is found is ``o2o.members.lookup``'s rule:
by phone or card only members who shop at or are served by one of the staff user's locations (HQ:
all); by a live member code any member (they are showing it at the counter). Nothing visible: 404.
Each member found is written to the personal-data access log (``lookup.<way>``).

Each member comes with the masked phone only, the tier and its benefits, points, the last 5 orders
of every channel this staff user may see and the tags that help serve them (``serving_tags``:
lifecycle, value, preferences; from the stored tags, ``profiles.selectors.member_tags``). This module
lives in ``profiles`` (above ``members``) because it reads tags; mount it under ``/members``.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

from django.http import HttpRequest
from django.utils import timezone
from ninja import Field, Router, Schema

from o2o.core.profile import SPECS
from o2o.fulfilment.schemas import with_errors
from o2o.members.lookup import member_lookup
from o2o.members.selectors import points_view
from o2o.members.tiers import tier_view
from o2o.orders.selectors import visible_orders
from o2o.profiles.selectors import member_tags

router = Router(tags=["members"])

RECENT_ORDERS = 5
# The tags a clerk acts on at the counter, in this order: who they are to us, what they like, how they buy.
SERVING_TAGS = ("lifecycle_stage", "value_segment", "rfm_segment", "churn_risk", "big_spender", "preferred_channel",
                "preferred_store", "preferred_fulfilment", "price_sensitivity", "top_category", "top_categories",
                "avg_basket_fen", "days_since_last_purchase", "purchase_overdue", "preferred_daypart")
_LABELS = {s.name: s.label for s in SPECS}


def serving_tags(member_id: int) -> list[dict[str, Any]]:
    """The member's stored serving tags that apply (value not null), with their Chinese label and explanation."""
    rows = {t["name"]: t for t in member_tags(member_id, visible_only=False)["tags"]}
    return [{"name": name, "label": _LABELS.get(name, name), "value": rows[name]["value"],
             "explanation": rows[name]["explanation"]}
            for name in SERVING_TAGS if name in rows and rows[name]["value"] is not None]


def recent_orders(member_id: int, locations: list[int] | None, limit: int = RECENT_ORDERS) -> list[dict[str, Any]]:
    """The member's latest orders of every channel (POS included) that this staff user may see."""
    qs = visible_orders(locations=locations).filter(member_id=member_id).order_by("-created_at", "-pk")[:limit]
    return [{"id": o.pk, "number": o.number, "channel": o.channel, "status": o.status, "total_fen": o.total_fen,
             "store_id": o.store_id, "created_at": timezone.localtime(o.created_at)} for o in qs]


def member_card(member, locations: list[int] | None) -> dict[str, Any]:  # noqa: ANN001 - accounts.Member
    tier = tier_view(member.pk)
    points = points_view(member.pk)
    return {
        "member_id": member.pk, "display_name": member.display_name, "phone_masked": member.phone_masked,
        "tier": {"tier": tier["tier"], "label": tier["label"], "label_en": tier["label_en"],
                 "benefits": tier["benefits"]},
        "points": {"balance": points["balance"], "available": points["available"], "net": points["net"]},
        "orders": recent_orders(member.pk, locations), "tags": serving_tags(member.pk),
    }


class LookupIn(Schema):
    phone: str | None = Field(None, max_length=32, description="mainland mobile number")
    code: str | None = Field(None, max_length=64, description="member code (会员码) as shown or scanned")
    card: str | None = Field(None, max_length=64, description="POS member card number")


class LookupTierOut(Schema):
    tier: str
    label: str
    label_en: str
    benefits: dict[str, Any]


class LookupPointsOut(Schema):
    balance: int
    available: int = Field(description="spendable now")
    net: int


class LookupOrderOut(Schema):
    id: int
    number: str
    channel: str
    status: str
    total_fen: int
    store_id: int | None
    created_at: datetime


class LookupTagOut(Schema):
    name: str
    label: str
    value: Any
    explanation: str


class LookupMemberOut(Schema):
    member_id: int
    display_name: str
    phone_masked: str = Field(description="never in clear")
    tier: LookupTierOut
    points: LookupPointsOut
    orders: list[LookupOrderOut] = Field(description="the last 5 this staff user may see, every channel")
    tags: list[LookupTagOut] = Field(description="stored tags that help serve the member")


class LookupOut(Schema):
    found_by: str = Field(description="phone | code | card")
    members: list[LookupMemberOut]


@router.post("/lookup", response=with_errors({200: LookupOut}, 429),
             summary="Find a member at the counter by phone, member code or POS card (staff with order.view)")
def lookup(request: HttpRequest, body: LookupIn):
    found = member_lookup(request, phone=body.phone, code=body.code, card=body.card, source="api")
    return {"found_by": found.way, "members": [member_card(m, found.locations) for m in found.members]}
