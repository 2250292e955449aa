"""A local Alipay open-platform gateway behind the ``Transport`` interface (no network).

Like the WeChat sandbox it re-implements the server side on its own: request signatures (RSA2 over
the sorted parameters, ``sign`` excluded) are verified with the app public key, responses are
signed over the exact ``<method>_response`` JSON text with the Alipay key, and notifications are
form-encoded and signed over the sorted parameters with ``sign`` and ``sign_type`` excluded.
"""

from __future__ import annotations

import base64
import itertools
import json
import secrets
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any
from urllib.parse import parse_qsl, urlencode, urlsplit

from cryptography.exceptions import InvalidSignature
from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.asymmetric import padding

from .base import SHANGHAI, shanghai_now
from .keys import SandboxKeys

Response = tuple[int, dict[str, str], bytes]
_PRODUCT = {"alipay.trade.wap.pay": "QUICK_WAP_WAY", "alipay.trade.app.pay": "QUICK_MSECURITY_PAY"}


def _fen(yuan: Any) -> int | None:
    """Independent of the adapter's converter: exact via integer parts, None when not a yuan amount."""
    if not isinstance(yuan, str) or not yuan.isascii():
        return None
    whole, _, frac = yuan.partition(".")
    if not whole.isdigit() or (frac and not frac.isdigit()) or len(frac) > 2 or ("." in yuan and not frac):
        return None
    return int(whole) * 100 + int(frac.ljust(2, "0") or "0")


def _yuan(fen: int) -> str:
    return "%d.%02d" % divmod(fen, 100)  # noqa: UP031 - deliberately not the adapter's f-string


class _Fail(Exception):
    def __init__(self, code: str, sub_code: str, sub_msg: str) -> None:
        super().__init__(sub_msg)
        self.content = {"code": code, "msg": "Invalid Arguments" if code == "40002" else "Business Failed",
                        "sub_code": sub_code, "sub_msg": sub_msg}


@dataclass
class AlipayOrder:
    out_trade_no: str
    amount_fen: int
    subject: str
    notify_url: str
    expires_at: datetime | None
    product_code: str
    trade_no: str
    status: str = "WAIT_BUYER_PAY"  # WAIT_BUYER_PAY / TRADE_SUCCESS / TRADE_CLOSED
    paid_at: datetime | None = None
    paid_fen: int = 0
    refunds: dict[str, int] = field(default_factory=dict)  # out_request_no -> fen


class AlipaySandbox:
    """Acts as ``openapi.alipay.com/gateway.do``; pass it as the adapter's ``transport``."""

    def __init__(self, keys: SandboxKeys, app_id: str, clock: Callable[[], datetime] = shanghai_now) -> None:
        self.keys, self.app_id, self.clock = keys, app_id, clock
        self.orders: dict[str, AlipayOrder] = {}
        self.requests: list[str] = []  # the ``method`` of every request seen
        self._seq = itertools.count(1)

    def _now(self) -> datetime:
        return self.clock().astimezone(SHANGHAI)

    def _stamp(self, value: datetime | None = None) -> str:
        return (value or self._now()).astimezone(SHANGHAI).strftime("%Y-%m-%d %H:%M:%S")

    def _sign(self, text: str) -> str:
        return base64.b64encode(self.keys.alipay.sign(text.encode(), padding.PKCS1v15(), hashes.SHA256())).decode()

    def _respond(self, key: str, content: Mapping[str, Any]) -> Response:
        inner = json.dumps(content, ensure_ascii=False, separators=(",", ":"))
        text = '{"%s":%s,"sign":"%s"}' % (key, inner, self._sign(inner))  # noqa: UP031
        return 200, {"Content-Type": "text/html;charset=utf-8"}, text.encode()

    # --- requests -------------------------------------------------------------------------------

    def _authenticate(self, params: Mapping[str, str]) -> None:
        if params.get("app_id") != self.app_id:
            raise _Fail("40002", "isv.invalid-app-id", "无效的AppID参数 invalid app_id")
        if params.get("sign_type") != "RSA2" or params.get("charset", "utf-8").lower() != "utf-8":
            raise _Fail("40002", "isv.invalid-signature-type", "无效的签名类型 invalid sign_type/charset")
        content = "&".join(f"{k}={params[k]}" for k in sorted(params) if k != "sign" and params[k])
        try:
            signature = base64.b64decode(params.get("sign", ""), validate=True)
            self.keys.app.public_key().verify(signature, content.encode(), padding.PKCS1v15(), hashes.SHA256())
        except (InvalidSignature, ValueError) as exc:
            raise _Fail("40002", "isv.invalid-signature", "验签出错 signature does not verify") from exc

    def handle(self, params: dict[str, str]) -> tuple[str, dict[str, Any]]:
        method = params.get("method", "")
        self.requests.append(method)
        key = method.replace(".", "_") + "_response" if method else "error_response"
        try:
            self._authenticate(params)
            try:
                biz = json.loads(params.get("biz_content", "{}"))
            except ValueError:
                biz = None
            if not isinstance(biz, dict):
                raise _Fail("40002", "isv.invalid-parameter", "biz_content 无效 invalid biz_content")
            handler = {"alipay.trade.query": self._query, "alipay.trade.refund": self._refund,
                       "alipay.trade.close": self._close}.get(method)
            if method in _PRODUCT:
                return key, self._open(method, params, biz)
            if handler is None:
                raise _Fail("40002", "isv.invalid-method", f"不存在的方法名 no such method {method!r}")
            return key, handler(biz)
        except _Fail as fail:
            return key, fail.content

    def send(self, method: str, url: str, headers: Mapping[str, str], body: bytes) -> Response:
        parts = urlsplit(url)
        params = dict(parse_qsl(parts.query, keep_blank_values=True))
        if method == "POST" and body:
            params.update(parse_qsl(body.decode(), keep_blank_values=True))
        key, content = self.handle(params)
        if method == "GET" and params.get("method") in _PRODUCT and "sub_code" not in content:
            return 200, {"Content-Type": "text/html;charset=utf-8"}, "<html>收银台 sandbox cashier</html>".encode()
        return self._respond(key, content)

    def open(self, order: str) -> str:
        """The buyer opens a signed order (``order_string`` or ``pay_url``); returns its out_trade_no."""
        params = dict(parse_qsl(order.split("?", 1)[-1], keep_blank_values=True))
        _, content = self.handle(params)
        if "sub_code" in content:
            raise ValueError(f"支付宝拒绝订单 order rejected: {content['sub_code']}")
        return str(content["out_trade_no"])

    def _open(self, method: str, params: Mapping[str, str], biz: dict[str, Any]) -> dict[str, Any]:
        no, amount = biz.get("out_trade_no"), _fen(biz.get("total_amount"))
        if not isinstance(no, str) or not no or amount is None or amount <= 0 or not biz.get("subject") \
                or biz.get("product_code") != _PRODUCT[method]:
            raise _Fail("40002", "isv.invalid-parameter", "参数无效 invalid parameter")
        try:
            expires = biz.get("time_expire")
            expires_at = datetime.strptime(expires, "%Y-%m-%d %H:%M:%S").replace(tzinfo=SHANGHAI) if expires else None
        except (TypeError, ValueError) as exc:
            raise _Fail("40002", "isv.invalid-parameter", "time_expire 格式错误 bad time_expire") from exc
        if (old := self.orders.get(no)) is not None:
            if old.status != "WAIT_BUYER_PAY":
                raise _Fail("40004", "ACQ.TRADE_HAS_SUCCESS" if old.paid_at else "ACQ.TRADE_HAS_CLOSE", "交易状态不对")
            if old.amount_fen != amount:
                raise _Fail("40004", "ACQ.CONTEXT_INCONSISTENT", "交易信息被篡改 inconsistent repeated order")
            return {"code": "10000", "msg": "Success", "out_trade_no": no, "trade_no": old.trade_no}
        trade_no = f"{self._now():%Y%m%d}22001{next(self._seq):06d}{secrets.randbelow(10**6):06d}"
        self.orders[no] = AlipayOrder(no, amount, str(biz["subject"]), params.get("notify_url", ""), expires_at,
                                      _PRODUCT[method], trade_no)
        return {"code": "10000", "msg": "Success", "out_trade_no": no, "trade_no": trade_no}

    def _order(self, biz: Mapping[str, Any]) -> AlipayOrder:
        order = self.orders.get(biz.get("out_trade_no", ""))
        if order is None:
            raise _Fail("40004", "ACQ.TRADE_NOT_EXIST", "交易不存在 trade does not exist")
        return order

    def _query(self, biz: dict[str, Any]) -> dict[str, Any]:
        order = self._order(biz)
        content = {"code": "10000", "msg": "Success", "trade_no": order.trade_no, "out_trade_no": order.out_trade_no,
                   "buyer_logon_id": "159****5620", "trade_status": order.status,
                   "total_amount": _yuan(order.paid_fen or order.amount_fen)}
        if order.paid_at is not None:
            content.update(send_pay_date=self._stamp(order.paid_at), buyer_pay_amount=_yuan(order.paid_fen),
                           receipt_amount=_yuan(order.paid_fen), buyer_user_id="2088101117955611")
        return content

    def _refund(self, biz: dict[str, Any]) -> dict[str, Any]:
        order, amount = self._order(biz), _fen(biz.get("refund_amount"))
        request_no = str(biz.get("out_request_no") or order.out_trade_no)
        if amount is None or amount <= 0:
            raise _Fail("40002", "isv.invalid-parameter", "退款金额无效 invalid refund_amount")
        if order.paid_at is None:
            raise _Fail("40004", "ACQ.TRADE_STATUS_ERROR", "交易状态不合法 trade is not paid")
        fund_change = "N"
        if request_no in order.refunds:  # a repeated request: Alipay answers it again, with no money moved
            if order.refunds[request_no] != amount:
                raise _Fail("40004", "ACQ.DISCORDANT_REPEAT_REQUEST", "退款请求重复但参数不一致 discordant repeat")
        else:
            if amount > order.paid_fen - sum(order.refunds.values()):
                raise _Fail("40004", "ACQ.REFUND_AMT_NOT_EQUAL_TOTAL", "退款金额超限 refund exceeds the paid amount")
            order.refunds[request_no] = amount
            fund_change = "Y"
            if sum(order.refunds.values()) == order.paid_fen:
                order.status = "TRADE_CLOSED"  # a full refund closes the trade
        return {"code": "10000", "msg": "Success", "trade_no": order.trade_no, "out_trade_no": order.out_trade_no,
                "buyer_logon_id": "159****5620", "fund_change": fund_change,
                "refund_fee": _yuan(sum(order.refunds.values())), "gmt_refund_pay": self._stamp(),
                "buyer_user_id": "2088101117955611"}

    def _close(self, biz: dict[str, Any]) -> dict[str, Any]:
        order = self._order(biz)
        if order.status != "WAIT_BUYER_PAY":
            raise _Fail("40004", "ACQ.TRADE_STATUS_ERROR", "交易状态不合法 trade cannot be closed")
        order.status = "TRADE_CLOSED"
        return {"code": "10000", "msg": "Success", "trade_no": order.trade_no, "out_trade_no": order.out_trade_no}

    # --- the buyer's side -----------------------------------------------------------------------

    def pay(self, out_trade_no: str, *, amount_fen: int | None = None) -> tuple[dict[str, str], bytes]:
        """The buyer pays: returns the TRADE_SUCCESS notification Alipay would POST to notify_url.

        ``amount_fen`` overrides the amount Alipay reports (to simulate a mismatch).
        """
        order = self.orders[out_trade_no]
        if order.status != "WAIT_BUYER_PAY":
            raise ValueError(f"交易状态 {order.status} 不能支付 cannot pay a trade in state {order.status}")
        if order.expires_at is not None and self.clock() > order.expires_at:
            raise ValueError("交易已过期 trade expired")
        order.status, order.paid_at = "TRADE_SUCCESS", self._now().replace(microsecond=0)
        order.paid_fen = order.amount_fen if amount_fen is None else amount_fen
        return self.notification(order)

    def close(self, out_trade_no: str) -> tuple[dict[str, str], bytes]:
        """Alipay closes the unpaid trade (timeout); returns the TRADE_CLOSED notification it sends."""
        order = self.orders[out_trade_no]
        if order.status != "WAIT_BUYER_PAY":
            raise ValueError(f"交易状态 {order.status} 不能关闭 cannot close a trade in state {order.status}")
        order.status = "TRADE_CLOSED"
        return self.notification(order)

    def notification(self, order: AlipayOrder, **extra: str) -> tuple[dict[str, str], bytes]:
        """A freshly signed ``trade_status_sync`` notification for ``order`` (``extra`` adds/overrides fields)."""
        amount = _yuan(order.paid_fen or order.amount_fen)
        params = {
            "gmt_create": self._stamp(), "charset": "utf-8", "seller_email": "shop@example.com",
            "subject": order.subject, "sign_type": "RSA2", "buyer_id": "2088101117955611",
            "notify_id": secrets.token_hex(16), "notify_type": "trade_status_sync", "trade_status": order.status,
            "app_id": self.app_id, "auth_app_id": self.app_id, "seller_id": "2088102119685838",
            "notify_time": self._stamp(), "version": "1.0", "out_trade_no": order.out_trade_no,
            "total_amount": amount, "trade_no": order.trade_no,
        }
        if order.paid_at is not None:
            params.update(gmt_payment=self._stamp(order.paid_at), receipt_amount=amount, buyer_pay_amount=amount,
                          invoice_amount=amount, point_amount="0.00",
                          fund_bill_list=json.dumps([{"amount": amount, "fundChannel": "ALIPAYACCOUNT"}]))
        params.update(extra)
        content = "&".join(f"{k}={params[k]}" for k in sorted(params) if k not in ("sign", "sign_type") and params[k])
        params["sign"] = self._sign(content)
        return {"Content-Type": "application/x-www-form-urlencoded; charset=utf-8"}, urlencode(params).encode()
