"""Why a line is unfilled: one reason code per line, checked from the most specific cause.

The checks, in order:

1. an order-level cause (no destination, destination outside China, pickup store
   unavailable) applies to every line;
2. some candidate could ship it, but the plan did not: ``parcel_limit`` when the plan
   already uses every parcel allowed, else ``not_worth_shipping`` (it would cost more than
   the unfilled penalty, or break a weight limit);
3. pickup: the chosen store keeps it for walk-ins (``walkin_buffer``) or lacks it
   (``pickup_store_short``);
4. a node has enough usable stock but has no capacity left (``no_capacity``) or does not
   reach the destination (``out_of_reach``);
5. a node would have enough but for the walk-in buffer (``walkin_buffer``);
6. only an excluded node has enough (``excluded``);
7. enough across nodes but not at any one (``no_single_node``: lines are not split);
8. some stock but not enough anywhere (``insufficient_stock``); none at all (``no_stock``).
"""

from __future__ import annotations

from collections.abc import Collection, Sequence

from o2o.core.routing.basket import Basket
from o2o.core.routing.candidates import Candidates, Source
from o2o.core.routing.model import Choice, NodeId, Order, Reason, UnfilledLine
from o2o.core.routing.network import Network, Usage

__all__ = ["diagnose", "invalid_lines"]

_ORDER_DETAIL = {
    Reason.NO_DESTINATION: "delivery needs a destination",
    Reason.OUTSIDE_CHINA: "the destination is outside the service area (China)",
    Reason.PICKUP_STORE_UNAVAILABLE: "the chosen pickup store is unknown, offers no pickup or has no capacity",
}


def invalid_lines(basket: Basket) -> list[UnfilledLine]:
    """The basket's invalid lines as unfilled lines."""
    return [
        UnfilledLine(
            sku_id=line.sku_id if _hashable(line.sku_id) else repr(line.sku_id),
            qty=line.qty if isinstance(line.qty, int) else 0,
            reason=Reason.INVALID_LINE,
            detail="quantity must be a positive integer and weight a non-negative number",
        )
        for line in basket.invalid
    ]


def _hashable(value: object) -> bool:
    try:
        hash(value)
    except TypeError:
        return False
    return True


def diagnose(
    line: int,
    basket: Basket,
    order: Order,
    cands: Candidates,
    used: Sequence[Source],
    network: Network,
    usage: Usage | None = None,
    exclude: Collection[NodeId] = (),
) -> UnfilledLine:
    """The reason line ``line`` of ``basket`` is not in the plan that uses ``used``."""
    sku, qty = basket.skus[line], basket.qtys[line]

    def out(reason: Reason, detail: str) -> UnfilledLine:
        return UnfilledLine(sku_id=sku, qty=qty, reason=reason, detail=detail)

    if cands.order_reason is not None:
        return out(cands.order_reason, _ORDER_DETAIL.get(cands.order_reason, ""))
    bit = 1 << line
    if any(s.cover & bit for s in cands.sources):
        if len(used) >= network.config.max_parcels and not any(s.cover & bit for s in used):
            return out(Reason.PARCEL_LIMIT, f"filling it needs more than {network.config.max_parcels} parcels")
        return out(Reason.NOT_WORTH_SHIPPING, "shipping it costs more than leaving it, or breaks a weight limit")
    if order.choice is Choice.PICKUP:
        store = order.pickup_node_id
        if network.available(store, sku, usage) >= qty:
            return out(Reason.WALKIN_BUFFER, "the pickup store keeps this stock for walk-in shoppers")
        return out(Reason.PICKUP_STORE_SHORT, f"the pickup store has {network.usable(store, sku, usage)} usable")

    excluded = set(exclude)
    whole = [n.node_id for n in network.nodes if n.node_id not in excluded and network.usable(n.node_id, sku, usage) >= qty]
    if whole:
        if any(n in cands.no_capacity for n in whole):
            return out(Reason.NO_CAPACITY, "the nodes that have it have no pick capacity left this hour")
        return out(Reason.OUT_OF_REACH, f"{len(whole)} node(s) have it but none reaches the destination")
    if any(n.node_id not in excluded and network.available(n.node_id, sku, usage) >= qty for n in network.nodes):
        return out(Reason.WALKIN_BUFFER, "only stock kept back for walk-in shoppers would cover it")
    if any(network.usable(n, sku, usage) >= qty for n in excluded):
        return out(Reason.EXCLUDED, "only an excluded node has it")
    total = sum(network.usable(n.node_id, sku, usage) for n in network.nodes if n.node_id not in excluded)
    if total >= qty:
        return out(Reason.NO_SINGLE_NODE, f"{total} usable across nodes but no one node has {qty}; lines are not split")
    if any(network.available(n.node_id, sku, usage) > 0 for n in network.nodes):
        return out(Reason.INSUFFICIENT_STOCK, f"only {total} usable in the whole network, {qty} ordered")
    return out(Reason.NO_STOCK, "no node has any stock of this SKU")
