"""Signed pickup QR payloads: round trip, tampering, expiry, and garbage only ever raises BadQr."""

from __future__ import annotations

import base64
import hashlib
import hmac
import json

import pytest
from hypothesis import given
from hypothesis import strategies as st

from o2o.core.orders import BadQr, QrClaims, damm_check_digit, sign, verify

KEY = b"k" * 32
OTHER_KEY = b"j" * 32
CODE = "123456789" + damm_check_digit("123456789")
NOW = 1_717_200_000
CLAIMS = QrClaims(shipment_id=42, code=CODE, expires_at=NOW + 900)


def b64(raw: bytes) -> str:
    return base64.urlsafe_b64encode(raw).rstrip(b"=").decode()


def reason(payload, key=KEY, now=NOW) -> str:
    with pytest.raises(BadQr) as err:
        verify(payload, key, now=now)
    return err.value.reason


def test_round_trip_and_format():
    payload = sign(CLAIMS, KEY)
    assert verify(payload, KEY, now=NOW) == CLAIMS
    assert verify(payload + "\r\n", KEY, now=NOW) == CLAIMS  # scanners append line ends
    prefix, body, mac = payload.split(".")
    assert prefix == "o2o1" and "=" not in payload and payload.isascii()
    assert json.loads(base64.urlsafe_b64decode(body + "==")) == {"c": CODE, "e": NOW + 900, "s": 42, "v": 1}
    assert len(base64.urlsafe_b64decode(mac + "=")) == 32
    assert sign(CLAIMS, KEY) == payload  # deterministic
    assert len(payload) < 120


def test_tampered_claims_signature_or_key_is_bad_signature():
    payload = sign(CLAIMS, KEY)
    prefix, body, mac = payload.split(".")
    forged = b64(json.dumps({"c": CODE, "e": NOW + 900, "s": 43, "v": 1}, separators=(",", ":")).encode())
    assert reason(f"{prefix}.{forged}.{mac}") == "bad_signature"
    other_mac = sign(QrClaims(43, CODE, NOW + 900), KEY).split(".")[2]
    assert reason(f"{prefix}.{body}.{other_mac}") == "bad_signature"
    flipped = ("A" if mac[0] != "A" else "B") + mac[1:]
    assert reason(f"{prefix}.{body}.{flipped}") == "bad_signature"
    assert reason(payload, key=OTHER_KEY) == "bad_signature"


def test_expiry_is_exclusive():
    payload = sign(CLAIMS, KEY)
    assert verify(payload, KEY, now=CLAIMS.expires_at - 1) == CLAIMS
    assert reason(payload, now=CLAIMS.expires_at) == "expired"
    assert reason(payload, now=CLAIMS.expires_at + 3600) == "expired"


def test_expiry_is_checked_after_the_signature():
    payload = sign(CLAIMS, OTHER_KEY)
    assert reason(payload, now=CLAIMS.expires_at + 1) == "bad_signature"


@pytest.mark.parametrize(
    "garbage",
    [
        "",
        "hello",
        "o2o1",
        "o2o1..",
        "o2o1.abc",
        "o2o2.e30.AAAA",
        "o2o1.e30=.AAAA",  # padding
        "o2o1.e3 0.AAAA",
        "o2o1.e30.AAAA.extra",
        "o2o1.e30.AAAA",  # a MAC of the wrong length
        "o2o1.A.AAAA",  # not a base64 length
        "o2o1.e31." + "A" * 43,  # non-canonical trailing bits
        "o2o1.中文.AAAA",
        "x" * 5000,
        None,
        b"o2o1.e30.AAAA",
    ],
)
def test_garbage_is_malformed(garbage):
    assert reason(garbage) == "malformed"


def test_signed_but_unexpected_json_is_malformed():
    # Only someone holding the key could produce these, but they are still refused cleanly.
    for body in [
        b"[]",
        b"{}",
        b"not json",
        b"\xff",
        b'{"c":"1","e":1,"s":1,"v":1}',
        b'{"c":"%s","e":1,"s":1,"v":2}' % CODE.encode(),
    ]:
        signing_input = f"o2o1.{b64(body)}"
        mac = b64(hmac.new(KEY, signing_input.encode(), hashlib.sha256).digest())
        assert reason(f"{signing_input}.{mac}", now=0) == "malformed"


@given(st.text(max_size=200))
def test_any_text_raises_only_bad_qr(text):
    with pytest.raises(BadQr) as err:
        verify(text, KEY, now=NOW)
    assert err.value.reason in {"malformed", "bad_signature"}


@given(st.integers(1, 2**53), st.integers(0, 2**40), st.text(alphabet="0123456789", min_size=9, max_size=9))
def test_round_trip_property(shipment_id, expires_at, body):
    claims = QrClaims(shipment_id, body + damm_check_digit(body), expires_at)
    assert verify(sign(claims, KEY), KEY, now=expires_at - 1) == claims


@pytest.mark.parametrize(
    "claims",
    [
        QrClaims(0, CODE, NOW),
        QrClaims(True, CODE, NOW),
        QrClaims(1, "1234567890", NOW),
        QrClaims(1, CODE, -1),
        QrClaims(1, CODE, 1.5),
        QrClaims(1, CODE, NOW, v=2),
    ],
)
def test_sign_refuses_bad_claims(claims):
    with pytest.raises(ValueError, match="Invalid QR claims"):
        sign(claims, KEY)


def test_short_keys_are_a_programming_error():
    with pytest.raises(ValueError, match="32 bytes"):
        sign(CLAIMS, b"short")
    with pytest.raises(ValueError, match="32 bytes"):
        verify(sign(CLAIMS, KEY), b"", now=NOW)


def test_bad_qr_message_is_bilingual():
    assert str(BadQr("expired")) == "二维码已过期 QR code expired"
