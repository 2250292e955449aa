"""The signed QR payload of a live pickup code (core ``qr``), keyed from the environment.

``O2O_PICKUP_QR_KEY`` (hex or text, at least 32 bytes) in production; otherwise a key derived
from ``SECRET_KEY`` (HMAC-SHA256), so a demo works out of the box and every process agrees.
"""

from __future__ import annotations

import hashlib
import hmac
import os

from django.conf import settings

from o2o.core.orders import QrClaims, sign
from o2o.orders.models import PickupCode


def qr_key() -> bytes:
    raw = os.environ.get("O2O_PICKUP_QR_KEY", "")
    if raw:
        try:
            key = bytes.fromhex(raw)
        except ValueError:
            key = raw.encode()
        if len(key) >= 32:
            return key
    return hmac.new(settings.SECRET_KEY.encode(), b"o2o pickup qr v1", hashlib.sha256).digest()


def qr_payload(code: PickupCode) -> str:
    return sign(QrClaims(shipment_id=code.shipment_id, code=code.code, expires_at=int(code.expires_at.timestamp())),
                qr_key())
