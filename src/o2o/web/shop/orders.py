"""A member's order page (own orders only: anyone else's id is a 404) and its live status fragment.

The page shows the status in Chinese, each shipment (a ready pickup's code and its signed QR as
an inline SVG, the store and the hold deadline; a same-city delivery's courier progress from the
same tracking read the API serves) and the order's history. htmx polls the fragment every 5 s
until the order is closed. A completed order's lines each get a review (评价) form, or the review written
(``o2o.web.shop.reviews``).
"""

from __future__ import annotations

import segno
from django.http import HttpRequest, HttpResponse
from django.shortcuts import render
from django.utils.html import escape
from django.utils.safestring import mark_safe
from django.utils.translation import gettext as _
from django.views.decorators.http import require_GET

from o2o.core.orders import CLOSED_ORDER, OrderStatus, ShipmentMode
from o2o.orders import selectors
from o2o.orders.api.delivery import _tracking as shipment_tracking
from o2o.orders.models import Order
from o2o.orders.pickup_qr import qr_payload
from o2o.web.auth import member_required
from o2o.web.shop.labels import COURIER_EVENT, MODE, ORDER_STATUS, SHIPMENT_STATUS, zh
from o2o.web.shop.pages import page
from o2o.web.shop.payment import own_order
from o2o.web.shop.reviews import review_lines

POLL_S = 5


def qr_svg(payload: str) -> str:
    """The signed pickup payload as an inline SVG QR code (segno; no image file, no network)."""
    label = _("自提二维码")
    svg = segno.make(payload, error="m").svg_inline(scale=5, border=2, title=label)
    return mark_safe(svg.replace("<svg ", f'<svg role="img" aria-label="{escape(label)}" ', 1))  # noqa: S308


def _status_context(order: Order) -> dict:
    view = selectors.order_dict(order, owner=True, qr_for=qr_payload)
    objects = {s.pk: s for s in order.shipments.all()}
    names = {ln["sku_id"]: ln["name"] for ln in view["lines"]}
    shipments = []
    for s in view["shipments"]:
        item = {**s, "status_label": SHIPMENT_STATUS.get(s["status"], s["status"]),
                "mode_label": MODE.get(s["mode"], s["mode"]), "qr_svg": qr_svg(s["pickup_qr"]) if s["pickup_qr"] else "",
                "tracking": None, "goods": [(names.get(ln["sku_id"], ln["sku_id"]), ln["qty"]) for ln in s["lines"]]}
        if s["mode"] == ShipmentMode.SAME_CITY and s["status"] not in ("pending", "cancelled", "rerouted"):
            shipment = objects[s["id"]]
            shipment.order = order
            tracking = shipment_tracking(shipment, staff=False)
            for task in tracking["tasks"]:
                for e in task["events"]:
                    e["label"] = COURIER_EVENT.get(e["status"], e["status"])
            item["tracking"] = tracking
        shipments.append(item)
    return {"order": view, "status_label": ORDER_STATUS.get(order.status, order.status), "shipments": shipments,
            "poll": order.status not in CLOSED_ORDER, "poll_s": POLL_S,
            "pending": order.status == OrderStatus.PENDING_PAYMENT}


@member_required
@require_GET
def order_page(request: HttpRequest, order_id: int) -> HttpResponse:
    order = own_order(request, order_id, prefetch=True)
    history = selectors.order_history(order)
    for e in history:
        e["to_label"] = ORDER_STATUS.get(e["to_status"]) or SHIPMENT_STATUS.get(e["to_status"], e["to_status"])
        e["reason"] = zh(e["reason"])
    reviews = review_lines(order, order.member_id) if order.member_id else []
    return page(request, "web/shop/order.html", {**_status_context(order), "history": history,
                                                 "review_lines": reviews})


@member_required
@require_GET
def order_status(request: HttpRequest, order_id: int) -> HttpResponse:
    order = own_order(request, order_id, prefetch=True)
    return render(request, "web/shop/_order_status.html", _status_context(order))
