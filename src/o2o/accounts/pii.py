"""Personal data at rest (PIPL): AES-256-GCM encryption, a keyed blind index, masking.

* **Encryption**: a value is stored as ``v1.<key id>.<base64url(nonce | ciphertext+tag)>``
  with AES-256-GCM (``cryptography``), a fresh 96-bit nonce per value and the field's name as
  associated data, so a value copied into another column does not decrypt.
* **Keys** come from a :class:`KeyProvider`; the default reads the environment:
  ``O2O_PII_KEYS="k2:<64 hex>,k1:<64 hex>"`` (the first one encrypts, all of them decrypt, so
  keys rotate without downtime: add a new first key, run ``o2o rotate-pii``, then drop the old
  one) and ``O2O_PII_INDEX_KEY=<64 hex>`` for the blind index. A KMS-backed provider implements
  the same three methods. Without keys (the demo, tests) keys are derived from ``SECRET_KEY``
  with HMAC, so every process agrees; production sets the variables.
* **Blind index**: HMAC-SHA256 of the normalised value under the index key: equal phones
  give equal indexes (find a member by phone) and the index alone reveals nothing.
* **Masking**: ``138****5678``: what every screen shows unless a role may reveal it (every
  reveal is written to ``PiiAccessLog``).
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import os
import re
import secrets
from dataclasses import dataclass
from functools import lru_cache
from typing import Protocol

from cryptography.hazmat.primitives.ciphers.aead import AESGCM
from django.conf import settings

from o2o.common.errors import InvalidInput

VERSION = "v1"


class KeyProvider(Protocol):
    def current(self) -> tuple[str, bytes]:
        """(key id, 32-byte key) that encrypts new values."""

    def key(self, key_id: str) -> bytes:
        """The key with this id (KeyError when unknown)."""

    def index_key(self) -> bytes:
        """The blind-index key."""


@dataclass(frozen=True)
class StaticKeys:
    keys: tuple[tuple[str, bytes], ...]  # first one encrypts
    index: bytes

    def current(self) -> tuple[str, bytes]:
        return self.keys[0]

    def key(self, key_id: str) -> bytes:
        for kid, k in self.keys:
            if kid == key_id:
                return k
        raise KeyError(key_id)

    def index_key(self) -> bytes:
        return self.index


def _derived(label: bytes) -> bytes:
    return hmac.new(settings.SECRET_KEY.encode(), label, hashlib.sha256).digest()


def _parse_keys(raw: str) -> tuple[tuple[str, bytes], ...]:
    keys = []
    for part in raw.split(","):
        kid, _, hexkey = part.strip().partition(":")
        key = bytes.fromhex(hexkey)
        if not re.fullmatch(r"[A-Za-z0-9_-]{1,16}", kid) or len(key) != 32:
            raise ValueError("O2O_PII_KEYS: each entry is <id>:<64 hex digits> (AES-256)")
        keys.append((kid, key))
    if not keys:
        raise ValueError("O2O_PII_KEYS is empty")
    return tuple(keys)


@lru_cache(maxsize=4)
def _env_provider(raw_keys: str, raw_index: str, secret: str) -> StaticKeys:
    keys = _parse_keys(raw_keys) if raw_keys else (("dev", _derived(b"o2o pii key v1")),)
    index = bytes.fromhex(raw_index) if raw_index else _derived(b"o2o pii blind index v1")
    return StaticKeys(keys, index)


def provider() -> KeyProvider:
    return _env_provider(os.environ.get("O2O_PII_KEYS", ""), os.environ.get("O2O_PII_INDEX_KEY", ""),
                         settings.SECRET_KEY)


def encrypt(value: str, *, field: str, keys: KeyProvider | None = None) -> str:
    keys = keys or provider()
    kid, key = keys.current()
    nonce = secrets.token_bytes(12)
    sealed = AESGCM(key).encrypt(nonce, value.encode(), field.encode())
    return f"{VERSION}.{kid}.{base64.urlsafe_b64encode(nonce + sealed).decode().rstrip('=')}"


def decrypt(token: str, *, field: str, keys: KeyProvider | None = None) -> str:
    keys = keys or provider()
    version, kid, data = token.split(".", 2)
    if version != VERSION:
        raise ValueError(f"unknown PII format {version}")
    raw = base64.urlsafe_b64decode(data + "=" * (-len(data) % 4))
    return AESGCM(keys.key(kid)).decrypt(raw[:12], raw[12:], field.encode()).decode()


def key_id_of(token: str) -> str:
    return token.split(".", 2)[1]


def rotate(token: str, *, field: str, keys: KeyProvider | None = None) -> str:
    """The value re-encrypted under the current key (unchanged when it already is)."""
    keys = keys or provider()
    if key_id_of(token) == keys.current()[0]:
        return token
    return encrypt(decrypt(token, field=field, keys=keys), field=field, keys=keys)


def normalize_phone(phone: str) -> str:
    """A mainland mobile number as 11 digits (spaces, hyphens and +86/0086 dropped), else 422."""
    digits = re.sub(r"[\s\-()]", "", phone or "")
    for prefix in ("+86", "0086", "86"):
        if digits.startswith(prefix) and len(digits) == len(prefix) + 11:
            digits = digits[len(prefix):]
    if not re.fullmatch(r"1[3-9]\d{9}", digits):
        raise InvalidInput("手机号格式不正确 Not a mainland mobile number", code="invalid_phone",
                           details={"phone": mask_phone(phone or "")})
    return digits


def blind_index(value: str, *, keys: KeyProvider | None = None) -> str:
    keys = keys or provider()
    return hmac.new(keys.index_key(), value.encode(), hashlib.sha256).hexdigest()


def mask_phone(phone: str) -> str:
    """138****5678 (short or odd input: every character masked)."""
    p = (phone or "").strip()
    if len(p) < 7:
        return "*" * len(p)
    return f"{p[:3]}****{p[-4:]}"
