"""Writing the append-only movement ledger. Rows are only ever inserted."""

from __future__ import annotations

import json
import uuid
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from django.db import connection
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


_COLUMNS = ("location_id", "sku_id", "kind", "qty", "delta_on_hand", "delta_reserved", "idempotency_key", "reason",
            "reference", "actor_id", "actor_label", "reservation_id", "transfer_id", "details", "occurred_at",
            "created_at")
_TYPES = ("bigint", "bigint", "text", "integer", "integer", "integer", "text", "text", "text", "bigint", "text",
          "bigint", "bigint", "jsonb", "timestamptz", "timestamptz")
# One INSERT with one array per column: a 1,000-row batch is 16 parameters, not 16,000, so
# neither the driver nor the server spends its time on parameter lists (POS batches).
_UNNEST_INSERT = (
    f"INSERT INTO inventory_movement ({', '.join(_COLUMNS)}) SELECT * FROM unnest("
    + ", ".join(f"%s::{t}[]" for t in _TYPES) + ")"
)
_UNNEST_FROM = 50


def record(entries: list[Entry], who: Who) -> None:
    """Insert one ledger row per entry, in the caller's transaction."""
    now = timezone.now()
    rows = [
        (e.location_id, e.sku_id, str(e.kind), e.qty, e.delta_on_hand, e.delta_reserved,
         e.key or f"auto:{uuid.uuid4().hex}", e.reason[:200], e.reference[:100], who.user_id, who.label[:100],
         e.reservation_id, e.transfer_id, e.details, e.occurred_at or now, now)
        for e in entries
    ]
    if connection.vendor == "postgresql" and len(rows) >= _UNNEST_FROM:
        columns = [list(col) for col in zip(*rows, strict=True)]
        columns[13] = [json.dumps(d) for d in columns[13]]
        with connection.cursor() as cur:
            cur.execute(_UNNEST_INSERT, columns)
        return
    Movement.objects.bulk_create([Movement(**dict(zip(_COLUMNS, row, strict=True))) for row in rows])
