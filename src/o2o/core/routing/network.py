"""The fulfilment network as the router sees it, and what online orders have taken from it.

:class:`Network` is built once per routing session (a wave, a benchmark run) from
:class:`~o2o.core.routing.model.Node` records: it indexes the same-city nodes spatially,
lists the express-capable ones and applies the walk-in safety buffer. :class:`Usage` is
the session's ledger: stock and pick capacity already given to earlier orders (myopic
routing and waves consume it; single-order routing only reads it).

Walk-in buffer: ``usable = floor(available * (1 - share))``. The share is read in basis
points (``round(share * 10000)``) and the product computed in integers, so 10 units at a
0.1 share give exactly 9 (floating point would give 8.999... and floor to 8). Shares
outside [0, 1] are clamped; a NaN share takes the kind's default.

Bad node data never raises: duplicate ids keep the first node, negative or non-integer
stock counts as 0, a NaN/negative radius reaches nothing.
"""

from __future__ import annotations

import math
from collections.abc import Iterable
from dataclasses import dataclass, field

from o2o.core.geo import SpatialIndex
from o2o.core.routing.config import RoutingConfig
from o2o.core.routing.model import Mode, Node, NodeId, Plan, SkuId

__all__ = ["Network", "Usage"]

_BP = 10_000


def _share_bp(node: Node, config: RoutingConfig) -> int:
    share = node.walkin_share
    if share is None or not isinstance(share, int | float) or math.isnan(share):
        share = config.walkin_share.get(node.kind, 0.0)
    if not isinstance(share, int | float) or math.isnan(share):
        share = 0.0
    return min(_BP, max(0, round(share * _BP)))


def _count(value: object) -> int:
    """A stock count as a non-negative int (anything else is 0)."""
    if type(value) is int:  # the common case, fast
        return value if value > 0 else 0
    if isinstance(value, bool) or not isinstance(value, int):
        return 0
    return max(0, value)


@dataclass
class Usage:
    """Stock and capacity already taken by online orders in this session.

    ``stock[(node_id, sku_id)]`` units and ``shipments[node_id]`` pick tasks.
    """

    stock: dict[tuple[NodeId, SkuId], int] = field(default_factory=dict)
    shipments: dict[NodeId, int] = field(default_factory=dict)

    def take(self, plan: Plan) -> None:
        """Record everything ``plan`` ships."""
        for shipment in plan.shipments:
            self.shipments[shipment.node_id] = self.shipments.get(shipment.node_id, 0) + 1
            for line in shipment.lines:
                key = (shipment.node_id, line.sku_id)
                self.stock[key] = self.stock.get(key, 0) + line.qty

    def give_back(self, plan: Plan) -> None:
        """Undo :meth:`take` for ``plan``."""
        for shipment in plan.shipments:
            self.shipments[shipment.node_id] = self.shipments.get(shipment.node_id, 0) - 1
            for line in shipment.lines:
                key = (shipment.node_id, line.sku_id)
                self.stock[key] = self.stock.get(key, 0) - line.qty

    def copy(self) -> Usage:
        """An independent copy."""
        return Usage(stock=dict(self.stock), shipments=dict(self.shipments))


class Network:
    """Nodes indexed for routing. Immutable once built; pair it with a :class:`Usage`."""

    def __init__(self, nodes: Iterable[Node], config: RoutingConfig | None = None) -> None:
        """Index ``nodes`` (duplicate ids: the first wins) under ``config`` (default config)."""
        self.config = config if config is not None else RoutingConfig()
        seen: dict[NodeId, Node] = {}
        for node in nodes:
            if node.node_id not in seen:
                seen[node.node_id] = node
        self.nodes: tuple[Node, ...] = tuple(seen.values())
        self.by_id: dict[NodeId, Node] = seen
        self._share_bp: dict[NodeId, int] = {n.node_id: _share_bp(n, self.config) for n in self.nodes}
        same_city = [
            n
            for n in self.nodes
            if Mode.SAME_CITY in n.capabilities
            and isinstance(n.delivery_radius_m, int | float)
            and n.delivery_radius_m >= 0
        ]
        self.max_radius_m: float = max((float(n.delivery_radius_m) for n in same_city), default=0.0)
        self.same_city_index: SpatialIndex[NodeId] = SpatialIndex((n.node_id, n.location) for n in same_city)
        self.express_nodes: tuple[Node, ...] = tuple(n for n in self.nodes if Mode.EXPRESS in n.capabilities)

    def __len__(self) -> int:
        return len(self.nodes)

    def available(self, node_id: NodeId, sku_id: SkuId, usage: Usage | None = None) -> int:
        """Available units (before the walk-in buffer) not yet taken in this session."""
        node = self.by_id.get(node_id)
        if node is None:
            return 0
        have = _count(node.stock.get(sku_id, 0))
        if usage is not None:
            have -= usage.stock.get((node_id, sku_id), 0)
        return max(0, have)

    def usable(self, node_id: NodeId, sku_id: SkuId, usage: Usage | None = None) -> int:
        """Units online routing may still take: after the walk-in buffer and this session's usage."""
        node = self.by_id.get(node_id)
        if node is None:
            return 0
        have = _count(node.stock.get(sku_id, 0))
        if have == 0:
            return 0
        usable = have * (_BP - self._share_bp[node_id]) // _BP
        if usage is not None:
            usable -= usage.stock.get((node_id, sku_id), 0)
        return max(0, usable)

    def cover_mask(self, node_id: NodeId, skus: tuple[SkuId, ...], qtys: tuple[int, ...], usage: Usage | None) -> int:
        """Bit i set when the node's usable stock of ``skus[i]`` covers ``qtys[i]`` (same rule as :meth:`usable`)."""
        node = self.by_id.get(node_id)
        if node is None:
            return 0
        keep = _BP - self._share_bp[node_id]
        stock = node.stock
        taken = usage.stock if usage is not None and usage.stock else None
        mask = 0
        for i, sku in enumerate(skus):
            have = _count(stock.get(sku, 0))
            if have == 0:
                continue
            usable = have * keep // _BP
            if taken is not None:
                usable -= taken.get((node_id, sku), 0)
            if usable >= qtys[i]:
                mask |= 1 << i
        return mask

    def capacity_left(self, node_id: NodeId, usage: Usage | None = None) -> int:
        """Pick tasks the node can still start this hour."""
        node = self.by_id.get(node_id)
        if node is None:
            return 0
        cap = _count(node.capacity)
        if usage is not None:
            cap -= usage.shipments.get(node_id, 0)
        return max(0, cap)

    def reaches(self, node: Node, straight_m: float) -> bool:
        """True when ``node`` delivers same-city over ``straight_m`` metres (straight line)."""
        radius = node.delivery_radius_m
        return (
            Mode.SAME_CITY in node.capabilities
            and isinstance(radius, int | float)
            and straight_m <= radius
        )
