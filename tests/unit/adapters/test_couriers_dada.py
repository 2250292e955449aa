"""Dada: known-answer signatures, request shape, callback mapping, errors and garbage."""

from __future__ import annotations

import hashlib
import json
from collections.abc import Mapping
from datetime import datetime, timedelta

import pytest
from hypothesis import given
from hypothesis import strategies as st

from o2o.adapters.couriers import (
    SHANGHAI,
    BadSignature,
    CourierStatus,
    DadaGateway,
    MalformedCallback,
    ProviderError,
)
from o2o.adapters.couriers.dada import (
    PATH_ADD_ORDER,
    PATH_CANCEL,
    TOKEN_HEADER,
    callback_token,
    sign_callback,
    sign_request,
)
from tests.unit.adapters.test_couriers_lifecycle import Clock, request

SECRET = "test-app-secret"
NOW = datetime(2024, 5, 1, 10, 0, tzinfo=SHANGHAI)  # epoch 1714528800


class Recorder:
    """A transport that records requests and answers a canned response."""

    def __init__(self, status: int = 200, answer: object = None) -> None:
        self.status = status
        self.answer = answer if answer is not None else {
            "status": "success", "code": 0, "msg": "成功", "result": {"distance": 2468.4, "fee": 7.5, "deliverFee": 8}}
        self.sent: list[tuple[str, str, Mapping[str, str], bytes]] = []

    def send(self, method: str, url: str, headers: Mapping[str, str], body: bytes
             ) -> tuple[int, dict[str, str], bytes]:
        self.sent.append((method, url, headers, body))
        raw = self.answer if isinstance(self.answer, bytes) else json.dumps(self.answer).encode()
        return self.status, {"Content-Type": "application/json"}, raw


def gateway(transport: object = None, token_key: bytes | None = None) -> DadaGateway:
    return DadaGateway(app_key="dada-key", app_secret=SECRET, source_id="73753", shop_no="11047059",
                       transport=transport or Recorder(), base_url="https://newopen.qa.imdada.cn",
                       callback_token_key=token_key, clock=Clock(NOW))


def test_request_signature_known_answer() -> None:
    params = {"app_key": "dada-key", "body": '{"order_id":"S1-1"}', "format": "json", "source_id": "73753",
              "timestamp": "1714528800", "v": "1.0", "signature": "ignored"}
    text = (SECRET + "app_keydada-key" + 'body{"order_id":"S1-1"}' + "formatjson" + "source_id73753"
            + "timestamp1714528800" + "v1.0" + SECRET)
    expected = hashlib.md5(text.encode(), usedforsecurity=False).hexdigest().upper()
    assert sign_request(params, SECRET) == expected
    assert expected.isupper() and len(expected) == 32


def test_callback_signature_known_answer() -> None:
    # sorted as strings: "1714528800" < "242516658" < "S1-1"
    expected = hashlib.md5(b"1714528800242516658S1-1", usedforsecurity=False).hexdigest()
    assert sign_callback("242516658", "S1-1", 1714528800) == expected


def test_add_order_request_shape() -> None:
    transport = Recorder()
    order = gateway(transport, token_key=b"k").create_order(request())
    assert (order.fee_fen, order.distance_m, order.external_id, order.status) == (750, 2468, "S1-1",
                                                                                  CourierStatus.CREATED)
    method, url, headers, raw = transport.sent[0]
    assert (method, url) == ("POST", "https://newopen.qa.imdada.cn" + PATH_ADD_ORDER)
    envelope = json.loads(raw)
    assert set(envelope) == {"app_key", "timestamp", "format", "v", "source_id", "body", "signature"}
    assert (envelope["timestamp"], envelope["format"], envelope["v"]) == ("1714528800", "json", "1.0")
    text = SECRET + "".join(f"{k}{envelope[k]}" for k in sorted(envelope) if k != "signature") + SECRET
    assert envelope["signature"] == hashlib.md5(text.encode(), usedforsecurity=False).hexdigest().upper()
    body = json.loads(envelope["body"])
    assert body["shop_no"] == "11047059" and body["origin_id"] == "S1-1" and body["is_prepay"] == 0
    assert body["cargo_price"] == 123.45 and body["cargo_weight"] == 1.2
    assert (body["receiver_lat"], body["receiver_lng"], body["receiver_phone"]) == (31.25, 121.45, "13800000000")
    assert body["callback"] == f"http://testserver/couriers/callback?x=1&o2o_token={callback_token(b'k', 'S1-1')}"


def test_cancel_request() -> None:
    transport = Recorder(answer={"status": "success", "code": 0, "result": {"deduct_fee": 0}})
    gateway(transport).cancel(shipment_ref="S1-1", external_id="S1-1", reason="顾客取消")
    _, url, _, raw = transport.sent[0]
    assert url.endswith(PATH_CANCEL)
    assert json.loads(json.loads(raw)["body"]) == {"order_id": "S1-1", "cancel_reason_id": 10000,
                                                   "cancel_reason": "顾客取消"}


@pytest.mark.parametrize(("status", "answer", "code"), [
    (200, {"status": "fail", "code": 2003, "msg": "签名错误", "result": None}, "dada:2003"),
    (502, {"status": "fail"}, "dada:502"),
    (200, b"<html>busy</html>", "dada:bad_response"),
    (200, {"status": "success", "code": 0, "result": {"distance": 10}}, "dada:bad_response"),
])
def test_provider_errors(status: int, answer: object, code: str) -> None:
    with pytest.raises(ProviderError) as err:
        gateway(Recorder(status, answer)).create_order(request())
    assert err.value.code == code and err.value.provider == "dada"


def test_unreachable() -> None:
    class Down:
        def send(self, *args: object) -> tuple[int, dict[str, str], bytes]:
            raise TimeoutError("timed out")

    with pytest.raises(ProviderError) as err:
        gateway(Down()).quote(request())
    assert err.value.code == "dada:unreachable"


def test_simulator_rejects_a_bad_request_signature() -> None:
    from o2o.adapters.couriers import simulated_gateway

    good, sim = simulated_gateway("dada", Clock(NOW), 1)
    bad = DadaGateway(app_key=good.app_key, app_secret="wrong", source_id=good.source_id, shop_no=good.shop_no,
                      transport=sim, base_url=good.base_url, clock=Clock(NOW))
    with pytest.raises(ProviderError) as err:
        bad.create_order(request())
    assert err.value.code == "dada:2003"
    assert sim.external_id("S1-1") is None  # nothing was created


def callback(order_status: int, *, cancel_from: int = 0, update_time: int = 1714529000, **extra: object) -> bytes:
    data = {"client_id": "242516658", "order_id": "S1-1", "order_status": order_status, "cancel_reason": "",
            "cancel_from": cancel_from, "update_time": update_time, "dm_id": 1001, "dm_name": "张三",
            "dm_mobile": "13900000000", "signature": sign_callback("242516658", "S1-1", update_time)}
    data.update(extra)
    return json.dumps(data, ensure_ascii=False).encode()


@pytest.mark.parametrize(("code", "cancel_from", "status"), [
    (1, 0, CourierStatus.CREATED),
    (2, 0, CourierStatus.ACCEPTED),
    (100, 0, CourierStatus.ARRIVED),
    (3, 0, CourierStatus.PICKED_UP),
    (4, 0, CourierStatus.DELIVERED),
    (5, 2, CourierStatus.CANCELLED),   # by the merchant
    (5, 1, CourierStatus.FAILED),      # by the rider
    (5, 3, CourierStatus.FAILED),      # by Dada
    (9, 0, CourierStatus.FAILED),
    (10, 0, CourierStatus.FAILED),
    (1000, 0, CourierStatus.FAILED),
])
def test_status_mapping(code: int, cancel_from: int, status: CourierStatus) -> None:
    update = gateway().parse_callback({}, callback(code, cancel_from=cancel_from))
    assert update.status is status
    assert (update.shipment_ref, update.external_id) == ("S1-1", "242516658")
    assert update.event_id == f"242516658:{code}:1714529000"
    assert update.at == datetime(2024, 5, 1, 10, 3, 20, tzinfo=SHANGHAI)
    assert update.at.utcoffset() == timedelta(hours=8)
    assert update.rider is not None and update.rider.name == "张三"


def test_callback_details() -> None:
    gw = gateway()
    assert gw.parse_callback({}, callback(1, dm_name="", dm_mobile="", dm_id=0)).rider is None
    assert gw.parse_callback({}, callback(5, cancel_from=2, cancel_reason="不要了")).reason == "不要了"
    as_strings = callback(2, update_time="1714529000", signature=sign_callback("242516658", "S1-1", "1714529000"))
    assert gw.parse_callback({}, as_strings).status is CourierStatus.ACCEPTED
    upper = callback(2, signature=sign_callback("242516658", "S1-1", 1714529000).upper())
    assert gw.parse_callback({}, upper).status is CourierStatus.ACCEPTED
    with pytest.raises(MalformedCallback):
        gw.parse_callback({}, callback(42))
    with pytest.raises(BadSignature):
        gw.parse_callback({}, callback(2, signature="0" * 32))
    with pytest.raises(BadSignature):
        gw.parse_callback({}, callback(2, update_time=1714529001, signature=sign_callback("242516658", "S1-1", 1)))


def test_callback_token() -> None:
    gw = gateway(token_key=b"secret-token-key")
    body = callback(4)
    with pytest.raises(BadSignature):
        gw.parse_callback({}, body)
    with pytest.raises(BadSignature):
        gw.parse_callback({TOKEN_HEADER: callback_token(b"secret-token-key", "S2-1")}, body)
    ok = gw.parse_callback({TOKEN_HEADER.lower(): callback_token(b"secret-token-key", "S1-1")}, body)
    assert ok.status is CourierStatus.DELIVERED


def test_ack() -> None:
    status, content_type, body = gateway().callback_ack(True)
    assert (status, json.loads(body)) == (200, {"status": "ok"}) and content_type.startswith("application/json")
    status, _, body = gateway().callback_ack(False)
    assert status == 400 and json.loads(body)["status"] == "fail"


ONLY = (BadSignature, MalformedCallback)


@given(st.binary(max_size=300))
def test_garbage_bytes(body: bytes) -> None:
    with pytest.raises(ONLY):
        gateway().parse_callback({}, body)


json_values = st.recursive(
    st.none() | st.booleans() | st.integers() | st.floats() | st.text(max_size=12),
    lambda inner: st.lists(inner, max_size=3) | st.dictionaries(st.text(max_size=5), inner, max_size=3),
    max_leaves=6,
)


@given(st.dictionaries(st.sampled_from(["client_id", "order_id", "order_status", "update_time", "cancel_from",
                                        "cancel_reason", "dm_name", "dm_mobile", "signature"]), json_values),
       st.booleans())
def test_garbage_fields_signed_correctly(data: dict[str, object], sign_it: bool) -> None:
    if sign_it:
        data["signature"] = sign_callback(data.get("client_id"), data.get("order_id"), data.get("update_time"))
    try:
        update = gateway().parse_callback({}, json.dumps(data).encode())
    except ONLY:
        return
    assert isinstance(update.status, CourierStatus) and update.at.tzinfo is not None
