"""The outbox handler (``"o2o.groupbuy.handlers.on_order_event"`` in ``O2O["OUTBOX_HANDLERS"]``): an order of
an open group that ended (``order.expired`` unpaid, ``order.cancelled``, ``order.refunded``) gives its place
back (``groups.member_drop``). Delivery is at least once: the drop is conditional, so a repeat changes nothing.
"""

from __future__ import annotations

from o2o.groupbuy.groups import member_drop
from o2o.outbox.models import OutboxEvent

ENDED_TOPICS = {"order.expired", "order.cancelled", "order.refunded"}


def on_order_event(event: OutboxEvent) -> None:
    if event.aggregate != "order" or event.topic not in ENDED_TOPICS:
        return
    member_drop(int(event.aggregate_id))
