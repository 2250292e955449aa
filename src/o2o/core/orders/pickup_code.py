"""Pickup codes: 9 random digits and a Damm check digit.

The code is what the customer shows (or reads out) at the counter and what the clerk types
when the QR scan fails. Digits only, because clerks type them on a numeric keypad and
customers read them out in Chinese. Nine random digits (10^9 codes, drawn with the
caller's ``secrets.randbelow``) make a guess hopeless against a rate-limited lookup that
also checks the store; the tenth digit is a Damm check digit, so every single mistyped
digit and every swap of two neighbouring digits is refused before any lookup happens
(Damm's quasigroup catches both error classes completely, unlike Luhn, which misses the
09 <-> 90 swap). A leading 0 is allowed: codes are strings, never numbers.

Human input goes through :func:`normalize`, which forgives what people type: spaces and
hyphens (including the ideographic space and the full-width hyphen) and full-width digits
``０-９`` (a Chinese IME in full-width mode types those); nothing else. Other Unicode digits
(Arabic-Indic, superscripts, circled digits) are refused rather than folded, so the
canonical form is always 10 ASCII digits. :func:`is_well_formed` is the strict check for
canonical codes (what the database stores).
"""

from __future__ import annotations

from collections.abc import Callable

__all__ = ["CODE_DIGITS", "damm_check_digit", "format_code", "is_well_formed", "new_code", "normalize"]

CODE_DIGITS = 10
_RANDOM_DIGITS = CODE_DIGITS - 1
_ASCII_DIGITS = frozenset("0123456789")

# The Damm operation table: a totally anti-symmetric quasigroup of order 10 (Damm, 2004).
_DAMM = (
    (0, 3, 1, 7, 5, 9, 8, 6, 4, 2),
    (7, 0, 9, 2, 1, 5, 4, 8, 6, 3),
    (4, 2, 0, 6, 8, 7, 1, 3, 5, 9),
    (1, 7, 5, 0, 9, 8, 3, 4, 2, 6),
    (6, 1, 2, 3, 0, 4, 5, 9, 7, 8),
    (3, 6, 7, 4, 2, 0, 9, 5, 8, 1),
    (5, 8, 6, 9, 7, 2, 0, 1, 3, 4),
    (8, 9, 4, 5, 3, 6, 2, 0, 1, 7),
    (9, 4, 3, 8, 6, 1, 7, 2, 0, 5),
    (2, 5, 8, 1, 4, 3, 6, 7, 9, 0),
)

# What normalize() forgives: separators dropped, full-width digits folded to ASCII.
_SEPARATORS = frozenset(" -\t\u3000\uff0d")
_FULL_WIDTH = {chr(0xFF10 + d): str(d) for d in range(10)}
_MAX_INPUT = 64  # anything longer is junk, whatever it contains


def _is_ascii_digits(text: str) -> bool:
    return all(c in _ASCII_DIGITS for c in text)


def _interim(digits: str) -> int:
    state = 0
    for c in digits:
        state = _DAMM[state][ord(c) - 48]
    return state


def damm_check_digit(digits: str) -> str:
    """The Damm check digit of a string of ASCII digits: ``"572"`` -> ``"4"``."""
    if not isinstance(digits, str) or not _is_ascii_digits(digits):
        raise ValueError(f"只能包含数字 Digits only: {digits!r}")
    return str(_interim(digits))


def new_code(randbelow: Callable[[int], int]) -> str:
    """A fresh code: 9 digits from ``randbelow(10**9)`` plus the check digit (10 characters).

    Pass ``secrets.randbelow`` in production; tests pass a seeded ``random.Random().randrange``.
    """
    n = randbelow(10**_RANDOM_DIGITS)
    if not isinstance(n, int) or isinstance(n, bool) or not 0 <= n < 10**_RANDOM_DIGITS:
        raise ValueError(f"随机数超出范围 Random number out of range: {n!r}")
    body = f"{n:0{_RANDOM_DIGITS}d}"
    return body + damm_check_digit(body)


def is_well_formed(code: str) -> bool:
    """Strict: exactly 10 ASCII digits whose Damm check passes (canonical form only)."""
    return (
        isinstance(code, str) and len(code) == CODE_DIGITS and _is_ascii_digits(code) and _interim(code) == 0
    )


def normalize(code: str) -> str | None:
    """Canonical code from what a person typed ("1234 5678 90", "１２３４-５６７８９０"), or None."""
    if not isinstance(code, str) or len(code) > _MAX_INPUT:
        return None
    kept = "".join(_FULL_WIDTH.get(c, c) for c in code.strip() if c not in _SEPARATORS)
    return kept if is_well_formed(kept) else None


def format_code(code: str) -> str:
    """For display, grouped 4-4-2: ``"1234567890"`` -> ``"1234 5678 90"``."""
    canonical = normalize(code)
    if canonical is None:
        raise ValueError(f"取货码无效 Invalid pickup code: {code!r}")
    return f"{canonical[:4]} {canonical[4:8]} {canonical[8:]}"
