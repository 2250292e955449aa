"""Coupon codes: 15 random digits and a Damm check digit (16 in all), shown 4-4-4-4.

A coupon is a bearer instrument worth money at any counter in its scope, so its code must not be
guessable: 10^15 codes for at most millions live ones. A typo is caught by the check digit before
any database look-up. The coupon's QR code carries the same digits (the counter's scanner types them).
"""

from __future__ import annotations

import secrets

from o2o.core.orders.pickup_code import damm_check_digit

DIGITS = 16
_SEPARATORS = frozenset(" -\t\u3000\uff0d")
_FULL_WIDTH = {chr(0xFF10 + d): str(d) for d in range(10)}


def new_code() -> str:
    body = f"{secrets.randbelow(10 ** (DIGITS - 1)):0{DIGITS - 1}d}"
    return body + damm_check_digit(body)


def normalize(text: object) -> str | None:
    """The canonical code from what was typed or scanned ("1234 5678 ...", full-width digits), or None."""
    if not isinstance(text, str) or len(text) > 64:
        return None
    kept = "".join(_FULL_WIDTH.get(c, c) for c in text.strip() if c not in _SEPARATORS)
    if len(kept) != DIGITS or not kept.isascii() or not kept.isdigit():
        return None
    return kept if damm_check_digit(kept[:-1]) == kept[-1] else None


def format_code(code: str) -> str:
    return " ".join(code[i:i + 4] for i in range(0, len(code), 4))
