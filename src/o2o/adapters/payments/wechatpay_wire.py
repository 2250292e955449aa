"""WeChat Pay API v3 wire format: the exact signing messages, the Authorization header, RFC 3339 times.

Kept apart from the adapter so that the known-answer tests pin down each message byte for byte.
"""

from __future__ import annotations

import json
import secrets
from collections.abc import Mapping
from datetime import datetime
from typing import Any

from .base import SHANGHAI, require_aware

AUTH_SCHEME = "WECHATPAY2-SHA256-RSA2048"


def request_message(method: str, path_with_query: str, timestamp: str, nonce: str, body: bytes) -> bytes:
    """The merchant request signing message: ``METHOD\\nPATH\\nTIMESTAMP\\nNONCE\\nBODY\\n``."""
    return b"".join(part + b"\n" for part in (method.encode(), path_with_query.encode("utf-8"),
                                             timestamp.encode(), nonce.encode("utf-8"), body))


def response_message(timestamp: str, nonce: str, body: bytes) -> bytes:
    """The platform response / notification signing message: ``TIMESTAMP\\nNONCE\\nBODY\\n``."""
    return timestamp.encode("utf-8") + b"\n" + nonce.encode("utf-8") + b"\n" + body + b"\n"


def jsapi_message(appid: str, timestamp: str, nonce: str, package: str) -> bytes:
    """The JSAPI ``paySign`` message: ``appId\\ntimeStamp\\nnonceStr\\npackage\\n``."""
    return f"{appid}\n{timestamp}\n{nonce}\n{package}\n".encode()


def authorization_header(*, mchid: str, serial_no: str, timestamp: str, nonce: str, signature: str) -> str:
    return (f'{AUTH_SCHEME} mchid="{mchid}",nonce_str="{nonce}",signature="{signature}",'
            f'timestamp="{timestamp}",serial_no="{serial_no}"')


def rfc3339(value: datetime) -> str:
    """``2026-01-01T12:00:00+08:00``: seconds precision, China time."""
    require_aware(value, "datetime")
    return value.astimezone(SHANGHAI).replace(microsecond=0).isoformat()


def default_nonce() -> str:
    return secrets.token_hex(16).upper()


def dumps(payload: Mapping[str, Any]) -> bytes:
    return json.dumps(payload, ensure_ascii=False, separators=(",", ":")).encode("utf-8")


def loads_dict(body: bytes) -> dict[str, Any] | None:
    try:
        data = json.loads(body)
    except (ValueError, UnicodeDecodeError):
        return None
    return data if isinstance(data, dict) else None


def int_field(data: Mapping[str, Any], key: str) -> int | None:
    value = data.get(key)
    return value if isinstance(value, int) and not isinstance(value, bool) and value >= 0 else None


def parse_rfc3339(value: Any) -> datetime:
    if not isinstance(value, str):
        raise ValueError("not a datetime")
    parsed = datetime.fromisoformat(value)
    require_aware(parsed, "datetime")
    return parsed
