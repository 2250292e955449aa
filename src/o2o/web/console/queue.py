"""The work queue (工作台): today's shipments of the store by what the staff do next, and its open alerts.

The live part (sections and alerts) is a fragment the page polls every 10 s with htmx.
"""

from __future__ import annotations

from typing import Any
from urllib.parse import urlencode

from django.contrib import messages
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils.translation import gettext as _
from django.views.decorators.http import require_POST
from django_htmx.http import HttpResponseClientRedirect

from o2o.accounts.permissions import require
from o2o.common.errors import ApiError, Forbidden, NotFound
from o2o.core.access import Perm
from o2o.orders import store_work
from o2o.orders.actors import by_actor
from o2o.orders.models import ShipmentStatus
from o2o.stores.models import Location
from o2o.web.auth import staff_required
from o2o.web.console.common import allowed, error_text, page, refuse, store_page
from o2o.web.console.present import alert_row, shipment_row

SECTIONS = (
    ("allocated", (ShipmentStatus.ALLOCATED,)),
    ("picking", (ShipmentStatus.PICKING,)),
    ("ready", (ShipmentStatus.READY_FOR_PICKUP,)),
    ("courier", (ShipmentStatus.AWAITING_COURIER, ShipmentStatus.OUT_FOR_DELIVERY)),
)


def _section_title(key: str) -> str:
    return {"allocated": _("待拣货"), "picking": _("拣货中"), "ready": _("待自提"),
            "courier": _("待骑手 / 配送中")}[key]


def live_context(request: HttpRequest, loc: Location) -> dict[str, Any]:
    q = store_work.store_queue(loc.pk)
    rows = [shipment_row(s) for s in (*q["to_pick"], *q["ready_for_pickup"], *q["with_courier"])]
    sections = [{"key": key, "title": _section_title(key),
                 "rows": [r for r in rows if r["status"] in statuses]} for key, statuses in SECTIONS]
    return {"store": loc, "now": q["now"], "sections": sections, "late": q["late"], "total": len(rows),
            "alerts": [alert_row(a) for a in q["alerts"]],
            "can_resolve": allowed(request, Perm.ORDER_FULFIL, loc)}


@store_page(Perm.ORDER_VIEW)
def queue(request: HttpRequest, loc: Location) -> HttpResponse:
    return page(request, "web/console/queue.html", loc, "queue", live_context(request, loc))


@store_page(Perm.ORDER_VIEW)
def _queue_live(request: HttpRequest, loc: Location) -> HttpResponse:
    return render(request, "web/console/_queue_live.html", live_context(request, loc))


def queue_live(request: HttpRequest, location_id: int) -> HttpResponse:
    """The polled fragment: sections and alerts. A poll after the session ended sends the whole page to the
    sign-in page (instead of swapping the sign-in form into the queue)."""
    user = request.user
    if request.htmx and not (user.is_authenticated and user.is_active):  # type: ignore[attr-defined]
        back = reverse("console:queue", args=[location_id])
        return HttpResponseClientRedirect(f"{reverse('console:login')}?{urlencode({'next': back})}")
    return _queue_live(request, location_id)


@require_POST
@staff_required
def alert_resolve(request: HttpRequest, alert_id: int) -> HttpResponse:
    """Mark an alert handled (``order.fulfil`` at its store, as the API); a second click says it was done."""
    try:
        alert = store_work.alert_find(alert_id)
        require(request, Perm.ORDER_FULFIL, location=alert.location_id)
    except (NotFound, Forbidden):  # another store's alert looks like no alert: ids cannot be probed
        return refuse(request, NotFound("异常不存在 Unknown alert", code="unknown_alert"))
    try:
        store_work.alert_resolve(alert_id, by=by_actor(request.actor))  # type: ignore[attr-defined]
        note = _("已处理异常：订单 %(number)s") % {"number": alert.shipment.order.number}
        ok = True
    except ApiError as exc:
        note, ok = error_text(exc), False
    loc = alert.location
    if request.htmx:  # type: ignore[attr-defined]
        ctx = live_context(request, loc)
        ctx["notice"] = {"ok": ok, "text": note}
        return render(request, "web/console/_queue_live.html", ctx)
    (messages.success if ok else messages.info)(request, note)
    return redirect(reverse("console:queue", args=[loc.pk]))
