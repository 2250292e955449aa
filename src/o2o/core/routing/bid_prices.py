"""Bid prices: what a unit of stock or a pick task is worth to the orders still to come.

Routing one order (or one 60 s wave) at a time is blind to the orders that follow: it
takes the last units of a SKU at a store, or the store's last pick tasks of the hour, for
a delivery that could have gone elsewhere for a few yuan more, and a later pickup order
at that store loses its lines. The remedy from revenue management (bid-price control; for
fulfilment see Acimovic and Graves, "Making better fulfillment decisions on the fly in an
online retail environment", M&SOM 2015) is to price stock and capacity by their value to
the expected future demand and let each decision pay that price.

The prices are the duals of the linear programme of :mod:`.bound` solved over a
**forecast** of the rest of the horizon (orders drawn from the demand model: where
customers are, what baskets look like, when they order; never the actual orders) against
the stock left and the capacity of the coming hours. A dual is what one more unit of that
stock, or one more task of that hour, would save the forecast orders; routing adds it to
the cost of taking the unit (:class:`~.surcharges.Surcharges`), so a decision takes
contested stock only when it needs it more than the later orders do. Prices are refreshed
as the horizon goes on (the caller decides how often).

The routing benchmark now prices with :mod:`.claims` instead (unit by unit, as the stock
stands; better and faster there, see docs/routing.md); these LP duals remain for callers
that want one price per resource from a fluid forecast.

``scale`` lets the forecast be a sample: with half the expected orders, pass 0.5 and the
stock and capacity are halved with it, so the prices keep their meaning.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, replace
from datetime import datetime

from o2o.core.routing.bound import Bound, Limits, column_generation
from o2o.core.routing.config import RoutingConfig
from o2o.core.routing.model import Node, NodeId, Order, SkuId
from o2o.core.routing.network import Network, Usage
from o2o.core.routing.surcharges import Surcharges

__all__ = ["MAX_UNITS", "BidPrices", "bid_prices"]

# Lines of up to this many units never pay more in surcharges than the raised penalty.
MAX_UNITS = 100


@dataclass(frozen=True)
class BidPrices:
    """Prices in whole fen: per unit of (node, SKU) and per pick task of (node, clock hour)."""

    per_unit: dict[tuple[NodeId, SkuId], int]
    per_task: dict[tuple[NodeId, int], int]
    lp: Bound | None = None

    @staticmethod
    def average(samples: Sequence[BidPrices]) -> BidPrices:
        """The mean of several forecasts' prices (a price absent from a sample counts as 0).

        One sampled day prices a store's last units either at the full value of the order
        that needs them or at nothing; the mean over samples estimates the expected value.
        """
        n = max(1, len(samples))
        unit: dict[tuple[NodeId, SkuId], float] = {}
        task: dict[tuple[NodeId, int], float] = {}
        for sample in samples:
            for k, v in sample.per_unit.items():
                unit[k] = unit.get(k, 0.0) + v
            for key, v in sample.per_task.items():
                task[key] = task.get(key, 0.0) + v
        return BidPrices(per_unit={k: round(v / n) for k, v in unit.items() if round(v / n) > 0},
                         per_task={k: round(v / n) for k, v in task.items() if round(v / n) > 0},
                         lp=samples[0].lp if samples else None)

    def surcharges(self, hour: int) -> Surcharges:
        """What routing in clock hour ``hour`` pays on top of the cost model.

        The unfilled-line penalty of the search is raised above any line's surcharges, so
        prices choose between ways of filling a line and never make refusing it pay: a
        real order is not turned away to keep stock or a pick task for a forecast one.
        """
        per_task = {n: v for (n, h), v in self.per_task.items() if h == hour}
        extra = max(per_task.values(), default=0) + MAX_UNITS * max(self.per_unit.values(), default=0)
        return Surcharges(per_shipment=per_task, per_unit=self.per_unit, unfilled_extra_fen=extra)


def bid_prices(
    forecast: Sequence[Order | Sequence[Order]],
    decided_at: Sequence[datetime],
    hours: Sequence[int],
    nodes: Sequence[Node],
    config: RoutingConfig,
    *,
    usage: Usage | None = None,
    current_hour: int = 0,
    scale: float = 1.0,
    max_rounds: int = 25,
    time_limit_s: float = 60.0,
) -> BidPrices:
    """Prices from the forecast orders (routed at ``decided_at``, using the capacity of ``hours``).

    ``usage`` is what has been taken so far (stock for good, tasks of ``current_hour``);
    later hours have their full capacity.
    """
    network = Network([replace(n, queue=0) for n in nodes], config)
    share = max(0.0, scale)

    def stock(node: NodeId, sku: SkuId) -> float:
        return share * network.usable(node, sku, usage)

    def tasks(node: NodeId, hour: int) -> float:
        left = network.capacity_left(node, usage if hour == current_hour else None)
        return share * left

    bound, prices = column_generation(forecast, decided_at, hours, network, Limits(stock, tasks),
                                      max_rounds=max_rounds, time_limit_s=time_limit_s, tolerance=1e-3, max_cut_rounds=0)
    return BidPrices(
        per_unit={k: round(v) for k, v in prices.per_unit.items() if round(v) > 0},
        per_task={k: round(v) for k, v in prices.per_task.items() if round(v) > 0},
        lp=bound,
    )
