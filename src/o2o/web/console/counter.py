"""The counter (柜台): verify a pickup code or its QR, look a member up, take a return, redeem a coupon
(the coupon card's views are in ``web.console.coupons``).

Pickup verification is the API's ``POST /store/pickup/verify``: ``order.fulfil`` at this store
(staff of another store are refused and the attempt is logged), the code must belong to a
shipment here, and every refusal is logged by the service. A double submit (same form key)
answers the first result instead of "already used".
"""

from __future__ import annotations

from typing import Any

from django.http import HttpRequest, HttpResponse
from django.utils import timezone
from django.utils.translation import gettext as _
from django.views.decorators.http import require_POST

from o2o.accounts.permissions import require
from o2o.catalog.models import Sku
from o2o.common.errors import ApiError, Forbidden, NotFound
from o2o.core.access import Perm
from o2o.inventory.idempotency import run_idempotent
from o2o.orders import pickup, store_work
from o2o.orders.actors import by_actor
from o2o.orders.models import Order, OrderLine, Shipment
from o2o.stores.models import Location
from o2o.stores.selectors import location_get
from o2o.web.auth import staff_required
from o2o.web.console import labels
from o2o.web.console.common import allowed, error_text, form_key, new_key, page, refuse, store_page
from o2o.web.console.forms import (
    CouponCodeForm,
    MemberLookupForm,
    ReturnFindForm,
    ReturnReasonForm,
    VerifyForm,
)


def counter_page(request: HttpRequest, loc: Location, extra: dict[str, Any] | None = None, *,
                 status: int = 200) -> HttpResponse:
    """The whole counter page; each card's result or errors come in ``extra``."""
    ctx = {
        "verify_form": VerifyForm(), "member_form": MemberLookupForm(), "find_form": ReturnFindForm(),
        "reason_form": ReturnReasonForm(), "key_verify": new_key(), "key_return": new_key(),
        "can_verify": allowed(request, Perm.ORDER_FULFIL, loc), "can_return": allowed(request, Perm.RETURN_ACCEPT, loc),
        "coupon_form": CouponCodeForm(), "can_coupon": allowed(request, Perm.COUPON_REDEEM, loc),
        **(extra or {}),
    }
    return page(request, "web/console/counter.html", loc, "counter", ctx, status=status)


def return_order(order: Order) -> dict[str, Any]:
    """An order as the return card shows it: its lines and how many units are not yet returned."""
    lines = [{"id": ln.pk, "sku_id": ln.sku_id, "name": ln.name, "qty": ln.qty, "returned_qty": ln.returned_qty,
              "left": ln.qty - ln.returned_qty, "payable_fen": ln.payable_fen}
             for ln in OrderLine.objects.filter(order=order).order_by("pk")]
    return {"id": order.pk, "number": order.number, "status": order.status,
            "status_label": labels.ORDER_STATUS.get(order.status, order.status),
            "channel_label": labels.CHANNEL.get(order.channel, order.channel), "created_at": order.created_at,
            "paid_fen": order.paid_fen, "refunded_fen": order.refunded_fen, "lines": lines}


@store_page(Perm.ORDER_VIEW)
def counter(request: HttpRequest, loc: Location) -> HttpResponse:
    """The counter; ``?order=<number>`` looks an order up for the return card (any store may take it back)."""
    if "order" not in request.GET or not allowed(request, Perm.RETURN_ACCEPT, loc):
        return counter_page(request, loc)
    form = ReturnFindForm(request.GET)
    if not form.is_valid():
        return counter_page(request, loc, {"find_form": form}, status=400)
    order = Order.objects.filter(number=form.cleaned_data["order"].strip()).first()
    if order is None:
        form.add_error("order", _("没有找到该订单，请核对订单号。"))
        return counter_page(request, loc, {"find_form": form}, status=404)
    return counter_page(request, loc, {"find_form": form, "ret_order": return_order(order)})


def _handed_over(s: Shipment) -> list[dict[str, Any]]:
    shown = store_work.store_shipment_dict(Shipment.objects.select_related("order", "location").get(pk=s.pk),
                                           now=timezone.now())
    barcodes = dict(Sku.objects.filter(pk__in=[ln["sku_id"] for ln in shown["lines"]]).values_list("pk", "barcode"))
    return [{**ln, "barcode": barcodes.get(ln["sku_id"]) or ""} for ln in shown["lines"]]


@require_POST
@staff_required
def verify(request: HttpRequest, location_id: int) -> HttpResponse:
    try:
        loc = location_get(location_id=location_id)
    except NotFound as exc:
        return refuse(request, exc)
    form = VerifyForm(request.POST)
    by = by_actor(request.actor)  # type: ignore[attr-defined]
    try:
        require(request, Perm.ORDER_FULFIL, location=loc)
    except Forbidden as exc:  # staff of another store: refused and logged, as the API does
        text = (request.POST.get("code") or "").strip()
        qr = text.lower().startswith("o2o1.")
        pickup.attempt_log(pickup.Attempt(location_id=loc.pk, method="qr" if qr else "code", result="forbidden",
                                          code_tail="" if qr else pickup.code_tail(text), user_id=by.user_id,
                                          at=timezone.now()))
        return refuse(request, exc)
    if not form.is_valid():
        return counter_page(request, loc, {"verify_form": form}, status=400)
    payload = form.payload()

    def work() -> tuple[int, dict]:
        out = pickup.verify_in_tx(location_id=loc.pk, by=by, **payload)
        s: Shipment = out["shipment"]
        return 200, {"order_id": out["order_id"], "order_number": out["order_number"],
                     "order_status": out["order_status"], "shipment_id": s.pk, "lines": _handed_over(s)}

    try:
        outcome = run_idempotent(operation=f"console.pickup_verify:staff:{by.user_id}", key=form_key(request),
                                 payload={"location_id": loc.pk, **payload}, work=work)
    except pickup.Refused as exc:  # the verification rolled back; its log row is written on its own
        pickup.attempt_log(exc.attempt)
        return _refused(request, loc, form, exc)
    except ApiError as exc:
        return _refused(request, loc, form, exc)
    result = {**outcome.body, "replayed": outcome.replayed,
              "order_status_label": labels.ORDER_STATUS.get(outcome.body["order_status"], "")}
    return counter_page(request, loc, {"verify_result": result})


def _refused(request: HttpRequest, loc: Location, form: VerifyForm, exc: ApiError) -> HttpResponse:
    return counter_page(request, loc, {"verify_form": form, "verify_error": {"code": exc.code, "text": error_text(exc)}},
                        status=exc.status)
