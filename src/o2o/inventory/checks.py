"""Consistency checks of the inventory, run by ``o2o check-inventory`` (and by tests).

For every item (location, SKU):

* the sums over its Stock buckets equal the sums of its movements (on hand and reserved);
* reserved equals the line totals of its active reservations;
* no bucket row breaks a constraint (on_hand < 0, reserved < 0, reserved > on_hand) -- the
  database refuses such rows, so one means the constraints were lost or bypassed.

Each check is one set-based query (GROUP BY over the three tables at once), returning only
the items that disagree, so it stays fast with hundreds of thousands of items.
"""

from __future__ import annotations

from dataclasses import dataclass

from django.db import connection

from o2o.inventory.models import ReservationStatus

_ITEMS = """
SELECT location_id, sku_id, SUM(s_on), SUM(s_res), SUM(m_on), SUM(m_res), SUM(r_res)
FROM (
    SELECT location_id, sku_id, on_hand AS s_on, reserved AS s_res, 0 AS m_on, 0 AS m_res, 0 AS r_res
    FROM inventory_stock
    UNION ALL
    SELECT location_id, sku_id, 0, 0, delta_on_hand, delta_reserved, 0 FROM inventory_movement
    UNION ALL
    SELECT r.location_id, l.sku_id, 0, 0, 0, 0, l.qty
    FROM inventory_reservationline l JOIN inventory_reservation r ON r.id = l.reservation_id
    WHERE r.status = %s
) t
GROUP BY location_id, sku_id
HAVING SUM(s_on) <> SUM(m_on) OR SUM(s_res) <> SUM(m_res) OR SUM(s_res) <> SUM(r_res)
ORDER BY location_id, sku_id
"""

_ROWS = """
SELECT id, location_id, sku_id, bucket, on_hand, reserved FROM inventory_stock
WHERE on_hand < 0 OR reserved < 0 OR reserved > on_hand
ORDER BY location_id, sku_id, bucket
"""


@dataclass(frozen=True)
class Problem:
    kind: str  # "stock_vs_ledger" | "reserved_vs_reservations" | "row_constraint"
    location_id: int
    sku_id: int
    message: str
    details: dict

    def __str__(self) -> str:
        return f"[{self.kind}] location={self.location_id} sku={self.sku_id}: {self.message} {self.details}"


def run(limit: int | None = None) -> list[Problem]:
    """Every problem found (at most ``limit`` of each kind), items in (location, SKU) order."""
    problems: list[Problem] = []
    suffix = f" LIMIT {int(limit)}" if limit else ""
    with connection.cursor() as cur:
        cur.execute(_ITEMS + suffix, [ReservationStatus.ACTIVE.value])
        for loc, sku, s_on, s_res, m_on, m_res, r_res in cur.fetchall():
            if (s_on, s_res) != (m_on, m_res):
                problems.append(Problem(
                    "stock_vs_ledger", loc, sku, "库存与流水不符 stock differs from the ledger",
                    {"stock_on_hand": int(s_on), "ledger_on_hand": int(m_on),
                     "stock_reserved": int(s_res), "ledger_reserved": int(m_res)}))
            if s_res != r_res:
                problems.append(Problem(
                    "reserved_vs_reservations", loc, sku, "预占数与有效预占单不符 reserved differs from active reservations",
                    {"stock_reserved": int(s_res), "active_reservation_lines": int(r_res)}))
        cur.execute(_ROWS + suffix)
        for row_id, loc, sku, bucket, on_hand, reserved in cur.fetchall():
            problems.append(Problem(
                "row_constraint", loc, sku, "库存行违反约束 stock row breaks a constraint",
                {"stock_id": row_id, "bucket": bucket, "on_hand": on_hand, "reserved": reserved}))
    return problems
