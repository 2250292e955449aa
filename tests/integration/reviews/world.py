"""Builders for the review tests: a member's order with lines, in any status."""

from __future__ import annotations

import itertools

from o2o.accounts.models import Member
from o2o.catalog.models import Sku
from o2o.orders.models import Order, OrderLine

_n = itertools.count(1)


def order_with_lines(m: Member, *skus: Sku, status: str = "completed", fen: int = 1000,
                     channel: str = "h5") -> tuple[Order, list[OrderLine]]:
    n = next(_n)
    total = fen * len(skus)
    o = Order.objects.create(number=f"RV{n}", member=m, channel=channel, choice="same_city", status=status,
                             goods_fen=total, total_fen=total, paid_fen=total if status != "pending_payment" else 0)
    lines = [OrderLine.objects.create(order=o, sku=s, name=s.name, qty=1, unit_price_fen=fen, list_price_fen=fen,
                                      subtotal_fen=fen, payable_fen=fen) for s in skus]
    return o, lines
