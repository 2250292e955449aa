"""The "3 公里内用户专享券": issue a campaign's coupons to the members whose home, or whose latest place
seen (an order's delivery address, a storefront location, within ``RECENT_DAYS``), lies within R km of
a store, straight-line (GCJ-02, haversine).

The database narrows by a bounding box (indexed floats), the core's haversine decides. Each member's
coupon is its own transaction (``claims.coupon_issue`` with source ``nearby``): members already at their
limit are counted and skipped; when the budget runs out, issuing stops and says so.
"""

from __future__ import annotations

import math
from datetime import datetime, timedelta

from django.db.models import Q
from django.utils import timezone

from o2o.accounts.models import Member
from o2o.common.errors import ApiError, InvalidInput, NotFound
from o2o.core.geo import LatLng, haversine_m
from o2o.marketing.claims import coupon_issue
from o2o.marketing.models import CouponSource, MemberReach
from o2o.stores.models import Location

RECENT_DAYS = 90
MAX_RADIUS_M = 50_000


def _box(lat: float, lng: float, radius_m: float) -> tuple[float, float]:
    dlat = radius_m / 111_320
    return dlat, radius_m / (111_320 * max(math.cos(math.radians(lat)), 0.01))


def members_near(location: Location, radius_m: int, now: datetime) -> list[tuple[int, float]]:
    """(member id, metres) of active members within ``radius_m`` of the store, nearest first."""
    if not isinstance(radius_m, int) or not 1 <= radius_m <= MAX_RADIUS_M:
        raise InvalidInput("半径应在 1 米到 50 公里之间 The radius must be 1 m to 50 km", code="invalid_radius",
                           details={"radius_m": radius_m})
    center = LatLng(location.lat, location.lng)
    dlat, dlng = _box(location.lat, location.lng, radius_m)
    home = Q(home_lat__range=(location.lat - dlat, location.lat + dlat),
             home_lng__range=(location.lng - dlng, location.lng + dlng))
    recent = Q(recent_lat__range=(location.lat - dlat, location.lat + dlat),
               recent_lng__range=(location.lng - dlng, location.lng + dlng),
               recent_at__gte=now - timedelta(days=RECENT_DAYS))
    best: dict[int, float] = {}
    rows = MemberReach.objects.filter(home | recent, member__is_active=True).values_list(
        "member_id", "home_lat", "home_lng", "recent_lat", "recent_lng", "recent_at")
    for member_id, hlat, hlng, rlat, rlng, rat in rows:
        places = []
        if hlat is not None:
            places.append(LatLng(hlat, hlng))
        if rlat is not None and rat is not None and rat >= now - timedelta(days=RECENT_DAYS):
            places.append(LatLng(rlat, rlng))
        d = min((haversine_m(center, p) for p in places), default=math.inf)
        if d <= radius_m:
            best[member_id] = d
    return sorted(best.items(), key=lambda kv: (kv[1], kv[0]))


def coupons_issue_nearby(*, template_id: int, location_id: int, radius_m: int, by_user_id: int | None,
                         dry_run: bool = False, now: datetime | None = None) -> dict:
    now = now or timezone.now()
    location = Location.objects.filter(pk=location_id).first()
    if location is None:
        raise NotFound("网点不存在 Unknown location", code="unknown_location", details={"location_id": location_id})
    near = members_near(location, radius_m, now)
    out = {"template_id": template_id, "location_id": location_id, "radius_m": radius_m, "reached": len(near),
           "issued": 0, "skipped": 0, "stopped": None, "dry_run": dry_run}
    if dry_run:
        return out
    members = Member.objects.in_bulk([m for m, _ in near])
    for member_id, _ in near:
        try:
            coupon_issue(template_id=template_id, member=members[member_id], source=CouponSource.NEARBY, now=now,
                         by_user_id=by_user_id, store_id=location_id)
            out["issued"] += 1
        except ApiError as exc:
            if exc.code in {"coupon_sold_out", "coupon_campaign_inactive", "coupon_claim_ended",
                            "coupon_campaign_expired", "coupon_claim_not_started", "unknown_coupon_template"}:
                out["stopped"] = exc.code
                break
            out["skipped"] += 1  # at the member's limit, or not the campaign's tier
    return out


def reach_set(member_id: int, *, lat: float, lng: float, kind: str, now: datetime | None = None) -> MemberReach:
    """Record a member's home (``kind="home"``) or latest place (``"recent"``), GCJ-02."""
    now = now or timezone.now()
    fields = ({"home_lat": lat, "home_lng": lng, "home_at": now} if kind == "home"
              else {"recent_lat": lat, "recent_lng": lng, "recent_at": now})
    # Only this kind's columns are written (update_or_create saves its defaults' fields only), so an order's
    # place and a member's new home written at the same moment do not undo each other.
    reach, _ = MemberReach.objects.update_or_create(member_id=member_id, defaults=fields)
    return reach
