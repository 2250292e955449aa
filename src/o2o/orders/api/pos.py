"""A till's sale recorded in the order center (``o2o.orders.pos_orders``).

``POST /pos/orders``: staff with ``pos.sync`` at ``location_id`` (that store's clerks). The
receipt number makes it idempotent by itself (``UNIQUE (store, receipt_no)``): the first
call answers 201, the same receipt with the same content 200 with the same order, other
content 409 ``receipt_conflict``. ``Idempotency-Key`` is optional.

Stock is not changed here: the till sends its stock movements for the same receipt through
``POST /pos/stock-events`` (``o2o.inventory.pos``); this records the order, its payment and its
history so the order center and the member see every channel.

The member of a sale must have been presented at the till: by their POS card (``member_card``, found
through its identity) or, as ``member_id``, a member this store's staff looked up by member code or card
within :data:`PRESENTED_FOR` (the look-up's PII access log row) or who already ordered at this store. A
store clerk cannot attach just any member id: an order at their store would make that member "theirs"
(``members.selectors.member_for_staff``) and open their phone look-up, points and orders. HQ
integrations (HQ scope) may send any member id.
"""

from __future__ import annotations

from datetime import timedelta

from django.http import HttpRequest
from django.utils import timezone
from ninja import Router

from o2o.accounts.identities import identity_key, identity_owned
from o2o.accounts.models import PiiAccessLog
from o2o.accounts.permissions import require, visible_location_ids
from o2o.common.errors import Forbidden, InvalidInput, NotFound
from o2o.core.access import Perm
from o2o.orders.actors import By
from o2o.orders.api.common import IdemKey, by_of, idempotent
from o2o.orders.api.orders import order_body
from o2o.orders.api.returns_schemas import PosOrderIn
from o2o.orders.api.schemas import OrderOut, with_errors
from o2o.orders.models import Order
from o2o.orders.pos_orders import pos_order_record

router = Router(tags=["pos"])
PRESENTED_FOR = timedelta(minutes=30)


def _sale_member(request: HttpRequest, body: PosOrderIn, by: By) -> int | None:
    """The member of the sale, as presented at the till (module doc); 403 / 404 / 422 otherwise."""
    if body.member_card is not None and body.member_id is not None:
        raise InvalidInput("会员卡与会员 id 只能给一个 Give member_card or member_id, not both",
                           code="one_member_key", details={"fields": ["member_card", "member_id"]})
    if body.member_card is not None:
        key, index = identity_key("pos_card", body.member_card)
        found = identity_owned(key, index)
        if found is None:
            raise NotFound("会员卡不存在 Unknown member card", code="unknown_member_card", details={})
        return found.member_id
    if body.member_id is None or visible_location_ids(request, Perm.POS_SYNC) is None:
        return body.member_id
    since = timezone.now() - PRESENTED_FOR
    presented = PiiAccessLog.objects.filter(
        member_id=body.member_id, user_id=by.user_id, action="lookup", field__in=["lookup.code", "lookup.card"],
        at__gte=since).exists()
    if presented or Order.objects.filter(member_id=body.member_id, store_id=body.location_id).exists():
        return body.member_id
    raise Forbidden("请先扫描顾客的会员码或会员卡 Scan the customer's member code or card first",
                    code="member_not_presented", details={"member_id": body.member_id})


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
            payment_method=body.payment_method, member_id=_sale_member(request, body, by),
            occurred_at=body.occurred_at, by=by)
        return (201 if created else 200), order_body(order, member_id=None, locations=None)

    return idempotent(request, "pos.orders", idempotency_key, body.model_dump(mode="json"), work)
