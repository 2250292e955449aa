"""What the storefront remembers about a customer in the session: their point and current store.

* ``SESSION_POINT``: ``{"lat", "lng", "label", "source"}`` in GCJ-02 (district, gps or typed);
  default: the centre of 徐汇区.
* ``SESSION_STORE``: ``{"id", "name"}`` of the current store (its prices apply); default: the
  nearest public store to the point (not written to the session until the customer chooses).
"""

from __future__ import annotations

from dataclasses import dataclass

from django.core.cache import cache
from django.http import HttpRequest
from django.utils.translation import gettext

from o2o.core.geo import LatLng
from o2o.stores.models import Location
from o2o.stores.selectors import locations_nearby
from o2o.web.shop.districts import DEFAULT

SESSION_POINT = "shop_point"
SESSION_STORE = "shop_store"
NEAR_RADII_M = (10_000, 30_000, 120_000)  # widen until some store is found
DEFAULT_STORE_KEY = "o2o.shop.default-store"
CACHE_S = 60


@dataclass(frozen=True)
class Point:
    lat: float
    lng: float
    label: str
    source: str  # default | district | gps | manual | place

    @property
    def latlng(self) -> LatLng:
        return LatLng(self.lat, self.lng)


@dataclass(frozen=True)
class Store:
    id: int
    name: str


def current_point(request: HttpRequest) -> Point:
    raw = request.session.get(SESSION_POINT)
    if isinstance(raw, dict):
        try:
            # The label is kept as its Chinese msgid (a district, "我的位置"...) and shown in the current language.
            label = gettext(str(raw.get("label", ""))) if raw.get("label") else ""
            return Point(float(raw["lat"]), float(raw["lng"]), label, str(raw.get("source", "")))
        except (KeyError, TypeError, ValueError):
            pass
    return Point(DEFAULT.lat, DEFAULT.lng, DEFAULT.label, "default")


def nearby_stores(point: LatLng, limit: int = 8) -> list[tuple[Location, float]]:
    """Public stores nearest the point, with distances (metres); the radius widens if none is near."""
    for radius in NEAR_RADII_M:
        found = locations_nearby(point=point, radius_m=radius, ids=None, public=True, limit=limit)
        if found:
            return found
    return []


def set_point(request: HttpRequest, point: Point) -> Store | None:
    """Remember the point and make its nearest store the current one (the customer may pick another)."""
    request.session[SESSION_POINT] = {"lat": point.lat, "lng": point.lng, "label": point.label,
                                      "source": point.source}
    near = nearby_stores(point.latlng, limit=1)
    if not near:
        request.session.pop(SESSION_STORE, None)
        return None
    return set_store(request, near[0][0])


def set_store(request: HttpRequest, location: Location) -> Store:
    request.session[SESSION_STORE] = {"id": location.pk, "name": location.name}
    store = Store(location.pk, location.name)
    request._shop_store = store  # type: ignore[attr-defined]
    return store


def _nearest(point: Point) -> tuple[int, str] | tuple[()]:
    near = nearby_stores(point.latlng, limit=1)
    return (near[0][0].pk, near[0][0].name) if near else ()


def current_store(request: HttpRequest) -> Store | None:
    """The chosen store, else the nearest store to the point (cached on the request)."""
    if hasattr(request, "_shop_store"):
        return request._shop_store  # type: ignore[attr-defined]
    raw = request.session.get(SESSION_STORE)
    store = None
    if isinstance(raw, dict) and isinstance(raw.get("id"), int):
        store = Store(raw["id"], str(raw.get("name", "")))
    else:
        point = current_point(request)
        if point.source == "default":  # the same answer for every new visitor: kept a minute
            found = cache.get(DEFAULT_STORE_KEY)
            if found is None:
                found = _nearest(point)
                cache.set(DEFAULT_STORE_KEY, found, CACHE_S)
            store = Store(*found) if found else None
        else:
            found = _nearest(point)
            store = Store(*found) if found else None
    request._shop_store = store  # type: ignore[attr-defined]
    return store
