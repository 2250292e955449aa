"""Order, return and payment numbers: dated, unguessable, unique (a UNIQUE index decides)."""

from __future__ import annotations

import secrets
from datetime import datetime
from zoneinfo import ZoneInfo

SHANGHAI = ZoneInfo("Asia/Shanghai")


def _dated(prefix: str, now: datetime, digits: int) -> str:
    day = now.astimezone(SHANGHAI).strftime("%Y%m%d")
    return f"{prefix}{day}{secrets.randbelow(10 ** digits):0{digits}d}"


def order_number(now: datetime) -> str:
    """e.g. O2026113012345678901: the Shanghai date and 11 random digits (guessing one is hopeless)."""
    return _dated("O", now, 11)


def return_number(now: datetime) -> str:
    return _dated("R", now, 11)


def out_trade_no(order_number: str, attempt: int) -> str:
    """The payment's number at the provider (WeChat: 6-32 chars, Alipay: up to 64)."""
    return f"P{order_number[1:]}{attempt:02d}"


def out_refund_no(order_number: str, seq: int) -> str:
    return f"F{order_number[1:]}{seq:03d}"
