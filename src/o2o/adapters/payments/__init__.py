"""Payment gateway adapters: WeChat Pay API v3 and Alipay (RSA2), each with a local sandbox.

Every adapter implements :class:`~o2o.adapters.payments.base.PaymentGateway`: create a payment
(the signed parameters the client needs to open the pay sheet), verify and read a notification,
acknowledge it the way the provider expects, refund, and query for reconciliation. Money is
integer fen; datetimes are timezone-aware; all HTTP goes through an injected ``Transport``.

We implement the providers' documented algorithms with ``cryptography`` (RSA PKCS#1 v1.5 SHA-256,
AES-256-GCM) instead of using the ``wechatpayv3`` / ``python-alipay-sdk`` SDKs: those do network
I/O at construction (platform certificate download), which makes them untestable offline and slow
to start, and ``python-alipay-sdk`` pulls in ``pycryptodomex`` as a second crypto stack.

These modules are framework-free (no Django): the app that uses them reads settings and keys and
constructs the adapters. :mod:`o2o.adapters.payments.sandbox` wires both adapters to in-process
simulators for tests and the demo.
"""

from .alipay import Alipay
from .base import (
    BadSignature,
    IgnorableNotice,
    MalformedNotice,
    PaymentError,
    PaymentGateway,
    PaymentNotice,
    PaymentRequest,
    ProviderError,
    RefundResult,
    Transport,
    fen_to_yuan,
    yuan_to_fen,
)
from .wechatpay import WeChatPay

__all__ = [
    "Alipay", "BadSignature", "IgnorableNotice", "MalformedNotice", "PaymentError", "PaymentGateway",
    "PaymentNotice", "PaymentRequest", "ProviderError", "RefundResult", "Transport", "WeChatPay",
    "fen_to_yuan", "yuan_to_fen",
]
