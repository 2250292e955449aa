"""WeChat Pay API v3 (direct merchant): JSAPI / H5 orders, notifications, refunds, queries.

Protocol (pay.weixin.qq.com/doc/v3/merchant):

* every request carries ``Authorization: WECHATPAY2-SHA256-RSA2048 mchid="…",nonce_str="…",
  signature="…",timestamp="…",serial_no="…"``, the signature being SHA256withRSA by the merchant
  key over ``METHOD\\nPATH_WITH_QUERY\\nTIMESTAMP\\nNONCE\\nBODY\\n``;
* every 2xx response and every notification is signed by the platform key over
  ``TIMESTAMP\\nNONCE\\nBODY\\n`` (headers ``Wechatpay-Timestamp/-Nonce/-Signature/-Serial``); we
  reject an unknown serial and a timestamp more than five minutes from our clock;
* a notification's ``resource`` is AEAD_AES_256_GCM-encrypted with the 32-byte APIv3 key
  (nonce and associated_data as UTF-8, ciphertext = base64(ciphertext || 16-byte tag)).

Error responses raise :class:`ProviderError`. WeChat signs them too once our request authenticated
(not a 401): a signature that is present must verify, and only a verified "order does not exist"
makes :meth:`WeChatPay.query` answer None.
"""

from __future__ import annotations

import base64
import binascii
import re
from collections.abc import Callable, Mapping
from datetime import datetime, timedelta
from typing import Any, Literal
from urllib.parse import quote

from cryptography.exceptions import InvalidTag
from cryptography.hazmat.primitives.asymmetric import rsa
from cryptography.hazmat.primitives.ciphers.aead import AESGCM

from .base import (
    BadSignature,
    IgnorableNotice,
    MalformedNotice,
    PaymentError,
    PaymentNotice,
    PaymentRequest,
    ProviderError,
    RefundResult,
    Transport,
    header,
    require_amount,
    require_aware,
    shanghai_now,
)
from .keys import load_private_key, load_public_key, rsa_sign, rsa_verify
from .wechatpay_wire import (
    authorization_header,
    default_nonce,
    dumps,
    int_field,
    jsapi_message,
    loads_dict,
    parse_rfc3339,
    request_message,
    response_message,
    rfc3339,
)

PROVIDER = "wechatpay"
MAX_CLOCK_SKEW = timedelta(minutes=5)
# out_trade_no: 6-32 of digits, letters, _ - | * ; out_refund_no: 1-64 of those plus @.
_TRADE_NO = re.compile(r"[0-9A-Za-z_\-|*]{6,32}")
_REFUND_NO = re.compile(r"[0-9A-Za-z_\-|*@]{1,64}")
_TIMESTAMP = re.compile(r"[0-9]{1,12}")
_REFUND_STATUS: dict[str, Literal["succeeded", "processing", "failed"]] = {
    "SUCCESS": "succeeded", "PROCESSING": "processing", "CLOSED": "failed", "ABNORMAL": "failed",
}


class WeChatPay:
    """A :class:`~o2o.adapters.payments.base.PaymentGateway` for WeChat Pay API v3."""

    provider = PROVIDER

    def __init__(self, *, mchid: str, appid: str, merchant_serial_no: str,
                 merchant_private_key: rsa.RSAPrivateKey | bytes | str, platform_serial_no: str,
                 platform_public_key: rsa.RSAPublicKey | bytes | str, apiv3_key: bytes, transport: Transport,
                 base_url: str = "https://api.mch.weixin.qq.com", nonce: Callable[[], str] = default_nonce,
                 clock: Callable[[], datetime] = shanghai_now, refund_notify_url: str | None = None) -> None:
        if not isinstance(apiv3_key, bytes) or len(apiv3_key) != 32:
            raise ValueError("APIv3 密钥必须是 32 字节 the APIv3 key must be 32 bytes")
        self.mchid = mchid
        self.appid = appid
        self.merchant_serial_no = merchant_serial_no
        self.platform_serial_no = platform_serial_no
        self._merchant_key = load_private_key(merchant_private_key)
        self._platform_key = load_public_key(platform_public_key)
        self._aead = AESGCM(apiv3_key)
        self._transport = transport
        self._base_url = base_url.rstrip("/")
        self._nonce = nonce
        self._clock = clock
        self._refund_notify_url = refund_notify_url

    # --- signing and transport ----------------------------------------------------------------

    def _timestamp(self) -> str:
        return str(int(self._clock().timestamp()))

    def _verify(self, headers: Mapping[str, str], body: bytes, now: datetime) -> None:
        ts, nonce = header(headers, "Wechatpay-Timestamp"), header(headers, "Wechatpay-Nonce")
        sig, serial = header(headers, "Wechatpay-Signature"), header(headers, "Wechatpay-Serial")
        if not all(isinstance(v, str) and v for v in (ts, nonce, sig, serial)):
            raise BadSignature("缺少微信支付签名头 missing Wechatpay-* signature headers")
        assert isinstance(ts, str) and isinstance(nonce, str) and isinstance(sig, str)
        if serial != self.platform_serial_no:
            raise BadSignature(f"未知的平台证书序列号 unknown Wechatpay-Serial {serial!r}")
        if not _TIMESTAMP.fullmatch(ts):
            raise BadSignature("签名时间戳无效 invalid Wechatpay-Timestamp")
        if abs(now.timestamp() - int(ts)) > MAX_CLOCK_SKEW.total_seconds():
            raise BadSignature("签名时间戳超出五分钟 Wechatpay-Timestamp more than 5 minutes off")
        try:
            message = response_message(ts, nonce, body)
        except UnicodeEncodeError as exc:
            raise BadSignature("签名头编码无效 undecodable signature header") from exc
        if not rsa_verify(self._platform_key, message, sig):
            raise BadSignature("微信支付签名验证失败 WeChat Pay signature does not verify")

    def _call(self, method: str, path: str, payload: Mapping[str, Any] | None = None) -> dict[str, Any]:
        body = b"" if payload is None else dumps(payload)
        ts, nonce = self._timestamp(), self._nonce()
        signature = rsa_sign(self._merchant_key, request_message(method, path, ts, nonce, body))
        headers = {
            "Authorization": authorization_header(mchid=self.mchid, serial_no=self.merchant_serial_no,
                                                  timestamp=ts, nonce=nonce, signature=signature),
            "Accept": "application/json",
            "User-Agent": "o2o-wechatpay/1.0",
            "Wechatpay-Serial": self.platform_serial_no,
        }
        if payload is not None:
            headers["Content-Type"] = "application/json"
        try:
            status, resp_headers, resp_body = self._transport.send(method, self._base_url + path, headers, body)
        except OSError as exc:
            raise ProviderError("微信支付网络错误 WeChat Pay unreachable", code="network_error",
                                provider=PROVIDER) from exc
        # WeChat signs every response once our request authenticated; a signature present must verify.
        signed = header(resp_headers, "Wechatpay-Signature") is not None
        if signed or 200 <= status < 300:
            self._verify(resp_headers, resp_body, self._clock())
        if not 200 <= status < 300:
            data = loads_dict(resp_body) or {}
            raise ProviderError(f"微信支付返回错误 WeChat Pay error (HTTP {status}): {data.get('message', '')}",
                                code=str(data.get("code") or f"http_{status}"), provider=PROVIDER,
                                status=status, raw=data, verified=signed)
        if not resp_body:
            return {}
        data = loads_dict(resp_body)
        if data is None:
            raise ProviderError("微信支付应答无法解析 unparseable WeChat Pay response", code="bad_response",
                                provider=PROVIDER, status=status)
        return data

    # --- payments -----------------------------------------------------------------------------

    def jsapi_params(self, prepay_id: str) -> dict[str, str]:
        """The signed parameters for ``wx.requestPayment`` / ``WeixinJSBridge`` (JSAPI, mini-program)."""
        ts, nonce, package = self._timestamp(), self._nonce(), f"prepay_id={prepay_id}"
        return {"appId": self.appid, "timeStamp": ts, "nonceStr": nonce, "package": package, "signType": "RSA",
                "paySign": rsa_sign(self._merchant_key, jsapi_message(self.appid, ts, nonce, package))}

    def create_payment(self, *, out_trade_no: str, amount_fen: int, description: str, notify_url: str,
                       expires_at: datetime, payer_id: str | None = None,
                       client_ip: str | None = None) -> PaymentRequest:
        """JSAPI when ``payer_id`` (the payer's openid) is given, else H5 for ``client_ip``."""
        _check(_TRADE_NO, out_trade_no, "out_trade_no")
        require_amount(amount_fen)
        payload: dict[str, Any] = {
            "appid": self.appid, "mchid": self.mchid, "description": description,
            "out_trade_no": out_trade_no, "time_expire": rfc3339(expires_at), "notify_url": notify_url,
            "amount": {"total": amount_fen, "currency": "CNY"},
        }
        if payer_id:
            payload["payer"] = {"openid": payer_id}
            data = self._call("POST", "/v3/pay/transactions/jsapi", payload)
            prepay_id = data.get("prepay_id")
            if not isinstance(prepay_id, str) or not prepay_id:
                raise ProviderError("微信支付未返回 prepay_id no prepay_id in response", code="bad_response",
                                    provider=PROVIDER, raw=data)
            return PaymentRequest(PROVIDER, out_trade_no, amount_fen, self.jsapi_params(prepay_id), prepay_id)
        if client_ip:
            payload["scene_info"] = {"payer_client_ip": client_ip, "h5_info": {"type": "Wap"}}
            data = self._call("POST", "/v3/pay/transactions/h5", payload)
            h5_url = data.get("h5_url")
            if not isinstance(h5_url, str) or not h5_url:
                raise ProviderError("微信支付未返回 h5_url no h5_url in response", code="bad_response",
                                    provider=PROVIDER, raw=data)
            return PaymentRequest(PROVIDER, out_trade_no, amount_fen, {"h5_url": h5_url}, "")
        raise ValueError("JSAPI 需要 openid (payer_id)，H5 需要 client_ip; "
                         "WeChat Pay needs payer_id (openid) for JSAPI or client_ip for H5")

    def close(self, *, out_trade_no: str) -> None:
        """Close an unpaid order (``POST …/out-trade-no/{no}/close``), e.g. when it expires on our side."""
        _check(_TRADE_NO, out_trade_no, "out_trade_no")
        self._call("POST", f"/v3/pay/transactions/out-trade-no/{out_trade_no}/close", {"mchid": self.mchid})

    def query(self, *, out_trade_no: str) -> PaymentNotice | None:
        """The trade's state: a ``paid`` or ``closed`` notice, or None when not (yet) paid or unknown."""
        _check(_TRADE_NO, out_trade_no, "out_trade_no")
        path = f"/v3/pay/transactions/out-trade-no/{out_trade_no}?mchid={quote(self.mchid, safe='')}"
        try:
            txn = self._call("GET", path)
        except ProviderError as exc:
            if exc.code == "ORDER_NOT_EXIST" and exc.verified:
                return None
            raise
        try:
            return self._notice(txn, notify_id=None, raw={"transaction": txn})
        except (MalformedNotice, BadSignature) as exc:
            raise ProviderError(f"微信支付查询应答无效 invalid query response: {exc.message}",
                                code="bad_response", provider=PROVIDER, raw=txn) from exc

    def _notice(self, txn: dict[str, Any], *, notify_id: str | None, raw: dict[str, Any]) -> PaymentNotice | None:
        if txn.get("mchid", self.mchid) != self.mchid or txn.get("appid", self.appid) != self.appid:
            raise BadSignature("商户号或 appid 不匹配 mchid/appid do not match this merchant")
        out_trade_no, transaction_id = txn.get("out_trade_no"), txn.get("transaction_id", "")
        state, amount = txn.get("trade_state"), txn.get("amount")
        if not isinstance(out_trade_no, str) or not isinstance(transaction_id, str) or not isinstance(amount, dict):
            raise MalformedNotice("交易字段缺失 transaction lacks out_trade_no/transaction_id/amount")
        total = int_field(amount, "total")
        if state in ("SUCCESS", "REFUND"):  # REFUND: paid, then (partly) refunded
            if total is None or not transaction_id:
                raise MalformedNotice("交易金额或单号无效 invalid amount.total or transaction_id")
            try:
                paid_at = parse_rfc3339(txn.get("success_time"))
            except ValueError as exc:
                raise MalformedNotice("支付时间无效 invalid success_time") from exc
            return PaymentNotice(PROVIDER, notify_id or f"query:{transaction_id}", out_trade_no, transaction_id,
                                 total, "paid", paid_at, raw)
        if state in ("CLOSED", "REVOKED") and notify_id is None:
            return PaymentNotice(PROVIDER, f"query:closed:{out_trade_no}", out_trade_no, transaction_id,
                                 total or 0, "closed", None, raw)
        if notify_id is not None:
            raise MalformedNotice(f"通知中的交易状态异常 unexpected trade_state {state!r} in a notification")
        if state in ("NOTPAY", "USERPAYING", "PAYERROR"):
            return None
        raise MalformedNotice(f"未知交易状态 unknown trade_state {state!r}")

    # --- notifications ------------------------------------------------------------------------

    def decrypt_resource(self, resource: Mapping[str, Any]) -> bytes:
        """Decrypt a notification ``resource`` (AEAD_AES_256_GCM with the APIv3 key)."""
        if resource.get("algorithm") != "AEAD_AES_256_GCM":
            raise MalformedNotice(f"不支持的加密算法 unsupported algorithm {resource.get('algorithm')!r}")
        nonce, ciphertext = resource.get("nonce"), resource.get("ciphertext")
        associated = resource.get("associated_data") or ""
        if not isinstance(nonce, str) or not nonce or not isinstance(ciphertext, str) \
                or not isinstance(associated, str):
            raise MalformedNotice("加密资源字段缺失 resource lacks nonce/ciphertext")
        try:
            data = base64.b64decode(ciphertext, validate=True)
            return self._aead.decrypt(nonce.encode("utf-8"), data, associated.encode("utf-8"))
        except (binascii.Error, ValueError, UnicodeEncodeError) as exc:
            raise MalformedNotice("加密资源格式错误 malformed encrypted resource") from exc
        except InvalidTag as exc:
            raise BadSignature("通知解密失败（APIv3 密钥不符）resource does not decrypt with our APIv3 key") from exc

    def parse_notice(self, headers: Mapping[str, str], body: bytes, *, now: datetime) -> PaymentNotice:
        """Verify (signature, serial, 5-minute window), decrypt and read a TRANSACTION.SUCCESS notice."""
        require_aware(now, "now")
        try:
            return self._parse_notice(headers, body, now)
        except PaymentError:
            raise
        except Exception as exc:  # a safety net: garbage must never escape as another type
            raise MalformedNotice("通知无法解析 unparseable notification") from exc

    def _parse_notice(self, headers: Mapping[str, str], body: bytes, now: datetime) -> PaymentNotice:
        if not isinstance(body, bytes | bytearray):
            raise MalformedNotice("通知体必须是字节 notification body must be bytes")
        self._verify(headers, bytes(body), now)
        doc = loads_dict(bytes(body))
        if doc is None:
            raise MalformedNotice("通知不是 JSON 对象 notification is not a JSON object")
        notify_id, event_type, resource = doc.get("id"), doc.get("event_type"), doc.get("resource")
        if not isinstance(notify_id, str) or not notify_id:
            raise MalformedNotice("通知缺少 id notification lacks id")
        if event_type != "TRANSACTION.SUCCESS":
            raise IgnorableNotice(f"非支付成功事件 event {event_type!r} is not TRANSACTION.SUCCESS")
        if doc.get("resource_type") != "encrypt-resource" or not isinstance(resource, dict):
            raise MalformedNotice("通知缺少加密资源 notification lacks an encrypt-resource")
        txn = loads_dict(self.decrypt_resource(resource))
        if txn is None:
            raise MalformedNotice("解密后的交易不是 JSON 对象 decrypted transaction is not a JSON object")
        notice = self._notice(txn, notify_id=notify_id, raw={"notification": doc, "transaction": txn})
        assert notice is not None  # a notification never maps to "not paid": _notice raises instead
        return notice

    def notice_ack(self, ok: bool) -> tuple[int, str, bytes]:
        """200 with an empty body on success; 500 with ``{"code":"FAIL","message":…}`` so WeChat retries."""
        if ok:
            return 200, "text/plain; charset=utf-8", b""
        return 500, "application/json", dumps({"code": "FAIL", "message": "失败 failed"})

    # --- refunds ------------------------------------------------------------------------------

    def refund(self, *, out_trade_no: str, out_refund_no: str, amount_fen: int, total_fen: int,
               reason: str) -> RefundResult:
        _check(_TRADE_NO, out_trade_no, "out_trade_no")
        _check(_REFUND_NO, out_refund_no, "out_refund_no")
        require_amount(amount_fen)
        require_amount(total_fen, "total_fen")
        if amount_fen > total_fen:
            raise ValueError("退款金额超过订单金额 refund exceeds the order total")
        payload: dict[str, Any] = {"out_trade_no": out_trade_no, "out_refund_no": out_refund_no,
                                   "amount": {"refund": amount_fen, "total": total_fen, "currency": "CNY"}}
        if reason:
            payload["reason"] = reason
        if self._refund_notify_url:
            payload["notify_url"] = self._refund_notify_url
        data = self._call("POST", "/v3/refund/domestic/refunds", payload)
        status = _REFUND_STATUS.get(str(data.get("status")))
        amount = data.get("amount")
        refunded = int_field(amount, "refund") if isinstance(amount, dict) else None
        if status is None or refunded is None:
            raise ProviderError("微信支付退款应答无效 invalid refund response", code="bad_response",
                                provider=PROVIDER, raw=data)
        return RefundResult(PROVIDER, str(data.get("out_refund_no", out_refund_no)), str(data.get("refund_id", "")),
                            refunded, status, data)


def _check(pattern: re.Pattern[str], value: str, name: str) -> None:
    if not isinstance(value, str) or not pattern.fullmatch(value):
        raise ValueError(f"{name} 格式不符合微信支付要求 is not a valid WeChat Pay {name}: {value!r}")
