"""A till's sale recorded in the order center (``o2o.orders.pos_orders``).

``POST /pos/orders``: staff with ``pos.sync`` at ``location_id`` (that store's clerks). The
receipt number makes it idempotent by itself (``UNIQUE (store, receipt_no)``): the first
call answers 201, the same receipt with the same content 200 with the same order, other
content 409 ``receipt_conflict``. ``Idempotency-Key`` is optional.

Stock is not changed here: the till sends its stock movements for the same receipt through
``POST /pos/stock-events`` (``o2o.inventory.pos``); this records the order, its payment and its
history so the order center and the member see every channel.
"""

from __future__ import annotations

from django.http import HttpRequest
from ninja import Router

from o2o.accounts.permissions import require
from o2o.core.access import Perm
from o2o.orders.actors import By
from o2o.orders.api.common import IdemKey, by_of, idempotent
from o2o.orders.api.orders import order_body
from o2o.orders.api.returns_schemas import PosOrderIn
from o2o.orders.api.schemas import OrderOut, with_errors
from o2o.orders.pos_orders import pos_order_record

router = Router(tags=["pos"])


@router.post("", response=with_errors({200: OrderOut, 201: OrderOut}, 409),
             summary="Record a till's receipt as a completed order (stock comes through /pos/stock-events)",
             description="201 the first time; the same receipt with the same content answers 200 with the same "
                         "order, other content is 409 `receipt_conflict`. Stock is NOT changed here: the till's "
                         "sale movements arrive through `POST /pos/stock-events` for the same receipt.")
def pos_order_create(request: HttpRequest, body: PosOrderIn, idempotency_key: str | None = IdemKey):
    require(request, Perm.POS_SYNC, location=body.location_id)
    by: By = by_of(request)

    def work() -> tuple[int, dict]:
        order, created = pos_order_record(
            location_id=body.location_id, receipt_no=body.receipt_no,
            lines=[(ln.sku_id, ln.qty, ln.unit_price_fen) for ln in body.lines], paid_fen=body.paid_fen,
            payment_method=body.payment_method, member_id=body.member_id, occurred_at=body.occurred_at, by=by)
        return (201 if created else 200), order_body(order, member_id=None, locations=None)

    return idempotent(request, "pos.orders", idempotency_key, body.model_dump(mode="json"), work)
