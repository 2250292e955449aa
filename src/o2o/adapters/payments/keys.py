"""RSA keys for the payment adapters: loading, PEM export, PKCS#1 v1.5 SHA-256 sign/verify, test keys.

Both providers sign with "SHA256withRSA" (RSA PKCS#1 v1.5 over SHA-256), base64-encoded.

Keys load from a ``cryptography`` key object, PEM (PKCS#1 or PKCS#8 private keys, SubjectPublicKeyInfo
public keys, or an X.509 certificate such as a WeChat platform certificate), or the bare base64
DER that the Alipay console hands out (no ``-----BEGIN`` line).
"""

from __future__ import annotations

import base64
import binascii
import secrets
import threading
from dataclasses import dataclass

from cryptography import x509
from cryptography.exceptions import InvalidSignature
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import padding, rsa

PrivateKey = rsa.RSAPrivateKey
PublicKey = rsa.RSAPublicKey


def generate_rsa_key(bits: int = 2048) -> rsa.RSAPrivateKey:
    return rsa.generate_private_key(public_exponent=65537, key_size=bits)


def _as_bytes(data: bytes | str) -> bytes:
    return data.encode("ascii") if isinstance(data, str) else bytes(data)


def _bare_der(data: bytes) -> bytes:
    try:
        return base64.b64decode(b"".join(data.split()), validate=True)
    except binascii.Error as exc:
        raise ValueError("密钥格式无法识别 unrecognised key format (neither PEM nor base64 DER)") from exc


def load_private_key(key: rsa.RSAPrivateKey | bytes | str, password: bytes | None = None) -> rsa.RSAPrivateKey:
    """An RSA private key from a key object, PEM (PKCS#1/PKCS#8) or bare base64 DER."""
    if isinstance(key, rsa.RSAPrivateKey):
        return key
    data = _as_bytes(key).strip()
    if data.startswith(b"-----BEGIN"):
        loaded = serialization.load_pem_private_key(data, password=password)
    else:
        loaded = serialization.load_der_private_key(_bare_der(data), password=password)
    if not isinstance(loaded, rsa.RSAPrivateKey):
        raise ValueError("需要 RSA 私钥 an RSA private key is required")
    return loaded


def load_public_key(key: rsa.RSAPublicKey | rsa.RSAPrivateKey | bytes | str) -> rsa.RSAPublicKey:
    """An RSA public key from a key object (a private key gives its public half), PEM, certificate or DER."""
    if isinstance(key, rsa.RSAPublicKey):
        return key
    if isinstance(key, rsa.RSAPrivateKey):
        return key.public_key()
    data = _as_bytes(key).strip()
    if data.startswith(b"-----BEGIN CERTIFICATE"):
        loaded = x509.load_pem_x509_certificate(data).public_key()
    elif data.startswith(b"-----BEGIN"):
        loaded = serialization.load_pem_public_key(data)
    else:
        loaded = serialization.load_der_public_key(_bare_der(data))
    if not isinstance(loaded, rsa.RSAPublicKey):
        raise ValueError("需要 RSA 公钥 an RSA public key is required")
    return loaded


def to_pem(key: rsa.RSAPrivateKey | rsa.RSAPublicKey) -> bytes:
    """PKCS#8 PEM (unencrypted) for a private key, SubjectPublicKeyInfo PEM for a public key."""
    if isinstance(key, rsa.RSAPrivateKey):
        return key.private_bytes(serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8,
                                 serialization.NoEncryption())
    return key.public_bytes(serialization.Encoding.PEM, serialization.PublicFormat.SubjectPublicKeyInfo)


def rsa_sign(key: rsa.RSAPrivateKey, message: bytes) -> str:
    """base64(SHA256withRSA(message)), PKCS#1 v1.5 padding."""
    return base64.b64encode(key.sign(message, padding.PKCS1v15(), hashes.SHA256())).decode("ascii")


def rsa_verify(key: rsa.RSAPublicKey, message: bytes, signature_b64: str) -> bool:
    """True only for a well-formed base64 signature that verifies; never raises on bad input."""
    try:
        signature = base64.b64decode(signature_b64.encode("ascii"), validate=True)
        key.verify(signature, message, padding.PKCS1v15(), hashes.SHA256())
    except (InvalidSignature, ValueError, TypeError, UnicodeEncodeError, AttributeError):
        return False
    return True


@dataclass(frozen=True)
class SandboxKeys:
    """Keys for the local simulators: never use outside tests and the demo.

    ``merchant`` signs our WeChat requests, ``platform`` is WeChat's; ``app`` signs our Alipay
    requests, ``alipay`` is Alipay's; ``apiv3_key`` is the 32-byte WeChat APIv3 key.
    """

    merchant: rsa.RSAPrivateKey
    platform: rsa.RSAPrivateKey
    app: rsa.RSAPrivateKey
    alipay: rsa.RSAPrivateKey
    apiv3_key: bytes


_test_keys: SandboxKeys | None = None
_test_keys_lock = threading.Lock()


def test_keys() -> SandboxKeys:
    """Process-wide TEST keys, generated once (RSA generation is slow)."""
    global _test_keys
    with _test_keys_lock:
        if _test_keys is None:
            _test_keys = SandboxKeys(
                merchant=generate_rsa_key(), platform=generate_rsa_key(),
                app=generate_rsa_key(), alipay=generate_rsa_key(),
                # Like a real APIv3 key: 32 ASCII characters chosen by the merchant.
                apiv3_key=secrets.token_hex(16).encode("ascii"),
            )
        return _test_keys


test_keys.__test__ = False  # type: ignore[attr-defined]  # not a pytest test despite the name
