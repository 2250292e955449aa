"""Key loading in every format the providers hand out, and SHA256withRSA sign/verify."""

from __future__ import annotations

import base64
from datetime import UTC, datetime, timedelta

import pytest
from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec, padding
from cryptography.x509.oid import NameOID

from o2o.adapters.payments.keys import (
    SandboxKeys,
    load_private_key,
    load_public_key,
    rsa_sign,
    rsa_verify,
    test_keys,
    to_pem,
)

KEY = test_keys().merchant


def same_private(a, b) -> bool:
    return a.private_numbers() == b.private_numbers()


def test_test_keys_are_cached_and_distinct() -> None:
    keys = test_keys()
    assert keys is test_keys() and isinstance(keys, SandboxKeys)
    moduli = {k.public_key().public_numbers().n for k in (keys.merchant, keys.platform, keys.app, keys.alipay)}
    assert len(moduli) == 4
    assert all(k.key_size == 2048 for k in (keys.merchant, keys.platform, keys.app, keys.alipay))
    assert len(keys.apiv3_key) == 32 and keys.apiv3_key.isascii()


def test_private_key_formats() -> None:
    pkcs8 = to_pem(KEY)
    assert pkcs8.startswith(b"-----BEGIN PRIVATE KEY-----")
    pkcs1 = KEY.private_bytes(serialization.Encoding.PEM, serialization.PrivateFormat.TraditionalOpenSSL,
                              serialization.NoEncryption())
    bare = base64.b64encode(KEY.private_bytes(serialization.Encoding.DER, serialization.PrivateFormat.PKCS8,
                                              serialization.NoEncryption()))
    for source in (KEY, pkcs8, pkcs8.decode(), pkcs1, bare, bare.decode()):
        assert same_private(load_private_key(source), KEY)


def test_public_key_formats() -> None:
    public = KEY.public_key()
    pem = to_pem(public)
    assert pem.startswith(b"-----BEGIN PUBLIC KEY-----")
    bare = base64.b64encode(public.public_bytes(serialization.Encoding.DER,
                                                serialization.PublicFormat.SubjectPublicKeyInfo))
    name = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, "Tenpay.com Root CA")])
    now = datetime.now(UTC)
    cert = (x509.CertificateBuilder().subject_name(name).issuer_name(name).public_key(public)
            .serial_number(x509.random_serial_number()).not_valid_before(now).not_valid_after(now + timedelta(days=1))
            .sign(KEY, hashes.SHA256()))
    for source in (public, KEY, pem, bare.decode(), cert.public_bytes(serialization.Encoding.PEM)):
        assert load_public_key(source).public_numbers() == public.public_numbers()


def test_non_rsa_and_garbage_keys_are_refused() -> None:
    ec_key = ec.generate_private_key(ec.SECP256R1())
    ec_pem = ec_key.private_bytes(serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8,
                                  serialization.NoEncryption())
    with pytest.raises(ValueError):
        load_private_key(ec_pem)
    with pytest.raises(ValueError):
        load_public_key(ec_key.public_key().public_bytes(serialization.Encoding.PEM,
                                                         serialization.PublicFormat.SubjectPublicKeyInfo))
    for garbage in ("not a key!", b"-----BEGIN PRIVATE KEY-----\nAAAA\n-----END PRIVATE KEY-----", "QUJD"):
        with pytest.raises(ValueError):
            load_private_key(garbage)


def test_sign_and_verify() -> None:
    signature = rsa_sign(KEY, b"message")
    raw = base64.b64decode(signature)
    KEY.public_key().verify(raw, b"message", padding.PKCS1v15(), hashes.SHA256())  # SHA256withRSA, PKCS#1 v1.5
    assert rsa_sign(KEY, b"message") == signature  # deterministic padding
    assert rsa_verify(KEY.public_key(), b"message", signature)
    assert not rsa_verify(KEY.public_key(), b"messagE", signature)
    assert not rsa_verify(test_keys().platform.public_key(), b"message", signature)
    for bad in ("", "!!!", "QUJD", signature[:-4], "é", None, 12):
        assert not rsa_verify(KEY.public_key(), b"message", bad)  # type: ignore[arg-type]
