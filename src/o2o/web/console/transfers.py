"""Transfers (调拨) from the stock page: send goods to another location, receive one that arrived.

As the inventory API: ``stock.transfer`` at the source to ship (only free stock leaves; under the
inventory's idempotency records, so a double submit ships once) and at the destination to
receive (the service receives a transfer once; a second receipt changes nothing).
"""

from __future__ import annotations

from django.contrib import messages
from django.http import HttpRequest, HttpResponse
from django.utils.translation import gettext as _
from django.views.decorators.http import require_POST

from o2o.common.errors import ApiError, NotFound
from o2o.core.access import Perm
from o2o.inventory import transfers
from o2o.inventory.idempotency import run_idempotent
from o2o.inventory.models import TransferStatus
from o2o.inventory.validation import Line
from o2o.orders.actors import by_actor
from o2o.stores.models import Location
from o2o.web.console.common import error_text, form_key, refuse, store_page
from o2o.web.console.forms import MAX_QTY, TransferForm
from o2o.web.console.stock import _sku_param, back_to, destinations, stock_page


@require_POST
@store_page(Perm.STOCK_TRANSFER)
def ship(request: HttpRequest, loc: Location) -> HttpResponse:
    form = TransferForm(request.POST, destinations=destinations(loc))
    sku_id = _sku_param(request.POST.get("sku_id"))
    if not form.is_valid():
        return stock_page(request, loc, sku_id=sku_id, extra={"transfer_form": form}, status=400)
    d = form.cleaned_data
    actor = request.actor  # type: ignore[attr-defined]
    who = by_actor(actor).who

    def work() -> tuple[int, dict]:
        v = transfers.transfer_ship(source_id=loc.pk, destination_id=d["destination"],
                                    lines=[Line(d["sku_id"], d["qty"])], who=who, reference=d["reference"])
        return 201, {"transfer_id": v.id}

    payload = {"source_id": loc.pk, "destination_id": d["destination"], "sku_id": d["sku_id"], "qty": d["qty"],
               "reference": d["reference"]}
    try:
        out = run_idempotent(operation=f"console.transfer:staff:{actor.id}", key=form_key(request), payload=payload,
                             work=work)
    except ApiError as exc:
        form.add_error(None, error_text(exc))
        return stock_page(request, loc, sku_id=sku_id, extra={"transfer_form": form}, status=exc.status)
    messages.success(request, _("已调出 %(qty)s 件，调拨单 #%(id)s，等待对方收货。") % {"qty": d["qty"],
                                                                              "id": out.body["transfer_id"]})
    return back_to(loc, d["sku_id"])


@require_POST
@store_page(Perm.STOCK_TRANSFER)
def receive(request: HttpRequest, loc: Location, transfer_id: int) -> HttpResponse:
    """Receive an incoming transfer here; lines may arrive short (``recv_<sku_id>``: 0..shipped)."""
    try:
        t = transfers.get_transfer(transfer_id)
        if t.destination_id != loc.pk:  # another location's transfer: not this store's to receive
            raise NotFound("调拨单不存在 Unknown transfer", code="unknown_transfer")
    except NotFound as exc:
        return refuse(request, exc)
    shipped = {ln.sku_id: ln.qty for ln in t.lines.all()}
    received: list[Line] = []
    for sku_id, qty in shipped.items():
        raw = (request.POST.get(f"recv_{sku_id}") or "").strip()
        try:
            got = qty if raw == "" else int(raw)
        except ValueError:
            got = -1
        if not 0 <= got <= min(qty, MAX_QTY):
            messages.error(request, _("收货数量应在 0 到发出数量之间。"))
            return stock_page(request, loc, status=400)
        if got != qty:
            received.append(Line(sku_id, got))
    was_received = t.status == TransferStatus.RECEIVED
    try:
        v = transfers.transfer_receive(transfer_id=t.pk, who=by_actor(request.actor).who,  # type: ignore[attr-defined]
                                       received=received or None)
    except ApiError as exc:
        messages.error(request, error_text(exc))
        return stock_page(request, loc, status=exc.status)
    if was_received:
        messages.info(request, _("调拨单 #%(id)s 已经收过货了。") % {"id": t.pk})
    else:
        lost = sum(ln.lost_in_transit for ln in v.lines)
        text = _("已收货：调拨单 #%(id)s。") % {"id": t.pk}
        if lost:
            text = _("已收货：调拨单 #%(id)s，短收 %(lost)s 件（记为在途丢失）。") % {"id": t.pk, "lost": lost}
        messages.success(request, text)
    return back_to(loc, None)
