"""Store network writes: regions and locations. Keyword-only, typed, ``<noun>_<verb>``."""

from __future__ import annotations

from dataclasses import asdict

from o2o.common.errors import InvalidInput
from o2o.core.geo import in_china_bbox
from o2o.stores.models import Location, Region
from o2o.stores.network import LocationSpec


def region_ensure(*, code: str, name: str, parent: Region | None) -> tuple[Region, bool]:
    """The region with ``code``, created or corrected to ``name`` and ``parent``; (region, changed)."""
    region = Region.objects.filter(code=code).first()
    if region is None:
        return Region.objects.create(code=code, name=name, parent=parent), True
    parent_id = parent.pk if parent else None
    if region.name != name or region.parent_id != parent_id:
        region.name, region.parent_id = name, parent_id
        region.save(update_fields=["name", "parent"])
        return region, True
    return region, False


def location_upsert(*, spec: LocationSpec, region: Region) -> tuple[Location, bool]:
    """Create the location ``spec.code`` or bring it in line with ``spec``; (location, changed).

    Nothing is written when the row already matches, so ``updated_at`` (the spatial index's
    version) only moves on a real change.
    """
    if not in_china_bbox(spec.lat, spec.lng):
        raise InvalidInput("坐标不在中国境内 Coordinates outside China", code="out_of_china",
                           details={"code": spec.code, "lat": spec.lat, "lng": spec.lng})
    fields = {k: v for k, v in asdict(spec).items() if k not in ("code", "region_code")}
    fields["region_id"] = region.pk
    location = Location.objects.filter(code=spec.code).first()
    if location is None:
        return Location.objects.create(code=spec.code, **fields), True
    changed = [k for k, v in fields.items() if getattr(location, k) != v]
    if not changed:
        return location, False
    for k in changed:
        setattr(location, k, fields[k])
    location.save(update_fields=[k.removesuffix("_id") for k in changed] + ["updated_at"])
    return location, True
