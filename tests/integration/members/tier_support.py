"""Helpers of the tier tests (no tests here): completed orders at chosen times, made directly."""

from __future__ import annotations

import itertools
from datetime import datetime

from o2o.accounts.models import Member
from o2o.orders.models import Order

_seq = itertools.count(1)


def done_order(m: Member, fen: int, at: datetime, *, refunded: int = 0, channel: str = "pos") -> Order:
    """A completed order of ``m`` paid ``fen`` at ``at`` (a till sale unless told), ``refunded`` back."""
    n = next(_seq)
    return Order.objects.create(number=f"T{n:08d}", member=m, channel=channel, choice="counter", status="completed",
                                goods_fen=fen, total_fen=fen, paid_fen=fen, refunded_fen=refunded, created_at=at,
                                paid_at=at, completed_at=at, updated_at=at, external_ref=f"TIER-{n}")
