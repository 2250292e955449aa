"""The store's own riders (门店自配送): no external provider.

:meth:`OwnRidersGateway.create_order` assigns a rider from the pool given to the constructor (the
nearest free rider with a known position, then the others in pool order; a rider is free while
he has fewer than ``max_active_per_rider`` open assignments) and charges the flat ``fee_fen``.
With a ``transport`` and ``dispatch_url`` it also tells our rider app, by a signed POST of::

    {"type": "dispatch", "ref", "external_id", "rider": {name, phone}, "origin": {place},
     "destination": {place}, "weight_g", "value_fen", "callback_url", "remark", "at"}

(``{"type": "cancel", "ref", "external_id", "reason", "at"}`` to cancel); the app answers 2xx.
Without a transport the assignment is local only (the rider app polls for it).

The pool's bookkeeping lives in the gateway instance (assignments are released by terminal
callbacks and by :meth:`cancel`): keep one instance per store for the life of the process.

**Callbacks** from the rider app are JSON ``{ref, external_id, status, at, rider, event_id,
reason?}``: ``status`` one of :class:`CourierStatus`' values, ``at`` ISO 8601 with an offset,
``rider`` ``{name, phone, lat?, lng?}`` or null, ``event_id`` unique per event (the app's own
id, used as is). Every message in both directions carries the header ``X-O2O-Signature``: hex
HMAC-SHA256 of the raw body with the shared secret (:func:`sign`).

**Ack**: ``200 {"ok":true}``; ``400 {"ok":false}`` otherwise (the rider app retries).
"""

from __future__ import annotations

import hashlib
import hmac
import json
from collections.abc import Callable, Mapping, Sequence
from datetime import datetime
from typing import Any

from o2o.adapters.couriers.base import (
    SHANGHAI,
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
    as_str,
    dumps,
    estimate_road_m,
    header,
    json_ack,
    load_json_object,
    post_json,
    safe_equal,
    shanghai_now,
)

__all__ = ["SIGNATURE_HEADER", "SIM_EVENTS", "OwnRidersGateway", "open_message", "place_to_json", "read_dispatch", "rider_to_json", "sign",
           "signed_message"]

SIGNATURE_HEADER = "X-O2O-Signature"
# How the rider app reports each step of the simulator's script: (status, reason).
SIM_EVENTS: dict[str, tuple[str, str]] = {
    "accepted": ("accepted", ""), "arrived": ("arrived", ""), "picked_up": ("picked_up", ""),
    "delivered": ("delivered", ""), "no_rider": ("failed", "无骑手接单 no rider"), "rider_cancelled": ("failed", "骑手取消 rider cancelled"),
    "timeout": ("failed", "配送超时 delivery timeout")}


def sign(body: bytes, secret: bytes | str) -> str:
    """Hex HMAC-SHA256 of ``body`` with the shared ``secret``."""
    key = secret.encode("utf-8") if isinstance(secret, str) else secret
    return hmac.new(key, body, hashlib.sha256).hexdigest()


def signed_message(message: Mapping[str, Any], secret: bytes | str) -> tuple[dict[str, str], bytes]:
    """``(headers, body)`` of a signed JSON message, in either direction."""
    body = dumps(message).encode("utf-8")
    return {"Content-Type": "application/json", SIGNATURE_HEADER: sign(body, secret)}, body


def place_to_json(place: Place) -> dict[str, Any]:
    return {"name": place.name, "phone": place.phone, "address": place.address,
            "lat": place.lat, "lng": place.lng}


def rider_to_json(rider: Rider) -> dict[str, Any]:
    return {"name": rider.name, "phone": rider.phone, "lat": rider.lat, "lng": rider.lng}


def _distance_sq(rider: Rider, place: Place) -> float:
    if rider.lat is None or rider.lng is None:
        return float("inf")
    return (rider.lat - place.lat) ** 2 + (rider.lng - place.lng) ** 2


class OwnRidersGateway:
    """Dispatch to the store's own rider pool."""

    provider = "own"

    def __init__(self, *, riders: Sequence[Rider], fee_fen: int, secret: bytes | str,
                 transport: Transport | None = None, dispatch_url: str = "",
                 max_active_per_rider: int = 1, clock: Callable[[], datetime] = shanghai_now) -> None:
        if fee_fen < 0 or max_active_per_rider < 1:
            raise ValueError("fee_fen must be >= 0 and max_active_per_rider >= 1")
        if transport is not None and not dispatch_url:
            raise ValueError("a transport needs a dispatch_url")
        self.riders = tuple(riders)
        self.fee_fen = fee_fen
        self.secret = secret
        self.transport = transport
        self.dispatch_url = dispatch_url
        self.max_active_per_rider = max_active_per_rider
        self.clock = clock
        self._active: dict[str, Rider] = {}  # external_id -> rider

    @staticmethod
    def external_id_for(shipment_ref: str) -> str:
        return f"own-{shipment_ref}"

    def active(self) -> dict[str, Rider]:
        """Open assignments, external_id -> rider."""
        return dict(self._active)

    def _pick(self, req: DeliveryRequest) -> Rider:
        load: dict[str, int] = {}
        for rider in self._active.values():
            load[rider.phone] = load.get(rider.phone, 0) + 1
        free = [r for r in self.riders if load.get(r.phone, 0) < self.max_active_per_rider]
        if not free:
            raise ProviderError("无空闲骑手 no rider available", code="own:no_rider", provider=self.provider)
        return min(free, key=lambda r: _distance_sq(r, req.origin))  # min() keeps pool order on ties

    def _send(self, message: Mapping[str, Any]) -> None:
        if self.transport is None:
            return
        headers, body = signed_message(message, self.secret)
        status, data = post_json(self.transport, self.dispatch_url, headers, body, provider=self.provider)
        if not 200 <= status < 300:
            raise ProviderError(f"骑手端拒绝请求 rider app refused the request ({status})",
                                code=f"own:{status}", provider=self.provider, status=status, raw=data)

    def quote(self, req: DeliveryRequest) -> CourierOrder:
        return CourierOrder(self.provider, req.shipment_ref, "", self.fee_fen,
                            estimate_road_m(req.origin, req.destination), CourierStatus.CREATED)

    def create_order(self, req: DeliveryRequest) -> CourierOrder:
        """Assign a rider (status ACCEPTED). Idempotent: the same ref keeps its rider."""
        external_id = self.external_id_for(req.shipment_ref)
        rider = self._active.get(external_id) or self._pick(req)
        message = {
            "type": "dispatch",
            "ref": req.shipment_ref,
            "external_id": external_id,
            "rider": {"name": rider.name, "phone": rider.phone},
            "origin": place_to_json(req.origin),
            "destination": place_to_json(req.destination),
            "weight_g": req.weight_g,
            "value_fen": req.value_fen,
            "callback_url": req.callback_url,
            "remark": req.remark,
            "at": self.clock().isoformat(),
        }
        self._send(message)
        self._active[external_id] = rider
        return CourierOrder(self.provider, req.shipment_ref, external_id, self.fee_fen,
                            estimate_road_m(req.origin, req.destination), CourierStatus.ACCEPTED, raw=message)

    def cancel(self, *, shipment_ref: str, external_id: str, reason: str) -> None:
        external_id = external_id or self.external_id_for(shipment_ref)
        self._send({"type": "cancel", "ref": shipment_ref, "external_id": external_id, "reason": reason,
                    "at": self.clock().isoformat()})
        self._active.pop(external_id, None)

    def parse_callback(self, headers: Mapping[str, str], body: bytes) -> TrackingUpdate:
        given = header(headers, SIGNATURE_HEADER)
        if not given or not safe_equal(given.strip().lower(), sign(body, self.secret)):
            raise BadSignature("骑手回调签名错误 bad rider callback signature")
        data = load_json_object(body)
        try:
            ref = as_str(data.get("ref"))
            external_id = as_str(data.get("external_id"))
            event_id = as_str(data.get("event_id"))
            status = CourierStatus(as_str(data.get("status")))
            at = datetime.fromisoformat(as_str(data.get("at")))
            if at.tzinfo is None or at.utcoffset() is None:
                raise ValueError("naive datetime")
            at = at.astimezone(SHANGHAI)
            rider = self._rider(data.get("rider"))
        except (ValueError, OverflowError) as exc:
            raise MalformedCallback("骑手回调无法识别 unreadable rider callback") from exc
        if status.terminal:
            self._active.pop(external_id, None)
        return TrackingUpdate(
            provider=self.provider,
            shipment_ref=ref,
            external_id=external_id,
            event_id=event_id,
            status=status,
            rider=rider,
            at=at,
            reason=as_str(data.get("reason"), required=False),
            raw=data,
        )

    @staticmethod
    def _rider(value: Any) -> Rider | None:
        if value is None:
            return None
        if not isinstance(value, dict):
            raise ValueError("rider must be an object or null")
        return Rider(as_str(value.get("name")), as_str(value.get("phone"), required=False),
                     as_coord(value.get("lat"), 90.0), as_coord(value.get("lng")))

    def callback_ack(self, ok: bool) -> tuple[int, str, bytes]:
        return json_ack(200, {"ok": True}) if ok else json_ack(400, {"ok": False})


def _place(value: Mapping[str, Any]) -> Place:
    return Place(as_str(value["name"], required=False), as_str(value["phone"], required=False),
                 as_str(value["address"], required=False), float(value["lat"]), float(value["lng"]))


def read_dispatch(message: Mapping[str, Any]) -> tuple[str, str, Place, Place, Rider, str]:
    """The rider app's reading of a dispatch message: ``(ref, external_id, origin, destination,
    rider, callback_url)``; KeyError, TypeError or ValueError when a field is missing or malformed."""
    rider = message["rider"]
    return (as_str(message["ref"]), as_str(message["external_id"]), _place(message["origin"]),
            _place(message["destination"]), Rider(as_str(rider["name"]), as_str(rider["phone"])),
            as_str(message["callback_url"]))


def open_message(headers: Mapping[str, str], body: bytes, secret: bytes | str) -> dict[str, Any]:
    """The rider app's check of a message: the JSON object, else ProviderError with code
    ``own:401`` (bad signature) or ``own:400`` (malformed)."""
    given = header(headers, SIGNATURE_HEADER) or ""
    if not safe_equal(given, sign(body, secret)):
        raise ProviderError("签名错误 bad signature", code="own:401", provider="own")
    try:
        message = json.loads(body)
    except (ValueError, RecursionError):
        message = None
    if not isinstance(message, dict):
        raise ProviderError("参数格式错误 malformed message", code="own:400", provider="own")
    return message
