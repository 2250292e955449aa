"""Stock (库存) of this store: look a SKU up, adjust it with a reason, count it; transfers sit beside.

The same services and checks as the inventory API: ``stock.view`` to look, ``stock.adjust`` to
adjust (a clerk may not: store managers and above), a count is a POS ``count`` event
(``pos.sync`` + ``stock.adjust``, as ``POST /pos/stock-events``). Adjustments run under the
inventory's idempotency records and a count's event id comes from the form, so a double submit
changes the stock once.
"""

from __future__ import annotations

from typing import Any

from django.contrib import messages
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect
from django.urls import reverse
from django.utils import timezone
from django.utils.translation import gettext as _
from django.views.decorators.http import require_POST

from o2o.accounts.permissions import require
from o2o.catalog import selectors as catalog
from o2o.catalog.models import Sku
from o2o.common.errors import ApiError, Forbidden, NotFound
from o2o.core.access import Perm
from o2o.inventory import selectors as inventory
from o2o.inventory.idempotency import run_idempotent
from o2o.inventory.models import PosDevice
from o2o.inventory.pos import PosEvent, pos_ingest
from o2o.inventory.stock import stock_adjust
from o2o.orders.actors import by_actor
from o2o.stores.models import Location
from o2o.stores.selectors import location_list
from o2o.web.console import labels
from o2o.web.console.common import (
    allowed,
    error_text,
    form_key,
    message_text,
    new_key,
    page,
    refuse,
    store_page,
)
from o2o.web.console.forms import AdjustForm, CountForm, SkuSearchForm, TransferForm

RESULTS = 20
LEDGER_ROWS = 10
COUNT_DEVICE = "console"  # counts from the console are POS count events of this pseudo-till


def destinations(loc: Location) -> list[tuple[int, str]]:
    return [(d.pk, f"{d.code} {d.name}") for d in
            location_list(ids=None, public=False).filter(active=True).exclude(pk=loc.pk)]


def _item(request: HttpRequest, loc: Location, sku: Sku) -> dict[str, Any]:
    item: dict[str, Any] = {"sku": sku, "stock": inventory.item_stock(location_id=loc.pk, sku_id=sku.pk)}
    if allowed(request, Perm.LEDGER_VIEW, loc):
        rows = inventory.ledger(location_id=loc.pk, sku_id=sku.pk, limit=LEDGER_ROWS)["items"]
        item["ledger"] = [{**m, "kind_label": labels.MOVEMENT_KIND.get(m["kind"], m["kind"]),
                           "reason": message_text(m["reason"])} for m in rows]
    return item


def _transit(loc: Location) -> dict[str, list[dict[str, Any]]]:
    """Shipped, not yet received transfers into and out of the store, one entry per transfer."""
    found = inventory.in_transit(location_id=loc.pk)
    skus = {ln["sku_id"] for side in ("incoming", "outgoing") for ln in found[side]}
    names = dict(Sku.objects.filter(pk__in=skus).values_list("pk", "name"))
    places = dict(Location.objects.values_list("pk", "name"))
    out: dict[str, list[dict[str, Any]]] = {}
    for side in ("incoming", "outgoing"):
        by_id: dict[int, dict[str, Any]] = {}
        for ln in found[side]:
            t = by_id.setdefault(ln["transfer_id"], {"id": ln["transfer_id"], "shipped_at": ln["shipped_at"],
                                                     "source": places.get(ln["source_id"], ""),
                                                     "destination": places.get(ln["destination_id"], ""),
                                                     "lines": []})
            t["lines"].append({**ln, "name": names.get(ln["sku_id"], "")})
        out[side] = list(by_id.values())
    return out


def stock_page(request: HttpRequest, loc: Location, *, sku_id: int | None = None, q: str = "",
               extra: dict[str, Any] | None = None, status: int = 200) -> HttpResponse:
    ctx: dict[str, Any] = {"search_form": SkuSearchForm(initial={"q": q}), "q": q, "results": None, "item": None,
                           "can_adjust": allowed(request, Perm.STOCK_ADJUST, loc),
                           "can_count": allowed(request, Perm.POS_SYNC, loc) and allowed(request, Perm.STOCK_ADJUST, loc),
                           "can_transfer": allowed(request, Perm.STOCK_TRANSFER, loc),
                           "key_adjust": new_key(), "key_count": new_key(), "key_transfer": new_key()}
    if q:
        skus = list(catalog.sku_list(q=q)[:RESULTS])
        ctx["results"] = [{"sku": s, "stock": inventory.item_stock(location_id=loc.pk, sku_id=s.pk)} for s in skus]
        if len(skus) == 1 and sku_id is None:
            sku_id = skus[0].pk
    if sku_id is not None:
        try:
            ctx["item"] = _item(request, loc, catalog.sku_get(sku_id=sku_id))
        except NotFound:
            ctx["sku_error"] = _("没有找到该商品。")
            status = max(status, 404)
    if ctx["item"] is not None:
        initial = {"sku_id": sku_id}
        ctx.setdefault("adjust_form", AdjustForm(initial=initial))
        ctx.setdefault("count_form", CountForm(initial=initial))
        ctx.setdefault("transfer_form", TransferForm(initial=initial, destinations=destinations(loc)))
    ctx.update(extra or {})
    ctx["transit"] = _transit(loc)
    return page(request, "web/console/stock.html", loc, "stock", ctx, status=status)


def _sku_param(raw: str | None) -> int | None:
    try:
        value = int(raw or "")
    except ValueError:
        return None
    return value if value > 0 else None


@store_page(Perm.STOCK_VIEW)
def stock(request: HttpRequest, loc: Location) -> HttpResponse:
    form = SkuSearchForm(request.GET)
    q = form.cleaned_data["q"].strip() if form.is_valid() else ""
    return stock_page(request, loc, sku_id=_sku_param(request.GET.get("sku")), q=q)


def back_to(loc: Location, sku_id: int | None) -> HttpResponse:
    url = reverse("console:stock", args=[loc.pk])
    return redirect(f"{url}?sku={sku_id}" if sku_id else url)


@require_POST
@store_page(Perm.STOCK_ADJUST)
def adjust(request: HttpRequest, loc: Location) -> HttpResponse:
    """调整: on hand up or down by a delta, with a reason (``stock.adjust``, as ``POST /inventory/adjustments``)."""
    form = AdjustForm(request.POST)
    sku_id = _sku_param(request.POST.get("sku_id"))
    if not form.is_valid():
        return stock_page(request, loc, sku_id=sku_id, extra={"adjust_form": form}, status=400)
    d = form.cleaned_data
    actor = request.actor  # type: ignore[attr-defined]
    who = by_actor(actor).who

    def work() -> tuple[int, dict]:
        stock_adjust(location_id=loc.pk, sku_id=d["sku_id"], delta=d["delta"], reason=d["reason"], who=who)
        return 201, {"sku_id": d["sku_id"], "delta": d["delta"]}

    payload = {"location_id": loc.pk, "sku_id": d["sku_id"], "delta": d["delta"], "reason": d["reason"]}
    try:
        run_idempotent(operation=f"console.adjust:staff:{actor.id}", key=form_key(request), payload=payload, work=work)
    except ApiError as exc:
        form.add_error(None, error_text(exc))
        return stock_page(request, loc, sku_id=sku_id, extra={"adjust_form": form}, status=exc.status)
    messages.success(request, _("已调整库存：%(delta)+d。") % {"delta": d["delta"]})
    return back_to(loc, d["sku_id"])


@require_POST
@store_page(Perm.POS_SYNC)
def count(request: HttpRequest, loc: Location) -> HttpResponse:
    """盘点: the counted quantity becomes on hand as of now (a POS count event; reserved stock is kept or shorted)."""
    try:
        require(request, Perm.STOCK_ADJUST, location=loc)  # a count sets the stock level, like an adjustment
    except Forbidden as exc:
        return refuse(request, exc)
    form = CountForm(request.POST)
    sku_id = _sku_param(request.POST.get("sku_id"))
    if not form.is_valid():
        return stock_page(request, loc, sku_id=sku_id, extra={"count_form": form}, status=400)
    d = form.cleaned_data
    actor = request.actor  # type: ignore[attr-defined]
    event_id = f"console-count-{form_key(request) or new_key()}"[:100]
    seq = (PosDevice.objects.filter(location=loc, device_id=COUNT_DEVICE).values_list("last_seq", flat=True).first()
           or 0) + 1
    event = PosEvent("count", event_id, seq, d["sku_id"], d["counted"], timezone.now())
    try:
        result = pos_ingest(location_id=loc.pk, device_id=COUNT_DEVICE, events=[event],
                            who=by_actor(actor).who)
    except ApiError as exc:
        form.add_error(None, error_text(exc))
        return stock_page(request, loc, sku_id=sku_id, extra={"count_form": form}, status=exc.status)
    if result.duplicates:
        messages.info(request, _("这次盘点已经记录过了（重复提交），库存未再变化。"))
    else:
        messages.success(request, _("已记录盘点：实盘 %(n)s 件。") % {"n": d["counted"]})
    if result.shorted_reservations:
        messages.warning(request, _("实盘少于订单预占：%(n)s 个订单预占已释放，系统会自动改派。")
                         % {"n": len(result.shorted_reservations)})
    return back_to(loc, d["sku_id"])
