"""Alipay (RSA2) adapter against its sandbox, plus known answers and hostile notifications."""

from __future__ import annotations

import base64
import json
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from urllib.parse import parse_qsl, urlencode

import pytest
from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.asymmetric import padding
from hypothesis import given
from hypothesis import strategies as st

from o2o.adapters.payments import Alipay, BadSignature, IgnorableNotice, MalformedNotice, ProviderError
from o2o.adapters.payments.alipay import sign_content, top_level_spans
from o2o.adapters.payments.base import SHANGHAI
from o2o.adapters.payments.keys import generate_rsa_key, test_keys
from o2o.adapters.payments.sandbox import SANDBOX_ALIPAY_APP_ID, AlipaySandbox, SandboxWorld, sandbox_gateways

T0 = datetime(2026, 3, 1, 10, 0, 0, tzinfo=SHANGHAI)
NOTIFY = "https://shop.example.com/pay/alipay/notify"
GATEWAY = "https://openapi.alipay.com/gateway.do"
KEYS = test_keys()
OTHER_KEY = generate_rsa_key()
ERRORS = (BadSignature, MalformedNotice)


@dataclass
class Clock:
    now: datetime = T0

    def __call__(self) -> datetime:
        return self.now


@pytest.fixture
def clock() -> Clock:
    return Clock()


@pytest.fixture
def world(clock: Clock) -> SandboxWorld:
    return sandbox_gateways(clock)


def adapter(transport, clock, **overrides) -> Alipay:
    kwargs = dict(app_id=SANDBOX_ALIPAY_APP_ID, app_private_key=KEYS.app, alipay_public_key=KEYS.alipay.public_key(),
                  transport=transport, clock=clock)
    kwargs.update(overrides)
    return Alipay(**kwargs)


def order(world: SandboxWorld, no: str = "o2o20260301001", fen: int = 1230, *, gw: Alipay | None = None):
    request = (gw or world.alipay).create_payment(out_trade_no=no, amount_fen=fen, description="鲜牛奶 950ml",
                                                  notify_url=NOTIFY, expires_at=T0 + timedelta(minutes=30))
    world.alipay_sandbox.open(request.client_params["order_string"])
    return request


def alipay_sign(params: dict[str, str], key=None) -> bytes:
    content = "&".join(f"{k}={v}" for k, v in sorted(params.items()) if k not in ("sign", "sign_type") and v)
    sig = (key or KEYS.alipay).sign(content.encode(), padding.PKCS1v15(), hashes.SHA256())
    return urlencode({**params, "sign": base64.b64encode(sig).decode()}).encode()


def notice_params(**over: str) -> dict[str, str]:
    params = {"notify_id": "ac05099524730693a8b330c5ecf72da9786", "notify_time": "2026-03-01 10:01:03",
              "notify_type": "trade_status_sync", "app_id": SANDBOX_ALIPAY_APP_ID, "charset": "utf-8",
              "version": "1.0", "sign_type": "RSA2", "trade_no": "2026030122001441231400000001",
              "out_trade_no": "o2o20260301001", "total_amount": "12.30", "trade_status": "TRADE_SUCCESS",
              "gmt_payment": "2026-03-01 10:01:02", "subject": "鲜牛奶"}
    params.update(over)
    return {k: v for k, v in params.items() if v is not None}


# --- known answers -------------------------------------------------------------------------------


def test_sign_content_known_answer() -> None:
    # The example string from Alipay's "自行实现签名" guide, plus an empty value (skipped).
    params = {"method": "alipay.mobile.public.menu.add", "charset": "GBK", "sign_type": "RSA2",
              "timestamp": "2014-07-24 03:07:50", "biz_content": '{"button":[{"actionParam":"ZFB_HFCZ"}]}',
              "sign": "ignored", "app_id": "2014072300007148", "version": "1.0", "notify_url": ""}
    assert sign_content(params) == (
        'app_id=2014072300007148&biz_content={"button":[{"actionParam":"ZFB_HFCZ"}]}&charset=GBK'
        '&method=alipay.mobile.public.menu.add&sign_type=RSA2&timestamp=2014-07-24 03:07:50&version=1.0')
    assert sign_content(params, exclude=("sign", "sign_type")) == (
        'app_id=2014072300007148&biz_content={"button":[{"actionParam":"ZFB_HFCZ"}]}&charset=GBK'
        '&method=alipay.mobile.public.menu.add&timestamp=2014-07-24 03:07:50&version=1.0')


def test_order_string(world: SandboxWorld) -> None:
    request = world.alipay.create_payment(out_trade_no="o2o20260301001", amount_fen=1230, description="鲜牛奶 950ml",
                                          notify_url=NOTIFY, expires_at=datetime(2026, 3, 1, 2, 30, tzinfo=UTC))
    assert request.client_params["pay_url"] == f"{GATEWAY}?{request.client_params['order_string']}"
    params = dict(parse_qsl(request.client_params["order_string"], strict_parsing=True))
    sign = params.pop("sign")
    assert params == {
        "app_id": SANDBOX_ALIPAY_APP_ID, "method": "alipay.trade.wap.pay", "format": "JSON", "charset": "utf-8",
        "sign_type": "RSA2", "timestamp": "2026-03-01 10:00:00", "version": "1.0", "notify_url": NOTIFY,
        "biz_content": '{"out_trade_no":"o2o20260301001","total_amount":"12.30","subject":"鲜牛奶 950ml",'
                       '"product_code":"QUICK_WAP_WAY","time_expire":"2026-03-01 10:30:00"}'}
    content = (f'app_id={SANDBOX_ALIPAY_APP_ID}&biz_content={params["biz_content"]}&charset=utf-8&format=JSON'
               f'&method=alipay.trade.wap.pay&notify_url={NOTIFY}&sign_type=RSA2&timestamp=2026-03-01 10:00:00'
               '&version=1.0')
    KEYS.app.public_key().verify(base64.b64decode(sign), content.encode(), padding.PKCS1v15(), hashes.SHA256())
    assert "%E9%B2%9C" in request.client_params["order_string"]  # URL-encoded in the string, raw when signed


@pytest.mark.parametrize(("fen", "yuan"), [(1, "0.01"), (1230, "12.30"), (100, "1.00"), (99_999_999, "999999.99")])
def test_exact_amounts_on_the_wire(world: SandboxWorld, fen: int, yuan: str) -> None:
    request = world.alipay.create_payment(out_trade_no="o2o1", amount_fen=fen, description="x", notify_url=NOTIFY,
                                          expires_at=T0 + timedelta(hours=1))
    biz = json.loads(dict(parse_qsl(request.client_params["order_string"]))["biz_content"])
    assert biz["total_amount"] == yuan


def test_app_product(clock: Clock) -> None:
    world = sandbox_gateways(clock, alipay_product="app")
    request = order(world)
    assert set(request.client_params) == {"order_string"}
    assert world.alipay_sandbox.orders["o2o20260301001"].product_code == "QUICK_MSECURITY_PAY"


def test_top_level_spans_is_a_real_json_scanner() -> None:
    text = ' { "a_response" : {"msg":"}{\\"},","n":[1,{"x":"}"}]} , "sign":"abc"}  '
    spans = top_level_spans(text)
    assert text[slice(*spans["a_response"])] == '{"msg":"}{\\"},","n":[1,{"x":"}"}]}'
    assert text[slice(*spans["sign"])] == '"abc"'
    for bad in ("", "[]", '{"a":1', '{"a":1}x', '{"a" 1}', '{1:2}', '{"a":1,}'):
        with pytest.raises(ValueError):
            top_level_spans(bad)


# --- round trips ---------------------------------------------------------------------------------


def test_create_open_pay_notify_round_trip(world: SandboxWorld, clock: Clock) -> None:
    order(world)
    sandbox = world.alipay_sandbox
    assert sandbox.orders["o2o20260301001"].notify_url == NOTIFY
    clock.now = T0 + timedelta(minutes=4, microseconds=5)
    headers, body = sandbox.pay("o2o20260301001")
    notice = world.alipay.parse_notice(headers, body, now=clock.now)
    params = dict(parse_qsl(body.decode()))
    assert (notice.provider, notice.out_trade_no, notice.amount_fen, notice.status) == (
        "alipay", "o2o20260301001", 1230, "paid")
    assert notice.notify_id == params["notify_id"] and notice.transaction_id == params["trade_no"]
    assert notice.paid_at == T0 + timedelta(minutes=4) and notice.paid_at.utcoffset() == timedelta(hours=8)
    assert notice.raw["total_amount"] == "12.30"


def test_the_cashier_page_opens_with_a_get(world: SandboxWorld) -> None:
    request = world.alipay.create_payment(out_trade_no="o2o20260301001", amount_fen=5, description="x",
                                          notify_url=NOTIFY, expires_at=T0 + timedelta(hours=1))
    status, _, page = world.alipay_sandbox.send("GET", request.client_params["pay_url"], {}, b"")
    assert status == 200 and b"html" in page
    assert world.alipay_sandbox.orders["o2o20260301001"].amount_fen == 5


def test_wrong_amount_is_reported_not_hidden(world: SandboxWorld) -> None:
    order(world)
    headers, body = world.alipay_sandbox.pay("o2o20260301001", amount_fen=1)
    assert world.alipay.parse_notice(headers, body, now=T0).amount_fen == 1


def test_query_states(world: SandboxWorld) -> None:
    gw, sandbox = world.alipay, world.alipay_sandbox
    assert gw.query(out_trade_no="o2o20260301001") is None  # never opened: TRADE_NOT_EXIST
    order(world)
    assert gw.query(out_trade_no="o2o20260301001") is None  # WAIT_BUYER_PAY
    sandbox.pay("o2o20260301001")
    paid = gw.query(out_trade_no="o2o20260301001")
    assert paid is not None and (paid.status, paid.amount_fen, paid.paid_at) == ("paid", 1230, T0)
    assert paid.transaction_id == sandbox.orders["o2o20260301001"].trade_no
    order(world, "o2o20260301002")
    gw.close(out_trade_no="o2o20260301002")
    closed = gw.query(out_trade_no="o2o20260301002")
    assert closed is not None and (closed.status, closed.paid_at) == ("closed", None)
    gw.close(out_trade_no="o2o_never_opened")  # nothing to close
    with pytest.raises(ProviderError):
        gw.close(out_trade_no="o2o20260301001")  # paid


def test_refund_partial_full_and_too_much(world: SandboxWorld) -> None:
    gw, sandbox = world.alipay, world.alipay_sandbox
    order(world)
    sandbox.pay("o2o20260301001")
    part = gw.refund(out_trade_no="o2o20260301001", out_refund_no="R1", amount_fen=230, total_fen=1230, reason="缺货")
    assert (part.status, part.amount_fen, part.out_refund_no, part.raw["refund_fee"]) == ("succeeded", 230, "R1", "2.30")
    assert part.refund_id == sandbox.orders["o2o20260301001"].trade_no
    again = gw.refund(out_trade_no="o2o20260301001", out_refund_no="R1", amount_fen=230, total_fen=1230, reason="")
    assert again.status == "processing"  # Alipay answers a repeat with fund_change N: confirm by query
    with pytest.raises(ProviderError) as exc:
        gw.refund(out_trade_no="o2o20260301001", out_refund_no="R2", amount_fen=1001, total_fen=1230, reason="")
    assert exc.value.code == "ACQ.REFUND_AMT_NOT_EQUAL_TOTAL"
    rest = gw.refund(out_trade_no="o2o20260301001", out_refund_no="R3", amount_fen=1000, total_fen=1230, reason="")
    assert (rest.status, rest.raw["refund_fee"]) == ("succeeded", "12.30")
    refunded = gw.query(out_trade_no="o2o20260301001")
    assert refunded is not None and (refunded.status, refunded.paid_at) == ("closed", T0)  # paid, then refunded


def test_refund_of_unpaid_trade(world: SandboxWorld) -> None:
    order(world)
    with pytest.raises(ProviderError) as exc:
        world.alipay.refund(out_trade_no="o2o20260301001", out_refund_no="R1", amount_fen=1, total_fen=1230,
                            reason="")
    assert exc.value.code == "ACQ.TRADE_STATUS_ERROR"


@pytest.mark.parametrize("kw", [{"fen": 0}, {"fen": -1}, {"fen": 1.5}, {"no": "o2o-has-dash"}, {"no": "x" * 65}])
def test_create_rejects_bad_input(world: SandboxWorld, kw: dict) -> None:
    with pytest.raises(ValueError):
        world.alipay.create_payment(out_trade_no=kw.get("no", "o2o1"), amount_fen=kw.get("fen", 1), description="x",
                                    notify_url=NOTIFY, expires_at=T0)
    with pytest.raises(ValueError):
        world.alipay.create_payment(out_trade_no="o2o1", amount_fen=1, description="x", notify_url=NOTIFY,
                                    expires_at=datetime(2026, 3, 1))


# --- transport-level failures --------------------------------------------------------------------


@dataclass
class Altering:
    inner: AlipaySandbox
    alter: object

    def send(self, method: str, url: str, headers: Mapping[str, str], body: bytes):
        return self.alter(*self.inner.send(method, url, headers, body))  # type: ignore[operator]


def test_wrong_app_key_is_refused_by_the_gateway(world: SandboxWorld, clock: Clock) -> None:
    with pytest.raises(ProviderError) as exc:
        adapter(world.alipay_sandbox, clock, app_private_key=OTHER_KEY).query(out_trade_no="o2o1")
    assert exc.value.code == "isv.invalid-signature"


def test_unverifiable_responses_are_rejected(world: SandboxWorld, clock: Clock) -> None:
    order(world)
    world.alipay_sandbox.pay("o2o20260301001")
    with pytest.raises(BadSignature):
        adapter(world.alipay_sandbox, clock, alipay_public_key=OTHER_KEY.public_key()).query(
            out_trade_no="o2o20260301001")
    tampered = Altering(world.alipay_sandbox, lambda s, h, b: (s, h, b.replace(b'"12.30"', b'"99.30"')))
    with pytest.raises(BadSignature):
        adapter(tampered, clock).query(out_trade_no="o2o20260301001")

    def unsigned(s, h, b):
        doc = json.loads(b)
        doc.pop("sign")
        return s, h, json.dumps(doc).encode()

    with pytest.raises(BadSignature):  # success must be signed
        adapter(Altering(world.alipay_sandbox, unsigned), clock).query(out_trade_no="o2o20260301001")
    with pytest.raises(ProviderError) as exc:  # an unsigned "no such trade" is an error, not a fact
        adapter(Altering(world.alipay_sandbox, unsigned), clock).query(out_trade_no="o2o20260301999")
    assert (exc.value.code, exc.value.verified) == ("ACQ.TRADE_NOT_EXIST", False)
    with pytest.raises(ProviderError):
        adapter(Altering(world.alipay_sandbox, unsigned), clock).close(out_trade_no="o2o20260301999")
    assert world.alipay.query(out_trade_no="o2o20260301999") is None  # signed: a fact
    for garbage in (b"", b"<html>502</html>", b'{"alipay_trade_query_response": 1}', b"\xff"):
        with pytest.raises(ProviderError):
            adapter(Altering(world.alipay_sandbox, lambda s, h, b, g=garbage: (s, h, g)), clock).query(
                out_trade_no="o2o20260301001")


# --- hostile notifications -----------------------------------------------------------------------


def paid_notice(world: SandboxWorld) -> tuple[dict[str, str], bytes]:
    order(world)
    return world.alipay_sandbox.pay("o2o20260301001")


def test_tampered_notifications(world: SandboxWorld) -> None:
    headers, body = paid_notice(world)
    gw = world.alipay
    with pytest.raises(BadSignature):
        gw.parse_notice(headers, body.replace(b"total_amount=12.30", b"total_amount=12.31"), now=T0)
    params = dict(parse_qsl(body.decode()))
    for change in ({"sign": base64.b64encode(b"\x01" * 256).decode()}, {"sign": "not base64!"}, {"sign": ""},
                   {"sign_type": "RSA"}, {"extra": "added"}):
        with pytest.raises(BadSignature):
            gw.parse_notice(headers, urlencode({**params, **change}).encode(), now=T0)
    without_sign = {k: v for k, v in params.items() if k != "sign"}
    with pytest.raises(BadSignature):
        gw.parse_notice(headers, urlencode(without_sign).encode(), now=T0)
    # sign_type is not signed: dropping it still verifies (RSA2 is the default)
    without_type = {k: v for k, v in params.items() if k != "sign_type"}
    assert gw.parse_notice(headers, urlencode(without_type).encode(), now=T0).amount_fen == 1230


def test_wrong_key_and_wrong_app_id(world: SandboxWorld, clock: Clock) -> None:
    headers, body = paid_notice(world)
    with pytest.raises(BadSignature):
        adapter(world.alipay_sandbox, clock, alipay_public_key=OTHER_KEY.public_key()).parse_notice(
            headers, body, now=T0)
    with pytest.raises(BadSignature):  # genuinely signed by Alipay, but for another app
        adapter(world.alipay_sandbox, clock, app_id="2021000000009999").parse_notice(headers, body, now=T0)
    body = alipay_sign(notice_params(app_id="2021000000009999"))
    with pytest.raises(BadSignature):
        world.alipay.parse_notice({}, body, now=T0)


def test_status_mapping(world: SandboxWorld) -> None:
    gw = world.alipay
    assert gw.parse_notice({}, alipay_sign(notice_params()), now=T0).status == "paid"
    assert gw.parse_notice({}, alipay_sign(notice_params(trade_status="TRADE_FINISHED")), now=T0).status == "paid"
    closed = gw.parse_notice({}, alipay_sign(notice_params(trade_status="TRADE_CLOSED", gmt_payment=None)), now=T0)
    assert (closed.status, closed.paid_at) == ("closed", None)
    for ignorable in (notice_params(trade_status="WAIT_BUYER_PAY"), notice_params(gmt_refund="2026-03-02 10:00:00",
                      refund_fee="1.00"), notice_params(notify_type="batch_trans_notify")):
        with pytest.raises(IgnorableNotice):
            gw.parse_notice({}, alipay_sign(ignorable), now=T0)


def test_sandbox_close_notification(world: SandboxWorld) -> None:
    order(world)
    headers, body = world.alipay_sandbox.close("o2o20260301001")
    assert world.alipay.parse_notice(headers, body, now=T0).status == "closed"


@pytest.mark.parametrize("params", [
    notice_params(trade_status="UNKNOWN"), notice_params(trade_status=None), notice_params(total_amount="12.345"),
    notice_params(total_amount="-1.00"), notice_params(total_amount=""), notice_params(gmt_payment="tomorrow"),
    notice_params(gmt_payment=None), notice_params(notify_id=None), notice_params(out_trade_no=None),
    notice_params(trade_no=""),
])
def test_signed_but_malformed(world: SandboxWorld, params: dict[str, str]) -> None:
    with pytest.raises(MalformedNotice):
        world.alipay.parse_notice({}, alipay_sign(params), now=T0)


def test_duplicate_parameters_are_malformed(world: SandboxWorld) -> None:
    body = alipay_sign(notice_params()) + b"&total_amount=0.01"
    with pytest.raises(ERRORS):
        world.alipay.parse_notice({}, body, now=T0)


@given(st.binary(max_size=300))
def test_garbage_is_rejected_cleanly(body: bytes) -> None:
    with pytest.raises(ERRORS):
        sandbox_gateways(Clock()).alipay.parse_notice({}, body, now=T0)


@given(st.dictionaries(st.sampled_from(["notify_id", "app_id", "trade_status", "total_amount", "gmt_payment",
                                        "out_trade_no", "trade_no", "notify_type", "sign_type", "x"]),
                       st.text(max_size=20)))
def test_signed_random_fields_are_rejected_cleanly(over: dict[str, str]) -> None:
    params = {**notice_params(), **over}
    try:
        notice = sandbox_gateways(Clock()).alipay.parse_notice({}, alipay_sign(params), now=T0)
    except ERRORS:
        return
    assert notice.amount_fen >= 0 and notice.status in ("paid", "closed")


def test_notice_ack() -> None:
    gw = sandbox_gateways().alipay
    assert gw.notice_ack(True) == (200, "text/plain; charset=utf-8", b"success")
    assert gw.notice_ack(False) == (200, "text/plain; charset=utf-8", b"failure")
