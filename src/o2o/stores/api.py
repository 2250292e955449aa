"""Store network API: locations (stores, warehouses, dark stores) and "what is near here".

Staff see the locations their scope allows (``visible_location_ids``: HQ all, a region
manager their region, a clerk their store); members (customers) see the public facts of
active stores. Coordinates in and out are GCJ-02 unless ``coord`` says otherwise.
"""

from enum import StrEnum

from django.http import HttpRequest
from ninja import Field, Query, Router, Schema
from ninja.pagination import PageNumberPagination, paginate

from o2o.accounts.permissions import actor_of, require, visible_location_ids
from o2o.common.errors import InvalidInput
from o2o.core.access import ActorKind, Perm
from o2o.core.geo import LatLng, bd09_to_gcj02, in_china_bbox, wgs84_to_gcj02
from o2o.stores import selectors
from o2o.stores.models import Location, LocationKind

router = Router(tags=["locations"])

MAX_RADIUS_M = 50_000


def _staff(context) -> bool:  # noqa: ANN001 - ninja's resolver context
    request = (context or {}).get("request")
    actor = getattr(request, "actor", None)
    return actor is not None and actor.kind is ActorKind.STAFF


class LocationOut(Schema):
    """A location. ``region_*``, ``can_express``, ``pick_capacity_per_hour`` and ``active`` are
    staff-only: they are null for members."""

    id: int
    code: str
    name: str
    kind: str
    address: str
    lat: float = Field(description="GCJ-02")
    lng: float = Field(description="GCJ-02")
    opening_hours: dict
    can_pickup: bool
    can_same_city: bool
    delivery_radius_m: int
    can_express: bool | None = None
    region_id: int | None = None
    region_name: str | None = None
    pick_capacity_per_hour: int | None = None
    active: bool | None = None

    @staticmethod
    def resolve_can_express(obj: Location, context) -> bool | None:  # noqa: ANN001
        return obj.can_express if _staff(context) else None

    @staticmethod
    def resolve_region_id(obj: Location, context) -> int | None:  # noqa: ANN001
        return obj.region_id if _staff(context) else None

    @staticmethod
    def resolve_region_name(obj: Location, context) -> str | None:  # noqa: ANN001
        return obj.region.name if _staff(context) else None

    @staticmethod
    def resolve_pick_capacity_per_hour(obj: Location, context) -> int | None:  # noqa: ANN001
        return obj.pick_capacity_per_hour if _staff(context) else None

    @staticmethod
    def resolve_active(obj: Location, context) -> bool | None:  # noqa: ANN001
        return obj.active if _staff(context) else None


class NearbyOut(Schema):
    location: LocationOut
    distance_m: float = Field(description="直线距离 great-circle distance, metres")
    delivers_here: bool = Field(description="同城配送覆盖 same-city delivery radius reaches the point")


class LocationFilters(Schema):
    kind: LocationKind | None = None
    region_id: int | None = Field(None, description="staff only")
    q: str | None = Field(None, max_length=100, description="名称/编码/地址 name, code or address")


class Datum(StrEnum):
    GCJ02 = "gcj02"
    WGS84 = "wgs84"
    BD09 = "bd09"


class NearbyQuery(Schema):
    lat: float = Field(description="latitude in the `coord` datum")
    lng: float = Field(description="longitude in the `coord` datum")
    radius_m: int = Field(3000, ge=1, le=MAX_RADIUS_M)
    coord: Datum = Field(Datum.GCJ02, description="datum of lat/lng: gcj02 (AMap, WeChat) | wgs84 (GPS) | bd09 (Baidu)")
    limit: int = Field(20, ge=1, le=100)


def _scope(request: HttpRequest) -> tuple[list[int] | None, bool]:
    """(visible ids or None for all, public-only) for the caller."""
    actor = actor_of(request)
    if actor.kind is ActorKind.MEMBER:
        require(request, Perm.LOCATION_VIEW)
        return None, True
    return visible_location_ids(request, Perm.LOCATION_VIEW), False


@router.get("", response=list[LocationOut], summary="网点列表 List locations in scope")
@paginate(PageNumberPagination, page_size=50, max_page_size=200)
def list_locations(request: HttpRequest, filters: Query[LocationFilters]):
    ids, public = _scope(request)
    return selectors.location_list(ids=ids, public=public, kind=filters.kind.value if filters.kind else None,
                                   region_id=None if public else filters.region_id, q=filters.q)


@router.get("/nearby", response=list[NearbyOut], summary="附近网点 Locations near a point, nearest first")
def nearby(request: HttpRequest, query: Query[NearbyQuery]):
    ids, public = _scope(request)
    if not in_china_bbox(query.lat, query.lng):
        raise InvalidInput("坐标不在中国境内 Coordinates outside China", code="out_of_china",
                           details={"lat": str(query.lat), "lng": str(query.lng), "coord": query.coord.value})
    point = LatLng(query.lat, query.lng)
    if query.coord is Datum.WGS84:
        point = wgs84_to_gcj02(point)
    elif query.coord is Datum.BD09:
        point = bd09_to_gcj02(point)
    hits = selectors.locations_nearby(point=point, radius_m=query.radius_m, ids=ids, public=public,
                                      limit=query.limit)
    return [{"location": loc, "distance_m": round(dist, 1),
             "delivers_here": loc.can_same_city and dist <= loc.delivery_radius_m} for loc, dist in hits]


@router.get("/{location_id}", response=LocationOut, summary="网点详情 One location")
def get_location(request: HttpRequest, location_id: int):
    if actor_of(request).kind is ActorKind.MEMBER:
        require(request, Perm.LOCATION_VIEW)
        return selectors.location_get(location_id=location_id, public=True)
    require(request, Perm.LOCATION_VIEW, location=location_id)
    return selectors.location_get(location_id=location_id)
