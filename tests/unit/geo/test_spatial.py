"""Distances and the spatial index, checked against brute force."""

from __future__ import annotations

import math
import random
from collections.abc import Callable, Sequence

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from o2o.core.geo import EARTH_RADIUS_M, LatLng, SpatialIndex, haversine_m, road_distance_m

Node = tuple[int, LatLng]


def brute_within(nodes: Sequence[Node], point: LatLng, radius_m: float) -> list[tuple[int, float]]:
    """Every node within the radius, nearest first, ties in input order (the index's contract)."""
    hits = [(haversine_m(point, p), i, key) for i, (key, p) in enumerate(nodes)]
    return [(key, d) for d, _, key in sorted(h for h in hits if h[0] <= radius_m)]


def brute_covering(
    nodes: Sequence[Node], point: LatLng, radius_of: Callable[[int], float]
) -> list[tuple[int, float]]:
    return [(k, d) for k, d in brute_within(nodes, point, math.inf) if d <= radius_of(k)]


def shanghai_nodes(n: int, seed: int) -> list[Node]:
    rng = random.Random(seed)
    return [(i, LatLng(rng.uniform(31.0, 31.4), rng.uniform(121.2, 121.7))) for i in range(n)]


SHANGHAI = shanghai_nodes(2000, seed=20240601)
SHANGHAI_INDEX = SpatialIndex(SHANGHAI)
DELIVERY_RADIUS = {key: random.Random(key).uniform(500.0, 5000.0) for key, _ in SHANGHAI}

around_shanghai = st.builds(
    LatLng,
    lat=st.floats(min_value=30.9, max_value=31.5),
    lng=st.floats(min_value=121.1, max_value=121.8),
)
anywhere = st.builds(
    LatLng,
    lat=st.floats(min_value=-90.0, max_value=90.0),
    lng=st.floats(min_value=-180.0, max_value=180.0),
)


# --- distances


def test_one_degree_of_latitude() -> None:
    assert haversine_m(LatLng(0.0, 0.0), LatLng(1.0, 0.0)) == pytest.approx(111_195.08, abs=0.01)
    assert haversine_m(LatLng(31.0, 121.0), LatLng(32.0, 121.0)) == pytest.approx(111_195.08, abs=0.01)


def test_haversine_published_example() -> None:
    # Rosetta Code "Haversine formula": BNA to LAX is 2887.2599506071106 km on a 6372.8 km sphere.
    d = haversine_m(LatLng(36.12, -86.67), LatLng(33.94, -118.40))
    assert d * 6372.8e3 / EARTH_RADIUS_M == pytest.approx(2_887_259.9506, abs=0.01)


def test_shanghai_peoples_square_to_pudong_airport() -> None:
    d = haversine_m(LatLng(31.2304, 121.4737), LatLng(31.1443, 121.8083))
    assert 32_000 < d < 34_000


def test_antipodes_and_zero() -> None:
    assert haversine_m(LatLng(10.0, 20.0), LatLng(10.0, 20.0)) == 0.0
    assert haversine_m(LatLng(0.0, 0.0), LatLng(0.0, 180.0)) == pytest.approx(math.pi * EARTH_RADIUS_M)


@given(anywhere, anywhere)
def test_haversine_is_symmetric_and_bounded(a: LatLng, b: LatLng) -> None:
    assert haversine_m(a, b) == haversine_m(b, a)
    assert 0.0 <= haversine_m(a, b) <= math.pi * EARTH_RADIUS_M + 1e-6


def test_road_distance() -> None:
    a, b = LatLng(31.2304, 121.4737), LatLng(31.2397, 121.4998)
    assert road_distance_m(a, b) == pytest.approx(1.3 * haversine_m(a, b))
    assert road_distance_m(a, b, circuity=1.0) == haversine_m(a, b)
    for bad in (0.9, 0.0, -1.0, math.nan, math.inf):
        with pytest.raises(ValueError):
            road_distance_m(a, b, circuity=bad)


# --- spatial index against brute force, 2,000 nodes around Shanghai


@settings(max_examples=200, deadline=None)
@given(around_shanghai, st.floats(min_value=0.0, max_value=8000.0))
def test_within_matches_brute_force(point: LatLng, radius_m: float) -> None:
    assert SHANGHAI_INDEX.within(point, radius_m) == brute_within(SHANGHAI, point, radius_m)


@settings(max_examples=50, deadline=None)
@given(around_shanghai, st.integers(min_value=0, max_value=30))
def test_within_limit_keeps_the_nearest(point: LatLng, limit: int) -> None:
    assert SHANGHAI_INDEX.within(point, 3000.0, limit=limit) == brute_within(SHANGHAI, point, 3000.0)[:limit]


@settings(max_examples=100, deadline=None)
@given(anywhere | around_shanghai, st.integers(min_value=0, max_value=50))
def test_nearest_matches_brute_force(point: LatLng, k: int) -> None:
    assert SHANGHAI_INDEX.nearest(point, k) == brute_within(SHANGHAI, point, math.inf)[:k]


@settings(max_examples=100, deadline=None)
@given(around_shanghai)
def test_covering_matches_brute_force(point: LatLng) -> None:
    expected = brute_covering(SHANGHAI, point, DELIVERY_RADIUS.__getitem__)
    assert SHANGHAI_INDEX.covering(point, DELIVERY_RADIUS.__getitem__) == expected
    assert SHANGHAI_INDEX.covering(point, DELIVERY_RADIUS.__getitem__, max_radius_m=5000.0) == expected
    assert all(d <= DELIVERY_RADIUS[k] for k, d in expected)


# --- small random indexes anywhere on earth: poles, antimeridian, ties, odd cell sizes


@st.composite
def small_index(draw: st.DrawFn) -> tuple[list[Node], SpatialIndex[int]]:
    points = draw(st.lists(anywhere | around_shanghai, max_size=40))
    points += draw(st.lists(st.sampled_from(points), max_size=5)) if points else []  # duplicates: ties
    nodes = list(enumerate(points))
    cell_m = draw(st.sampled_from([50.0, 1000.0, 2000.0, 500_000.0]))
    return nodes, SpatialIndex(nodes, cell_m=cell_m)


@settings(max_examples=300, deadline=None)
@given(small_index(), anywhere | around_shanghai, st.floats(min_value=0.0, max_value=2.1e7))
def test_small_index_matches_brute_force(
    built: tuple[list[Node], SpatialIndex[int]], point: LatLng, r: float
) -> None:
    nodes, index = built
    assert index.within(point, r) == brute_within(nodes, point, r)
    assert index.nearest(point, 3) == brute_within(nodes, point, math.inf)[:3]

    def radius_of(key: int) -> float:
        return (key * 7919.0) % r if r > 0 else -1.0

    assert index.covering(point, radius_of) == brute_covering(nodes, point, radius_of)


# --- edges


def test_empty_index() -> None:
    index: SpatialIndex[str] = SpatialIndex([])
    p = LatLng(31.23, 121.47)
    assert len(index) == 0
    assert index.within(p, 3000.0) == []
    assert index.nearest(p, 5) == []
    assert index.covering(p, lambda _key: 3000.0) == []


def test_keys_points_and_string_keys() -> None:
    stores = [("jingan", LatLng(31.2293, 121.4480)), ("lujiazui", LatLng(31.2397, 121.4998))]
    index = SpatialIndex(stores)
    assert len(index) == 2 and "jingan" in index and "xuhui" not in index
    assert index.point("lujiazui") == LatLng(31.2397, 121.4998)
    assert list(index) == stores
    hits = index.within(LatLng(31.2304, 121.4737), 10_000.0)
    assert [key for key, _ in hits] == ["jingan", "lujiazui"]
    assert (
        index.covering(LatLng(31.2304, 121.4737), {"jingan": 3000.0, "lujiazui": 1000.0}.__getitem__)
        == hits[:1]
    )


@pytest.mark.parametrize("query_lng", [180.0, 179.9995, -180.0, -179.9995])
def test_search_across_the_antimeridian(query_lng: float) -> None:
    # Enough other nodes that the grid is used rather than the small-index linear scan.
    nodes = [(1, LatLng(0.0, 179.999)), (2, LatLng(0.0, -179.999)), *[(k + 10, p) for k, p in SHANGHAI[:50]]]
    index = SpatialIndex(nodes)
    query = LatLng(0.0, query_lng)
    assert {key for key, _ in index.within(query, 1000.0)} == {1, 2}
    assert index.within(query, 1000.0) == brute_within(nodes, query, 1000.0)


@pytest.mark.parametrize("pole_lat", [90.0, -90.0])
def test_search_around_a_pole(pole_lat: float) -> None:
    sign = math.copysign(1.0, pole_lat)
    nodes = [(lng, LatLng(sign * 89.99, float(lng))) for lng in range(-180, 180, 15)]
    nodes += [(1000 + k, p) for k, p in SHANGHAI[:50]]
    index = SpatialIndex(nodes)
    query = LatLng(pole_lat, 0.0)
    assert len(index.within(query, 1200.0)) == 24
    assert index.within(query, 1200.0) == brute_within(nodes, query, 1200.0)


def test_zero_radius_finds_exact_point_only() -> None:
    assert SHANGHAI_INDEX.within(SHANGHAI[7][1], 0.0) == [(7, 0.0)]


def test_invalid_arguments() -> None:
    p = LatLng(31.23, 121.47)
    with pytest.raises(ValueError, match="duplicate"):
        SpatialIndex([(1, p), (1, p)])
    with pytest.raises(ValueError):
        SpatialIndex([(1, p)], cell_m=0.0)
    with pytest.raises(ValueError):
        SHANGHAI_INDEX.within(p, -1.0)
    with pytest.raises(ValueError):
        SHANGHAI_INDEX.within(p, math.nan)
    with pytest.raises(ValueError):
        SHANGHAI_INDEX.within(p, 1000.0, limit=-1)
    with pytest.raises(ValueError):
        SHANGHAI_INDEX.nearest(p, -1)


def test_covering_ignores_negative_radii() -> None:
    assert SHANGHAI_INDEX.covering(LatLng(31.23, 121.47), lambda _key: -1.0) == []
