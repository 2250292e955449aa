"""Great-circle and estimated road distances between points.

Distances are computed on a sphere of the IUGG mean earth radius. Within a city the
spherical error (< 0.5 %) is far below the uncertainty of any delivery estimate.
"""

from __future__ import annotations

import math

from o2o.core.geo.coords import LatLng

__all__ = ["DEFAULT_CIRCUITY", "EARTH_RADIUS_M", "haversine_m", "haversine_rad", "road_distance_m"]

EARTH_RADIUS_M = 6371008.8
"""IUGG mean earth radius, metres."""

DEFAULT_CIRCUITY = 1.3
"""Typical ratio of road distance to straight-line distance in a dense city."""


def haversine_rad(
    lat1: float, lng1: float, cos_lat1: float, lat2: float, lng2: float, cos_lat2: float
) -> float:
    """Great-circle distance in metres between two points given in radians.

    ``cos_lat1``/``cos_lat2`` are ``cos(lat1)``/``cos(lat2)``, passed in so that callers that
    compare one point against many (the spatial index) compute them once. :func:`haversine_m`
    goes through this function, so both give bit-identical results.
    """
    sin_dlat = math.sin((lat2 - lat1) * 0.5)
    sin_dlng = math.sin((lng2 - lng1) * 0.5)
    h = sin_dlat * sin_dlat + cos_lat1 * cos_lat2 * sin_dlng * sin_dlng
    return 2.0 * EARTH_RADIUS_M * math.asin(math.sqrt(min(1.0, h)))


def haversine_m(a: LatLng, b: LatLng) -> float:
    """Great-circle distance in metres between ``a`` and ``b`` (same datum assumed)."""
    lat1 = math.radians(a.lat)
    lat2 = math.radians(b.lat)
    return haversine_rad(lat1, math.radians(a.lng), math.cos(lat1), lat2, math.radians(b.lng), math.cos(lat2))


def road_distance_m(a: LatLng, b: LatLng, circuity: float = DEFAULT_CIRCUITY) -> float:
    """Estimated road distance in metres: the great-circle distance times ``circuity``.

    A cheap stand-in for a routing engine, good enough to rank stores and to check a
    delivery radius. ``circuity`` must be at least 1 (roads are never shorter than the
    straight line).
    """
    if not circuity >= 1.0 or not math.isfinite(circuity):
        raise ValueError(f"circuity must be a finite number >= 1: {circuity!r}")
    return haversine_m(a, b) * circuity
