"""Datum conversions: published reference values, precise inverses, round trips."""

from __future__ import annotations

import dataclasses
import math

import pytest
from hypothesis import given
from hypothesis import strategies as st

from o2o.core.geo import (
    LatLng,
    bd09_to_gcj02,
    bd09_to_wgs84,
    gcj02_to_bd09,
    gcj02_to_wgs84,
    haversine_m,
    in_china_bbox,
    out_of_china,
    wgs84_to_bd09,
    wgs84_to_gcj02,
)

REF_TOL_DEG = 1e-6
ROUND_TRIP_TOL_M = 1.0

# Points in China, where GCJ-02 and BD-09 differ from WGS-84.
china_points = st.builds(
    LatLng,
    lat=st.floats(min_value=18.0, max_value=53.0),
    lng=st.floats(min_value=74.0, max_value=134.0),
)
anywhere = st.builds(
    LatLng,
    lat=st.floats(min_value=-90.0, max_value=90.0),
    lng=st.floats(min_value=-180.0, max_value=180.0),
)
outside_china = anywhere.filter(out_of_china)


def assert_close(actual: LatLng, lat: float, lng: float, tol: float = REF_TOL_DEG) -> None:
    assert abs(actual.lat - lat) < tol, (actual, lat, lng)
    assert abs(actual.lng - lng) < tol, (actual, lat, lng)


# --- published reference values (wandergis/coordTransform README, input lng 116.404, lat 39.915)


def test_wgs84_to_gcj02_reference() -> None:
    assert_close(wgs84_to_gcj02(LatLng(39.915, 116.404)), 39.91640428150164, 116.41024449916938)


def test_gcj02_to_bd09_reference() -> None:
    assert_close(gcj02_to_bd09(LatLng(39.915, 116.404)), 39.92133699351022, 116.41036949371029)


def test_bd09_to_gcj02_reference() -> None:
    # The published value comes from the one-step inverse; the iterative one is ~4e-7 degree
    # (~5 cm) away from it, and re-encodes to the input exactly.
    bd = LatLng(39.915, 116.404)
    gcj = bd09_to_gcj02(bd)
    assert_close(gcj, 39.90865673957631, 116.39762729119315)
    assert_close(gcj02_to_bd09(gcj), bd.lat, bd.lng, tol=1e-9)


def test_gcj02_to_wgs84_inverts_reference() -> None:
    wgs = gcj02_to_wgs84(LatLng(39.91640428150164, 116.41024449916938))
    assert_close(wgs, 39.915, 116.404, tol=1e-9)


def test_tiananmen_offset_is_a_few_hundred_metres() -> None:
    wgs = LatLng(39.90867, 116.39750)
    gcj = wgs84_to_gcj02(wgs)
    assert gcj.lat > wgs.lat and gcj.lng > wgs.lng
    assert 300.0 < haversine_m(wgs, gcj) < 700.0


def test_composed_conversions_match_their_steps() -> None:
    p = LatLng(31.2304, 121.4737)  # People's Square, Shanghai
    assert wgs84_to_bd09(p) == gcj02_to_bd09(wgs84_to_gcj02(p))
    assert bd09_to_wgs84(p) == gcj02_to_wgs84(bd09_to_gcj02(p))


# --- bounding boxes and the value type


def test_out_of_china_examples() -> None:
    assert not out_of_china(LatLng(31.2304, 121.4737))  # Shanghai
    assert out_of_china(LatLng(51.5074, -0.1278))  # London
    assert out_of_china(LatLng(35.6762, 139.6503))  # Tokyo, east of the box
    assert out_of_china(LatLng(-33.8688, 151.2093))  # Sydney


def test_in_china_bbox() -> None:
    assert in_china_bbox(31.2304, 121.4737)
    assert in_china_bbox(18.25, 109.5)  # Sanya, Hainan
    assert not in_china_bbox(121.4737, 31.2304)  # lat/lng swapped
    assert not in_china_bbox(0.0, 0.0)
    assert not in_china_bbox(55.0, 121.0)  # north of the stricter box, inside the GCJ-02 one
    assert not in_china_bbox(math.nan, 121.0)
    assert not in_china_bbox(31.0, math.inf)


@pytest.mark.parametrize(
    ("lat", "lng"), [(90.1, 0.0), (-90.1, 0.0), (0.0, 180.1), (0.0, -180.1), (math.nan, 0.0), (0.0, math.inf)]
)
def test_latlng_rejects_invalid(lat: float, lng: float) -> None:
    with pytest.raises(ValueError):
        LatLng(lat, lng)


def test_latlng_is_frozen_and_hashable() -> None:
    p = LatLng(31.0, 121.0)
    with pytest.raises(dataclasses.FrozenInstanceError):
        p.lat = 0.0  # type: ignore[misc]
    assert {p, LatLng(31.0, 121.0)} == {p}


# --- properties


@given(china_points)
def test_wgs_gcj_round_trip(p: LatLng) -> None:
    assert haversine_m(p, gcj02_to_wgs84(wgs84_to_gcj02(p))) < ROUND_TRIP_TOL_M
    assert haversine_m(p, wgs84_to_gcj02(gcj02_to_wgs84(p))) < ROUND_TRIP_TOL_M


@given(china_points)
def test_gcj_bd_round_trip(p: LatLng) -> None:
    assert haversine_m(p, bd09_to_gcj02(gcj02_to_bd09(p))) < ROUND_TRIP_TOL_M
    assert haversine_m(p, gcj02_to_bd09(bd09_to_gcj02(p))) < ROUND_TRIP_TOL_M


@given(china_points)
def test_wgs_bd_round_trip(p: LatLng) -> None:
    assert haversine_m(p, bd09_to_wgs84(wgs84_to_bd09(p))) < ROUND_TRIP_TOL_M
    assert haversine_m(p, wgs84_to_bd09(bd09_to_wgs84(p))) < ROUND_TRIP_TOL_M


@given(china_points)
def test_inverses_are_precise(p: LatLng) -> None:
    # Far tighter than the round-trip requirement: the iterations converge to < 1e-9 degree.
    assert_close(wgs84_to_gcj02(gcj02_to_wgs84(p)), p.lat, p.lng, tol=1e-9)
    assert_close(gcj02_to_bd09(bd09_to_gcj02(p)), p.lat, p.lng, tol=1e-9)


@given(china_points)
def test_offsets_have_the_expected_size(p: LatLng) -> None:
    assert 0.0 < haversine_m(p, wgs84_to_gcj02(p)) < 1000.0
    assert 500.0 < haversine_m(p, gcj02_to_bd09(p)) < 1200.0


@given(outside_china)
def test_gcj02_is_wgs84_outside_china(p: LatLng) -> None:
    assert wgs84_to_gcj02(p) == p
    assert gcj02_to_wgs84(p) == p
