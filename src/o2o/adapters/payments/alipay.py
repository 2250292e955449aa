"""Alipay open platform (public-key mode, RSA2): WAP / app orders, notifications, refunds, queries.

Signing (opendocs.alipay.com/common/02kf5q): take every non-empty parameter except ``sign``, sort by
key, join as ``k=v`` with ``&`` using the raw (not URL-encoded) values, SHA256withRSA with the app
private key, base64. Notifications are verified the same way with the Alipay public key after
removing ``sign`` *and* ``sign_type``. A gateway response ``{"<method>_response": {...}, "sign": "…"}``
is signed over the exact text of the ``<method>_response`` value, which we locate with a real JSON
scanner (braces inside strings cannot fool it) rather than re-serialising. Business errors
(``40004``) are signed too; only a verified "trade does not exist" makes ``query`` answer None.

Amounts are yuan strings on the wire (``"12.30"``) and integer fen in our API.
Certificate mode (``app_cert_sn`` / ``alipay_root_cert_sn``) is not implemented.
"""

from __future__ import annotations

import json
import re
from collections.abc import Callable, Mapping
from datetime import datetime
from typing import Any, Literal
from urllib.parse import parse_qsl, urlencode

from cryptography.hazmat.primitives.asymmetric import rsa

from .base import (
    SHANGHAI,
    BadSignature,
    IgnorableNotice,
    MalformedNotice,
    PaymentError,
    PaymentNotice,
    PaymentRequest,
    ProviderError,
    RefundResult,
    Transport,
    fen_to_yuan,
    require_amount,
    require_aware,
    shanghai_now,
    yuan_to_fen,
)
from .keys import load_private_key, load_public_key, rsa_sign, rsa_verify

PROVIDER = "alipay"
SUCCESS_CODE = "10000"
_NO = re.compile(r"[0-9A-Za-z_]{1,64}")  # out_trade_no / out_request_no
_WS = re.compile(r"[ \t\n\r]*")
_PRODUCTS = {"wap": ("alipay.trade.wap.pay", "QUICK_WAP_WAY"), "app": ("alipay.trade.app.pay", "QUICK_MSECURITY_PAY")}


def sign_content(params: Mapping[str, Any], *, exclude: tuple[str, ...] = ("sign",)) -> str:
    """``k=v&k=v…`` over the non-empty parameters not in ``exclude``, sorted by key, values raw."""
    return "&".join(f"{k}={v}" for k, v in sorted(params.items()) if k not in exclude and v not in (None, ""))


def alipay_time(value: datetime) -> str:
    """``YYYY-MM-DD HH:MM:SS`` in China time."""
    require_aware(value, "datetime")
    return value.astimezone(SHANGHAI).strftime("%Y-%m-%d %H:%M:%S")


def parse_alipay_time(value: Any) -> datetime:
    if not isinstance(value, str):
        raise ValueError("not a datetime")
    return datetime.strptime(value, "%Y-%m-%d %H:%M:%S").replace(tzinfo=SHANGHAI)


def top_level_spans(text: str) -> dict[str, tuple[int, int]]:
    """``{key: (start, end)}`` of each top-level value of a JSON object, as offsets into ``text``."""
    decoder = json.JSONDecoder()
    pos = _WS.match(text, 0).end()  # type: ignore[union-attr]
    if text[pos:pos + 1] != "{":
        raise ValueError("not a JSON object")
    pos = _WS.match(text, pos + 1).end()  # type: ignore[union-attr]
    spans: dict[str, tuple[int, int]] = {}
    if text[pos:pos + 1] == "}":
        return spans
    while True:
        key, pos = decoder.raw_decode(text, pos)
        pos = _WS.match(text, pos).end()  # type: ignore[union-attr]
        if not isinstance(key, str) or text[pos:pos + 1] != ":":
            raise ValueError("bad object key")
        start = _WS.match(text, pos + 1).end()  # type: ignore[union-attr]
        _, end = decoder.raw_decode(text, start)
        spans[key] = (start, end)
        pos = _WS.match(text, end).end()  # type: ignore[union-attr]
        if text[pos:pos + 1] == ",":
            pos = _WS.match(text, pos + 1).end()  # type: ignore[union-attr]
        elif text[pos:pos + 1] == "}":
            break
        else:
            raise ValueError("bad object separator")
    if text[pos + 1:].strip(" \t\n\r"):
        raise ValueError("trailing data after the JSON object")
    return spans


def _check_no(value: str, name: str) -> None:
    if not isinstance(value, str) or not _NO.fullmatch(value):
        raise ValueError(f"{name} 格式不符合支付宝要求 is not a valid Alipay {name}: {value!r}")


class Alipay:
    """A :class:`~o2o.adapters.payments.base.PaymentGateway` for Alipay (RSA2, public-key mode)."""

    provider = PROVIDER

    def __init__(self, *, app_id: str, app_private_key: rsa.RSAPrivateKey | bytes | str,
                 alipay_public_key: rsa.RSAPublicKey | bytes | str, transport: Transport,
                 gateway: str = "https://openapi.alipay.com/gateway.do", clock: Callable[[], datetime] = shanghai_now,
                 product: Literal["wap", "app"] = "wap", return_url: str | None = None) -> None:
        if product not in _PRODUCTS:
            raise ValueError(f"未知产品 unknown product {product!r}")
        self.app_id = app_id
        self.gateway = gateway
        self.product = product
        self._app_key = load_private_key(app_private_key)
        self._alipay_key = load_public_key(alipay_public_key)
        self._transport = transport
        self._clock = clock
        self._return_url = return_url

    # --- signing and transport ----------------------------------------------------------------

    def signed_params(self, method: str, biz_content: Mapping[str, Any], *,
                      notify_url: str | None = None, return_url: str | None = None) -> dict[str, str]:
        """The common parameters plus ``biz_content`` (compact JSON), signed."""
        params = {
            "app_id": self.app_id, "method": method, "format": "JSON", "charset": "utf-8", "sign_type": "RSA2",
            "timestamp": alipay_time(self._clock()), "version": "1.0",
            "biz_content": json.dumps(biz_content, ensure_ascii=False, separators=(",", ":")),
        }
        if notify_url:
            params["notify_url"] = notify_url
        if return_url:
            params["return_url"] = return_url
        params["sign"] = rsa_sign(self._app_key, sign_content(params).encode("utf-8"))
        return params

    def _call(self, method: str, biz_content: Mapping[str, Any]) -> dict[str, Any]:
        body = urlencode(self.signed_params(method, biz_content)).encode("ascii")
        headers = {"Content-Type": "application/x-www-form-urlencoded;charset=utf-8", "Accept": "application/json"}
        try:
            status, _, raw = self._transport.send("POST", self.gateway, headers, body)
        except OSError as exc:
            raise ProviderError("支付宝网络错误 Alipay unreachable", code="network_error", provider=PROVIDER) from exc
        if status != 200:
            raise ProviderError(f"支付宝网关错误 Alipay gateway HTTP {status}", code=f"http_{status}",
                                provider=PROVIDER, status=status)
        try:
            text = raw.decode("utf-8")
            spans = top_level_spans(text)
            key = method.replace(".", "_") + "_response"
            key = key if key in spans else "error_response"
            start, end = spans[key]
            content = json.loads(text[start:end])
            sign = json.loads(text[slice(*spans["sign"])]) if "sign" in spans else None
        except (ValueError, KeyError) as exc:
            raise ProviderError("支付宝应答无法解析 unparseable Alipay response", code="bad_response",
                                provider=PROVIDER, status=status) from exc
        if not isinstance(content, dict):
            raise ProviderError("支付宝应答无效 invalid Alipay response", code="bad_response", provider=PROVIDER)
        # An error may come unsigned; a signature that is present must verify, and success must be signed.
        if (sign is not None or content.get("code") == SUCCESS_CODE) and not (
                isinstance(sign, str) and rsa_verify(self._alipay_key, text[start:end].encode("utf-8"), sign)):
            raise BadSignature("支付宝应答验签失败 Alipay response signature does not verify")
        if content.get("code") != SUCCESS_CODE:
            raise ProviderError(f"支付宝返回错误 Alipay error: {content.get('sub_msg') or content.get('msg') or ''}",
                                code=str(content.get("sub_code") or content.get("code") or "bad_response"),
                                provider=PROVIDER, status=status, raw=content, verified=sign is not None)
        return content

    # --- payments -----------------------------------------------------------------------------

    def create_payment(self, *, out_trade_no: str, amount_fen: int, description: str, notify_url: str,
                       expires_at: datetime, payer_id: str | None = None) -> PaymentRequest:
        """A signed order: ``order_string`` for the app SDK, plus ``pay_url`` (gateway GET) for WAP.

        No network call: Alipay learns of the order when the buyer opens it. ``payer_id`` is unused.
        """
        _check_no(out_trade_no, "out_trade_no")
        require_amount(amount_fen)
        method, product_code = _PRODUCTS[self.product]
        biz = {"out_trade_no": out_trade_no, "total_amount": fen_to_yuan(amount_fen), "subject": description,
               "product_code": product_code, "time_expire": alipay_time(expires_at)}
        params = self.signed_params(method, biz, notify_url=notify_url,
                                    return_url=self._return_url if self.product == "wap" else None)
        order_string = urlencode(params)
        client_params = {"order_string": order_string}
        if self.product == "wap":
            client_params["pay_url"] = f"{self.gateway}?{order_string}"
        return PaymentRequest(PROVIDER, out_trade_no, amount_fen, client_params, "")

    def close(self, *, out_trade_no: str) -> None:
        """Close an unpaid trade; a trade Alipay never saw (buyer never opened it) is already closed."""
        _check_no(out_trade_no, "out_trade_no")
        try:
            self._call("alipay.trade.close", {"out_trade_no": out_trade_no})
        except ProviderError as exc:
            if exc.code != "ACQ.TRADE_NOT_EXIST" or not exc.verified:
                raise

    def query(self, *, out_trade_no: str) -> PaymentNotice | None:
        """``alipay.trade.query``: paid / closed notice, or None while WAIT_BUYER_PAY or unknown.

        Alipay reports TRADE_CLOSED both for an unpaid trade that timed out (``paid_at`` None) and for
        a paid trade refunded in full (``paid_at`` set, from ``send_pay_date``).
        """
        _check_no(out_trade_no, "out_trade_no")
        try:
            content = self._call("alipay.trade.query", {"out_trade_no": out_trade_no})
        except ProviderError as exc:
            if exc.code == "ACQ.TRADE_NOT_EXIST" and exc.verified:
                return None
            raise
        status = content.get("trade_status")
        if status == "WAIT_BUYER_PAY":
            return None
        try:
            trade_no, amount = str(content.get("trade_no", "")), yuan_to_fen(content.get("total_amount"))  # type: ignore[arg-type]
            paid_at = parse_alipay_time(content["send_pay_date"]) if content.get("send_pay_date") else None
        except ValueError as exc:
            raise ProviderError("支付宝查询应答无效 invalid query response", code="bad_response",
                                provider=PROVIDER, raw=content) from exc
        if status in ("TRADE_SUCCESS", "TRADE_FINISHED") and paid_at is not None:
            return PaymentNotice(PROVIDER, f"query:{trade_no}", out_trade_no, trade_no, amount, "paid", paid_at, content)
        if status == "TRADE_CLOSED":  # paid_at set: it was paid, then refunded in full
            return PaymentNotice(PROVIDER, f"query:closed:{out_trade_no}", out_trade_no, trade_no, amount,
                                 "closed", paid_at, content)
        raise ProviderError(f"交易状态或支付时间异常 unexpected trade_status {status!r}", code="bad_response",
                            provider=PROVIDER, raw=content)

    # --- notifications ------------------------------------------------------------------------

    def parse_notice(self, headers: Mapping[str, str], body: bytes, *, now: datetime) -> PaymentNotice:
        """Verify (RSA2, app_id) and read a ``trade_status_sync`` notification.

        ``now`` is only checked for awareness: Alipay notices carry no replay window (retries span
        about 25 hours), so replays are handled by idempotency on ``notify_id`` / ``out_trade_no``.
        """
        require_aware(now, "now")
        try:
            return self._parse_notice(body)
        except PaymentError:
            raise
        except Exception as exc:  # a safety net: garbage must never escape as another type
            raise MalformedNotice("通知无法解析 unparseable notification") from exc

    def _parse_notice(self, body: bytes) -> PaymentNotice:
        if not isinstance(body, bytes | bytearray):
            raise MalformedNotice("通知体必须是字节 notification body must be bytes")
        try:
            pairs = parse_qsl(bytes(body).decode("utf-8"), keep_blank_values=True, strict_parsing=True,
                              encoding="utf-8", errors="strict")
        except ValueError as exc:
            raise MalformedNotice("通知不是表单编码 notification is not form-encoded") from exc
        params = dict(pairs)
        if len(params) != len(pairs):
            raise MalformedNotice("通知参数重复 duplicate notification parameters")
        sign, sign_type = params.get("sign"), params.get("sign_type", "RSA2")
        if not sign:
            raise BadSignature("通知缺少签名 notification is not signed")
        if sign_type != "RSA2":
            raise BadSignature(f"不支持的签名类型 unsupported sign_type {sign_type!r}")
        content = sign_content(params, exclude=("sign", "sign_type")).encode("utf-8")
        if not rsa_verify(self._alipay_key, content, sign):
            raise BadSignature("支付宝通知验签失败 Alipay notification signature does not verify")
        if params.get("app_id") != self.app_id:
            raise BadSignature(f"app_id 不匹配 notification is for app_id {params.get('app_id')!r}")
        if params.get("notify_type", "trade_status_sync") != "trade_status_sync":
            raise IgnorableNotice(f"非交易状态通知 notify_type {params.get('notify_type')!r}")
        if params.get("gmt_refund") or params.get("refund_fee"):
            raise IgnorableNotice("退款引起的通知 notification caused by a refund")
        status = params.get("trade_status")
        if status == "WAIT_BUYER_PAY":
            raise IgnorableNotice("等待买家付款 WAIT_BUYER_PAY: nothing to act on")
        if status not in ("TRADE_SUCCESS", "TRADE_FINISHED", "TRADE_CLOSED"):
            raise MalformedNotice(f"未知交易状态 unknown trade_status {status!r}")
        notify_id, out_trade_no, trade_no = params.get("notify_id"), params.get("out_trade_no"), params.get("trade_no")
        if not notify_id or not out_trade_no or not trade_no:
            raise MalformedNotice("通知缺少 notify_id/out_trade_no/trade_no notification lacks ids")
        try:
            amount = yuan_to_fen(params.get("total_amount"))  # type: ignore[arg-type]
            paid_at = parse_alipay_time(params.get("gmt_payment")) if status != "TRADE_CLOSED" else None
        except ValueError as exc:
            raise MalformedNotice("通知金额或时间无效 invalid total_amount or gmt_payment") from exc
        return PaymentNotice(PROVIDER, notify_id, out_trade_no, trade_no, amount,
                             "closed" if status == "TRADE_CLOSED" else "paid", paid_at, params)

    def notice_ack(self, ok: bool) -> tuple[int, str, bytes]:
        """Alipay stops retrying on the plain text ``success``."""
        return 200, "text/plain; charset=utf-8", b"success" if ok else b"failure"

    # --- refunds ------------------------------------------------------------------------------

    def refund(self, *, out_trade_no: str, out_refund_no: str, amount_fen: int, total_fen: int,
               reason: str) -> RefundResult:
        """``alipay.trade.refund``; ``out_refund_no`` is Alipay's ``out_request_no`` (idempotency key).

        ``fund_change == "Y"`` means the money moved (succeeded); otherwise the outcome is to be
        confirmed (processing). ``refund_id`` is Alipay's ``trade_no``: Alipay has no per-refund id.
        """
        _check_no(out_trade_no, "out_trade_no")
        _check_no(out_refund_no, "out_refund_no")
        require_amount(amount_fen)
        require_amount(total_fen, "total_fen")
        if amount_fen > total_fen:
            raise ValueError("退款金额超过订单金额 refund exceeds the order total")
        biz = {"out_trade_no": out_trade_no, "refund_amount": fen_to_yuan(amount_fen), "out_request_no": out_refund_no}
        if reason:
            biz["refund_reason"] = reason
        content = self._call("alipay.trade.refund", biz)
        status: Literal["succeeded", "processing"] = "succeeded" if content.get("fund_change") == "Y" else "processing"
        return RefundResult(PROVIDER, out_refund_no, str(content.get("trade_no", "")), amount_fen, status, content)
