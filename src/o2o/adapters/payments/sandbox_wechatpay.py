"""A local WeChat Pay API v3 server behind the ``Transport`` interface (no network).

It re-implements the server side of the protocol on its own (it does not reuse the adapter's
message builders), so a round trip through it checks the adapter against a second reading of the
documentation: request signatures are verified (401 ``SIGN_ERROR`` otherwise), every response is
signed with the platform key, and notifications are signed and AES-256-GCM encrypted.
"""

from __future__ import annotations

import base64
import itertools
import json
import re
import secrets
import uuid
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any
from urllib.parse import parse_qs, urlsplit

from cryptography.exceptions import InvalidSignature
from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.asymmetric import padding
from cryptography.hazmat.primitives.ciphers.aead import AESGCM

from .base import SHANGHAI, shanghai_now
from .keys import SandboxKeys

SANDBOX_MERCHANT_SERIAL = "3775B6A45ACD588826D15E583A95F5DD5C8A1F4E"
SANDBOX_PLATFORM_SERIAL = "5157F09EFDC096DE15EBE81A47057A7232F1B8E1"
_AUTH = re.compile(r"WECHATPAY2-SHA256-RSA2048 (.+)")
_AUTH_PARAM = re.compile(r'(\w+)="([^"]*)"')
_ORDER = re.compile(r"/v3/pay/transactions/(jsapi|h5)")
_BY_NO = re.compile(r"/v3/pay/transactions/out-trade-no/([^/]+)(/close)?")

Response = tuple[int, dict[str, str], bytes]


class _Reject(Exception):
    def __init__(self, status: int, code: str, message: str) -> None:
        super().__init__(message)
        self.status, self.code, self.message = status, code, message


@dataclass
class WeChatOrder:
    out_trade_no: str
    amount_fen: int
    description: str
    notify_url: str
    expires_at: datetime
    trade_type: str  # JSAPI / MWEB
    openid: str
    prepay_id: str
    request: dict[str, Any]
    status: str = "NOTPAY"  # NOTPAY / SUCCESS / REFUND / CLOSED
    transaction_id: str = ""
    paid_at: datetime | None = None
    paid_fen: int = 0
    refunds: dict[str, dict[str, Any]] = field(default_factory=dict)

    @property
    def refunded_fen(self) -> int:
        return sum(r["amount"]["refund"] for r in self.refunds.values())


class WeChatPaySandbox:
    """Acts as ``api.mch.weixin.qq.com``; pass it as the adapter's ``transport``."""

    def __init__(self, keys: SandboxKeys, mchid: str, appid: str, clock: Callable[[], datetime] = shanghai_now, *,
                 merchant_serial_no: str = SANDBOX_MERCHANT_SERIAL,
                 platform_serial_no: str = SANDBOX_PLATFORM_SERIAL) -> None:
        self.keys, self.mchid, self.appid, self.clock = keys, mchid, appid, clock
        self.merchant_serial_no, self.platform_serial_no = merchant_serial_no, platform_serial_no
        self.orders: dict[str, WeChatOrder] = {}
        self.requests: list[tuple[str, str]] = []  # (method, path with query) of every request seen
        self.refund_status = "SUCCESS"  # what the next refunds report (tests may set PROCESSING)
        self._seq = itertools.count(1)

    # --- wire format ----------------------------------------------------------------------------

    def _now(self) -> datetime:
        return self.clock().astimezone(SHANGHAI).replace(microsecond=0)

    def _sign(self, body: bytes) -> dict[str, str]:
        ts, nonce = str(int(self.clock().timestamp())), secrets.token_hex(16)
        message = ts.encode() + b"\n" + nonce.encode() + b"\n" + body + b"\n"
        signature = self.keys.platform.sign(message, padding.PKCS1v15(), hashes.SHA256())
        return {"Wechatpay-Timestamp": ts, "Wechatpay-Nonce": nonce, "Wechatpay-Serial": self.platform_serial_no,
                "Wechatpay-Signature": base64.b64encode(signature).decode(),
                "Wechatpay-Signature-Type": "WECHATPAY2-SHA256-RSA2048"}

    def _respond(self, status: int, payload: Mapping[str, Any] | None) -> Response:
        """Signed, except a 401: WeChat signs its answer only once the request authenticated."""
        body = b"" if payload is None else json.dumps(payload, ensure_ascii=False).encode()
        headers = {"Content-Type": "application/json; charset=utf-8", "Request-ID": uuid.uuid4().hex}
        return status, headers if status == 401 else {**headers, **self._sign(body)}, body

    def _authenticate(self, method: str, path: str, headers: Mapping[str, str], body: bytes) -> None:
        auth = next((v for k, v in headers.items() if k.lower() == "authorization"), "")
        m = _AUTH.fullmatch(auth)
        if not m:
            raise _Reject(401, "SIGN_ERROR", "Authorization 格式错误 bad Authorization header")
        params = dict(_AUTH_PARAM.findall(m.group(1)))
        if params.get("mchid") != self.mchid or params.get("serial_no") != self.merchant_serial_no:
            raise _Reject(401, "SIGN_ERROR", "商户号或证书序列号错误 wrong mchid or serial_no")
        ts = params.get("timestamp", "")
        if not ts.isdigit() or abs(int(ts) - self.clock().timestamp()) > 300:
            raise _Reject(401, "SIGN_ERROR", "时间戳错误 timestamp out of range")
        message = f"{method}\n{path}\n{ts}\n{params.get('nonce_str', '')}\n".encode() + body + b"\n"
        try:
            signature = base64.b64decode(params.get("signature", ""), validate=True)
            self.keys.merchant.public_key().verify(signature, message, padding.PKCS1v15(), hashes.SHA256())
        except (InvalidSignature, ValueError) as exc:
            raise _Reject(401, "SIGN_ERROR", "签名错误 signature does not verify") from exc

    def send(self, method: str, url: str, headers: Mapping[str, str], body: bytes) -> Response:
        parts = urlsplit(url)
        path = parts.path + (f"?{parts.query}" if parts.query else "")
        self.requests.append((method, path))
        try:
            self._authenticate(method, path, headers, body)
            try:
                payload = json.loads(body) if body else {}
            except ValueError as exc:
                raise _Reject(400, "PARAM_ERROR", "请求体不是 JSON body is not JSON") from exc
            if not isinstance(payload, dict):
                raise _Reject(400, "PARAM_ERROR", "请求体不是对象 body is not an object")
            return self._route(method, parts.path, parse_qs(parts.query), payload)
        except _Reject as rej:
            return self._respond(rej.status, {"code": rej.code, "message": rej.message})

    def _route(self, method: str, path: str, query: dict[str, list[str]], payload: dict[str, Any]) -> Response:
        if method == "POST" and (m := _ORDER.fullmatch(path)):
            return self._create(m.group(1), payload)
        if (m := _BY_NO.fullmatch(path)) and method == ("POST" if m.group(2) else "GET"):
            if (payload.get("mchid") if m.group(2) else query.get("mchid", [""])[0]) != self.mchid:
                raise _Reject(400, "PARAM_ERROR", "mchid 错误 wrong mchid")
            order = self.orders.get(m.group(1))
            if order is None:
                raise _Reject(404, "ORDER_NOT_EXIST", "订单不存在 order does not exist")
            if not m.group(2):
                return self._respond(200, self.transaction(order))
            if order.status != "NOTPAY":
                raise _Reject(400, "ORDERPAID", "订单已支付 order already paid")
            order.status = "CLOSED"
            return self._respond(204, None)
        if method == "POST" and path == "/v3/refund/domestic/refunds":
            return self._refund(payload)
        raise _Reject(404, "NOT_FOUND", f"无此接口 no such API {method} {path}")

    # --- orders -------------------------------------------------------------------------------

    def _create(self, kind: str, p: dict[str, Any]) -> Response:
        if p.get("appid") != self.appid or p.get("mchid") != self.mchid:
            raise _Reject(400, "APPID_MCHID_NOT_MATCH", "appid 和 mch_id 不匹配 appid and mchid do not match")
        amount, no = p.get("amount") or {}, p.get("out_trade_no")
        total, openid = amount.get("total"), (p.get("payer") or {}).get("openid", "")
        try:
            expires_at = datetime.fromisoformat(p["time_expire"])
        except (KeyError, TypeError, ValueError) as exc:
            raise _Reject(400, "PARAM_ERROR", "time_expire 格式错误 bad time_expire") from exc
        if expires_at.tzinfo is None:
            raise _Reject(400, "PARAM_ERROR", "time_expire 缺少时区 time_expire lacks an offset")
        if not (isinstance(no, str) and 6 <= len(no) <= 32 and isinstance(p.get("description"), str)
                and type(total) is int and total > 0 and amount.get("currency", "CNY") == "CNY"
                and str(p.get("notify_url", "")).startswith("https://")):
            raise _Reject(400, "PARAM_ERROR", "参数错误 missing or invalid parameter")
        if kind == "jsapi" and not openid:
            raise _Reject(400, "PARAM_ERROR", "JSAPI 需要 payer.openid JSAPI requires payer.openid")
        if kind == "h5" and not (p.get("scene_info") or {}).get("payer_client_ip"):
            raise _Reject(400, "PARAM_ERROR", "H5 需要 scene_info H5 requires scene_info.payer_client_ip")
        if (old := self.orders.get(no)) is not None:
            if old.status in ("SUCCESS", "REFUND"):
                raise _Reject(400, "ORDERPAID", "该订单已支付 order already paid")
            if old.status == "CLOSED":
                raise _Reject(400, "ORDER_CLOSED", "订单已关闭 order closed")
            if old.request != p:
                raise _Reject(400, "INVALID_REQUEST", "201 商户订单号重复 duplicate out_trade_no")
            order = old
        else:
            prepay_id = f"wx{self._now():%d%H%M%S}{next(self._seq):08d}{secrets.token_hex(8)}"
            order = WeChatOrder(no, total, p["description"], p["notify_url"], expires_at,
                                "JSAPI" if kind == "jsapi" else "MWEB", openid, prepay_id, p)
            self.orders[no] = order
        if kind == "jsapi":
            return self._respond(200, {"prepay_id": order.prepay_id})
        return self._respond(200, {"h5_url": "https://wx.tenpay.com/cgi-bin/mmpayweb-bin/checkmweb"
                                             f"?prepay_id={order.prepay_id}&package=2056162962"})

    def transaction(self, order: WeChatOrder) -> dict[str, Any]:
        """The transaction document, as the query API and (encrypted) the notification carry it."""
        txn: dict[str, Any] = {
            "appid": self.appid, "mchid": self.mchid, "out_trade_no": order.out_trade_no,
            "trade_type": order.trade_type, "trade_state": order.status,
            "trade_state_desc": {"NOTPAY": "未支付", "SUCCESS": "支付成功", "REFUND": "转入退款",
                                 "CLOSED": "已关闭"}[order.status],
            "attach": "", "payer": {"openid": order.openid}, "amount": {"payer_currency": "CNY"},
        }
        if order.paid_at is not None:
            txn.update(transaction_id=order.transaction_id, bank_type="OTHERS", success_time=order.paid_at.isoformat(),
                       amount={"total": order.paid_fen, "payer_total": order.paid_fen, "currency": "CNY",
                               "payer_currency": "CNY"})
        return txn

    def _refund(self, p: dict[str, Any]) -> Response:
        order, amount = self.orders.get(p.get("out_trade_no", "")), p.get("amount") or {}
        refund, total, out_refund_no = amount.get("refund"), amount.get("total"), p.get("out_refund_no")
        if order is None:
            raise _Reject(404, "RESOURCE_NOT_EXISTS", "订单不存在 order does not exist")
        if order.status not in ("SUCCESS", "REFUND"):
            raise _Reject(400, "INVALID_REQUEST", "订单未支付 order is not paid")
        if not (isinstance(out_refund_no, str) and out_refund_no and type(refund) is int and refund > 0):
            raise _Reject(400, "PARAM_ERROR", "参数错误 missing or invalid parameter")
        if total != order.paid_fen:
            raise _Reject(400, "PARAM_ERROR", "订单金额与退款请求的订单金额不一致 amount.total is not the paid amount")
        if (old := order.refunds.get(out_refund_no)) is not None:
            if old["amount"]["refund"] != refund:
                raise _Reject(400, "INVALID_REQUEST", "退款单号重复 out_refund_no reused with another amount")
            return self._respond(200, old)
        if refund > order.paid_fen - order.refunded_fen:
            raise _Reject(400, "INVALID_REQUEST", "申请退款金额超过订单可退金额 refund exceeds the refundable amount")
        now = self._now().isoformat()
        doc = {"refund_id": f"50300{next(self._seq):010d}{secrets.randbelow(10**12):012d}",
               "out_refund_no": out_refund_no, "transaction_id": order.transaction_id,
               "out_trade_no": order.out_trade_no, "channel": "ORIGINAL", "user_received_account": "支付用户零钱",
               "create_time": now, "status": self.refund_status, "funds_account": "AVAILABLE",
               "amount": {"total": order.paid_fen, "refund": refund, "payer_total": order.paid_fen,
                          "payer_refund": refund, "settlement_total": order.paid_fen, "settlement_refund": refund,
                          "discount_refund": 0, "currency": "CNY"}}
        if self.refund_status == "SUCCESS":
            doc["success_time"] = now
        order.refunds[out_refund_no] = doc
        order.status = "REFUND"
        return self._respond(200, doc)

    # --- the buyer's side -----------------------------------------------------------------------

    def pay(self, out_trade_no: str, *, amount_fen: int | None = None) -> tuple[dict[str, str], bytes]:
        """The buyer pays: returns the TRANSACTION.SUCCESS notification WeChat would POST to notify_url.

        ``amount_fen`` overrides the amount WeChat reports (to simulate a mismatch).
        """
        order = self.orders[out_trade_no]
        if order.status != "NOTPAY":
            raise ValueError(f"订单状态 {order.status} 不能支付 cannot pay an order in state {order.status}")
        if self.clock() > order.expires_at:
            raise ValueError("订单已过期 order expired")
        order.status, order.paid_at = "SUCCESS", self._now()
        order.paid_fen = order.amount_fen if amount_fen is None else amount_fen
        order.transaction_id = f"4200{next(self._seq):06d}{self._now():%Y%m%d}{secrets.randbelow(10**10):010d}"
        return self.notification(order)

    def notification(self, order: WeChatOrder, *, event_type: str = "TRANSACTION.SUCCESS") -> tuple[dict[str, str], bytes]:
        """A freshly signed and encrypted notification for ``order`` (a new notification id each time)."""
        nonce = "".join(secrets.choice("ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789")
                        for _ in range(12))
        plaintext = json.dumps(self.transaction(order), ensure_ascii=False).encode()
        ciphertext = AESGCM(self.keys.apiv3_key).encrypt(nonce.encode(), plaintext, b"transaction")
        body = json.dumps({
            "id": str(uuid.uuid4()), "create_time": self._now().isoformat(), "resource_type": "encrypt-resource",
            "event_type": event_type, "summary": "支付成功",
            "resource": {"original_type": "transaction", "algorithm": "AEAD_AES_256_GCM",
                         "ciphertext": base64.b64encode(ciphertext).decode(), "associated_data": "transaction",
                         "nonce": nonce},
        }, ensure_ascii=False).encode()
        return {"Content-Type": "application/json", **self._sign(body)}, body

    def close(self, out_trade_no: str) -> None:
        """WeChat closes the order on its side (e.g. it expired); WeChat sends no notification for that."""
        order = self.orders[out_trade_no]
        if order.status != "NOTPAY":
            raise ValueError(f"订单状态 {order.status} 不能关闭 cannot close an order in state {order.status}")
        order.status = "CLOSED"
