"""Order routing: send each online order to the best stores, dark stores or warehouses.

Pure core (standard library, numpy; scipy for the wave MIP): no Django, no I/O, no clock.
See ``docs/routing.md`` for the model, the exactness argument and the MIP formulation.

* :func:`route` -- exact single-order routing; :func:`solve` adds the next best plans.
* :func:`reroute` -- route the lines a rejecting or short node left, excluding it.
* :func:`route_wave` -- a batch of orders as one MIP, never worse than :func:`myopic`.
* :func:`nearest`, :func:`priority`, :func:`myopic` -- the baselines.
"""

from o2o.core.routing.baselines import Policy, myopic, nearest, priority, sequential
from o2o.core.routing.config import CourierRate, ExpressRate, PickCost, RoutingConfig
from o2o.core.routing.costs import format_yuan
from o2o.core.routing.model import (
    Choice,
    CostBreakdown,
    EtaWindow,
    Mode,
    Node,
    NodeId,
    NodeKind,
    Order,
    OrderLine,
    Plan,
    Reason,
    Shipment,
    ShipmentLine,
    SkuId,
    UnfilledLine,
)
from o2o.core.routing.network import Network, Usage
from o2o.core.routing.single import Solution, reroute, route, solve
from o2o.core.routing.wave import WaveResult, route_wave, violations

__all__ = [
    "Choice",
    "CostBreakdown",
    "CourierRate",
    "EtaWindow",
    "ExpressRate",
    "Mode",
    "Network",
    "Node",
    "NodeId",
    "NodeKind",
    "Order",
    "OrderLine",
    "PickCost",
    "Plan",
    "Policy",
    "Reason",
    "RoutingConfig",
    "Shipment",
    "ShipmentLine",
    "SkuId",
    "Solution",
    "UnfilledLine",
    "Usage",
    "WaveResult",
    "format_yuan",
    "myopic",
    "nearest",
    "priority",
    "reroute",
    "route",
    "route_wave",
    "sequential",
    "solve",
    "violations",
]
