"""Geography for an O2O platform: datums (WGS-84, GCJ-02, BD-09), distances and a spatial index."""

from o2o.core.geo.coords import (
    LatLng,
    bd09_to_gcj02,
    bd09_to_wgs84,
    gcj02_to_bd09,
    gcj02_to_wgs84,
    in_china_bbox,
    out_of_china,
    wgs84_to_bd09,
    wgs84_to_gcj02,
)
from o2o.core.geo.distance import DEFAULT_CIRCUITY, EARTH_RADIUS_M, haversine_m, road_distance_m
from o2o.core.geo.spatial import DEFAULT_CELL_M, SpatialIndex

__all__ = [
    "DEFAULT_CELL_M",
    "DEFAULT_CIRCUITY",
    "EARTH_RADIUS_M",
    "LatLng",
    "SpatialIndex",
    "bd09_to_gcj02",
    "bd09_to_wgs84",
    "gcj02_to_bd09",
    "gcj02_to_wgs84",
    "haversine_m",
    "in_china_bbox",
    "out_of_china",
    "road_distance_m",
    "wgs84_to_bd09",
    "wgs84_to_gcj02",
]
