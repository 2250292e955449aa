"""Local provider simulators for tests and the demo: both adapters wired to in-process sandboxes.

Usage::

    world = sandbox_gateways()
    request = world.wechatpay.create_payment(out_trade_no="o2o000001", amount_fen=1230, description="鲜奶",
                                             notify_url="https://shop.example.com/pay/wechat",
                                             expires_at=deadline, payer_id="openid-1")
    headers, body = world.wechatpay_sandbox.pay("o2o000001")  # what WeChat POSTs to notify_url
    notice = world.gateways["wechatpay"].parse_notice(headers, body, now=now)  # amount_fen == 1230

Alipay has no server-side order creation: the buyer opens the signed order, so call
``world.alipay_sandbox.open(request.client_params["order_string"])`` before ``pay``.
The sandboxes use :func:`~o2o.adapters.payments.keys.test_keys`: never use them with real money.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime
from typing import Literal

from .alipay import Alipay
from .base import PaymentGateway, shanghai_now
from .keys import SandboxKeys, test_keys
from .sandbox_alipay import AlipayOrder, AlipaySandbox
from .sandbox_wechatpay import SANDBOX_MERCHANT_SERIAL, SANDBOX_PLATFORM_SERIAL, WeChatOrder, WeChatPaySandbox
from .wechatpay import WeChatPay

SANDBOX_MCHID = "1900000109"
SANDBOX_WECHAT_APPID = "wxd678efh567hg6787"
SANDBOX_ALIPAY_APP_ID = "2021000000000001"
SANDBOX_WECHAT_BASE_URL = "https://api.mch.weixin.qq.com"
SANDBOX_ALIPAY_GATEWAY = "https://openapi.alipay.com/gateway.do"

__all__ = [
    "SANDBOX_ALIPAY_APP_ID", "SANDBOX_MCHID", "SANDBOX_MERCHANT_SERIAL", "SANDBOX_PLATFORM_SERIAL",
    "SANDBOX_WECHAT_APPID", "AlipayOrder", "AlipaySandbox", "SandboxWorld", "WeChatOrder", "WeChatPaySandbox",
    "sandbox_gateways",
]


@dataclass(frozen=True)
class SandboxWorld:
    """``gateways`` and ``sandboxes`` keyed by provider name (``"wechatpay"``, ``"alipay"``)."""

    gateways: dict[str, PaymentGateway]
    sandboxes: dict[str, WeChatPaySandbox | AlipaySandbox]
    keys: SandboxKeys

    @property
    def wechatpay(self) -> WeChatPay:
        gateway = self.gateways["wechatpay"]
        assert isinstance(gateway, WeChatPay)
        return gateway

    @property
    def alipay(self) -> Alipay:
        gateway = self.gateways["alipay"]
        assert isinstance(gateway, Alipay)
        return gateway

    @property
    def wechatpay_sandbox(self) -> WeChatPaySandbox:
        sandbox = self.sandboxes["wechatpay"]
        assert isinstance(sandbox, WeChatPaySandbox)
        return sandbox

    @property
    def alipay_sandbox(self) -> AlipaySandbox:
        sandbox = self.sandboxes["alipay"]
        assert isinstance(sandbox, AlipaySandbox)
        return sandbox


def sandbox_gateways(clock: Callable[[], datetime] = shanghai_now, *,
                     alipay_product: Literal["wap", "app"] = "wap") -> SandboxWorld:
    """Both adapters, each talking to its own fresh sandbox, with the process-wide test keys."""
    keys = test_keys()
    wechat_sandbox = WeChatPaySandbox(keys, SANDBOX_MCHID, SANDBOX_WECHAT_APPID, clock)
    alipay_sandbox = AlipaySandbox(keys, SANDBOX_ALIPAY_APP_ID, clock)
    wechat = WeChatPay(mchid=SANDBOX_MCHID, appid=SANDBOX_WECHAT_APPID, merchant_serial_no=SANDBOX_MERCHANT_SERIAL,
                       merchant_private_key=keys.merchant, platform_serial_no=SANDBOX_PLATFORM_SERIAL,
                       platform_public_key=keys.platform.public_key(), apiv3_key=keys.apiv3_key,
                       transport=wechat_sandbox, base_url=SANDBOX_WECHAT_BASE_URL, clock=clock)
    alipay = Alipay(app_id=SANDBOX_ALIPAY_APP_ID, app_private_key=keys.app, alipay_public_key=keys.alipay.public_key(),
                    transport=alipay_sandbox, gateway=SANDBOX_ALIPAY_GATEWAY, clock=clock, product=alipay_product)
    return SandboxWorld(gateways={"wechatpay": wechat, "alipay": alipay},
                        sandboxes={"wechatpay": wechat_sandbox, "alipay": alipay_sandbox}, keys=keys)
