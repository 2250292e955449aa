"""What every notification adapter speaks: errors, the send result, the transport, JSON helpers.

The adapters are pure (no Django, no app): the notifications app reads settings and credentials,
builds them and maps its messages onto each provider's call. All HTTP goes through an injected
:class:`Transport` (``o2o.adapters.couriers.base.UrllibTransport`` in production, a simulator of
:mod:`o2o.adapters.notify.simulator` in tests and the demo).

Errors say whether trying again later may help (``retryable``): a network failure, an HTTP 5xx or
the provider's "slow down" code may; a bad phone number, a refused subscription or wrong
credentials will not (the app records those as failed at once).
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import datetime, timedelta, timezone
from typing import Any, Protocol, runtime_checkable

SHANGHAI = timezone(timedelta(hours=8), "Asia/Shanghai")

__all__ = ["SHANGHAI", "NotifyError", "ProviderError", "SendResult", "Transport", "call_json", "dumps",
           "header", "shanghai_now"]


def shanghai_now() -> datetime:
    """The default adapter clock: aware current time in +08:00."""
    return datetime.now(SHANGHAI)


class NotifyError(Exception):
    """Base of every error the adapters raise on purpose; ``code`` is stable, the message bilingual."""

    code = "notify_error"

    def __init__(self, message: str, *, code: str | None = None) -> None:
        super().__init__(message)
        self.message = message
        if code is not None:
            self.code = code


class ProviderError(NotifyError):
    """The provider refused or could not be reached. ``code`` is the provider's own (``isv.MOBILE_NUMBER_ILLEGAL``,
    ``43101``, ``1011``...) or ``network_error`` / ``http_<status>`` / ``bad_response``."""

    code = "provider_error"

    def __init__(self, message: str, *, code: str | None = None, provider: str = "", status: int | None = None,
                 retryable: bool = False, raw: Any = None) -> None:
        super().__init__(message, code=code)
        self.provider = provider
        self.status = status
        self.retryable = retryable
        self.raw = raw


@dataclass(frozen=True)
class SendResult:
    """A message the provider accepted: its id there (``BizId``, ``msgid``, ``msg_id``)."""

    provider: str
    message_id: str
    raw: dict[str, Any] = field(default_factory=dict, compare=False, repr=False)


@runtime_checkable
class Transport(Protocol):
    """Sends one HTTP request; returns ``(status, headers, body)``. May raise ``OSError``."""

    def send(self, method: str, url: str, headers: Mapping[str, str], body: bytes
             ) -> tuple[int, dict[str, str], bytes]: ...


def dumps(payload: Any) -> str:
    """Compact JSON with UTF-8 characters kept (what is sent)."""
    return json.dumps(payload, ensure_ascii=False, separators=(",", ":"))


def header(headers: Mapping[str, str], name: str) -> str | None:
    """Case-insensitive header lookup."""
    wanted = name.lower()
    for key, value in headers.items():
        if isinstance(key, str) and key.lower() == wanted:
            return value if isinstance(value, str) else None
    return None


def call_json(transport: Transport, method: str, url: str, headers: Mapping[str, str], body: bytes, *,
              provider: str) -> tuple[int, dict[str, Any]]:
    """One exchange; the HTTP status and the JSON object answered. A network failure or an answer that is
    not a JSON object is a :class:`ProviderError` (retryable for the network and for HTTP 5xx)."""
    try:
        status, _headers, raw = transport.send(method, url, headers, body)
    except OSError as exc:
        raise ProviderError("消息服务不可达 notification provider unreachable", code="network_error",
                            provider=provider, retryable=True) from exc
    try:
        data = json.loads(raw.decode("utf-8"))
    except (ValueError, UnicodeDecodeError):
        data = None
    if not isinstance(data, dict):
        raise ProviderError(f"消息服务应答无法解析 unreadable provider response (HTTP {status})",
                            code=f"http_{status}" if status >= 400 else "bad_response", provider=provider,
                            status=status, retryable=status >= 500, raw=raw[:500])
    return status, data
