"""SF same-city: known-answer sign, request shape, callback mapping, errors and garbage."""

from __future__ import annotations

import base64
import hashlib
import json
from datetime import datetime
from urllib.parse import parse_qs, urlsplit

import pytest
from hypothesis import given
from hypothesis import strategies as st

from o2o.adapters.couriers import (
    SHANGHAI,
    BadSignature,
    CourierStatus,
    MalformedCallback,
    ProviderError,
    SfGateway,
    simulated_gateway,
)
from o2o.adapters.couriers.sf import PATH_CANCEL, PATH_CREATE, PATH_PRECREATE, SIGN_HEADER, sign
from tests.unit.adapters.test_couriers_dada import Recorder
from tests.unit.adapters.test_couriers_lifecycle import Clock, request

DEV_ID = 1550000001
DEV_KEY = "test-dev-key"
NOW = datetime(2024, 5, 1, 10, 0, tzinfo=SHANGHAI)
CREATED = {"error_code": 0, "error_msg": "success", "result": {
    "sf_order_id": "3416735433651441793", "sf_bill_id": "JS1234567890", "shop_order_id": "S1-1",
    "push_time": 1714528800, "total_price": 1100, "delivery_distance_meter": 2468, "real_pay_money": 1000}}


def expected_sign(post_data: bytes, dev_id: int = DEV_ID, dev_key: str = DEV_KEY) -> str:
    md5_hex = hashlib.md5(post_data + b"&" + str(dev_id).encode() + b"&" + dev_key.encode(),
                          usedforsecurity=False).hexdigest()
    return base64.b64encode(md5_hex.encode()).decode()


def gateway(transport: object = None) -> SfGateway:
    return SfGateway(dev_id=DEV_ID, dev_key=DEV_KEY, shop_id="3243279847393", transport=transport or Recorder(
        answer=CREATED), base_url="https://openic.sf-express.com", clock=Clock(NOW))


def test_sign_known_answer() -> None:
    post_data = '{"dev_id":1550000001,"shop_order_id":"S1-1","备注":"不要辣"}'
    expected = expected_sign(post_data.encode())
    assert sign(post_data, DEV_ID, DEV_KEY) == expected == sign(post_data.encode(), str(DEV_ID), DEV_KEY)
    assert len(expected) == 44 and expected.endswith("=")  # base64 of the 32-character hex digest


def test_create_order_request_shape() -> None:
    transport = Recorder(answer=CREATED)
    order = gateway(transport).create_order(request())
    assert (order.external_id, order.fee_fen, order.distance_m, order.status) == (
        "3416735433651441793", 1000, 2468, CourierStatus.CREATED)  # real_pay_money wins over total_price
    method, url, _, body = transport.sent[0]
    parts = urlsplit(url)
    assert (method, parts.path) == ("POST", PATH_CREATE)
    assert parse_qs(parts.query)["sign"] == [expected_sign(body)]
    payload = json.loads(body)
    assert (payload["dev_id"], payload["shop_id"], payload["shop_order_id"], payload["version"]) == (
        DEV_ID, "3243279847393", "S1-1", 19)
    assert payload["order_time"] == payload["push_time"] == 1714528800
    assert payload["weight"] == 1200 and payload["order_detail"]["total_price"] == 12345
    assert payload["order_detail"]["weight_gram"] == 1200
    assert payload["receive"] == {"user_name": "李雷", "user_phone": "13800000000",
                                  "user_address": "上海市静安区南京西路 1000 号",
                                  "user_lng": "121.45", "user_lat": "31.25"}
    assert (payload["shop"]["shop_lat"], payload["shop"]["shop_lng"]) == ("31.2304", "121.4737")


def test_quote_and_cancel_requests() -> None:
    transport = Recorder(answer={"error_code": 0, "error_msg": "success",
                                 "result": {"total_price": 900, "delivery_distance_meter": "3001"}})
    quote = gateway(transport).quote(request())
    assert (quote.external_id, quote.fee_fen, quote.distance_m) == ("", 900, 3001)
    assert urlsplit(transport.sent[0][1]).path == PATH_PRECREATE
    gw = gateway(transport)
    gw.cancel(shipment_ref="S1-1", external_id="3416735433651441793", reason="顾客取消")
    gw.cancel(shipment_ref="S1-1", external_id="", reason="顾客取消")
    by_id, by_ref = (json.loads(sent[3]) for sent in transport.sent[1:])
    assert urlsplit(transport.sent[1][1]).path == PATH_CANCEL
    assert (by_id["order_id"], by_id["order_type"]) == ("3416735433651441793", 1)
    assert (by_ref["order_id"], by_ref["order_type"]) == ("S1-1", 2)


def test_cancel_by_ref_through_the_simulator() -> None:
    clock = Clock(NOW)
    gw, sim = simulated_gateway("sf", clock)
    gw.create_order(request())
    gw.cancel(shipment_ref="S1-1", external_id="", reason="顾客取消")
    assert sim.requests[-1][1]["order_type"] == 2
    clock.tick(hours=2)
    assert sim.advance() == []


@pytest.mark.parametrize(("answer", "code"), [
    ({"error_code": 1002, "error_msg": "签名错误"}, "sf:1002"),
    ({"error_code": 0, "result": {"sf_order_id": "1"}}, "sf:bad_response"),
    (b"not json", "sf:bad_response"),
])
def test_provider_errors(answer: object, code: str) -> None:
    with pytest.raises(ProviderError) as err:
        gateway(Recorder(answer=answer)).create_order(request())
    assert err.value.code == code


def test_simulator_rejects_a_bad_request_signature() -> None:
    good, sim = simulated_gateway("sf", Clock(NOW), 2)
    bad = SfGateway(dev_id=good.dev_id, dev_key="wrong", shop_id="x", transport=sim, base_url=good.base_url,
                    clock=Clock(NOW))
    with pytest.raises(ProviderError) as err:
        bad.create_order(request())
    assert err.value.code == "sf:1002"
    other = SfGateway(dev_id=good.dev_id + 1, dev_key=good.dev_key, shop_id="x", transport=sim,
                      base_url=good.base_url, clock=Clock(NOW))
    with pytest.raises(ProviderError):
        other.quote(request())


def callback(order_status: int, url_index: str = "rider_status", **extra: object) -> tuple[dict[str, str], bytes]:
    data = {"sf_order_id": "3416735433651441793", "sf_bill_id": "JS1234567890", "shop_order_id": "S1-1",
            "url_index": url_index, "order_status": order_status, "status_desc": "配送员已接单",
            "operator_name": "王五", "operator_phone": "13700000000", "rider_lng": "121.47", "rider_lat": "31.23",
            "push_time": 1714529000}
    data.update(extra)
    body = json.dumps(data, ensure_ascii=False).encode()
    return {SIGN_HEADER: expected_sign(body)}, body


@pytest.mark.parametrize(("code", "url_index", "status"), [
    (1, "order_create", CourierStatus.CREATED),
    (10, "rider_status", CourierStatus.ACCEPTED),
    (12, "rider_status", CourierStatus.ARRIVED),
    (15, "rider_status", CourierStatus.PICKED_UP),
    (17, "order_complete", CourierStatus.DELIVERED),
    (2, "rider_status", CourierStatus.CANCELLED),   # our own cancellation
    (2, "sf_cancel", CourierStatus.FAILED),         # SF cancelled
    (22, "rider_recall", CourierStatus.FAILED),
])
def test_status_mapping(code: int, url_index: str, status: CourierStatus) -> None:
    update = gateway().parse_callback(*callback(code, url_index))
    assert update.status is status
    assert (update.shipment_ref, update.external_id) == ("S1-1", "3416735433651441793")
    assert update.event_id == f"3416735433651441793:{code}:1714529000"
    assert update.at == datetime(2024, 5, 1, 10, 3, 20, tzinfo=SHANGHAI)
    assert update.rider is not None
    assert (update.rider.name, update.rider.lat, update.rider.lng) == ("王五", 31.23, 121.47)


def test_callback_details() -> None:
    gw = gateway()
    headers, body = callback(2, "sf_cancel", cancel_reason="无骑手接单")
    assert gw.parse_callback(headers, body).reason == "无骑手接单"
    headers, body = callback(10, operator_name="", operator_phone="", rider_lat="x")
    assert gw.parse_callback(headers, body).rider is None
    headers, body = callback(10, rider_lat="91", rider_lng=10**400)
    rider = gw.parse_callback(headers, body).rider
    assert rider is not None and (rider.lat, rider.lng) == (None, None)
    headers, body = callback(31)
    with pytest.raises(MalformedCallback):
        gw.parse_callback(headers, body)
    headers, body = callback(17)
    assert b'"order_status": 17' in body
    with pytest.raises(BadSignature):
        gw.parse_callback({SIGN_HEADER: expected_sign(body, dev_key="other")}, body)
    with pytest.raises(BadSignature):
        gw.parse_callback(headers, body.replace(b'"order_status": 17', b'"order_status": 22'))
    with pytest.raises(BadSignature):
        gw.parse_callback({}, body)
    assert gw.parse_callback({SIGN_HEADER.upper(): f" {headers[SIGN_HEADER]} "}, body).status is (
        CourierStatus.DELIVERED)


def test_ack() -> None:
    status, _, body = gateway().callback_ack(True)
    assert (status, json.loads(body)) == (200, {"error_code": 0, "error_msg": "success"})
    status, _, body = gateway().callback_ack(False)
    assert status == 400 and json.loads(body)["error_code"] != 0


ONLY = (BadSignature, MalformedCallback)


@given(st.binary(max_size=300), st.booleans())
def test_garbage_bytes(body: bytes, sign_it: bool) -> None:
    headers = {SIGN_HEADER: expected_sign(body) if sign_it else "bm90IGEgc2lnbg=="}
    with pytest.raises(ONLY):
        gateway().parse_callback(headers, body)


json_values = st.recursive(
    st.none() | st.booleans() | st.integers() | st.floats() | st.text(max_size=12),
    lambda inner: st.lists(inner, max_size=3) | st.dictionaries(st.text(max_size=5), inner, max_size=3),
    max_leaves=6,
)


@given(st.dictionaries(st.sampled_from(["sf_order_id", "shop_order_id", "order_status", "push_time", "url_index",
                                        "operator_name", "operator_phone", "rider_lat", "rider_lng",
                                        "status_desc", "cancel_reason"]), json_values))
def test_garbage_fields_signed_correctly(data: dict[str, object]) -> None:
    body = json.dumps(data).encode()
    try:
        update = gateway().parse_callback({SIGN_HEADER: expected_sign(body)}, body)
    except ONLY:
        return
    assert isinstance(update.status, CourierStatus) and update.at.tzinfo is not None
