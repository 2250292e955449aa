"""One shipment: pick and pack (开始拣货 / 逐行确认 / 备货完成 / 缺货), its lines, and its courier tasks and alerts.

Each line's 确认 posts to the shipment's own URL (``sku_id``, optional ``qty``; htmx swaps the lines
block with the server's answer, without JavaScript the page reloads): the service records the
pick on the line (``store_work.shipment_pick_line``) and refuses "mark ready" (409
``lines_not_picked``) until every line is picked; the page only mirrors that state.
Another store's shipment answers the 404 page, as an unknown id does.
"""

from __future__ import annotations

from typing import Any

from django.contrib import messages
from django.db.models import Prefetch
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils import timezone
from django.utils.translation import gettext as _
from django.views.decorators.http import require_POST

from o2o.accounts.permissions import require
from o2o.catalog.models import Sku
from o2o.common.errors import ApiError, Forbidden, NotFound
from o2o.core.access import Perm
from o2o.inventory.idempotency import run_idempotent
from o2o.orders import store_work
from o2o.orders.actors import by_actor
from o2o.orders.models import CourierTask, DeliveryAlert, Shipment, TrackingEvent
from o2o.web.auth import staff_required
from o2o.web.console import labels
from o2o.web.console.common import allowed, error_text, form_key, message_text, new_key, page, refuse
from o2o.web.console.forms import ReadyForm, ShortForm
from o2o.web.console.present import shipment_row


def _find(request: HttpRequest, shipment_id: int) -> Shipment:
    """The shipment if this user may see its store; otherwise it does not exist for them."""
    s = store_work.shipment_find(shipment_id)
    if not allowed(request, Perm.ORDER_VIEW, s.location_id):
        raise NotFound("发货单不存在 Unknown shipment", code="unknown_shipment")
    return s


def _tracking(s: Shipment) -> dict[str, Any]:
    """Every courier attempt with its events, and the shipment's alerts (what the tracking API shows staff)."""
    tasks = (CourierTask.objects.filter(shipment=s).order_by("attempt")
             .prefetch_related(Prefetch("events", queryset=TrackingEvent.objects.order_by("at", "pk"))))
    rows = [{"task": t, "provider_label": labels.PROVIDER.get(t.provider, t.provider),
             "status_label": labels.TASK_STATUS.get(t.status, t.status),
             "events": [{"e": e, "status_label": labels.TASK_STATUS.get(e.status, e.status)} for e in t.events.all()]}
            for t in tasks]
    alerts = [{"a": a, "kind_label": labels.ALERT_KIND.get(a.kind, a.kind), "text": message_text(a.message)}
              for a in DeliveryAlert.objects.filter(shipment=s).order_by("-created_at", "-pk")]
    failed = [r for r in rows if r["task"].status == "failed"]
    return {"tasks": rows, "alerts": alerts, "failed": failed,
            "current": next((r for r in reversed(rows) if r["task"].status not in ("failed", "cancelled")), None)}


def _lines_ctx(request: HttpRequest, fresh: Shipment) -> dict[str, Any]:
    """The shipment as the page shows it, with each line's barcode and pick state."""
    row = shipment_row(store_work.store_shipment_dict(fresh, now=timezone.now()))
    barcodes = dict(Sku.objects.filter(pk__in=[ln["sku_id"] for ln in row["lines"]]).values_list("pk", "barcode"))
    row["lines"] = [{**ln, "barcode": barcodes.get(ln["sku_id"]) or "", "picked": ln["picked_qty"] >= ln["qty"]}
                    for ln in row["lines"]]
    return {"s": row, "can_fulfil": allowed(request, Perm.ORDER_FULFIL, fresh.location_id),
            "pickable": fresh.status in store_work.TO_PICK,
            "picked_count": sum(1 for ln in row["lines"] if ln["picked"])}


def _render(request: HttpRequest, s: Shipment, *, ready: ReadyForm | None = None, short: ShortForm | None = None,
            error: str = "", status: int = 200) -> HttpResponse:
    fresh = Shipment.objects.select_related("order", "location").get(pk=s.pk)
    ctx = _lines_ctx(request, fresh)
    row = ctx["s"]
    ctx = {
        **ctx, "order_status_label": labels.ORDER_STATUS.get(row["order_status"], row["order_status"]),
        "startable": fresh.status == "allocated",
        "ready_form": ready or ReadyForm(), "short_form": short or ShortForm(), "error": error,
        "key_start": new_key(), "key_ready": new_key(), "key_short": new_key(),
        "tracking": _tracking(fresh) if fresh.mode == "same_city" else None,
    }
    return page(request, "web/console/shipment.html", fresh.location, "queue", ctx, status=status)


@staff_required
def shipment(request: HttpRequest, shipment_id: int) -> HttpResponse:
    """The shipment page; a POST confirms one line picked (``_pick``)."""
    if request.method == "POST":
        return _pick(request, shipment_id)
    try:
        s = _find(request, shipment_id)
    except NotFound as exc:
        return refuse(request, exc)
    return _render(request, s)


def _whole(value: str | None, *, blank_ok: bool) -> int | None:
    text = (value or "").strip()
    if not text and blank_ok:
        return None
    if not text.isdigit() or len(text) > 12:
        raise ValueError(text)
    return int(text)


def _pick(request: HttpRequest, shipment_id: int) -> HttpResponse:
    """Confirm a line picked (``sku_id``; ``qty`` units, default the whole line, 0 takes it back).

    An absolute count, so a double click or a repeated request changes nothing. With htmx the
    answer is the lines block (the server's state); without it, the page again."""
    try:
        s = _find(request, shipment_id)
        require(request, Perm.ORDER_FULFIL, location=s.location_id)
    except (NotFound, Forbidden) as exc:
        return refuse(request, exc)
    by = by_actor(request.actor)  # type: ignore[attr-defined]
    error, out = "", None
    try:
        sku_id, qty = _whole(request.POST.get("sku_id"), blank_ok=False), _whole(request.POST.get("qty"), blank_ok=True)
    except ValueError:
        error, status = _("数量应为不小于 0 的整数。"), 422
    else:
        try:
            out = store_work.shipment_pick_line(s.pk, int(sku_id or 0), by=by, qty=qty)
        except ApiError as exc:
            error, status = error_text(exc), exc.status
    if request.htmx:  # type: ignore[attr-defined]
        fresh = Shipment.objects.select_related("order", "location").get(pk=s.pk)
        ctx = {**_lines_ctx(request, fresh), "pick_error": error}
        if fresh.status not in store_work.TO_PICK:  # moved on meanwhile (re-routed, packed): show the whole page
            response = HttpResponse(status=200)
            response["HX-Refresh"] = "true"
            return response
        return render(request, "web/console/_pick_lines.html", ctx)
    if error:
        return _render(request, s, error=error, status=status)
    if out is not None and out["changed"]:
        messages.success(request, _("已全部确认，可以点“备货完成”。") if out["all_picked"] else _("已确认拣货。"))
    return redirect(reverse("console:shipment", args=[s.pk]))


def _act(request: HttpRequest, shipment_id: int, step: str) -> HttpResponse:
    try:
        s = _find(request, shipment_id)
        require(request, Perm.ORDER_FULFIL, location=s.location_id)  # as the API's store steps
    except (NotFound, Forbidden) as exc:
        return refuse(request, exc)
    actor = request.actor  # type: ignore[attr-defined]
    by = by_actor(actor)
    ready = ReadyForm(request.POST) if step == "ready" else None
    short = ShortForm(request.POST) if step == "short" else None
    form = ready or short
    if form is not None and not form.is_valid():
        return _render(request, s, ready=ready, short=short, status=400)
    data = form.cleaned_data if form is not None else {}

    def work() -> tuple[int, dict]:
        if step == "start":
            done = store_work.shipment_start_picking(s.pk, by=by)
            return 200, {"status": done.status}
        if step == "ready":
            done = store_work.shipment_mark_ready(s.pk, by=by, tracking_no=data["tracking_no"])
            return 200, {"status": done.status}
        done, decision = store_work.shipment_reject(s.pk, by=by, reason=data["reason"], short=True)
        done.order.refresh_from_db(fields=["status"])
        return 200, {"status": done.status, "new_shipments": decision.shipments.count(),
                     "unfilled": len(decision.plan.get("unfilled") or []), "order_status": done.order.status}

    try:
        out = run_idempotent(operation=f"console.{step}.{s.pk}:staff:{actor.id}"[:64], key=form_key(request),
                             payload=data, work=work)
    except ApiError as exc:
        text = error_text(exc)
        if ready is not None and exc.code == "tracking_no_required":
            ready.add_error("tracking_no", text)
            text = ""
        return _render(request, s, ready=ready, short=short, error=text, status=exc.status)
    messages.success(request, _done_text(s, step, out.body))
    return redirect(reverse("console:shipment", args=[s.pk]))


def _done_text(s: Shipment, step: str, body: dict) -> str:
    if step == "start":
        return _("已开始拣货。")
    if step == "ready":
        return {"pickup": _("备货完成，已生成取货码，等待顾客到店自提。"),
                "same_city": _("已打包，正在呼叫骑手。"),
                "express": _("已交快递发出。")}.get(s.mode, _("备货完成。"))
    moved, unfilled = body.get("new_shipments", 0), body.get("unfilled", 0)
    if body.get("order_status") in ("cancelled", "refunded") or not moved:
        return _("已报缺货：没有其他门店能接这一单，系统已为顾客退款。")
    if unfilled:
        return _("已报缺货：已改派给其他门店（%(n)s 个发货单），其余 %(m)s 种商品无货，已为顾客退款。") % {
            "n": moved, "m": unfilled}
    return _("已报缺货：已改派给其他门店（%(n)s 个发货单）。") % {"n": moved}


@require_POST
@staff_required
def start(request: HttpRequest, shipment_id: int) -> HttpResponse:
    return _act(request, shipment_id, "start")


@require_POST
@staff_required
def ready(request: HttpRequest, shipment_id: int) -> HttpResponse:
    return _act(request, shipment_id, "ready")


@require_POST
@staff_required
def short(request: HttpRequest, shipment_id: int) -> HttpResponse:
    return _act(request, shipment_id, "short")
