"""Surcharges: extra fen the optimiser adds to its view of a node, per shipment and per unit.

The single-order search is exact for any cost of the form ``a_s + sum_l c_{s,l}``
(:mod:`.search`). A surcharge keeps that form: ``per_shipment[node]`` is added to ``a_s``
of every source at the node and ``per_unit[(node, sku)] * qty`` to ``c_{s,l}`` of the line
of that SKU. So :func:`~.single.solve` stays exact for "plan objective + surcharges".

Uses: dual prices of stock and capacity rows (the clairvoyant bound's column generation,
:mod:`.bound`, prices new plans this way: Lagrangian pricing), and reservation values a
caller wants to keep at a node. Plans are always priced with the plain cost model; only
the search sees surcharges. Values are integer fen; negative values are treated as 0 (a
surcharge never makes a node cheaper than its real cost). ``cap_fen`` bounds the surcharge
of one shipment and of one line: bid prices use it so that a real order is never left
unfilled to keep stock for a forecast one (the surcharges of a one-line shipment stay
below the unfilled-line penalty). ``unfilled_extra_fen`` raises the unfilled-line penalty
the search uses (not the plans' prices): set at least as high as any line's surcharges, it
makes surcharges choose *between* ways to fill a line without ever making leaving it
unfilled the better choice: a real order is never refused for a forecast one.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field

from o2o.core.routing.basket import Basket
from o2o.core.routing.model import NodeId, Plan, SkuId

__all__ = ["Surcharges"]


@dataclass(frozen=True)
class Surcharges:
    """``per_shipment[node_id]`` fen per shipment, ``per_unit[(node_id, sku_id)]`` fen per unit.

    ``per_line[(node_id, sku_id)]``, where given, replaces the per-unit price by a schedule:
    entry ``q - 1`` is the surcharge of a line of ``q`` units (a unit-level price: the
    first unit taken may be free and the fourth dear); beyond the schedule each further
    unit costs what the last one did.

    ``split_fen`` is added for every parcel after an order's first, on top of the cost
    model's extra-parcel penalty: a split takes stock and a pick task at a second node,
    which the orders still to come may need (see :mod:`.claims`).
    """

    per_shipment: Mapping[NodeId, int] = field(default_factory=dict)
    per_unit: Mapping[tuple[NodeId, SkuId], int] = field(default_factory=dict)
    cap_fen: int | None = None
    unfilled_extra_fen: int = 0
    per_line: Mapping[tuple[NodeId, SkuId], tuple[int, ...]] = field(default_factory=dict)
    split_fen: int = 0

    def _cap(self, value: int) -> int:
        value = max(0, value)
        return value if self.cap_fen is None else min(value, max(0, self.cap_fen))

    def shipment(self, node_id: NodeId) -> int:
        """The surcharge of one shipment from ``node_id`` (capped)."""
        return self._cap(int(self.per_shipment.get(node_id, 0)))

    def line(self, node_id: NodeId, sku_id: SkuId, qty: int) -> int:
        """The surcharge of a line of ``qty`` units of ``sku_id`` from ``node_id`` (capped)."""
        schedule = self.per_line.get((node_id, sku_id)) if self.per_line else None
        if schedule and qty > 0:
            if qty <= len(schedule):
                return self._cap(int(schedule[qty - 1]))
            last = schedule[-1] - (schedule[-2] if len(schedule) > 1 else 0)
            return self._cap(int(schedule[-1] + last * (qty - len(schedule))))
        return self._cap(max(0, int(self.per_unit.get((node_id, sku_id), 0))) * qty)

    def of(self, node_id: NodeId, basket: Basket) -> tuple[int, tuple[int, ...] | None]:
        """The node's per-shipment surcharge and per-line surcharges for ``basket`` (None: all 0)."""
        fixed = self.shipment(node_id)
        if not self.per_unit and not self.per_line:
            return fixed, None
        lines = tuple(self.line(node_id, sku, qty) for sku, qty in zip(basket.skus, basket.qtys, strict=True))
        return fixed, (lines if any(lines) else None)

    def of_plan(self, plan: Plan) -> int:
        """The surcharges of everything ``plan`` ships (what the search added to its objective)."""
        total = max(0, self.split_fen) * max(0, len(plan.shipments) - 1)
        for s in plan.shipments:
            total += self.shipment(s.node_id)
            if self.per_unit or self.per_line:
                total += sum(self.line(s.node_id, ln.sku_id, ln.qty) for ln in s.lines)
        return total
