"""Store network reads: scoped location lists, one location, and "which locations are near here".

The spatial index over active locations is built once per process and rebuilt when the
cheap version ``(max(updated_at), count)`` of the location table changes. Saving a row
through the ORM (the admin, ``stores.services``) moves ``updated_at``; a raw
``QuerySet.update()`` does not, so call :func:`spatial_index_reset` after one.
"""

from __future__ import annotations

import threading
from dataclasses import dataclass

from django.db.models import Count, Max, Q, QuerySet

from o2o.common.errors import NotFound
from o2o.core.geo import LatLng, SpatialIndex
from o2o.stores.models import Location, LocationKind

# What members (customers) may see: active stores; warehouses and dark stores are back office.
PUBLIC_KINDS = (LocationKind.STORE.value,)


def location_list(*, ids: list[int] | None, public: bool, kind: str | None = None, region_id: int | None = None,
                  q: str | None = None) -> QuerySet[Location]:
    """Locations in ``ids`` (None: all), or only the public ones; filtered; ordered by code."""
    qs = Location.objects.select_related("region").order_by("code")
    if public:
        qs = qs.filter(active=True, kind__in=PUBLIC_KINDS)
    if ids is not None:
        qs = qs.filter(pk__in=ids)
    if kind:
        qs = qs.filter(kind=kind)
    if region_id is not None:
        qs = qs.filter(region_id=region_id)
    text = (q or "").strip()
    if text:
        qs = qs.filter(Q(name__icontains=text) | Q(code__istartswith=text) | Q(address__icontains=text))
    return qs


def location_get(*, location_id: int, public: bool = False) -> Location:
    qs = Location.objects.select_related("region")
    if public:
        qs = qs.filter(active=True, kind__in=PUBLIC_KINDS)
    location = qs.filter(pk=location_id).first()
    if location is None:
        raise NotFound("网点不存在 Unknown location", code="unknown_location", details={"location_id": location_id})
    return location


@dataclass(frozen=True, slots=True)
class _CachedIndex:
    version: tuple
    index: SpatialIndex[int]
    kinds: dict[int, str]


_cache: _CachedIndex | None = None
_lock = threading.Lock()


def _version() -> tuple:
    agg = Location.objects.aggregate(latest=Max("updated_at"), n=Count("pk"))
    return (agg["latest"], agg["n"])


def spatial_index() -> SpatialIndex[int]:
    """The in-process index of active locations (key: location id, GCJ-02)."""
    return _cached().index


def _cached() -> _CachedIndex:
    global _cache
    version = _version()
    cached = _cache
    if cached is not None and cached.version == version:
        return cached
    with _lock:
        if _cache is not None and _cache.version == version:
            return _cache
        rows = list(Location.objects.filter(active=True).order_by("pk").values_list("pk", "lat", "lng", "kind"))
        index = SpatialIndex((pk, LatLng(lat, lng)) for pk, lat, lng, _ in rows)
        _cache = _CachedIndex(version=version, index=index, kinds={pk: kind for pk, _, _, kind in rows})
        return _cache


def spatial_index_reset() -> None:
    global _cache
    _cache = None


def locations_nearby(*, point: LatLng, radius_m: float, ids: list[int] | None, public: bool,
                     limit: int) -> list[tuple[Location, float]]:
    """Active locations within ``radius_m`` of ``point`` (GCJ-02), nearest first, with distances.

    ``ids`` (None: all) limits the result to what the caller may see; ``public`` to stores.
    """
    cached = _cached()
    allowed = set(ids) if ids is not None else None
    hits: list[tuple[int, float]] = []
    for pk, dist in cached.index.within(point, radius_m):
        if allowed is not None and pk not in allowed:
            continue
        if public and cached.kinds.get(pk) not in PUBLIC_KINDS:
            continue
        hits.append((pk, dist))
        if len(hits) >= limit:
            break
    rows = Location.objects.select_related("region").in_bulk([pk for pk, _ in hits])
    # A row deactivated or deleted since the index was built is dropped, never shown stale.
    return [(rows[pk], dist) for pk, dist in hits if pk in rows and rows[pk].active]
