"""WeChat Pay API v3 adapter against its sandbox, plus known answers and hostile notifications."""

from __future__ import annotations

import base64
import json
import re
from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta

import pytest
from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.asymmetric import padding
from cryptography.hazmat.primitives.ciphers.aead import AESGCM
from hypothesis import given
from hypothesis import strategies as st

from o2o.adapters.payments import BadSignature, IgnorableNotice, MalformedNotice, ProviderError, WeChatPay
from o2o.adapters.payments.base import SHANGHAI
from o2o.adapters.payments.keys import generate_rsa_key, test_keys
from o2o.adapters.payments.sandbox import (
    SANDBOX_MCHID,
    SANDBOX_MERCHANT_SERIAL,
    SANDBOX_PLATFORM_SERIAL,
    SANDBOX_WECHAT_APPID,
    SandboxWorld,
    WeChatPaySandbox,
    sandbox_gateways,
)
from o2o.adapters.payments.wechatpay_wire import (
    authorization_header,
    jsapi_message,
    request_message,
    response_message,
)

T0 = datetime(2026, 3, 1, 10, 0, 0, tzinfo=SHANGHAI)
NOTIFY = "https://shop.example.com/pay/wechat/notify"
KEYS = test_keys()
OTHER_KEY = generate_rsa_key()


@dataclass
class Clock:
    now: datetime = T0

    def __call__(self) -> datetime:
        return self.now


@dataclass
class Recorder:
    """A transport that records requests and forwards them to the sandbox (optionally altering replies)."""

    inner: WeChatPaySandbox
    sent: list[tuple[str, str, dict[str, str], bytes]] = field(default_factory=list)
    alter: object = None

    def send(self, method: str, url: str, headers: Mapping[str, str], body: bytes):
        self.sent.append((method, url, dict(headers), body))
        reply = self.inner.send(method, url, headers, body)
        return self.alter(*reply) if callable(self.alter) else reply


@pytest.fixture
def clock() -> Clock:
    return Clock()


@pytest.fixture
def world(clock: Clock) -> SandboxWorld:
    return sandbox_gateways(clock)


def adapter(sandbox, clock, **overrides) -> WeChatPay:
    kwargs = dict(mchid=SANDBOX_MCHID, appid=SANDBOX_WECHAT_APPID, merchant_serial_no=SANDBOX_MERCHANT_SERIAL,
                  merchant_private_key=KEYS.merchant, platform_serial_no=SANDBOX_PLATFORM_SERIAL,
                  platform_public_key=KEYS.platform.public_key(), apiv3_key=KEYS.apiv3_key, transport=sandbox,
                  clock=clock)
    kwargs.update(overrides)
    return WeChatPay(**kwargs)


def order(gw: WeChatPay, no: str = "o2o20260301001", fen: int = 1230, **kw):
    kw.setdefault("payer_id", "oUpF8uMuAJO_M2pxb1Q9zNjWeS6o")
    return gw.create_payment(out_trade_no=no, amount_fen=fen, description="鲜牛奶 950ml", notify_url=NOTIFY,
                             expires_at=T0 + timedelta(minutes=30), **kw)


def platform_sign(body: bytes, *, ts: str | None = None, key=None, serial=SANDBOX_PLATFORM_SERIAL) -> dict[str, str]:
    ts = ts or str(int(T0.timestamp()))
    nonce = "fdasflkja484w"
    sig = (key or KEYS.platform).sign(f"{ts}\n{nonce}\n".encode() + body + b"\n", padding.PKCS1v15(), hashes.SHA256())
    return {"Wechatpay-Timestamp": ts, "Wechatpay-Nonce": nonce, "Wechatpay-Serial": serial,
            "Wechatpay-Signature": base64.b64encode(sig).decode()}


def notification(txn: dict, *, event: str = "TRANSACTION.SUCCESS", apiv3: bytes = KEYS.apiv3_key,
                 ad: str = "transaction") -> bytes:
    nonce = "a1b2c3d4e5f6"
    ct = AESGCM(apiv3).encrypt(nonce.encode(), json.dumps(txn).encode(), ad.encode())
    return json.dumps({"id": "EV-2018022511223320873", "create_time": "2026-03-01T10:00:00+08:00",
                       "resource_type": "encrypt-resource", "event_type": event, "summary": "支付成功",
                       "resource": {"original_type": "transaction", "algorithm": "AEAD_AES_256_GCM",
                                    "ciphertext": base64.b64encode(ct).decode(), "associated_data": ad,
                                    "nonce": nonce}}).encode()


def paid_txn(**over) -> dict:
    txn = {"appid": SANDBOX_WECHAT_APPID, "mchid": SANDBOX_MCHID, "out_trade_no": "o2o20260301001",
           "transaction_id": "4200000000202603010000000001", "trade_type": "JSAPI", "trade_state": "SUCCESS",
           "success_time": "2026-03-01T10:01:02+08:00", "payer": {"openid": "x"},
           "amount": {"total": 1230, "payer_total": 1230, "currency": "CNY", "payer_currency": "CNY"}}
    txn.update(over)
    return txn


# --- known answers -------------------------------------------------------------------------------


def test_signing_messages_known_answer() -> None:
    # The example in WeChat Pay's signature guide.
    assert request_message("GET", "/v3/certificates", "1554208460", "593BEC0C930BF1AFEB40B4A08C8FB242", b"") == (
        b"GET\n/v3/certificates\n1554208460\n593BEC0C930BF1AFEB40B4A08C8FB242\n\n")
    assert request_message("POST", "/v3/pay/transactions/jsapi", "1", "N", b'{"a":1}') == (
        b'POST\n/v3/pay/transactions/jsapi\n1\nN\n{"a":1}\n')
    assert response_message("1554209980", "c5ac7061fccab6bf3e254dcf98995b8c", b'{"data":[]}') == (
        b'1554209980\nc5ac7061fccab6bf3e254dcf98995b8c\n{"data":[]}\n')
    assert jsapi_message("wx8888888888888888", "1414561699", "5K8264ILTKCH16CQ2502SI8ZNMTM67VS",
                         "prepay_id=wx201410272009395522657a690389285100") == (
        b"wx8888888888888888\n1414561699\n5K8264ILTKCH16CQ2502SI8ZNMTM67VS\n"
        b"prepay_id=wx201410272009395522657a690389285100\n")
    assert authorization_header(mchid="1900009191", serial_no="1DDE55AD98ED71D6EDD4A4A16996DE7B47773A8C",
                                timestamp="1554208460", nonce="593BEC0C930BF1AFEB40B4A08C8FB242",
                                signature="uOVRnA4qG/MNnYzdQxJanN+zU+lTgIcnU9BxGw5dKjK+VdEUz2FeIoC+D5sB/LN+nGzX3hf"
                                ) == ('WECHATPAY2-SHA256-RSA2048 mchid="1900009191",'
                                      'nonce_str="593BEC0C930BF1AFEB40B4A08C8FB242",'
                                      'signature="uOVRnA4qG/MNnYzdQxJanN+zU+lTgIcnU9BxGw5dKjK+VdEUz2FeIoC+D5sB/LN+nGzX3hf",'
                                      'timestamp="1554208460",serial_no="1DDE55AD98ED71D6EDD4A4A16996DE7B47773A8C"')


def test_request_wire_format(world: SandboxWorld, clock: Clock) -> None:
    rec = Recorder(world.wechatpay_sandbox)
    gw = adapter(rec, clock, nonce=lambda: "593BEC0C930BF1AFEB40B4A08C8FB242")
    gw.create_payment(
        out_trade_no="o2o20260301001", amount_fen=1230, description="鲜牛奶 950ml", notify_url=NOTIFY,
        expires_at=datetime(2026, 3, 1, 2, 30, tzinfo=UTC), payer_id="openid-1")
    method, url, headers, body = rec.sent[0]
    assert (method, url) == ("POST", "https://api.mch.weixin.qq.com/v3/pay/transactions/jsapi")
    assert json.loads(body) == {
        "appid": SANDBOX_WECHAT_APPID, "mchid": SANDBOX_MCHID, "description": "鲜牛奶 950ml",
        "out_trade_no": "o2o20260301001", "time_expire": "2026-03-01T10:30:00+08:00", "notify_url": NOTIFY,
        "amount": {"total": 1230, "currency": "CNY"}, "payer": {"openid": "openid-1"}}
    ts = str(int(T0.timestamp()))
    auth = headers["Authorization"]
    m = re.fullmatch(r'WECHATPAY2-SHA256-RSA2048 mchid="1900000109",nonce_str="593BEC0C930BF1AFEB40B4A08C8FB242",'
                     rf'signature="([^"]+)",timestamp="{ts}",serial_no="{SANDBOX_MERCHANT_SERIAL}"', auth)
    assert m, auth
    message = f"POST\n/v3/pay/transactions/jsapi\n{ts}\n593BEC0C930BF1AFEB40B4A08C8FB242\n".encode() + body + b"\n"
    KEYS.merchant.public_key().verify(base64.b64decode(m.group(1)), message, padding.PKCS1v15(), hashes.SHA256())
    assert headers["Content-Type"] == "application/json"


def test_jsapi_client_params_are_signed(world: SandboxWorld) -> None:
    request = order(world.wechatpay)
    p = request.client_params
    assert set(p) == {"appId", "timeStamp", "nonceStr", "package", "signType", "paySign"}
    assert p["appId"] == SANDBOX_WECHAT_APPID and p["signType"] == "RSA"
    assert p["package"] == f"prepay_id={request.provider_ref}" and request.provider_ref.startswith("wx")
    assert p["timeStamp"] == str(int(T0.timestamp()))
    message = f"{p['appId']}\n{p['timeStamp']}\n{p['nonceStr']}\n{p['package']}\n".encode()
    KEYS.merchant.public_key().verify(base64.b64decode(p["paySign"]), message, padding.PKCS1v15(), hashes.SHA256())
    assert (request.provider, request.amount_fen) == ("wechatpay", 1230)


# --- round trips ---------------------------------------------------------------------------------


def test_create_pay_notify_round_trip(world: SandboxWorld, clock: Clock) -> None:
    gw, sandbox = world.wechatpay, world.wechatpay_sandbox
    order(gw)
    assert sandbox.orders["o2o20260301001"].notify_url == NOTIFY
    clock.now = T0 + timedelta(minutes=3)
    headers, body = sandbox.pay("o2o20260301001")
    lowered = {k.lower(): v for k, v in headers.items()}
    notice = gw.parse_notice(lowered, body, now=clock.now + timedelta(seconds=2))
    assert (notice.provider, notice.out_trade_no, notice.amount_fen, notice.status) == (
        "wechatpay", "o2o20260301001", 1230, "paid")
    assert notice.notify_id == json.loads(body)["id"]
    assert notice.transaction_id == sandbox.orders["o2o20260301001"].transaction_id
    assert notice.paid_at == clock.now and notice.paid_at.utcoffset() == timedelta(hours=8)
    assert notice.raw["transaction"]["trade_state"] == "SUCCESS"
    assert gw.parse_notice(headers, body, now=clock.now) == notice  # a redelivery reads the same


def test_wrong_amount_is_reported_not_hidden(world: SandboxWorld) -> None:
    order(world.wechatpay)
    headers, body = world.wechatpay_sandbox.pay("o2o20260301001", amount_fen=1)
    assert world.wechatpay.parse_notice(headers, body, now=T0).amount_fen == 1


def test_query_states(world: SandboxWorld) -> None:
    gw, sandbox = world.wechatpay, world.wechatpay_sandbox
    assert gw.query(out_trade_no="o2o-unknown") is None
    order(gw)
    assert gw.query(out_trade_no="o2o20260301001") is None  # NOTPAY
    sandbox.pay("o2o20260301001")
    paid = gw.query(out_trade_no="o2o20260301001")
    assert paid is not None and (paid.status, paid.amount_fen) == ("paid", 1230)
    assert paid.notify_id == f"query:{paid.transaction_id}" and paid.paid_at == T0
    order(gw, "o2o20260301002")
    gw.close(out_trade_no="o2o20260301002")
    closed = gw.query(out_trade_no="o2o20260301002")
    assert closed is not None and (closed.status, closed.paid_at) == ("closed", None)
    order(gw, "o2o20260301003")
    sandbox.close("o2o20260301003")
    assert gw.query(out_trade_no="o2o20260301003").status == "closed"  # type: ignore[union-attr]
    assert ("GET", f"/v3/pay/transactions/out-trade-no/o2o20260301001?mchid={SANDBOX_MCHID}") in sandbox.requests


def test_refund_partial_full_and_too_much(world: SandboxWorld) -> None:
    gw, sandbox = world.wechatpay, world.wechatpay_sandbox
    order(gw)
    sandbox.pay("o2o20260301001")
    part = gw.refund(out_trade_no="o2o20260301001", out_refund_no="R1", amount_fen=230, total_fen=1230, reason="缺货")
    assert (part.status, part.amount_fen, part.out_refund_no) == ("succeeded", 230, "R1") and part.refund_id
    assert gw.refund(out_trade_no="o2o20260301001", out_refund_no="R1", amount_fen=230, total_fen=1230,
                     reason="缺货") == part  # idempotent on out_refund_no
    with pytest.raises(ProviderError) as exc:
        gw.refund(out_trade_no="o2o20260301001", out_refund_no="R2", amount_fen=1001, total_fen=1230, reason="")
    assert (exc.value.code, exc.value.status) == ("INVALID_REQUEST", 400)
    rest = gw.refund(out_trade_no="o2o20260301001", out_refund_no="R3", amount_fen=1000, total_fen=1230, reason="")
    assert (rest.status, rest.amount_fen) == ("succeeded", 1000)
    assert gw.query(out_trade_no="o2o20260301001").status == "paid"  # type: ignore[union-attr]  # REFUND state
    sandbox.refund_status = "PROCESSING"
    order(gw, "o2o20260301002", fen=500)
    sandbox.pay("o2o20260301002")
    assert gw.refund(out_trade_no="o2o20260301002", out_refund_no="R4", amount_fen=500, total_fen=500,
                     reason="").status == "processing"


def test_refund_of_unpaid_order_and_bad_input(world: SandboxWorld) -> None:
    order(world.wechatpay)
    with pytest.raises(ProviderError):
        world.wechatpay.refund(out_trade_no="o2o20260301001", out_refund_no="R1", amount_fen=1, total_fen=1230,
                               reason="")
    with pytest.raises(ValueError):
        world.wechatpay.refund(out_trade_no="o2o20260301001", out_refund_no="R1", amount_fen=2, total_fen=1,
                               reason="")


def test_h5_order(world: SandboxWorld) -> None:
    request = order(world.wechatpay, payer_id=None, client_ip="203.0.113.7")
    assert request.client_params["h5_url"].startswith("https://wx.tenpay.com/") and request.provider_ref == ""
    assert world.wechatpay_sandbox.orders["o2o20260301001"].trade_type == "MWEB"


@pytest.mark.parametrize("kw", [
    {"payer_id": None}, {"fen": 0}, {"fen": -5}, {"fen": True}, {"no": "short"}, {"no": "o2o/../../x"},
])
def test_create_rejects_bad_input(world: SandboxWorld, kw: dict) -> None:
    with pytest.raises(ValueError):
        order(world.wechatpay, **kw)
    assert world.wechatpay_sandbox.requests == []


def test_naive_datetimes_are_refused(world: SandboxWorld) -> None:
    with pytest.raises(ValueError):
        world.wechatpay.create_payment(out_trade_no="o2o20260301001", amount_fen=1, description="x",
                                       notify_url=NOTIFY, expires_at=datetime(2026, 3, 1), payer_id="x")
    headers, body = paid_notice(world)
    with pytest.raises(ValueError):
        world.wechatpay.parse_notice(headers, body, now=datetime(2026, 3, 1, 10))


def test_duplicate_order_is_rejected_by_the_provider(world: SandboxWorld) -> None:
    first = order(world.wechatpay)
    assert order(world.wechatpay).provider_ref == first.provider_ref  # same request: same prepay_id
    with pytest.raises(ProviderError) as exc:
        order(world.wechatpay, fen=999)
    assert exc.value.code == "INVALID_REQUEST"


# --- transport-level failures --------------------------------------------------------------------


def test_wrong_merchant_key_gets_401(world: SandboxWorld, clock: Clock) -> None:
    with pytest.raises(ProviderError) as exc:
        order(adapter(world.wechatpay_sandbox, clock, merchant_private_key=OTHER_KEY))
    assert (exc.value.code, exc.value.status) == ("SIGN_ERROR", 401)


def test_unverifiable_responses_are_rejected(world: SandboxWorld, clock: Clock) -> None:
    with pytest.raises(BadSignature):  # we trust a different platform key
        order(adapter(world.wechatpay_sandbox, clock, platform_public_key=OTHER_KEY.public_key()))
    rec = Recorder(world.wechatpay_sandbox, alter=lambda s, h, b: (s, h, b.replace(b"wx", b"wy", 1)))
    with pytest.raises(BadSignature):  # a tampered response body
        order(adapter(rec, clock), "o2o20260301002")
    rec = Recorder(world.wechatpay_sandbox, alter=lambda s, h, b: (s, {}, b))
    with pytest.raises(BadSignature):  # an unsigned response
        order(adapter(rec, clock), "o2o20260301003")
    with pytest.raises(ProviderError) as exc:  # an unsigned "no such order" is an error, not a fact
        adapter(rec, clock).query(out_trade_no="o2o20260301999")
    assert (exc.value.code, exc.value.status, exc.value.verified) == ("ORDER_NOT_EXIST", 404, False)
    rec = Recorder(world.wechatpay_sandbox, alter=lambda s, h, b: (s, h, b.replace(b"ORDER", b"OOPS")))
    with pytest.raises(BadSignature):  # a signed error must verify
        adapter(rec, clock).query(out_trade_no="o2o20260301999")


def test_network_errors_become_provider_errors(clock: Clock) -> None:
    class Down:
        def send(self, *args):
            raise ConnectionRefusedError("down")

    with pytest.raises(ProviderError) as exc:
        adapter(Down(), clock).query(out_trade_no="o2o20260301001")
    assert exc.value.code == "network_error"


# --- hostile notifications -----------------------------------------------------------------------


def paid_notice(world: SandboxWorld) -> tuple[dict[str, str], bytes]:
    order(world.wechatpay)
    return world.wechatpay_sandbox.pay("o2o20260301001")


def test_tampered_body_and_signature(world: SandboxWorld) -> None:
    headers, body = paid_notice(world)
    gw = world.wechatpay
    with pytest.raises(BadSignature):
        gw.parse_notice(headers, body.replace(b"TRANSACTION.SUCCESS", b"TRANSACTION.SUCCESs"), now=T0)
    with pytest.raises(BadSignature):
        gw.parse_notice(headers, body + b" ", now=T0)
    forged = dict(headers, **{"Wechatpay-Signature": base64.b64encode(b"\x00" * 256).decode()})
    with pytest.raises(BadSignature):
        gw.parse_notice(forged, body, now=T0)
    for missing in ("Wechatpay-Signature", "Wechatpay-Timestamp", "Wechatpay-Nonce", "Wechatpay-Serial"):
        with pytest.raises(BadSignature):
            gw.parse_notice({k: v for k, v in headers.items() if k != missing}, body, now=T0)
    with pytest.raises(BadSignature):
        gw.parse_notice(dict(headers, **{"Wechatpay-Serial": "OTHER"}), body, now=T0)


def test_wrong_keys(world: SandboxWorld, clock: Clock) -> None:
    headers, body = paid_notice(world)
    with pytest.raises(BadSignature):
        adapter(world.wechatpay_sandbox, clock, platform_public_key=OTHER_KEY.public_key()).parse_notice(
            headers, body, now=T0)
    with pytest.raises(BadSignature):  # signed fine but encrypted with another APIv3 key
        adapter(world.wechatpay_sandbox, clock, apiv3_key=b"0" * 32).parse_notice(headers, body, now=T0)
    body = notification(paid_txn())
    with pytest.raises(BadSignature):
        world.wechatpay.parse_notice(platform_sign(body, key=OTHER_KEY), body, now=T0)


@pytest.mark.parametrize(("offset", "ok"), [(-301, False), (-299, True), (0, True), (299, True), (301, False)])
def test_timestamp_window(world: SandboxWorld, offset: int, ok: bool) -> None:
    headers, body = paid_notice(world)
    now = T0 + timedelta(seconds=offset)
    if ok:
        assert world.wechatpay.parse_notice(headers, body, now=now).status == "paid"
    else:
        with pytest.raises(BadSignature):
            world.wechatpay.parse_notice(headers, body, now=now)


@pytest.mark.parametrize(("body", "error"), [
    (notification(paid_txn(mchid="1900000999")), BadSignature),
    (notification(paid_txn(appid="wx0000000000000000")), BadSignature),
    (notification(paid_txn(), ad="certificate").replace(b'"certificate"', b'"transaction"'), BadSignature),
    (notification(paid_txn(trade_state="NOTPAY")), MalformedNotice),
    (notification(paid_txn(amount={"total": "1230"})), MalformedNotice),
    (notification(paid_txn(amount={"total": -1})), MalformedNotice),
    (notification(paid_txn(success_time="yesterday")), MalformedNotice),
    (notification(paid_txn(success_time="2026-03-01T10:01:02")), MalformedNotice),
    (notification(paid_txn(out_trade_no=None)), MalformedNotice),
    (notification(paid_txn(), event="REFUND.SUCCESS"), IgnorableNotice),
    (b'{"id": "x", "event_type": "TRANSACTION.SUCCESS", "resource": "nope", "resource_type": "encrypt-resource"}',
     MalformedNotice),
    (b"[1, 2, 3]", MalformedNotice),
    (b"\xff\xfe not json", MalformedNotice),
    (b"", MalformedNotice),
])
def test_signed_but_bad_notifications(world: SandboxWorld, body: bytes, error: type) -> None:
    with pytest.raises(error):
        world.wechatpay.parse_notice(platform_sign(body), body, now=T0)


def test_crafted_valid_notification_parses(world: SandboxWorld) -> None:
    body = notification(paid_txn())
    notice = world.wechatpay.parse_notice(platform_sign(body), body, now=T0)
    assert (notice.notify_id, notice.amount_fen) == ("EV-2018022511223320873", 1230)
    assert notice.paid_at == datetime(2026, 3, 1, 10, 1, 2, tzinfo=SHANGHAI)


ERRORS = (BadSignature, MalformedNotice)
header_values = st.text(max_size=40)


@given(body=st.binary(max_size=300), headers=st.dictionaries(st.sampled_from(
    ["Wechatpay-Timestamp", "Wechatpay-Nonce", "Wechatpay-Signature", "Wechatpay-Serial", "x"]), header_values))
def test_garbage_is_rejected_cleanly(body: bytes, headers: dict[str, str]) -> None:
    gw = sandbox_gateways(Clock()).wechatpay
    with pytest.raises(ERRORS):
        gw.parse_notice(headers, body, now=T0)


@given(st.binary(max_size=300))
def test_signed_garbage_is_malformed(body: bytes) -> None:
    gw = sandbox_gateways(Clock()).wechatpay
    with pytest.raises(MalformedNotice):
        gw.parse_notice(platform_sign(body), body, now=T0)


json_values = st.recursive(st.none() | st.booleans() | st.integers() | st.text(max_size=8),
                           lambda inner: st.lists(inner, max_size=3) | st.dictionaries(st.text(max_size=8), inner,
                                                                                      max_size=3), max_leaves=8)


@given(st.dictionaries(st.sampled_from(["id", "event_type", "resource_type", "resource", "x"]), json_values),
       st.dictionaries(st.sampled_from(["algorithm", "nonce", "ciphertext", "associated_data"]), json_values))
def test_signed_json_shapes_are_rejected(doc: dict, resource: dict) -> None:
    doc = {**doc, "event_type": "TRANSACTION.SUCCESS", "resource_type": "encrypt-resource", "resource": resource}
    body = json.dumps(doc).encode()
    with pytest.raises(ERRORS):
        sandbox_gateways(Clock()).wechatpay.parse_notice(platform_sign(body), body, now=T0)


def test_notice_ack() -> None:
    gw = sandbox_gateways().wechatpay
    assert gw.notice_ack(True) == (200, "text/plain; charset=utf-8", b"")
    status, content_type, body = gw.notice_ack(False)
    assert (status, content_type) == (500, "application/json")
    assert json.loads(body)["code"] == "FAIL"
