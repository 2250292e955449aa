"""The simulator as a server (fees, refusals, garbage) and the shared helpers in ``base``."""

from __future__ import annotations

import json
from datetime import datetime, timedelta

import pytest
from hypothesis import given
from hypothesis import strategies as st

from o2o.adapters.couriers import (
    SHANGHAI,
    CourierSimulator,
    CourierStatus,
    DadaGateway,
    DeliveryRequest,
    Place,
    ProviderError,
    Timeline,
    UrllibTransport,
    simulated_fee_fen,
    simulated_gateway,
)
from o2o.adapters.couriers.base import fen_to_yuan, header, yuan_to_fen
from tests.unit.adapters.test_couriers_lifecycle import CUSTOMER, SHOP, Clock, parse_all, request

NOW = datetime(2024, 5, 1, 10, 0, tzinfo=SHANGHAI)


@pytest.mark.parametrize(("distance_m", "weight_g", "fee"), [
    (0, 0, 500),
    (3000, 5000, 500),
    (3001, 5000, 600),
    (4000, 5001, 700),
    (10_500, 12_000, 500 + 800 + 700),
])
def test_fee_model(distance_m: int, weight_g: int, fee: int) -> None:
    assert simulated_fee_fen(distance_m, weight_g) == fee


@pytest.mark.parametrize("provider", ["dada", "sf"])
def test_quoted_fee_follows_the_fee_model(provider: str) -> None:
    gw, _ = simulated_gateway(provider, Clock(NOW))  # type: ignore[arg-type]
    far = Place("韩梅梅", "13800000001", "上海市浦东新区", 31.2200, 121.5500)
    for destination, weight_g in ((CUSTOMER, 1200), (far, 7300)):
        quote = gw.quote(request(destination=destination, weight_g=weight_g))
        assert quote.fee_fen == simulated_fee_fen(quote.distance_m, weight_g)
    assert quote.distance_m > 3000 and quote.fee_fen > 700


def test_configurable_timeline() -> None:
    clock = Clock(NOW)
    timeline = Timeline(accept_min=timedelta(seconds=30), accept_max=timedelta(seconds=30),
                        jitter=timedelta(0), speed_m_per_min=500, no_rider_timeout=timedelta(minutes=3))
    gw, sim = simulated_gateway("sf", clock, timeline=timeline)
    gw.create_order(request())
    gw.create_order(request("S2-1"))
    sim.fail("S2-1", "no_rider")
    at = {(u.shipment_ref, u.status): u.at - NOW for u in parse_all(gw, sim.advance(clock.tick(hours=1)))}
    assert at["S1-1", CourierStatus.ACCEPTED] == timedelta(seconds=30)
    assert at["S1-1", CourierStatus.ARRIVED] == timedelta(minutes=8)
    assert at["S1-1", CourierStatus.PICKED_UP] == timedelta(minutes=10)
    assert at["S2-1", CourierStatus.FAILED] == timedelta(minutes=3)
    sim.fail("S2-1", None)  # clearing a mode later does not resend anything
    assert sim.advance(clock.tick(hours=1)) == []


def test_advance_defaults_to_the_clock_and_needs_aware_times() -> None:
    clock = Clock(NOW)
    gw, sim = simulated_gateway("own", clock)
    gw.create_order(request())
    assert sim.advance() == []
    clock.tick(minutes=5)
    assert [u.status for u in parse_all(gw, sim.advance())] == [CourierStatus.ACCEPTED]
    with pytest.raises(ValueError):
        sim.advance(datetime(2024, 5, 1, 12, 0))  # noqa: DTZ001
    assert sim.state("S1-1") == "accepted" and sim.state("nope") is None


def test_several_orders_interleave_in_time_order() -> None:
    clock = Clock(NOW)
    gw, sim = simulated_gateway("dada", clock, 5)
    for i in range(5):
        gw.create_order(request(f"S{i}-1"))
        clock.tick(minutes=1)
    updates = parse_all(gw, sim.advance(clock.tick(hours=2)))
    assert len(updates) == 25
    assert [u.at for u in updates] == sorted(u.at for u in updates)


def test_dada_registered_shop_and_unknown_shop() -> None:
    clock = Clock(NOW)
    sim = CourierSimulator("dada", clock=clock, app_key="k", app_secret="s", source_id="1")
    sim.register_shop("11047059", SHOP.lat, SHOP.lng)
    gw = DadaGateway(app_key="k", app_secret="s", source_id="1", shop_no="11047059", transport=sim,
                     base_url="http://dada.simulator", clock=clock)
    assert gw.create_order(request()).distance_m == gw.quote(request("S2-1")).distance_m
    gw.shop_no = "unregistered"
    with pytest.raises(ProviderError) as err:
        gw.create_order(request("S3-1"))
    assert err.value.code == "dada:2005"
    assert [u.status for u in parse_all(gw, sim.advance(clock.tick(hours=1)))][-1] is CourierStatus.DELIVERED


@pytest.mark.parametrize("provider", ["dada", "sf", "own"])
def test_simulator_answers_garbage_in_the_provider_shape(provider: str) -> None:
    _, sim = simulated_gateway(provider, Clock(NOW))  # type: ignore[arg-type]
    status, _, body = sim.send("GET", "http://x/api/order/addOrder", {}, b"")
    assert status == (405 if provider == "own" else 200)
    answer = json.loads(body)
    assert answer.get("status") == "fail" or answer.get("error_code") or answer.get("ok") is False


@pytest.mark.parametrize("provider", ["dada", "sf", "own"])
@given(body=st.binary(max_size=200), path=st.sampled_from(["/api/order/addOrder", "/open/api/external/createorder",
                                                           "/dispatch", "/"]))
def test_simulator_never_crashes_on_garbage(provider: str, body: bytes, path: str) -> None:
    _, sim = simulated_gateway(provider, Clock(NOW))  # type: ignore[arg-type]
    status, headers, raw = sim.send("POST", f"http://sim{path}?sign=abc", {}, body)
    assert isinstance(json.loads(raw), dict) and headers["Content-Type"] == "application/json"
    assert sim.requests == []


def test_unknown_provider_and_mode() -> None:
    with pytest.raises(ValueError):
        CourierSimulator("meituan", clock=Clock(NOW))  # type: ignore[arg-type]
    with pytest.raises(ValueError):
        simulated_gateway("meituan", Clock(NOW))  # type: ignore[arg-type]
    _, sim = simulated_gateway("sf", Clock(NOW))
    with pytest.raises(ValueError):
        sim.fail_all("lost")  # type: ignore[arg-type]


def test_money_helpers() -> None:
    assert fen_to_yuan(12_345) == 123.45 and fen_to_yuan(0) == 0.0 and fen_to_yuan(7) == 0.07
    assert [yuan_to_fen(v) for v in (7.5, "12.34", 8, "0.005", 0.1 + 0.2)] == [750, 1234, 800, 1, 30]
    for bad in (True, "abc", float("nan"), None, "Infinity", 10**400, "1e400"):
        with pytest.raises(ValueError):
            yuan_to_fen(bad)


def test_values_and_helpers() -> None:
    assert CourierStatus.DELIVERED.terminal and not CourierStatus.PICKED_UP.terminal
    assert header({"x-SF-sign": "a"}, "X-Sf-Sign") == "a" and header({}, "X") is None
    with pytest.raises(ValueError):
        DeliveryRequest("", SHOP, CUSTOMER, 1, 1, "http://x")
    with pytest.raises(ValueError):
        DeliveryRequest("S1", SHOP, CUSTOMER, -1, 1, "http://x")
    with pytest.raises(ValueError):
        UrllibTransport().send("POST", "file:///etc/passwd", {}, b"")
