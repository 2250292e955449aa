"""到店退货: the customer hands goods of an online order back at this counter (``returns.return_at_store``).

As the API's ``POST /returns`` with ``method=store``: ``return.accept`` at this store, any order
whichever store sold or shipped it; created, restocked here and refunded at once. The service
decides what may come back (only units handed over, never more than bought). A double submit
(same form key) answers the first return instead of making a second one.
"""

from __future__ import annotations

from django.http import HttpRequest, HttpResponse
from django.utils.translation import gettext as _
from django.views.decorators.http import require_POST

from o2o.common.errors import ApiError
from o2o.core.access import Perm
from o2o.inventory.idempotency import run_idempotent
from o2o.orders import returns
from o2o.orders.actors import by_actor
from o2o.orders.models import Order, Return
from o2o.stores.models import Location
from o2o.web.console import labels
from o2o.web.console.common import error_text, form_key, store_page
from o2o.web.console.counter import counter_page, return_order
from o2o.web.console.forms import MAX_QTY, ReturnFindForm, ReturnReasonForm


def _quantities(request: HttpRequest, order: dict) -> tuple[list[tuple[int, int]], dict[int, str]]:
    """[(order_line_id, qty)] asked for, and an error per line that is not a whole number in range."""
    wanted, errors = [], {}
    for ln in order["lines"]:
        raw = (request.POST.get(f"qty_{ln['id']}") or "").strip()
        if not raw:
            continue
        try:
            qty = int(raw)
        except ValueError:
            errors[ln["id"]] = _("请输入整数。")
            continue
        if not 0 <= qty <= MAX_QTY:
            errors[ln["id"]] = _("数量应在 0 到 %(max)s 之间。") % {"max": ln["qty"]}
        elif qty:
            wanted.append((ln["id"], qty))
    return wanted, errors


def _result(ret: Return) -> dict:
    ret = Return.objects.select_related("order", "location").get(pk=ret.pk)
    return {"number": ret.number, "order_number": ret.order.number, "refund_fen": ret.refund_fen,
            "status": ret.status, "status_label": labels.RETURN_STATUS.get(ret.status, ret.status),
            "lines": [{"name": rl.order_line.name, "qty": rl.qty, "refund_fen": rl.refund_fen}
                      for rl in ret.lines.select_related("order_line").order_by("order_line_id")]}


@require_POST
@store_page(Perm.RETURN_ACCEPT)
def return_accept(request: HttpRequest, loc: Location) -> HttpResponse:
    find = ReturnFindForm(request.POST)
    reason = ReturnReasonForm(request.POST)
    if not find.is_valid():
        return counter_page(request, loc, {"find_form": find}, status=400)
    found = Order.objects.filter(number=find.cleaned_data["order"].strip()).first()
    if found is None:
        find.add_error("order", _("没有找到该订单，请核对订单号。"))
        return counter_page(request, loc, {"find_form": find}, status=404)
    order = return_order(found)
    wanted, line_errors = _quantities(request, order)
    order["lines"] = [{**ln, "posted": (request.POST.get(f"qty_{ln['id']}") or "")[:12],
                       "error": line_errors.get(ln["id"], "")} for ln in order["lines"]]
    ctx = {"find_form": find, "reason_form": reason, "ret_order": order}
    if not reason.is_valid() or line_errors:
        return counter_page(request, loc, ctx, status=400)
    if not wanted:
        return counter_page(request, loc, {**ctx, "return_error": _("请至少填写一件要退的商品数量。")}, status=400)
    actor = request.actor  # type: ignore[attr-defined]
    by = by_actor(actor)
    text = reason.cleaned_data["reason"].strip()

    def work() -> tuple[int, dict]:
        ret = returns.return_at_store(order_id=found.pk, lines=wanted, location_id=loc.pk, reason=text, by=by)
        return 201, {"return_id": ret.pk}

    payload = {"order_id": found.pk, "location_id": loc.pk, "lines": wanted, "reason": text}
    try:
        out = run_idempotent(operation=f"console.return:staff:{actor.id}", key=form_key(request), payload=payload,
                             work=work)
    except ApiError as exc:
        return counter_page(request, loc, {**ctx, "return_error": error_text(exc)}, status=exc.status)
    done = Return.objects.get(pk=out.body["return_id"])
    return counter_page(request, loc, {"find_form": ReturnFindForm(), "return_result": _result(done),
                                       "return_replayed": out.replayed})
