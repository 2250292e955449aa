"""The store's own riders: the pool, the HMAC, the dispatch messages, callbacks and garbage."""

from __future__ import annotations

import hashlib
import hmac
import json
from datetime import datetime, timedelta, timezone

import pytest
from hypothesis import given
from hypothesis import strategies as st

from o2o.adapters.couriers import (
    SHANGHAI,
    BadSignature,
    CourierStatus,
    MalformedCallback,
    OwnRidersGateway,
    Place,
    ProviderError,
    Rider,
    simulated_gateway,
)
from o2o.adapters.couriers.own_riders import SIGNATURE_HEADER, sign
from tests.unit.adapters.test_couriers_dada import Recorder
from tests.unit.adapters.test_couriers_lifecycle import CUSTOMER, SHOP, Clock, parse_all, request

SECRET = "rider-app-secret"
NOW = datetime(2024, 5, 1, 10, 0, tzinfo=SHANGHAI)
NEAR = Rider("近骑手", "13900000010", SHOP.lat + 0.001, SHOP.lng)
FAR = Rider("远骑手", "13900000011", SHOP.lat + 0.05, SHOP.lng)
UNKNOWN = Rider("无定位", "13900000012")


def gateway(riders: tuple[Rider, ...] = (FAR, UNKNOWN, NEAR), **kwargs: object) -> OwnRidersGateway:
    return OwnRidersGateway(riders=riders, fee_fen=600, secret=SECRET, clock=Clock(NOW), **kwargs)  # type: ignore[arg-type]


def test_hmac_known_answer() -> None:
    body = b'{"ref":"S1-1","status":"delivered"}'
    expected = hmac.new(SECRET.encode(), body, hashlib.sha256).hexdigest()
    assert sign(body, SECRET) == sign(body, SECRET.encode()) == expected


def test_assigns_nearest_free_rider_and_releases() -> None:
    gw = gateway()
    quote = gw.quote(request())
    assert (quote.fee_fen, quote.external_id, quote.status) == (600, "", CourierStatus.CREATED)
    first = gw.create_order(request("S1-1"))
    assert (first.external_id, first.fee_fen, first.status) == ("own-S1-1", 600, CourierStatus.ACCEPTED)
    assert first.distance_m == quote.distance_m
    assert gw.active() == {"own-S1-1": NEAR}
    assert gw.create_order(request("S1-1")) == first  # idempotent per ref
    gw.create_order(request("S2-1"))
    gw.create_order(request("S3-1"))
    assert [gw.active()[f"own-S{i}-1"] for i in (2, 3)] == [FAR, UNKNOWN]  # positioned first, then pool order
    with pytest.raises(ProviderError) as err:
        gw.create_order(request("S4-1"))
    assert err.value.code == "own:no_rider"
    gw.cancel(shipment_ref="S2-1", external_id="own-S2-1", reason="取消")
    assert gw.create_order(request("S4-1")).raw["rider"] == {"name": FAR.name, "phone": FAR.phone}
    body = json.dumps({"ref": "S1-1", "external_id": "own-S1-1", "status": "delivered",
                       "at": "2024-05-01T10:30:00+08:00", "rider": None, "event_id": "e1"}).encode()
    gw.parse_callback({SIGNATURE_HEADER: sign(body, SECRET)}, body)
    assert "own-S1-1" not in gw.active()


def test_max_active_per_rider() -> None:
    gw = gateway((NEAR,), max_active_per_rider=2)
    gw.create_order(request("S1-1"))
    gw.create_order(request("S2-1"))
    with pytest.raises(ProviderError):
        gw.create_order(request("S3-1"))
    with pytest.raises(ValueError):
        gateway((NEAR,), transport=Recorder())  # a transport needs a dispatch_url


def test_dispatch_message_is_signed() -> None:
    transport = Recorder(answer={"ok": True})
    gw = gateway(transport=transport, dispatch_url="https://riders.example.com/dispatch")
    gw.create_order(request())
    method, url, headers, body = transport.sent[0]
    assert (method, url) == ("POST", "https://riders.example.com/dispatch")
    assert headers[SIGNATURE_HEADER] == hmac.new(SECRET.encode(), body, hashlib.sha256).hexdigest()
    message = json.loads(body)
    assert message["type"] == "dispatch" and message["ref"] == "S1-1" and message["external_id"] == "own-S1-1"
    assert message["destination"]["lat"] == CUSTOMER.lat and message["callback_url"].startswith("http://testserver")
    refused = gateway(transport=Recorder(status=401, answer={"ok": False}), dispatch_url="https://x/dispatch")
    with pytest.raises(ProviderError) as err:
        refused.create_order(request())
    assert err.value.code == "own:401" and refused.active() == {}


def test_simulator_rejects_a_bad_signature() -> None:
    good, sim = simulated_gateway("own", Clock(NOW), 3)
    bad = OwnRidersGateway(riders=good.riders, fee_fen=600, secret="wrong", transport=sim,
                           dispatch_url=good.dispatch_url, clock=Clock(NOW))
    with pytest.raises(ProviderError) as err:
        bad.create_order(request())
    assert err.value.code == "own:401"
    assert sim.external_id("S1-1") is None


def test_rider_positions_through_the_simulator() -> None:
    clock = Clock(NOW)
    gw, sim = simulated_gateway("own", clock)
    gw.create_order(request())
    updates = parse_all(gw, sim.advance(clock.tick(hours=2)))
    riders = {u.status: u.rider for u in updates}
    assert riders[CourierStatus.ARRIVED] is not None and riders[CourierStatus.DELIVERED] is not None
    assert (riders[CourierStatus.ARRIVED].lat, riders[CourierStatus.ARRIVED].lng) == (SHOP.lat, SHOP.lng)
    assert (riders[CourierStatus.DELIVERED].lat, riders[CourierStatus.DELIVERED].lng) == (CUSTOMER.lat,
                                                                                        CUSTOMER.lng)
    assert gw.active() == {}  # released by the DELIVERED callback


def signed(data: dict[str, object]) -> tuple[dict[str, str], bytes]:
    body = json.dumps(data, ensure_ascii=False).encode()
    return {SIGNATURE_HEADER: hmac.new(SECRET.encode(), body, hashlib.sha256).hexdigest()}, body


GOOD = {"ref": "S1-1", "external_id": "own-S1-1", "status": "picked_up", "at": "2024-05-01T02:10:00+00:00",
        "rider": {"name": "周骑手", "phone": "13900000001", "lat": 31.23, "lng": 121.47}, "event_id": "evt-9",
        "reason": ""}


def test_callback_parsing() -> None:
    update = gateway().parse_callback(*signed(GOOD))
    assert (update.status, update.event_id, update.shipment_ref, update.external_id) == (
        CourierStatus.PICKED_UP, "evt-9", "S1-1", "own-S1-1")
    assert update.at == datetime(2024, 5, 1, 10, 10, tzinfo=SHANGHAI) and update.at.tzinfo == SHANGHAI
    assert update.rider == Rider("周骑手", "13900000001", 31.23, 121.47)
    assert gateway().parse_callback(*signed({**GOOD, "rider": None})).rider is None
    for bad in ({"status": "lost"}, {"at": "2024-05-01T10:10:00"}, {"at": "yesterday"}, {"rider": "周"},
                {"event_id": ""}, {"ref": None}, {"rider": {"phone": "1"}}):
        with pytest.raises(MalformedCallback):
            gateway().parse_callback(*signed({**GOOD, **bad}))
    headers, body = signed(GOOD)
    with pytest.raises(BadSignature):
        gateway().parse_callback(headers, body.replace(b"picked_up", b"delivered"))
    with pytest.raises(BadSignature):
        gateway().parse_callback({SIGNATURE_HEADER: "é" * 64}, body)
    assert gateway().parse_callback({SIGNATURE_HEADER.lower(): headers[SIGNATURE_HEADER].upper()}, body)


def test_ack() -> None:
    assert gateway().callback_ack(True)[:2] == (200, "application/json; charset=utf-8")
    assert json.loads(gateway().callback_ack(False)[2]) == {"ok": False}


ONLY = (BadSignature, MalformedCallback)


@given(st.binary(max_size=300), st.booleans())
def test_garbage_bytes(body: bytes, sign_it: bool) -> None:
    headers = {SIGNATURE_HEADER: sign(body, SECRET) if sign_it else "00" * 32}
    with pytest.raises(ONLY):
        gateway().parse_callback(headers, body)


@given(st.fixed_dictionaries({}, optional={
    "ref": st.none() | st.text(max_size=5) | st.integers(),
    "external_id": st.text(max_size=5),
    "status": st.sampled_from([s.value for s in CourierStatus]) | st.text(max_size=5) | st.integers(),
    "at": st.datetimes(timezones=st.just(timezone(timedelta(hours=3))) | st.none()).map(datetime.isoformat)
    | st.text(max_size=10),
    "rider": st.none() | st.text(max_size=3) | st.dictionaries(
        st.sampled_from(["name", "phone", "lat", "lng"]), st.none() | st.floats() | st.text(max_size=4)),
    "event_id": st.text(max_size=5) | st.integers(),
}))
def test_garbage_fields_signed_correctly(data: dict[str, object]) -> None:
    try:
        update = gateway().parse_callback(*signed(data))
    except ONLY:
        return
    assert update.at.tzinfo is not None and update.event_id


def test_place_must_be_valid() -> None:
    with pytest.raises(ValueError):
        Place("x", "", "", 91.0, 121.0)
