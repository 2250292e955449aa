"""Dada (达达快送) open API adapter, shaped like ``newopen.imdada.cn``.

**Requests** are ``POST`` JSON ``{app_key, timestamp, format: "json", v: "1.0", source_id, body,
signature}`` where ``body`` is the business payload as a JSON *string* and::

    signature = MD5(app_secret + "app_key<v>body<v>format<v>source_id<v>timestamp<v>v<v>" + app_secret)

upper-case hex, keys sorted (:func:`sign_request`). Dada answers ``{status: "success", code: 0,
result}``; anything else is a :class:`ProviderError` with ``code="dada:<code>"``. Amounts on the
wire are yuan, weights kg; the adapter converts to fen and grams.

**Order identity.** Dada keys its API by our ``origin_id`` (the ``shipment_ref``): ``addOrder``
does not return Dada's own order number, so :meth:`DadaGateway.create_order` returns
``external_id == shipment_ref``. Dada's number (``client_id``) arrives with the callbacks and is
the :attr:`TrackingUpdate.external_id` there. Match callbacks to shipments on ``shipment_ref``.

**Callbacks** are JSON ``{client_id, order_id, order_status, cancel_reason, cancel_from,
update_time, signature, dm_id, dm_name, dm_mobile}``; Dada signs them with the lower-case MD5 of
the values of ``client_id``, ``order_id`` and ``update_time``, sorted as strings and joined
(:func:`sign_callback`). That "signature" involves no secret: anyone who knows an order number
can forge it. So the gateway can also add a per-order token to the callback URL
(``callback_token_key``): ``create_order`` appends ``o2o_token=<hmac>`` to the ``callback`` URL,
and the view must pass ``request.GET["o2o_token"]`` to :meth:`parse_callback` as the header
``X-Dada-Token`` (:data:`TOKEN_HEADER`); a missing or wrong token is :class:`BadSignature`.

Status codes: 1 待接单 CREATED, 2 待取货 ACCEPTED, 100 骑士到店 ARRIVED, 3 配送中 PICKED_UP,
4 已完成 DELIVERED, 5 已取消 (CANCELLED when ``cancel_from == 2``, the merchant; otherwise, the
rider (1) or Dada (3) cancelled: FAILED), 7 已过期, 9 妥投异常之物品返回中, 10 妥投异常之物品返回完成,
1000 创建达达运单失败: FAILED. Any other code is :class:`MalformedCallback`.

**Ack**: ``200 {"status":"ok"}`` when handled; ``400 {"status":"fail"}`` otherwise (Dada treats
any non-200 answer as a failed push and retries it).
"""

from __future__ import annotations

import hashlib
import hmac
import json
from collections.abc import Callable, Mapping
from datetime import datetime
from typing import Any
from urllib.parse import parse_qsl, urlencode, urlsplit, urlunsplit

from o2o.adapters.couriers.base import (
    BadSignature,
    CourierOrder,
    CourierStatus,
    DeliveryRequest,
    MalformedCallback,
    Place,
    ProviderError,
    Rider,
    TrackingUpdate,
    Transport,
    as_int,
    as_str,
    dumps,
    epoch_to_datetime,
    fen_to_yuan,
    header,
    json_ack,
    load_json_object,
    post_json,
    safe_equal,
    shanghai_now,
    yuan_to_fen,
)

__all__ = [
    "CANCEL_FROM_MERCHANT",
    "DADA_PROD",
    "DADA_QA",
    "PATH_ADD_ORDER",
    "PATH_CANCEL",
    "PATH_QUERY_FEE",
    "SIM_EVENTS",
    "SIGNED_KEYS",
    "STATUS_CODES",
    "TOKEN_HEADER",
    "TOKEN_PARAM",
    "DadaGateway",
    "answer",
    "callback_body",
    "callback_token",
    "open_request",
    "read_order_body",
    "sign_callback",
    "sign_request",
]

DADA_PROD = "https://newopen.imdada.cn"
DADA_QA = "https://newopen.qa.imdada.cn"
PATH_ADD_ORDER = "/api/order/addOrder"
PATH_QUERY_FEE = "/api/order/queryDeliverFee"
PATH_CANCEL = "/api/order/formalCancel"

SIGNED_KEYS = ("app_key", "body", "format", "source_id", "timestamp", "v")
TOKEN_HEADER = "X-Dada-Token"  # noqa: S105 (a header name)
TOKEN_PARAM = "o2o_token"  # noqa: S105 (a query parameter name)
CANCEL_FROM_MERCHANT = 2
OTHER_CANCEL_REASON_ID = 10000  # Dada's "其他" cancel reason; the text goes in cancel_reason

STATUS_CODES: dict[int, CourierStatus] = {
    1: CourierStatus.CREATED,
    2: CourierStatus.ACCEPTED,
    100: CourierStatus.ARRIVED,
    3: CourierStatus.PICKED_UP,
    4: CourierStatus.DELIVERED,
    5: CourierStatus.CANCELLED,
    7: CourierStatus.FAILED,
    9: CourierStatus.FAILED,
    10: CourierStatus.FAILED,
    1000: CourierStatus.FAILED,
}

# How Dada reports each step of the simulator's script: (order_status, cancel_from, cancel_reason).
SIM_EVENTS: dict[str, tuple[int, int, str]] = {
    "created": (1, 0, ""), "accepted": (2, 0, ""), "arrived": (100, 0, ""), "picked_up": (3, 0, ""),
    "delivered": (4, 0, ""), "no_rider": (5, 3, "无骑手接单 no rider"), "rider_cancelled": (5, 1, "骑手取消 rider cancelled"),
    "timeout": (9, 0, "配送超时 delivery timeout")}


def _md5_hex(text: str) -> str:
    return hashlib.md5(text.encode("utf-8"), usedforsecurity=False).hexdigest()


def sign_request(params: Mapping[str, Any], app_secret: str) -> str:
    """Dada's request signature over :data:`SIGNED_KEYS` of ``params`` (upper-case MD5 hex)."""
    joined = "".join(f"{key}{params[key]}" for key in sorted(SIGNED_KEYS))
    return _md5_hex(f"{app_secret}{joined}{app_secret}").upper()


def sign_callback(client_id: Any, order_id: Any, update_time: Any) -> str:
    """Dada's callback signature: the three values as strings, sorted, joined, lower-case MD5 hex."""
    return _md5_hex("".join(sorted([str(client_id), str(order_id), str(update_time)])))


def callback_token(key: bytes, shipment_ref: str) -> str:
    """Our per-order callback token (hex HMAC-SHA256 of the shipment_ref)."""
    return hmac.new(key, shipment_ref.encode("utf-8"), hashlib.sha256).hexdigest()


def _with_query(url: str, name: str, value: str) -> str:
    parts = urlsplit(url)
    query = [(k, v) for k, v in parse_qsl(parts.query, keep_blank_values=True) if k != name]
    query.append((name, value))
    return urlunsplit(parts._replace(query=urlencode(query)))


class DadaGateway:
    """The Dada adapter. One instance per merchant account; ``shop_no`` is the Dada shop (门店编号)
    the orders leave from, or a function of the request choosing it (a store per Dada shop)."""

    provider = "dada"

    def __init__(self, *, app_key: str, app_secret: str, source_id: str,
                 shop_no: str | Callable[[DeliveryRequest], str], transport: Transport,
                 base_url: str = DADA_PROD, city_code: str = "",
                 callback_token_key: bytes | None = None,
                 clock: Callable[[], datetime] = shanghai_now) -> None:
        self.app_key = app_key
        self.app_secret = app_secret
        self.source_id = source_id
        self.shop_no = shop_no
        self.transport = transport
        self.base_url = base_url.rstrip("/")
        self.city_code = city_code
        self.callback_token_key = callback_token_key
        self.clock = clock

    # --- requests -------------------------------------------------------------------------

    def signed_envelope(self, body: Mapping[str, Any]) -> dict[str, str]:
        """The request envelope Dada expects around a business ``body``."""
        params = {
            "app_key": self.app_key,
            "body": dumps(body),
            "format": "json",
            "source_id": self.source_id,
            "timestamp": str(int(self.clock().timestamp())),
            "v": "1.0",
        }
        params["signature"] = sign_request(params, self.app_secret)
        return params

    def _call(self, path: str, body: Mapping[str, Any]) -> dict[str, Any]:
        envelope = self.signed_envelope(body)
        status, data = post_json(self.transport, self.base_url + path,
                                 {"Content-Type": "application/json"}, dumps(envelope).encode("utf-8"),
                                 provider=self.provider)
        if status != 200 or data.get("status") != "success" or data.get("code") != 0:
            msg = data.get("msg") if isinstance(data.get("msg"), str) else ""
            raise ProviderError(f"达达拒绝请求 Dada refused the request: {msg}".rstrip(": "),
                                code=f"dada:{data.get('code', status)}", provider=self.provider,
                                status=status, raw=data)
        result = data.get("result")
        return result if isinstance(result, dict) else {}

    def order_body(self, req: DeliveryRequest) -> dict[str, Any]:
        callback = req.callback_url
        if self.callback_token_key is not None:
            callback = _with_query(callback, TOKEN_PARAM, callback_token(self.callback_token_key, req.shipment_ref))
        shop_no = self.shop_no(req) if callable(self.shop_no) else self.shop_no
        body: dict[str, Any] = {
            "shop_no": shop_no,
            "origin_id": req.shipment_ref,
            "cargo_price": fen_to_yuan(req.value_fen),
            "cargo_weight": round(req.weight_g / 1000, 3),
            "receiver_name": req.destination.name,
            "receiver_address": req.destination.address,
            "receiver_lat": req.destination.lat,
            "receiver_lng": req.destination.lng,
            "receiver_phone": req.destination.phone,
            "callback": callback,
            "is_prepay": 0,
            "info": req.remark,
        }
        if self.city_code:
            body["city_code"] = self.city_code
        return body

    def _order(self, req: DeliveryRequest, result: dict[str, Any], external_id: str) -> CourierOrder:
        try:
            fee_fen = yuan_to_fen(result["fee"])
            distance = result.get("distance")
            distance_m = None if distance is None else round(float(distance))
        except (KeyError, ValueError, TypeError, OverflowError) as exc:
            raise ProviderError("达达返回缺少运费 Dada response lacks the fee", code="dada:bad_response",
                                provider=self.provider, raw=result) from exc
        return CourierOrder(self.provider, req.shipment_ref, external_id, fee_fen, distance_m,
                            CourierStatus.CREATED, raw=result)

    def quote(self, req: DeliveryRequest) -> CourierOrder:
        """``queryDeliverFee``; ``external_id`` is Dada's quote number (``deliveryNo``)."""
        result = self._call(PATH_QUERY_FEE, self.order_body(req))
        return self._order(req, result, str(result.get("deliveryNo") or ""))

    def create_order(self, req: DeliveryRequest) -> CourierOrder:
        """``addOrder``; ``external_id`` is the ``origin_id`` (= ``shipment_ref``), see module doc."""
        return self._order(req, self._call(PATH_ADD_ORDER, self.order_body(req)), req.shipment_ref)

    def cancel(self, *, shipment_ref: str, external_id: str, reason: str) -> None:
        """``formalCancel`` by ``origin_id``; Dada then pushes a status 5 callback (cancel_from 2)."""
        self._call(PATH_CANCEL, {"order_id": shipment_ref, "cancel_reason_id": OTHER_CANCEL_REASON_ID,
                                 "cancel_reason": reason})

    # --- callbacks ------------------------------------------------------------------------

    def parse_callback(self, headers: Mapping[str, str], body: bytes) -> TrackingUpdate:
        data = load_json_object(body)
        try:
            client_id = as_str(data.get("client_id"))
            order_id = as_str(data.get("order_id"))
            update_time = as_int(data.get("update_time"))
        except ValueError as exc:
            raise MalformedCallback("达达回调缺少订单号或时间 Dada callback lacks ids or time") from exc
        signature = data.get("signature")
        if not isinstance(signature, str) or not safe_equal(
                signature.lower(), sign_callback(client_id, order_id, data.get("update_time"))):
            raise BadSignature("达达回调签名错误 bad Dada callback signature")
        if self.callback_token_key is not None:
            token = header(headers, TOKEN_HEADER)
            if token is None or not safe_equal(token, callback_token(self.callback_token_key, order_id)):
                raise BadSignature("达达回调令牌错误 bad Dada callback token")
        try:
            code = as_int(data.get("order_status"))
            status = STATUS_CODES[code]
            at = epoch_to_datetime(update_time)
            cancel_from = as_int(data["cancel_from"]) if data.get("cancel_from") not in (None, "") else None
        except (ValueError, KeyError, OverflowError, OSError) as exc:
            raise MalformedCallback(f"达达回调状态无法识别 unknown Dada callback status: "
                                    f"{data.get('order_status')!r}") from exc
        if status is CourierStatus.CANCELLED and cancel_from != CANCEL_FROM_MERCHANT:
            status = CourierStatus.FAILED
        name = as_str(data.get("dm_name"), required=False)
        phone = as_str(data.get("dm_mobile"), required=False)
        rider = Rider(name, phone) if (name or phone) else None
        return TrackingUpdate(
            provider=self.provider,
            shipment_ref=order_id,
            external_id=client_id,
            event_id=f"{client_id}:{code}:{update_time}",
            status=status,
            rider=rider,
            at=at,
            reason=as_str(data.get("cancel_reason"), required=False),
            raw=data,
        )

    def callback_ack(self, ok: bool) -> tuple[int, str, bytes]:
        return json_ack(200, {"status": "ok"}) if ok else json_ack(400, {"status": "fail"})


# --- Dada's side of the wire (used by the simulator) --------------------------------------------


def callback_body(*, client_id: str, order_id: str, order_status: int, update_time: int, cancel_from: int = 0,
                  cancel_reason: str = "", rider: Rider | None = None, rider_id: int = 0) -> bytes:
    """A status callback body exactly as Dada posts it, signed."""
    return dumps({
        "client_id": client_id, "order_id": order_id, "order_status": order_status,
        "cancel_reason": cancel_reason, "cancel_from": cancel_from, "update_time": update_time,
        "signature": sign_callback(client_id, order_id, update_time),
        "dm_id": rider_id if rider else 0, "dm_name": rider.name if rider else "",
        "dm_mobile": rider.phone if rider else "",
    }).encode("utf-8")


def read_order_body(body: Mapping[str, Any]) -> tuple[str, str, str, Place, int]:
    """The inverse of :meth:`DadaGateway.order_body`: ``(shop_no, origin_id, callback, receiver,
    weight_g)``; KeyError, TypeError or ValueError when a field is missing or malformed."""
    receiver = Place(as_str(body["receiver_name"]), as_str(body["receiver_phone"]),
                     as_str(body["receiver_address"]), float(body["receiver_lat"]), float(body["receiver_lng"]))
    return (as_str(body["shop_no"]), as_str(body["origin_id"]), as_str(body["callback"]), receiver,
            round(float(body["cargo_weight"]) * 1000))


def open_request(body: bytes, *, app_key: str, source_id: str, app_secret: str) -> dict[str, Any]:
    """Dada's check of a request envelope: its business body, else ProviderError with code
    ``dada:2001`` (malformed), ``dada:2002`` (unknown app_key/source_id), ``dada:2003`` (bad signature)."""
    try:
        envelope = json.loads(body)
        ok = isinstance(envelope, dict) and all(
            isinstance(envelope.get(key), str) for key in (*SIGNED_KEYS, "signature"))
    except (ValueError, TypeError, RecursionError):
        ok = False
    if not ok:
        raise ProviderError("缺少参数 missing parameter", code="dada:2001", provider="dada")
    if envelope["app_key"] != app_key or envelope["source_id"] != source_id:
        raise ProviderError("app_key 或 source_id 错误 unknown app", code="dada:2002", provider="dada")
    if not safe_equal(envelope["signature"], sign_request(envelope, app_secret)):
        raise ProviderError("签名错误 bad signature", code="dada:2003", provider="dada")
    try:
        inner = json.loads(envelope["body"])
    except (ValueError, RecursionError):
        inner = None
    if not isinstance(inner, dict):
        raise ProviderError("body 格式错误 malformed body", code="dada:2001", provider="dada")
    return inner


def answer(result: Any = None, *, code: int = 0, msg: str = "成功") -> bytes:
    """A response body as Dada answers (``code`` 0: success)."""
    return dumps({"status": "success" if code == 0 else "fail", "code": code, "msg": msg,
                  "result": result}).encode("utf-8")
