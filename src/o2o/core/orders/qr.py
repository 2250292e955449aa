"""Signed QR payloads for pickup: the customer shows it, the store's scanner verifies it.

Format (ASCII, compact so the QR stays small and scans at a counter)::

    o2o1.<base64url(json claims)>.<base64url(HMAC-SHA256(key, "o2o1.<base64url(json)>"))>

base64url without padding; the JSON is compact with sorted short keys ``c`` (code), ``e``
(expires_at), ``s`` (shipment_id), ``v``. The MAC covers the prefix and the encoded claims
exactly as sent, and it is checked (with :func:`hmac.compare_digest`, constant time) before
the JSON is parsed. Both parts must be canonical base64url, so one payload has exactly one
spelling. A payload is valid while ``now < expires_at`` (epoch seconds, passed in).

:func:`verify` raises only :class:`BadQr`, whose ``reason`` is ``"malformed"`` (not our
format at all), ``"bad_signature"`` (our format, wrong key or tampered) or ``"expired"``;
whatever a scanner reads, nothing else escapes. The key is at least 32 bytes (a full-strength
HMAC-SHA256 key, e.g. derived from the Django secret); a shorter one is a programming error
and raises ValueError on both sides.
"""

from __future__ import annotations

import base64
import binascii
import hashlib
import hmac
import json
from dataclasses import dataclass

from o2o.core.orders.pickup_code import is_well_formed

__all__ = ["MIN_KEY_BYTES", "PREFIX", "BadQr", "QrClaims", "sign", "verify"]

PREFIX = "o2o1"
MIN_KEY_BYTES = 32
_VERSION = 1
_MAX_PAYLOAD = 512  # a real payload is about 110 characters
_B64URL = frozenset("ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_")
_MESSAGES = {
    "malformed": "二维码格式无效 Malformed QR payload",
    "bad_signature": "二维码签名无效 Bad QR signature",
    "expired": "二维码已过期 QR code expired",
}


class BadQr(Exception):
    """The payload cannot be trusted; ``reason`` in {"malformed", "bad_signature", "expired"}."""

    def __init__(self, reason: str) -> None:
        self.reason = reason
        super().__init__(_MESSAGES.get(reason, reason))


def _is_int(x: object) -> bool:
    return isinstance(x, int) and not isinstance(x, bool)


@dataclass(frozen=True, slots=True)
class QrClaims:
    """What the QR asserts: this pickup code belongs to this shipment until ``expires_at``."""

    shipment_id: int
    code: str
    expires_at: int  # epoch seconds; valid while now < expires_at
    v: int = _VERSION

    def problem(self) -> str | None:
        """Why these claims cannot be signed, or None."""
        if not _is_int(self.shipment_id) or self.shipment_id < 1:
            return "shipment_id 必须是正整数 must be a positive integer"
        if not is_well_formed(self.code):
            return "code 不是有效的取货码 is not a valid pickup code"
        if not _is_int(self.expires_at) or self.expires_at < 0:
            return "expires_at 必须是非负整数 must be a non-negative integer"
        if not _is_int(self.v) or self.v != _VERSION:
            return f"v 必须是 {_VERSION} must be {_VERSION}"
        return None


def _b64e(raw: bytes) -> str:
    return base64.urlsafe_b64encode(raw).rstrip(b"=").decode("ascii")


def _b64d(text: str) -> bytes:
    """Strict decode: base64url alphabet, no padding, canonical; else BadQr("malformed")."""
    if not text or not set(text) <= _B64URL or len(text) % 4 == 1:
        raise BadQr("malformed")
    try:
        raw = base64.b64decode(text + "=" * (-len(text) % 4), altchars=b"-_", validate=True)
    except (binascii.Error, ValueError):
        raise BadQr("malformed") from None
    if _b64e(raw) != text:  # non-zero trailing bits: a second spelling of the same bytes
        raise BadQr("malformed")
    return raw


def _check_key(key: bytes) -> None:
    if not isinstance(key, bytes | bytearray) or len(key) < MIN_KEY_BYTES:
        raise ValueError(
            f"签名密钥至少 {MIN_KEY_BYTES} 字节 The signing key needs at least {MIN_KEY_BYTES} bytes"
        )


def _mac(key: bytes, signing_input: str) -> bytes:
    return hmac.new(bytes(key), signing_input.encode("ascii"), hashlib.sha256).digest()


def sign(claims: QrClaims, key: bytes) -> str:
    """The compact signed payload ``o2o1.<claims>.<mac>`` for the QR code."""
    _check_key(key)
    problem = claims.problem()
    if problem is not None:
        raise ValueError(f"二维码内容无效 Invalid QR claims: {problem}")
    body = {"c": claims.code, "e": claims.expires_at, "s": claims.shipment_id, "v": claims.v}
    data = json.dumps(body, separators=(",", ":"), sort_keys=True).encode("ascii")
    signing_input = f"{PREFIX}.{_b64e(data)}"
    return f"{signing_input}.{_b64e(_mac(key, signing_input))}"


def verify(payload: str, key: bytes, *, now: int) -> QrClaims:
    """The claims of a payload signed with ``key`` and not expired at ``now``; else BadQr."""
    _check_key(key)
    if not isinstance(payload, str) or len(payload) > _MAX_PAYLOAD:
        raise BadQr("malformed")
    parts = payload.strip().split(".")
    if len(parts) != 3 or parts[0] != PREFIX:
        raise BadQr("malformed")
    data, mac = _b64d(parts[1]), _b64d(parts[2])
    if len(mac) != hashlib.sha256().digest_size:
        raise BadQr("malformed")
    if not hmac.compare_digest(mac, _mac(key, f"{PREFIX}.{parts[1]}")):
        raise BadQr("bad_signature")
    claims = _parse(data)
    if not now < claims.expires_at:
        raise BadQr("expired")
    return claims


def _parse(data: bytes) -> QrClaims:
    """Claims from authenticated JSON. Only a different signer with our key could fail here."""
    try:
        body = json.loads(data.decode("utf-8"))
    except (UnicodeDecodeError, ValueError):
        raise BadQr("malformed") from None
    if not isinstance(body, dict) or set(body) != {"c", "e", "s", "v"}:
        raise BadQr("malformed")
    claims = QrClaims(shipment_id=body["s"], code=body["c"], expires_at=body["e"], v=body["v"])
    if claims.problem() is not None:
        raise BadQr("malformed")
    return claims
