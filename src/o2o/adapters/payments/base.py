"""What every payment gateway adapter speaks: errors, value types, the two protocols, money helpers.

Money is integer fen everywhere in this API. Providers that speak yuan strings (Alipay's
``"12.34"``) convert through :func:`fen_to_yuan` / :func:`yuan_to_fen`, which use integer
arithmetic only (no float, no rounding: a yuan string with more than two decimals is rejected).

Datetimes are timezone-aware. Provider timestamps are rendered in China Standard Time
(:data:`SHANGHAI`, a fixed +08:00: China has had no daylight saving since 1991, so the fixed
offset is exact and does not depend on the tz database being installed).
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import datetime, timedelta, timezone
from typing import Any, Literal, Protocol, runtime_checkable

SHANGHAI = timezone(timedelta(hours=8), "Asia/Shanghai")


def shanghai_now() -> datetime:
    """The default adapter clock: aware current time in +08:00."""
    return datetime.now(SHANGHAI)


# --- errors -----------------------------------------------------------------------------------


class PaymentError(Exception):
    """Base of every error the adapters raise on purpose; ``code`` is stable, ``message`` bilingual."""

    code = "payment_error"

    def __init__(self, message: str, *, code: str | None = None) -> None:
        super().__init__(message)
        self.message = message
        if code is not None:
            self.code = code


class BadSignature(PaymentError):
    """The message is not provably from the provider (signature, serial, timestamp, key, app id)."""

    code = "bad_signature"


class MalformedNotice(PaymentError):
    """A notification that cannot be parsed or carries data we cannot act on."""

    code = "malformed_notice"


class IgnorableNotice(MalformedNotice):
    """Authentic and well-formed, but nothing to act on (e.g. Alipay ``WAIT_BUYER_PAY``).

    A subclass of :class:`MalformedNotice` so that a handler catching that still rejects it; a
    handler that knows better acknowledges it with ``notice_ack(True)`` so the provider stops
    retrying.
    """

    code = "ignorable_notice"


class ProviderError(PaymentError):
    """The provider answered with an error (``code`` is the provider's, e.g. ``ORDER_NOT_EXIST``).

    ``verified`` is True when the error response carried a valid provider signature: only such an
    error may be read as a fact (e.g. "this trade does not exist" -> ``query`` returns None).
    """

    code = "provider_error"

    def __init__(self, message: str, *, code: str | None = None, provider: str = "",
                 status: int | None = None, raw: Any = None, verified: bool = False) -> None:
        super().__init__(message, code=code)
        self.provider = provider
        self.status = status
        self.raw = raw
        self.verified = verified


# --- value types ------------------------------------------------------------------------------


@dataclass(frozen=True)
class PaymentRequest:
    """What the client (app, H5 page, mini-program) needs to open the provider's pay sheet."""

    provider: str
    out_trade_no: str
    amount_fen: int
    client_params: dict[str, Any]
    provider_ref: str = ""


@dataclass(frozen=True)
class PaymentNotice:
    """A verified statement from the provider about one trade (from a notification or a query)."""

    provider: str
    notify_id: str
    out_trade_no: str
    transaction_id: str
    amount_fen: int
    status: Literal["paid", "closed"]
    paid_at: datetime | None
    raw: dict[str, Any] = field(repr=False)


@dataclass(frozen=True)
class RefundResult:
    provider: str
    out_refund_no: str
    refund_id: str
    amount_fen: int
    status: Literal["succeeded", "processing", "failed"]
    raw: dict[str, Any] = field(repr=False)


# --- protocols --------------------------------------------------------------------------------


class Transport(Protocol):
    """One HTTP exchange. Returns ``(status, headers, body)``; raises ``OSError`` on network failure."""

    def send(self, method: str, url: str, headers: Mapping[str, str],
             body: bytes) -> tuple[int, dict[str, str], bytes]: ...


@runtime_checkable
class PaymentGateway(Protocol):
    provider: str

    def create_payment(self, *, out_trade_no: str, amount_fen: int, description: str, notify_url: str,
                       expires_at: datetime, payer_id: str | None = None) -> PaymentRequest: ...

    def parse_notice(self, headers: Mapping[str, str], body: bytes, *, now: datetime) -> PaymentNotice: ...

    def notice_ack(self, ok: bool) -> tuple[int, str, bytes]: ...

    def refund(self, *, out_trade_no: str, out_refund_no: str, amount_fen: int, total_fen: int,
               reason: str) -> RefundResult: ...

    def query(self, *, out_trade_no: str) -> PaymentNotice | None: ...


# --- helpers ----------------------------------------------------------------------------------

_YUAN = re.compile(r"(0|[1-9][0-9]*)(?:\.([0-9]{1,2}))?")


def fen_to_yuan(fen: int) -> str:
    """``1230 -> "12.30"``, ``1 -> "0.01"``; exact, for any non-negative integer."""
    if isinstance(fen, bool) or not isinstance(fen, int) or fen < 0:
        raise ValueError(f"金额必须是非负整数分 amount must be a non-negative integer of fen: {fen!r}")
    return f"{fen // 100}.{fen % 100:02d}"


def yuan_to_fen(yuan: str) -> int:
    """``"12.3" -> 1230``, ``"0.01" -> 1``; rejects signs, exponents, spaces and sub-fen digits."""
    m = _YUAN.fullmatch(yuan) if isinstance(yuan, str) else None
    if m is None:
        raise ValueError(f"金额格式错误 not a yuan amount: {yuan!r}")
    return int(m.group(1)) * 100 + int((m.group(2) or "").ljust(2, "0"))


def header(headers: Mapping[str, str], name: str) -> str | None:
    """Case-insensitive header lookup (HTTP header names are case-insensitive)."""
    wanted = name.lower()
    for key, value in headers.items():
        if isinstance(key, str) and key.lower() == wanted:
            return value
    return None


def require_aware(value: datetime, name: str) -> None:
    if not isinstance(value, datetime) or value.tzinfo is None or value.utcoffset() is None:
        raise ValueError(f"{name} 必须带时区 must be a timezone-aware datetime")


def require_amount(amount_fen: int, name: str = "amount_fen") -> None:
    if isinstance(amount_fen, bool) or not isinstance(amount_fen, int) or amount_fen <= 0:
        raise ValueError(f"{name} 必须是正整数分 must be a positive integer of fen: {amount_fen!r}")
