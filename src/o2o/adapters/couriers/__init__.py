"""Same-city courier adapters: Dada, SF same-city and the store's own riders, plus a simulator.

Framework-free: the Django app wires them. Every gateway speaks :class:`CourierGateway`
(quote, create_order, cancel, parse_callback, callback_ack); money is fen, distances metres.
"""

from o2o.adapters.couriers.base import (
    SHANGHAI,
    TERMINAL,
    BadSignature,
    CourierError,
    CourierGateway,
    CourierOrder,
    CourierStatus,
    DeliveryRequest,
    MalformedCallback,
    Place,
    ProviderError,
    Rider,
    TrackingUpdate,
    Transport,
    UrllibTransport,
)
from o2o.adapters.couriers.dada import DadaGateway
from o2o.adapters.couriers.own_riders import OwnRidersGateway
from o2o.adapters.couriers.sf import SfGateway
from o2o.adapters.couriers.simulator import (
    FAILURE_MODES,
    CourierSimulator,
    Timeline,
    simulated_fee_fen,
    simulated_gateway,
)

__all__ = [
    "FAILURE_MODES",
    "SHANGHAI",
    "TERMINAL",
    "BadSignature",
    "CourierError",
    "CourierGateway",
    "CourierOrder",
    "CourierSimulator",
    "CourierStatus",
    "DadaGateway",
    "DeliveryRequest",
    "MalformedCallback",
    "OwnRidersGateway",
    "Place",
    "ProviderError",
    "Rider",
    "SfGateway",
    "Timeline",
    "TrackingUpdate",
    "Transport",
    "UrllibTransport",
    "simulated_fee_fen",
    "simulated_gateway",
]
