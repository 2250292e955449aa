"""Order, return and payment numbers: dated, unguessable, unique (a UNIQUE index decides)."""

from __future__ import annotations

import secrets
from datetime import datetime
from zoneinfo import ZoneInfo

SHANGHAI = ZoneInfo("Asia/Shanghai")


def _dated(prefix: str, now: datetime, digits: int) -> str:
    day = now.astimezone(SHANGHAI).strftime("%Y%m%d")
    return f"{prefix}{day}{secrets.randbelow(10 ** digits):0{digits}d}"


# 16 random digits a day: even at 26 million orders a day (300 a second) a clash is expected about
# once a month (birthday bound n^2 / 2N); the UNIQUE index refuses it and the request is retried.
DIGITS = 16


def order_number(now: datetime) -> str:
    """e.g. O202611301234567890123456: the Shanghai date and 16 random digits (unguessable)."""
    return _dated("O", now, DIGITS)


def return_number(now: datetime) -> str:
    return _dated("R", now, DIGITS)


def out_trade_no(order_number: str, attempt: int) -> str:
    """The payment's number at the provider (WeChat: 6-32 chars, Alipay: up to 64)."""
    return f"P{order_number[1:]}{attempt:02d}"


def out_refund_no(order_number: str, seq: int) -> str:
    return f"F{order_number[1:]}{seq:03d}"
