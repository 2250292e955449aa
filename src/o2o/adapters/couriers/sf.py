"""SF same-city (顺丰同城急送) open platform adapter, shaped like ``openic.sf-express.com``.

**Requests** are ``POST`` JSON (API version 19) to ``<path>?sign=<sign>`` where::

    sign = base64( md5_hex( post_data + "&" + dev_id + "&" + dev_key ) )

i.e. the MD5 *hex string* (lower case) is base64-encoded, as in SF's reference code
(:func:`sign`). ``post_data`` is the exact body bytes. SF answers ``{error_code: 0, error_msg,
result}``; anything else is a :class:`ProviderError` with ``code="sf:<error_code>"``. SF speaks
fen and grams, like us. The ``shop`` object (origin name, phone, address, GCJ-02 position,
``lbs_type`` 2 = Amap/GCJ-02) is always sent; SF uses it when ``shop_type`` is 2 (our own store
id) and ignores it for 1 (an SF shop id).

**Callbacks** (状态回调) are configured per developer account in SF's console (SF takes no
per-order callback URL, so :attr:`DeliveryRequest.callback_url` is not sent). They are JSON
``{sf_order_id, sf_bill_id, shop_order_id, url_index, order_status, status_desc, operator_name,
operator_phone, rider_lng, rider_lat, push_time, ...}`` posted to ``<callback url>?sign=<sign>``,
signed like requests with our dev_id/dev_key. **The view passes the query parameter to**
:meth:`SfGateway.parse_callback` **as the header** ``X-Sf-Sign`` (:data:`SIGN_HEADER`), i.e.
``headers={"X-Sf-Sign": request.GET.get("sign", "")}``. (The base64 of a hex digest only has
letters, digits and a final ``=``, so it survives query decoding whether SF encodes it or not.)

Status codes: 1 订单创建 CREATED, 10 配送员接单 ACCEPTED, 12 配送员到店 ARRIVED, 15 配送员配送中
PICKED_UP, 17 已送达 DELIVERED, 22 配送员撤单 FAILED, 2 已取消: FAILED when pushed as
``url_index == "sf_cancel"`` (SF cancelled: no rider, customer service...), CANCELLED otherwise.
Any other code is :class:`MalformedCallback`.

**Ack**: ``200 {"error_code":0,"error_msg":"success"}``; ``400 {"error_code":1,...}`` otherwise
(SF retries pushes that are not acknowledged with error_code 0).
"""

from __future__ import annotations

import base64
import hashlib
import json
from collections.abc import Callable, Mapping
from datetime import datetime
from typing import Any
from urllib.parse import parse_qs, quote

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
    as_coord,
    as_int,
    as_str,
    dumps,
    epoch_to_datetime,
    header,
    json_ack,
    load_json_object,
    post_json,
    safe_equal,
    shanghai_now,
)

__all__ = [
    "API_VERSION",
    "PATH_CANCEL",
    "PATH_CREATE",
    "PATH_PRECREATE",
    "SF_CANCEL",
    "SF_PROD",
    "SIM_EVENTS",
    "SIGN_HEADER",
    "STATUS_CODES",
    "SfGateway",
    "answer",
    "open_request",
    "signed_post",
    "read_order_payload",
    "sign",
]

SF_PROD = "https://openic.sf-express.com"
PATH_CREATE = "/open/api/external/createorder"
PATH_PRECREATE = "/open/api/external/precreateorder"
PATH_CANCEL = "/open/api/external/cancelorder"
API_VERSION = 19
SIGN_HEADER = "X-Sf-Sign"
SF_CANCEL = "sf_cancel"

STATUS_CODES: dict[int, CourierStatus] = {
    1: CourierStatus.CREATED,
    10: CourierStatus.ACCEPTED,
    12: CourierStatus.ARRIVED,
    15: CourierStatus.PICKED_UP,
    17: CourierStatus.DELIVERED,
    2: CourierStatus.CANCELLED,
    22: CourierStatus.FAILED,
}

# How SF reports each step of the simulator's script: (order_status, url_index, status_desc).
SIM_EVENTS: dict[str, tuple[int, str, str]] = {
    "accepted": (10, "rider_status", "配送员已接单"), "arrived": (12, "rider_status", "配送员已到店"),
    "picked_up": (15, "rider_status", "配送员配送中"), "delivered": (17, "order_complete", "已送达"),
    "no_rider": (2, SF_CANCEL, "无骑手接单 no rider"), "rider_cancelled": (22, "rider_recall", "骑手取消 rider cancelled"),
    "timeout": (2, SF_CANCEL, "配送超时 delivery timeout")}


def sign(post_data: bytes | str, dev_id: int | str, dev_key: str) -> str:
    """SF's signature: base64 of the lower-case MD5 hex of ``post_data&dev_id&dev_key``."""
    data = post_data.encode("utf-8") if isinstance(post_data, str) else post_data
    digest = hashlib.md5(data + f"&{dev_id}&{dev_key}".encode(), usedforsecurity=False).hexdigest()
    return base64.b64encode(digest.encode("ascii")).decode("ascii")


class SfGateway:
    """The SF same-city adapter. One instance per SF shop (``shop_id``/``shop_type``)."""

    provider = "sf"

    def __init__(self, *, dev_id: int, dev_key: str, shop_id: str, transport: Transport,
                 base_url: str = SF_PROD, shop_type: int = 1, product_type: int = 99,
                 order_source: str = "o2o", clock: Callable[[], datetime] = shanghai_now) -> None:
        self.dev_id = dev_id
        self.dev_key = dev_key
        self.shop_id = shop_id
        self.transport = transport
        self.base_url = base_url.rstrip("/")
        self.shop_type = shop_type
        self.product_type = product_type
        self.order_source = order_source
        self.clock = clock

    # --- requests -------------------------------------------------------------------------

    def _now(self) -> int:
        return int(self.clock().timestamp())

    def _call(self, path: str, payload: Mapping[str, Any]) -> dict[str, Any]:
        url, body = signed_post(self.base_url + path, payload, self.dev_id, self.dev_key)
        status, data = post_json(self.transport, url, {"Content-Type": "application/json"}, body,
                                 provider=self.provider)
        if status != 200 or data.get("error_code") != 0:
            msg = data.get("error_msg") if isinstance(data.get("error_msg"), str) else ""
            raise ProviderError(f"顺丰拒绝请求 SF refused the request: {msg}".rstrip(": "),
                                code=f"sf:{data.get('error_code', status)}", provider=self.provider,
                                status=status, raw=data)
        result = data.get("result")
        return result if isinstance(result, dict) else {}

    def order_payload(self, req: DeliveryRequest) -> dict[str, Any]:
        now = self._now()
        origin, dest = req.origin, req.destination
        return {
            "dev_id": self.dev_id,
            "shop_id": self.shop_id,
            "shop_type": self.shop_type,
            "shop_order_id": req.shipment_ref,
            "order_source": self.order_source,
            "lbs_type": 2,
            "pay_type": 1,
            "is_appoint": 0,
            "is_insured": 0,
            "order_time": now,
            "push_time": now,
            "version": API_VERSION,
            "user_lng": str(dest.lng),
            "user_lat": str(dest.lat),
            "user_address": dest.address,
            "weight": req.weight_g,
            "product_type": self.product_type,
            "remark": req.remark,
            "shop": {
                "shop_name": origin.name,
                "shop_phone": origin.phone,
                "shop_address": origin.address,
                "shop_lng": str(origin.lng),
                "shop_lat": str(origin.lat),
            },
            "receive": {
                "user_name": dest.name,
                "user_phone": dest.phone,
                "user_address": dest.address,
                "user_lng": str(dest.lng),
                "user_lat": str(dest.lat),
            },
            "order_detail": {
                "total_price": req.value_fen,
                "product_type": self.product_type,
                "weight_gram": req.weight_g,
                "product_num": 1,
                "product_type_num": 1,
                "product_detail": [{"product_name": "商品 goods", "product_num": 1}],
            },
        }

    def _order(self, req: DeliveryRequest, result: dict[str, Any], *, created: bool) -> CourierOrder:
        try:
            fee = result.get("real_pay_money", result["total_price"])
            fee_fen = as_int(fee)
            distance = result.get("delivery_distance_meter")
            distance_m = None if distance in (None, "") else round(float(distance))
            external_id = as_str(result["sf_order_id"]) if created else ""
        except (KeyError, ValueError, TypeError, OverflowError) as exc:
            raise ProviderError("顺丰返回缺少运费或单号 SF response lacks the fee or order id",
                                code="sf:bad_response", provider=self.provider, raw=result) from exc
        return CourierOrder(self.provider, req.shipment_ref, external_id, fee_fen, distance_m,
                            CourierStatus.CREATED, raw=result)

    def quote(self, req: DeliveryRequest) -> CourierOrder:
        """``precreateorder``: the fee (``real_pay_money``, else ``total_price``, fen) without an order."""
        return self._order(req, self._call(PATH_PRECREATE, self.order_payload(req)), created=False)

    def create_order(self, req: DeliveryRequest) -> CourierOrder:
        """``createorder``; ``external_id`` is SF's ``sf_order_id``."""
        return self._order(req, self._call(PATH_CREATE, self.order_payload(req)), created=True)

    def cancel(self, *, shipment_ref: str, external_id: str, reason: str) -> None:
        """``cancelorder`` by SF order id (``order_type`` 1), or by our ref (2) when it is unknown."""
        self._call(PATH_CANCEL, {
            "dev_id": self.dev_id,
            "order_id": external_id or shipment_ref,
            "order_type": 1 if external_id else 2,
            "shop_id": self.shop_id,
            "shop_type": self.shop_type,
            "cancel_reason": reason,
            "push_time": self._now(),
        })

    # --- callbacks ------------------------------------------------------------------------

    def parse_callback(self, headers: Mapping[str, str], body: bytes) -> TrackingUpdate:
        given = header(headers, SIGN_HEADER)
        if not given or not safe_equal(given.strip(), sign(body, self.dev_id, self.dev_key)):
            raise BadSignature("顺丰回调签名错误 bad SF callback signature")
        data = load_json_object(body)
        try:
            sf_order_id = as_str(data.get("sf_order_id"))
            shop_order_id = as_str(data.get("shop_order_id"))
            code = as_int(data.get("order_status"))
            push_time = as_int(data.get("push_time"))
            status = STATUS_CODES[code]
            at = epoch_to_datetime(push_time)
        except (ValueError, KeyError, OverflowError, OSError) as exc:
            raise MalformedCallback(f"顺丰回调无法识别 unreadable SF callback (order_status "
                                    f"{data.get('order_status')!r})") from exc
        if status is CourierStatus.CANCELLED and data.get("url_index") == SF_CANCEL:
            status = CourierStatus.FAILED
        name = as_str(data.get("operator_name"), required=False)
        phone = as_str(data.get("operator_phone"), required=False)
        rider = None
        if name or phone:
            rider = Rider(name, phone, as_coord(data.get("rider_lat"), 90.0), as_coord(data.get("rider_lng")))
        reason = as_str(data.get("cancel_reason"), required=False) or as_str(data.get("status_desc"),
                                                                            required=False)
        return TrackingUpdate(
            provider=self.provider,
            shipment_ref=shop_order_id,
            external_id=sf_order_id,
            event_id=f"{sf_order_id}:{code}:{push_time}",
            status=status,
            rider=rider,
            at=at,
            reason=reason,
            raw=data,
        )

    def callback_ack(self, ok: bool) -> tuple[int, str, bytes]:
        if ok:
            return json_ack(200, {"error_code": 0, "error_msg": "success"})
        return json_ack(400, {"error_code": 1, "error_msg": "fail"})


# --- SF's side of the wire (used by the simulator) ----------------------------------------------


def signed_post(url: str, payload: Mapping[str, Any], dev_id: int | str, dev_key: str
                     ) -> tuple[str, bytes]:
    """``(url?sign=..., body)``: requests to SF and SF's status callbacks are signed alike."""
    body = dumps(payload).encode("utf-8")
    return f"{url}?sign={quote(sign(body, dev_id, dev_key), safe='')}", body


def read_order_payload(payload: Mapping[str, Any]) -> tuple[str, Place | None, Place, int]:
    """The inverse of :meth:`SfGateway.order_payload`: ``(shop_order_id, shop or None, receiver,
    weight_g)``; KeyError, TypeError or ValueError when a field is missing or malformed."""
    shop, receive = payload.get("shop"), payload["receive"]
    origin = None
    if isinstance(shop, dict):
        origin = Place(as_str(shop.get("shop_name"), required=False), as_str(shop.get("shop_phone"), required=False),
                       as_str(shop.get("shop_address"), required=False), float(shop["shop_lat"]),
                       float(shop["shop_lng"]))
    receiver = Place(as_str(receive["user_name"]), as_str(receive["user_phone"]), as_str(receive["user_address"]),
                     float(receive["user_lat"]), float(receive["user_lng"]))
    return as_str(payload["shop_order_id"]), origin, receiver, as_int(payload["weight"])


def open_request(query: str, body: bytes, *, dev_id: int, dev_key: str) -> dict[str, Any]:
    """SF's check of a request (``query`` holds ``sign``): the payload, else ProviderError with code
    ``sf:1002`` (bad signature), ``sf:1001`` (malformed), ``sf:1003`` (unknown dev_id)."""
    given = parse_qs(query).get("sign", [""])[0]
    if not safe_equal(given, sign(body, dev_id, dev_key)):
        raise ProviderError("签名错误 bad signature", code="sf:1002", provider="sf")
    try:
        payload = json.loads(body)
    except (ValueError, RecursionError):
        payload = None
    if not isinstance(payload, dict):
        raise ProviderError("参数格式错误 malformed request", code="sf:1001", provider="sf")
    if payload.get("dev_id") != dev_id:
        raise ProviderError("dev_id 错误 unknown dev_id", code="sf:1003", provider="sf")
    return payload


def answer(result: Any = None, *, code: int = 0, msg: str = "success") -> bytes:
    """A response body as SF answers (``error_code`` 0: success)."""
    return dumps({"error_code": code, "error_msg": msg, "result": result}).encode("utf-8")
