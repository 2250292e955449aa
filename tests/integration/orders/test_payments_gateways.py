"""Gateway wiring: sandbox keys shared by every process, trades known across processes, production config."""

from __future__ import annotations

import threading
from datetime import timedelta

import pytest
from django.utils import timezone

from o2o.adapters.couriers.base import UrllibTransport
from o2o.adapters.payments import Alipay, WeChatPay
from o2o.adapters.payments.keys import generate_rsa_key, to_pem
from o2o.orders import gateways
from o2o.orders.models import Payment
from tests.factories import member


def _same(a, b) -> bool:
    return (to_pem(a.merchant) == to_pem(b.merchant) and to_pem(a.alipay) == to_pem(b.alipay)
            and a.apiv3_key == b.apiv3_key)


def test_keys_are_created_once_and_read_back(tmp_path):
    first = gateways.load_or_create_keys(tmp_path / "k")
    again = gateways.load_or_create_keys(tmp_path / "k")
    assert _same(first, again) and len(first.apiv3_key) == 32
    assert sorted(p.name for p in (tmp_path / "k").iterdir()) == [gateways.KEY_FILE]  # no temp files left


def test_two_racing_creators_end_up_with_the_same_keys(tmp_path):
    start, got = threading.Barrier(2), []

    def run() -> None:
        start.wait(10)
        got.append(gateways.load_or_create_keys(tmp_path / "race"))

    threads = [threading.Thread(target=run) for _ in range(2)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(60)
    assert len(got) == 2 and _same(*got)


def test_a_notice_signed_in_one_process_verifies_in_another(tmp_path):
    """Two worlds from the same key directory stand for two gunicorn workers."""
    one = gateways.build_sandbox(gateways.load_or_create_keys(tmp_path))
    two = gateways.build_sandbox(gateways.load_or_create_keys(tmp_path))
    deadline = timezone.now() + timedelta(minutes=10)
    one.wechatpay.create_payment(out_trade_no="PCROSS0000001", amount_fen=990, description="x",
                                 notify_url="https://shop.example.com/n", expires_at=deadline, payer_id="o-1")
    headers, body = one.wechatpay_sandbox.pay("PCROSS0000001")
    notice = two.wechatpay.parse_notice(headers, body, now=timezone.now())
    assert notice.amount_fen == 990 and notice.status == "paid"
    req = one.alipay.create_payment(out_trade_no="PCROSS0000002", amount_fen=500, description="y",
                                    notify_url="https://shop.example.com/n", expires_at=deadline)
    two.alipay_sandbox.open(req.client_params["order_string"])  # the other worker's app key signed it
    headers, body = two.alipay_sandbox.pay("PCROSS0000002")
    assert one.alipay.parse_notice(headers, body, now=timezone.now()).amount_fen == 500


@pytest.mark.django_db
@pytest.mark.parametrize("provider", ["wechat", "alipay"])
def test_the_sandbox_pays_a_trade_created_in_another_process(provider):
    """The local simulator forgot the trade (another worker created it): it is re-registered from our row."""
    from o2o.orders.models import Order

    m, _ = member()
    order = Order.objects.create(number="O2026010100000000001", member=m, channel="h5", choice="fastest",
                                 goods_fen=1234, total_fen=1234, payment_deadline=timezone.now() + timedelta(minutes=9))
    request = gateways.payment_gateway(provider).create_payment(
        out_trade_no="P202601010000000000101", amount_fen=1234, description="z",
        notify_url=gateways.notify_url(provider), expires_at=order.payment_deadline, payer_id="openid-9")
    payment = Payment.objects.create(order=order, provider=provider, out_trade_no="P202601010000000000101",
                                     amount_fen=1234, client_params=request.client_params,
                                     expires_at=order.payment_deadline)
    world = gateways.sandbox_world()
    world.sandboxes[gateways.ADAPTER[provider]].orders.clear()
    headers, body = gateways.sandbox_pay(payment)
    notice = gateways.payment_gateway(provider).parse_notice(headers, body, now=timezone.now())
    assert notice.out_trade_no == payment.out_trade_no and notice.amount_fen == 1234


def test_production_gateways_come_from_the_environment(tmp_path, settings):
    key, platform, alipay = generate_rsa_key(), generate_rsa_key(), generate_rsa_key()
    (tmp_path / "merchant.pem").write_bytes(to_pem(key))
    (tmp_path / "platform.pem").write_bytes(to_pem(platform.public_key()))
    (tmp_path / "alipay.pem").write_bytes(to_pem(alipay.public_key()))
    env = {"O2O_WECHATPAY_MCHID": "1900000001", "O2O_WECHATPAY_APPID": "wx0000000000000001",
           "O2O_WECHATPAY_SERIAL_NO": "ABC", "O2O_WECHATPAY_PRIVATE_KEY_PATH": str(tmp_path / "merchant.pem"),
           "O2O_WECHATPAY_PLATFORM_SERIAL_NO": "DEF", "O2O_WECHATPAY_PLATFORM_CERT_PATH": str(tmp_path / "platform.pem"),
           "O2O_WECHATPAY_APIV3_KEY": "0123456789abcdef0123456789abcdef",
           "O2O_ALIPAY_APP_ID": "2021000000000009", "O2O_ALIPAY_PRIVATE_KEY_PATH": str(tmp_path / "merchant.pem"),
           "O2O_ALIPAY_PUBLIC_KEY_PATH": str(tmp_path / "alipay.pem"), "O2O_ALIPAY_PRODUCT": "app"}
    wechat = gateways.production_gateway("wechat", env)
    assert isinstance(wechat, WeChatPay) and wechat.mchid == "1900000001"
    assert isinstance(wechat._transport, UrllibTransport)
    ali = gateways.production_gateway("alipay", env)
    assert isinstance(ali, Alipay) and ali.product == "app" and ali.gateway.startswith("https://openapi.alipay.com")
    with pytest.raises(gateways.PaymentsUnavailable) as exc:
        gateways.production_gateway("wechat", {k: v for k, v in env.items() if k != "O2O_WECHATPAY_APIV3_KEY"})
    assert exc.value.status == 503 and exc.value.details["missing"] == ["O2O_WECHATPAY_APIV3_KEY"]
    settings.O2O = {**settings.O2O, "PAYMENTS": {"mode": "production", "notify_base_url": "https://shop.example.com/"}}
    assert gateways.notify_url("alipay") == "https://shop.example.com/api/v1/payments/notify/alipay"
    with pytest.raises(gateways.PaymentsUnavailable):
        gateways.payment_gateway("wechat")  # the test environment has no WeChat Pay configuration
