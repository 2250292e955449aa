"""Points and conversions between the three datums used by maps in China.

* **WGS-84** -- GPS, OpenStreetMap and most of the world.
* **GCJ-02** -- the "Mars" datum required for published maps in mainland China (Amap/Gaode,
  Tencent, Google China). It is WGS-84 plus an obfuscating offset of a few hundred metres,
  computed with the Krasovsky 1940 ellipsoid. Outside China (see :func:`out_of_china`) it is
  WGS-84 unchanged.
* **BD-09** -- Baidu's datum: GCJ-02 with a further rotation/offset.

The forward conversions are the standard, widely published formulae (they reproduce the
reference values of e.g. the ``coordTransform`` libraries). The inverse conversions have no
closed form; instead of the usual one-step subtraction (error up to ~5 m) they refine
the estimate by fixed-point iteration until it re-encodes to the input within 1e-10 degree,
so round trips agree within a millimetre.
"""

from __future__ import annotations

import math
from collections.abc import Callable
from dataclasses import dataclass

__all__ = [
    "LatLng",
    "bd09_to_gcj02",
    "bd09_to_wgs84",
    "gcj02_to_bd09",
    "gcj02_to_wgs84",
    "in_china_bbox",
    "out_of_china",
    "wgs84_to_bd09",
    "wgs84_to_gcj02",
]

# Krasovsky 1940 ellipsoid, as used by the GCJ-02 algorithm.
_KRASOVSKY_A = 6378245.0
_KRASOVSKY_EE = 0.00669342162296594323
# Baidu's constant; the literal is kept as published although it equals math.pi as a float.
_X_PI = 3.14159265358979324 * 3000.0 / 180.0

# Inverse conversions stop when the re-encoded estimate is this close to the input (degrees).
_INVERSE_TOLERANCE_DEG = 1e-10
_INVERSE_MAX_ITERATIONS = 30


@dataclass(frozen=True, slots=True)
class LatLng:
    """A point in decimal degrees: latitude in [-90, 90], longitude in [-180, 180].

    The datum (WGS-84, GCJ-02 or BD-09) is not part of the value; callers track it.
    """

    lat: float
    lng: float

    def __post_init__(self) -> None:
        if not (math.isfinite(self.lat) and math.isfinite(self.lng)):
            raise ValueError(f"coordinates must be finite numbers: {self.lat!r}, {self.lng!r}")
        if not -90.0 <= self.lat <= 90.0:
            raise ValueError(f"latitude out of range [-90, 90]: {self.lat!r}")
        if not -180.0 <= self.lng <= 180.0:
            raise ValueError(f"longitude out of range [-180, 180]: {self.lng!r}")


def out_of_china(p: LatLng) -> bool:
    """Return True if ``p`` lies outside the rough bounding box where GCJ-02 applies.

    This is the conventional box used by GCJ-02 implementations (lng 72.004..137.8347,
    lat 0.8293..55.8271); outside it GCJ-02 equals WGS-84.
    """
    return not (72.004 <= p.lng <= 137.8347 and 0.8293 <= p.lat <= 55.8271)


def in_china_bbox(lat: float, lng: float) -> bool:
    """Return True if (lat, lng) is inside the stricter box accepted from API clients.

    The box (lat 3.8..53.6, lng 73.4..135.1) encloses mainland China, Hainan and the South
    China Sea islands; use it to reject swapped or garbage coordinates at the boundary.
    Non-finite input is rejected.
    """
    return 3.8 <= lat <= 53.6 and 73.4 <= lng <= 135.1


def _gcj_delta_lat(x: float, y: float) -> float:
    """Latitude perturbation of GCJ-02 (in pseudo-metres) for x = lng - 105, y = lat - 35."""
    ret = -100.0 + 2.0 * x + 3.0 * y + 0.2 * y * y + 0.1 * x * y + 0.2 * math.sqrt(abs(x))
    ret += (20.0 * math.sin(6.0 * x * math.pi) + 20.0 * math.sin(2.0 * x * math.pi)) * 2.0 / 3.0
    ret += (20.0 * math.sin(y * math.pi) + 40.0 * math.sin(y / 3.0 * math.pi)) * 2.0 / 3.0
    ret += (160.0 * math.sin(y / 12.0 * math.pi) + 320.0 * math.sin(y * math.pi / 30.0)) * 2.0 / 3.0
    return ret


def _gcj_delta_lng(x: float, y: float) -> float:
    """Longitude perturbation of GCJ-02 (in pseudo-metres) for x = lng - 105, y = lat - 35."""
    ret = 300.0 + x + 2.0 * y + 0.1 * x * x + 0.1 * x * y + 0.1 * math.sqrt(abs(x))
    ret += (20.0 * math.sin(6.0 * x * math.pi) + 20.0 * math.sin(2.0 * x * math.pi)) * 2.0 / 3.0
    ret += (20.0 * math.sin(x * math.pi) + 40.0 * math.sin(x / 3.0 * math.pi)) * 2.0 / 3.0
    ret += (150.0 * math.sin(x / 12.0 * math.pi) + 300.0 * math.sin(x / 30.0 * math.pi)) * 2.0 / 3.0
    return ret


def _wgs_to_gcj(lat: float, lng: float) -> tuple[float, float]:
    """The GCJ-02 forward transform on raw floats (no China check)."""
    dlat = _gcj_delta_lat(lng - 105.0, lat - 35.0)
    dlng = _gcj_delta_lng(lng - 105.0, lat - 35.0)
    radlat = lat / 180.0 * math.pi
    magic = 1.0 - _KRASOVSKY_EE * math.sin(radlat) ** 2
    sqrtmagic = math.sqrt(magic)
    dlat = (dlat * 180.0) / ((_KRASOVSKY_A * (1.0 - _KRASOVSKY_EE)) / (magic * sqrtmagic) * math.pi)
    dlng = (dlng * 180.0) / (_KRASOVSKY_A / sqrtmagic * math.cos(radlat) * math.pi)
    return lat + dlat, lng + dlng


def _gcj_to_bd(lat: float, lng: float) -> tuple[float, float]:
    """The BD-09 forward transform on raw floats."""
    z = math.sqrt(lng * lng + lat * lat) + 0.00002 * math.sin(lat * _X_PI)
    theta = math.atan2(lat, lng) + 0.000003 * math.cos(lng * _X_PI)
    return z * math.sin(theta) + 0.006, z * math.cos(theta) + 0.0065


def _bd_to_gcj_one_step(lat: float, lng: float) -> tuple[float, float]:
    """The classic approximate BD-09 inverse; only a starting point for the iteration."""
    x = lng - 0.0065
    y = lat - 0.006
    z = math.sqrt(x * x + y * y) - 0.00002 * math.sin(y * _X_PI)
    theta = math.atan2(y, x) - 0.000003 * math.cos(x * _X_PI)
    return z * math.sin(theta), z * math.cos(theta)


def _invert(
    forward: Callable[[float, float], tuple[float, float]],
    target: tuple[float, float],
    start: tuple[float, float],
) -> tuple[float, float]:
    """Solve ``forward(p) == target`` by fixed-point iteration from ``start``.

    Both datum offsets are small and smooth (their Jacobian is within ~1e-3 of identity),
    so ``p -= forward(p) - target`` contracts quickly: two or three steps reach 1e-10 degree.
    """
    lat, lng = start
    for _ in range(_INVERSE_MAX_ITERATIONS):
        f_lat, f_lng = forward(lat, lng)
        err_lat, err_lng = f_lat - target[0], f_lng - target[1]
        lat, lng = lat - err_lat, lng - err_lng
        if abs(err_lat) < _INVERSE_TOLERANCE_DEG and abs(err_lng) < _INVERSE_TOLERANCE_DEG:
            break
    return lat, lng


def wgs84_to_gcj02(p: LatLng) -> LatLng:
    """Convert a WGS-84 point to GCJ-02 (unchanged outside China)."""
    if out_of_china(p):
        return p
    return LatLng(*_wgs_to_gcj(p.lat, p.lng))


def gcj02_to_wgs84(p: LatLng) -> LatLng:
    """Convert a GCJ-02 point to WGS-84, precise to better than 1e-9 degree.

    Starts from the one-step estimate ``p - offset(p)`` and iterates. Points outside China
    are returned unchanged.
    """
    if out_of_china(p):
        return p
    g_lat, g_lng = _wgs_to_gcj(p.lat, p.lng)
    start = (2.0 * p.lat - g_lat, 2.0 * p.lng - g_lng)
    return LatLng(*_invert(_wgs_to_gcj, (p.lat, p.lng), start))


def gcj02_to_bd09(p: LatLng) -> LatLng:
    """Convert a GCJ-02 point to BD-09 (Baidu's formula, applied everywhere)."""
    return LatLng(*_gcj_to_bd(p.lat, p.lng))


def bd09_to_gcj02(p: LatLng) -> LatLng:
    """Convert a BD-09 point to GCJ-02, precise to better than 1e-9 degree.

    Starts from the classic one-step inverse (off by up to ~2e-6 degree, ~20 cm) and iterates.
    """
    start = _bd_to_gcj_one_step(p.lat, p.lng)
    return LatLng(*_invert(_gcj_to_bd, (p.lat, p.lng), start))


def wgs84_to_bd09(p: LatLng) -> LatLng:
    """Convert a WGS-84 point to BD-09 (via GCJ-02)."""
    return gcj02_to_bd09(wgs84_to_gcj02(p))


def bd09_to_wgs84(p: LatLng) -> LatLng:
    """Convert a BD-09 point to WGS-84 (via GCJ-02), precise to better than 1e-9 degree."""
    return gcj02_to_wgs84(bd09_to_gcj02(p))
