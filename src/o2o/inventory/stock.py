"""Receiving and adjusting stock. Each call runs in the caller's transaction."""

from __future__ import annotations

import uuid
from datetime import datetime

from django.utils import timezone

from o2o.common.errors import InvalidInput
from o2o.inventory import buckets
from o2o.inventory.errors import InsufficientStock, shortage
from o2o.inventory.ledger import Entry, Who, record
from o2o.inventory.models import MovementKind
from o2o.inventory.validation import Line, check_lines, check_location


def stock_receive(*, location_id: int, lines: list[Line], who: Who, reference: str = "",
                  reason: str = "入库 goods received", key_prefix: str | None = None,
                  now: datetime | None = None) -> list[Line]:
    """Goods arrive at a location (a delivery, a found item): on hand goes up."""
    check_location(location_id)
    lines = check_lines(lines)
    prefix = key_prefix or f"receive:{uuid.uuid4().hex}"
    record([Entry(location_id, ln.sku_id, MovementKind.RECEIVE, ln.qty, delta_on_hand=ln.qty,
                  key=f"{prefix}:{ln.sku_id}", reason=reason, reference=reference, occurred_at=now)
            for ln in lines], who)
    for ln in lines:
        buckets.apply_change(location_id=location_id, sku_id=ln.sku_id, d_on_hand=ln.qty)
    return lines


def stock_adjust(*, location_id: int, sku_id: int, delta: int, reason: str, who: Who, reference: str = "",
                 key_prefix: str | None = None, now: datetime | None = None) -> int:
    """Correct on hand by ``delta`` (damage, loss, found) with a stated reason.

    A decrease may not take reserved stock: it fails with ``InsufficientStock`` instead.
    """
    if not reason.strip():
        raise InvalidInput("调整必须说明原因 An adjustment needs a reason", code="reason_required")
    if delta == 0 or abs(delta) > 1_000_000:
        raise InvalidInput("调整数量无效 delta must be non-zero", code="invalid_quantity", details={"delta": delta})
    check_location(location_id)
    check_lines([Line(sku_id, abs(delta))])
    prefix = key_prefix or f"adjust:{uuid.uuid4().hex}"
    record([Entry(location_id, sku_id, MovementKind.ADJUST, delta, delta_on_hand=delta, key=f"{prefix}:{sku_id}",
                  reason=reason, reference=reference, occurred_at=now or timezone.now())], who)
    try:
        buckets.apply_change(location_id=location_id, sku_id=sku_id, d_on_hand=delta)
    except buckets.CannotApply as exc:
        raise InsufficientStock([shortage(location_id, sku_id, -delta, exc.totals.available)]) from exc
    return delta


def stock_issue(*, location_id: int, sku_id: int, qty: int, reason: str, who: Who, key: str, reference: str = "",
                now: datetime | None = None) -> None:
    """Goods leave a store without an order line: a gift or a points exchange handed over at the counter
    (ledger kind ``sale`` at price 0, ``details.issue``). Once per ``key`` (the ledger's idempotency key);
    it may not take reserved stock: ``InsufficientStock`` (409) and nothing is written."""
    if not 0 < qty <= 1_000_000:
        raise InvalidInput("数量无效 qty must be positive", code="invalid_quantity", details={"qty": qty})
    check_location(location_id)
    check_lines([Line(sku_id, qty)])
    try:
        buckets.apply_change(location_id=location_id, sku_id=sku_id, d_on_hand=-qty)
    except buckets.CannotApply as exc:
        raise InsufficientStock([shortage(location_id, sku_id, qty, exc.totals.available)]) from exc
    record([Entry(location_id, sku_id, MovementKind.SALE, qty, delta_on_hand=-qty, key=key, reason=reason,
                  reference=reference, details={"issue": True, "price_fen": 0},
                  occurred_at=now or timezone.now())], who)
