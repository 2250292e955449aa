"""Helpers (no tests) for the same-city delivery tests: a paid same-city order, packing it, the simulators."""

from __future__ import annotations

from urllib.parse import urlsplit

from django.db import transaction

from o2o.core.orders import ShipmentStatus as SS
from o2o.orders import couriers, delivery, delivery_sweeps, history, lifecycle
from o2o.orders.actors import By
from o2o.orders.locks import lock_order
from o2o.orders.models import CourierTask, Order, Shipment
from o2o.orders.placement import PlaceRequest, order_place
from tests.factories import member
from tests.integration.fulfilment.world import P

CLERK = By(label="test:clerk")


def paid_order(w, m=None, *, qty: int = 2) -> Order:  # noqa: ANN001
    """A paid ``fastest`` order of ``qty`` s1 near P: one same-city shipment from store A."""
    m = m or member()[0]
    req = PlaceRequest(lines=[(w.s1.pk, qty)], channel="mini_program", choice="fastest", lat=P.lat, lng=P.lng,
                       address="上海市黄浦区人民大道 200 号", contact_name="张三", contact_phone="13812345678")
    with transaction.atomic():
        order = order_place(req=req, member=m, by=By(member_id=m.pk, label=f"member:{m.pk}"))
    return pay(order)


def pay(order: Order) -> Order:
    with transaction.atomic():
        order = lock_order(order.pk)
        return lifecycle.order_paid(order, amount_fen=order.total_fen, by=By(label="test:pay"))


def the_shipment(order: Order) -> Shipment:
    [shipment] = Shipment.objects.filter(order=order)
    return shipment


def pack(shipment: Shipment) -> CourierTask | None:
    """What the store-work helper does when a clerk marks it packed: awaiting_courier, then dispatch."""
    with transaction.atomic():
        lock_order(shipment.order_id)
        shipment.refresh_from_db()
        history.shipment_move(shipment, SS.AWAITING_COURIER, by=CLERK, reason="打包完成 packed")
        return delivery.dispatch_for(shipment, by=CLERK)


def due(minutes: float) -> list[tuple[str, str, dict, bytes]]:
    """Move the sandbox clock and take the callbacks due (not applied)."""
    couriers.advance_clock(minutes)
    return couriers.due_callbacks()


def apply_all(calls) -> list[dict]:  # noqa: ANN001
    """Apply callbacks through the endpoint's code path; what happened to each."""
    out = []
    for _provider, url, headers, body in calls:
        (status, _ctype, _ack), info = delivery_sweeps.deliver_callback(url, headers, body)
        out.append({**info, "ack_status": status})
    return out


def post_callbacks(client, calls) -> list:  # noqa: ANN001
    """POST callbacks to the HTTP endpoint exactly as the providers would (signature in URL or header)."""
    responses = []
    for _provider, url, headers, body in calls:
        parts = urlsplit(url)
        path = parts.path + (f"?{parts.query}" if parts.query else "")
        extra = {f"HTTP_{k.upper().replace('-', '_')}": v for k, v in headers.items() if k.lower() != "content-type"}
        responses.append(client.post(path, data=body, content_type="application/json", **extra))
    return responses


def tasks(shipment: Shipment) -> list[tuple[int, str, str]]:
    return list(CourierTask.objects.filter(shipment=shipment).order_by("attempt")
                .values_list("attempt", "provider", "status"))
