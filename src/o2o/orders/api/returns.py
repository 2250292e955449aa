"""Returns across channels (see ``o2o.orders.returns`` and docs/returns.md).

* ``POST /returns``: a member returns their own order (another member's order is 404): by
  courier to the store or warehouse of ``location_id`` (or announced for a counter). Staff
  with ``return.accept`` at ``location_id``: ``method=store`` takes the goods back at the
  counter, created, restocked and refunded at once; ``courier`` registers a parcel for the
  customer. Any store may take back any order, whichever store sold or shipped it.
* ``POST /returns/{id}/receive``: staff with ``return.accept`` at the return's location.
* ``POST /returns/{id}/cancel``: the member (own return) or staff at its location;
  ``POST /returns/{id}/reject``: staff at its location (goods refused, not restocked).
* ``GET /returns``, ``GET /returns/{id}``: the member's own; staff: returns to their
  locations or of orders at their stores; HQ: all. Another member's id is 404, another
  store's return 403.

Every POST takes an ``Idempotency-Key`` (same key + same body = the first response).
"""

from __future__ import annotations

from collections.abc import Collection

from django.db.models import Q, QuerySet
from django.http import HttpRequest
from django.utils import timezone
from ninja import Query, Router

from o2o.accounts.permissions import actor_of, require
from o2o.common.errors import Forbidden, NotFound
from o2o.core.access import ActorKind, Perm
from o2o.orders import returns
from o2o.orders.api.common import IdemKey, by_of, idempotent, viewer
from o2o.orders.api.returns_schemas import ReturnCancelIn, ReturnIn, ReturnOut, ReturnPageOut
from o2o.orders.api.schemas import with_errors
from o2o.orders.models import Order, Return, ReturnMethod

router = Router(tags=["returns"])


def _visible(qs: QuerySet[Return], *, member_id: int | None, locations: Collection[int] | None) -> QuerySet[Return]:
    if member_id is not None:
        return qs.filter(order__member_id=member_id)
    if locations is None:
        return qs
    ids = list(locations)
    return qs.filter(Q(location_id__in=ids) | Q(order__store_id__in=ids)
                     | Q(order__shipments__location_id__in=ids)).distinct()


def _get(return_id: int, *, member_id: int | None, locations: Collection[int] | None) -> Return:
    ret = Return.objects.select_related("order").filter(pk=return_id).first()
    if ret is None or (member_id is not None and ret.order.member_id != member_id):
        raise NotFound("退货单不存在 Unknown return", code="unknown_return", details={"return_id": return_id})
    if locations is not None and not _visible(Return.objects.filter(pk=return_id), member_id=None,
                                              locations=locations).exists():
        raise Forbidden("无权查看此退货单 Not your store's return", details={"return_id": return_id})
    return ret


def return_dict(ret: Return) -> dict:
    def local(at):  # noqa: ANN001, ANN202
        return timezone.localtime(at) if at is not None else None

    return {"id": ret.pk, "number": ret.number, "order_id": ret.order_id, "order_number": ret.order.number,
            "order_channel": ret.order.channel, "method": ret.method, "location_id": ret.location_id,
            "location_name": ret.location.name, "status": ret.status, "reason": ret.reason,
            "refund_fen": ret.refund_fen,
            "lines": [{"id": rl.pk, "order_line_id": rl.order_line_id, "sku_id": rl.order_line.sku_id,
                       "name": rl.order_line.name, "qty": rl.qty, "refund_fen": rl.refund_fen}
                      for rl in ret.lines.select_related("order_line").order_by("order_line_id")],
            "requested_by_member_id": ret.requested_by_member_id, "created_at": local(ret.created_at),
            "received_at": local(ret.received_at)}


def _body(return_id: int) -> dict:
    ret = Return.objects.select_related("order", "location").get(pk=return_id)
    return ReturnOut.model_validate(return_dict(ret)).model_dump(mode="json")


def _order_id(body: ReturnIn, member_id: int | None) -> int:
    if body.order_id is not None:
        return body.order_id
    qs = Order.objects.filter(number=body.order_number)
    if member_id is not None:
        qs = qs.filter(member_id=member_id)
    pk = qs.values_list("pk", flat=True).first()
    if pk is None:
        raise NotFound("订单不存在 Unknown order", code="unknown_order", details={"order_number": body.order_number})
    return pk


def _staff_at(request: HttpRequest, location_id: int) -> None:
    if actor_of(request).kind is ActorKind.MEMBER:
        raise Forbidden("仅门店员工可操作 Staff only", code="staff_only")
    require(request, Perm.RETURN_ACCEPT, location=location_id)


@router.post("", response=with_errors({201: ReturnOut}, 409),
             summary="Return goods: by courier to a store (members), or at the counter (staff, refunded at once)")
def return_create(request: HttpRequest, body: ReturnIn, idempotency_key: str | None = IdemKey):
    actor = actor_of(request)
    by = by_of(request)
    member_id = actor.id if actor.kind is ActorKind.MEMBER else None
    if member_id is None:
        require(request, Perm.RETURN_ACCEPT, location=body.location_id)
    order_id = _order_id(body, member_id)
    lines = [(ln.order_line_id, ln.qty) for ln in body.lines]

    def work() -> tuple[int, dict]:
        if member_id is None and body.method == ReturnMethod.STORE:
            ret = returns.return_at_store(order_id=order_id, lines=lines, location_id=body.location_id,
                                          reason=body.reason, by=by)
        else:
            ret = returns.return_create(order_id=order_id, lines=lines, method=body.method,
                                        location_id=body.location_id, reason=body.reason, by=by,
                                        requested_by_member_id=member_id)
        return 201, _body(ret.pk)

    return idempotent(request, "returns.create", idempotency_key, body.model_dump(mode="json"), work)


@router.get("", response=with_errors({200: ReturnPageOut}), summary="Returns the caller may see")
def return_list(request: HttpRequest, order_id: int | None = Query(None, gt=0, le=2**63 - 1),
                status: str | None = None, location_id: int | None = Query(None, gt=0, le=2**63 - 1),
                limit: int = Query(50, ge=1, le=200), offset: int = Query(0, ge=0)):
    _, member_id, locations = viewer(request)
    qs = _visible(Return.objects.all(), member_id=member_id, locations=locations)
    if order_id is not None:
        qs = qs.filter(order_id=order_id)
    if status:
        qs = qs.filter(status=status)
    if location_id is not None:
        qs = qs.filter(location_id=location_id)
    qs = qs.select_related("order", "location").order_by("-created_at", "-pk")
    return {"count": qs.count(), "items": [return_dict(r) for r in qs[offset:offset + limit]]}


@router.get("/{return_id}", response=with_errors({200: ReturnOut}), summary="One return")
def return_get(request: HttpRequest, return_id: int):
    _, member_id, locations = viewer(request)
    ret = _get(return_id, member_id=member_id, locations=locations)
    return _body(ret.pk)


@router.post("/{return_id}/receive", response=with_errors({200: ReturnOut}, 409),
             summary="The goods arrived at the return's location: restock there and refund")
def return_receive(request: HttpRequest, return_id: int, idempotency_key: str | None = IdemKey):
    if actor_of(request).kind is not ActorKind.STAFF:
        raise Forbidden("仅门店员工可操作 Staff only", code="staff_only")
    ret = _get(return_id, member_id=None, locations=None)
    _staff_at(request, ret.location_id)
    by = by_of(request)

    def work() -> tuple[int, dict]:
        returns.return_receive(return_id=return_id, by=by)
        return 200, _body(return_id)

    return idempotent(request, f"returns.receive.{return_id}", idempotency_key, {}, work)


@router.post("/{return_id}/cancel", response=with_errors({200: ReturnOut}, 409),
             summary="Cancel a requested return (the member, or staff at its location)")
def return_cancel(request: HttpRequest, return_id: int, body: ReturnCancelIn, idempotency_key: str | None = IdemKey):
    actor = actor_of(request)
    member_id = actor.id if actor.kind is ActorKind.MEMBER else None
    ret = _get(return_id, member_id=member_id, locations=None)
    if member_id is None:
        _staff_at(request, ret.location_id)
    by = by_of(request)

    def work() -> tuple[int, dict]:
        returns.return_cancel(return_id=return_id, by=by, reason=body.reason, member_id=member_id)
        return 200, _body(return_id)

    return idempotent(request, f"returns.cancel.{return_id}", idempotency_key, body.model_dump(mode="json"), work)


@router.post("/{return_id}/reject", response=with_errors({200: ReturnOut}, 409),
             summary="Refuse a requested return (staff at its location): nothing restocked or refunded")
def return_reject(request: HttpRequest, return_id: int, body: ReturnCancelIn, idempotency_key: str | None = IdemKey):
    if actor_of(request).kind is not ActorKind.STAFF:
        raise Forbidden("仅门店员工可操作 Staff only", code="staff_only")
    ret = _get(return_id, member_id=None, locations=None)
    _staff_at(request, ret.location_id)
    by = by_of(request)

    def work() -> tuple[int, dict]:
        returns.return_cancel(return_id=return_id, by=by, reason=body.reason, reject=True)
        return 200, _body(return_id)

    return idempotent(request, f"returns.reject.{return_id}", idempotency_key, body.model_dump(mode="json"), work)
