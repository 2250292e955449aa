"""Writing the append-only movement ledger. Rows are only ever inserted."""

from __future__ import annotations

import uuid
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from django.utils import timezone

from o2o.inventory.models import Movement


@dataclass
class Entry:
    location_id: int
    sku_id: int
    kind: str
    qty: int
    delta_on_hand: int = 0
    delta_reserved: int = 0
    key: str = ""
    reason: str = ""
    reference: str = ""
    reservation_id: int | None = None
    transfer_id: int | None = None
    details: dict[str, Any] = field(default_factory=dict)
    occurred_at: datetime | None = None


@dataclass(frozen=True)
class Who:
    """Who made a change: a staff user, or a system process named by ``label``."""

    user_id: int | None = None
    label: str = ""


SYSTEM = Who(label="system")


def record(entries: list[Entry], who: Who) -> list[Movement]:
    now = timezone.now()
    rows = [
        Movement(
            location_id=e.location_id, sku_id=e.sku_id, kind=e.kind, qty=e.qty,
            delta_on_hand=e.delta_on_hand, delta_reserved=e.delta_reserved,
            idempotency_key=e.key or f"auto:{uuid.uuid4().hex}", reason=e.reason[:200], reference=e.reference[:100],
            actor_id=who.user_id, actor_label=who.label[:100], reservation_id=e.reservation_id,
            transfer_id=e.transfer_id, details=e.details, occurred_at=e.occurred_at or now,
        )
        for e in entries
    ]
    return Movement.objects.bulk_create(rows)
