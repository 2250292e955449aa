"""What every same-city courier adapter speaks: errors, value types, the two protocols, helpers.

Money is integer fen, distances metres, weights grams. Coordinates are GCJ-02 (the datum Dada
and SF use). Datetimes are timezone-aware; provider timestamps are epoch seconds, rendered in
China Standard Time (:data:`SHANGHAI`, a fixed +08:00: China has no daylight saving).

Status semantics shared by all providers: ``CANCELLED`` only when *we* (the merchant) cancelled;
a cancellation by the provider, by the rider, or for want of a rider is ``FAILED``: the
shipment needs another dispatch attempt.
"""

from __future__ import annotations

import hmac
import json
import math
import urllib.error
import urllib.request
from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import datetime, timedelta, timezone
from decimal import ROUND_HALF_UP, Decimal, InvalidOperation
from enum import StrEnum
from typing import Any, Protocol, runtime_checkable
from urllib.parse import urlsplit

from o2o.core.geo import LatLng, road_distance_m

__all__ = [
    "SHANGHAI",
    "TERMINAL",
    "BadSignature",
    "CourierError",
    "CourierGateway",
    "CourierOrder",
    "CourierStatus",
    "DeliveryRequest",
    "MalformedCallback",
    "Place",
    "ProviderError",
    "Rider",
    "TrackingUpdate",
    "Transport",
    "UrllibTransport",
    "estimate_road_m",
    "fen_to_yuan",
    "header",
    "json_ack",
    "load_json_object",
    "safe_equal",
    "shanghai_now",
    "yuan_to_fen",
]

SHANGHAI = timezone(timedelta(hours=8), "Asia/Shanghai")


def shanghai_now() -> datetime:
    """The default adapter clock: aware current time in +08:00."""
    return datetime.now(SHANGHAI)


# --- errors -----------------------------------------------------------------------------------


class CourierError(Exception):
    """Base of every error the adapters raise on purpose; ``code`` is stable, the message bilingual."""

    code = "courier_error"

    def __init__(self, message: str, *, code: str | None = None) -> None:
        super().__init__(message)
        self.message = message
        if code is not None:
            self.code = code


class BadSignature(CourierError):
    """The callback is not provably from the provider (missing or wrong signature/token)."""

    code = "bad_signature"


class MalformedCallback(CourierError):
    """A callback that cannot be parsed or carries data we cannot act on (e.g. an unknown status)."""

    code = "malformed_callback"


class ProviderError(CourierError):
    """The provider refused a request or could not be reached; ``code`` is e.g. ``"dada:2003"``."""

    code = "provider_error"

    def __init__(self, message: str, *, code: str | None = None, provider: str = "",
                 status: int | None = None, raw: Any = None) -> None:
        super().__init__(message, code=code)
        self.provider = provider
        self.status = status
        self.raw = raw


# --- value types ------------------------------------------------------------------------------


class CourierStatus(StrEnum):
    CREATED = "created"        # waiting for a rider
    ACCEPTED = "accepted"      # a rider accepted / was assigned
    ARRIVED = "arrived"        # the rider is at the store
    PICKED_UP = "picked_up"    # on the way to the customer
    DELIVERED = "delivered"
    CANCELLED = "cancelled"    # cancelled by us
    FAILED = "failed"          # cancelled by the provider or rider, no rider, undeliverable

    @property
    def terminal(self) -> bool:
        return self in TERMINAL


TERMINAL = frozenset({CourierStatus.DELIVERED, CourierStatus.CANCELLED, CourierStatus.FAILED})


def _check_coords(lat: float, lng: float) -> None:
    LatLng(lat, lng)  # raises ValueError when not finite or out of range


@dataclass(frozen=True)
class Place:
    """A pick-up or drop-off point; ``lat``/``lng`` in GCJ-02."""

    name: str
    phone: str
    address: str
    lat: float
    lng: float

    def __post_init__(self) -> None:
        _check_coords(self.lat, self.lng)


@dataclass(frozen=True)
class DeliveryRequest:
    """One dispatch attempt. ``shipment_ref`` is ours and unique per attempt (e.g. ``"S123-1"``)."""

    shipment_ref: str
    origin: Place
    destination: Place
    weight_g: int
    value_fen: int
    callback_url: str
    remark: str = ""

    def __post_init__(self) -> None:
        if not self.shipment_ref:
            raise ValueError("shipment_ref is required")
        if self.weight_g < 0 or self.value_fen < 0:
            raise ValueError("weight_g and value_fen must be >= 0")


@dataclass(frozen=True)
class CourierOrder:
    provider: str
    shipment_ref: str
    external_id: str
    fee_fen: int
    distance_m: int | None
    status: CourierStatus
    raw: dict = field(default_factory=dict, compare=False)


@dataclass(frozen=True)
class Rider:
    name: str
    phone: str
    lat: float | None = None
    lng: float | None = None


@dataclass(frozen=True)
class TrackingUpdate:
    """One status callback. ``event_id`` is unique per provider event and derived
    deterministically from the callback, so a redelivered callback has the same id."""

    provider: str
    shipment_ref: str
    external_id: str
    event_id: str
    status: CourierStatus
    rider: Rider | None
    at: datetime
    reason: str
    raw: dict = field(default_factory=dict, compare=False)


# --- protocols --------------------------------------------------------------------------------


@runtime_checkable
class Transport(Protocol):
    """Sends one HTTP request; returns ``(status, headers, body)``. May raise ``OSError``."""

    def send(self, method: str, url: str, headers: Mapping[str, str], body: bytes
             ) -> tuple[int, dict[str, str], bytes]: ...


@runtime_checkable
class CourierGateway(Protocol):
    provider: str

    def quote(self, req: DeliveryRequest) -> CourierOrder: ...

    def create_order(self, req: DeliveryRequest) -> CourierOrder: ...

    def cancel(self, *, shipment_ref: str, external_id: str, reason: str) -> None: ...

    def parse_callback(self, headers: Mapping[str, str], body: bytes) -> TrackingUpdate: ...

    def callback_ack(self, ok: bool) -> tuple[int, str, bytes]: ...


class UrllibTransport:
    """A plain ``urllib`` transport for production (http/https only, no retries)."""

    def __init__(self, timeout_s: float = 10.0) -> None:
        self.timeout_s = timeout_s

    def send(self, method: str, url: str, headers: Mapping[str, str], body: bytes
             ) -> tuple[int, dict[str, str], bytes]:
        if urlsplit(url).scheme not in ("http", "https"):
            raise ValueError(f"only http(s) URLs are allowed: {url!r}")
        request = urllib.request.Request(url, data=body, headers=dict(headers), method=method)  # noqa: S310
        try:
            with urllib.request.urlopen(request, timeout=self.timeout_s) as resp:  # noqa: S310 (scheme checked)
                return resp.status, dict(resp.headers.items()), resp.read()
        except urllib.error.HTTPError as exc:
            return exc.code, dict(exc.headers.items()), exc.read()


# --- helpers ----------------------------------------------------------------------------------

_JSON_ERRORS = (ValueError, TypeError, RecursionError)


def load_json_object(body: bytes) -> dict[str, Any]:
    """``body`` as a JSON object, or :class:`MalformedCallback`."""
    try:
        data = json.loads(body.decode("utf-8"))
    except _JSON_ERRORS as exc:
        raise MalformedCallback("回调不是合法的 JSON callback body is not valid JSON") from exc
    if not isinstance(data, dict):
        raise MalformedCallback("回调不是 JSON 对象 callback body is not a JSON object")
    return data


def safe_equal(given: str, expected: str) -> bool:
    """Constant-time comparison that also accepts non-ASCII input (which never matches)."""
    try:
        return hmac.compare_digest(given.encode("utf-8"), expected.encode("utf-8"))
    except UnicodeEncodeError:
        return False


def post_json(transport: Transport, url: str, headers: Mapping[str, str], body: bytes, *,
              provider: str) -> tuple[int, dict[str, Any]]:
    """POST through ``transport``; the HTTP status and the JSON object answered, or ProviderError."""
    try:
        status, _headers, raw = transport.send("POST", url, headers, body)
    except OSError as exc:
        raise ProviderError("配送服务不可达 courier provider unreachable", code=f"{provider}:unreachable",
                            provider=provider) from exc
    try:
        data = json.loads(raw.decode("utf-8"))
    except _JSON_ERRORS:
        data = None
    if not isinstance(data, dict):
        raise ProviderError("配送服务返回无法解析 unreadable provider response", code=f"{provider}:bad_response",
                            provider=provider, status=status, raw=raw[:500])
    return status, data


def dumps(payload: Any) -> str:
    """Compact JSON, UTF-8 characters kept (the form that is signed and sent)."""
    return json.dumps(payload, ensure_ascii=False, separators=(",", ":"))


def header(headers: Mapping[str, str], name: str) -> str | None:
    """Case-insensitive header lookup."""
    lowered = name.lower()
    for key, value in headers.items():
        if isinstance(key, str) and key.lower() == lowered:
            return value if isinstance(value, str) else None
    return None


def json_ack(status: int, payload: Mapping[str, Any]) -> tuple[int, str, bytes]:
    body = dumps(payload).encode("utf-8")
    return status, "application/json; charset=utf-8", body


def fen_to_yuan(fen: int) -> float:
    """Fen as a yuan number for JSON (exact to two decimals: ``1234 -> 12.34``)."""
    return float(Decimal(fen) / 100)


def yuan_to_fen(yuan: Any) -> int:
    """A provider's yuan amount (number or string) in fen, rounded half up; ValueError if not a number."""
    if isinstance(yuan, bool):
        raise ValueError(f"not an amount: {yuan!r}")
    try:
        value = Decimal(str(yuan))
        if not value.is_finite() or abs(value) >= 10**12:
            raise ValueError(f"not an amount: {yuan!r}")
        return int((value * 100).quantize(Decimal(1), rounding=ROUND_HALF_UP))
    except InvalidOperation as exc:
        raise ValueError(f"not an amount: {yuan!r}") from exc


def estimate_road_m(a: Place, b: Place) -> int:
    """Estimated road distance in whole metres (great circle times the city circuity)."""
    return math.ceil(road_distance_m(LatLng(a.lat, a.lng), LatLng(b.lat, b.lng)))


def epoch_to_datetime(value: Any) -> datetime:
    """Epoch seconds (int or digit string) as an aware +08:00 datetime; ValueError otherwise."""
    if isinstance(value, bool) or not isinstance(value, int | str):
        raise ValueError(f"not an epoch timestamp: {value!r}")
    seconds = int(value)
    if not 0 <= seconds < 10**11:
        raise ValueError(f"epoch timestamp out of range: {value!r}")
    return datetime.fromtimestamp(seconds, tz=SHANGHAI)


def as_int(value: Any) -> int:
    """An int from an int or a digit string (providers mix them); ValueError otherwise."""
    if isinstance(value, bool) or not isinstance(value, int | str):
        raise ValueError(f"not an integer: {value!r}")
    if isinstance(value, str) and not value.strip().lstrip("-").isdigit():
        raise ValueError(f"not an integer: {value!r}")
    return int(value)


def as_str(value: Any, *, required: bool = True) -> str:
    """A string field (ints accepted, providers mix them); ValueError when required and empty."""
    if value is None or isinstance(value, bool) or not isinstance(value, str | int):
        if required:
            raise ValueError(f"not a string: {value!r}")
        return ""
    text = str(value)
    if required and not text:
        raise ValueError("empty string")
    return text


def as_coord(value: Any, limit: float = 180.0) -> float | None:
    """A coordinate from a number or numeric string; None when absent or unusable."""
    if value is None or value == "" or isinstance(value, bool) or not isinstance(value, int | float | str):
        return None
    try:
        number = float(value)
    except (ValueError, OverflowError):
        return None
    return number if math.isfinite(number) and abs(number) <= limit else None
