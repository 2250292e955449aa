"""社区团购: a leader's pickup point collects the orders of a neighbourhood.

* :func:`community_order_place` (the caller's transaction): the member's order is placed with the leader's
  point as its destination (GCJ-02, the point's address, the leader as the courier's contact), priced at
  the store serving the point; the routing engine decides how the goods get there (same-city from a store
  within reach, or express) for the delivery choice given (default ``any``; pickup makes no sense here).
  The order is recorded as a :class:`CommunityOrder` of that leader, its same-city shipments on the
  point's delivery run of the slot (``runs``: one courier per store, point and slot).
* The member pays no courier fee: the community fee ``O2O["COMMUNITY_FEE_FEN"]`` (default 0) takes its
  place (:func:`fee_replace`, on ``orders.signals.order_priced`` while the order is placed, so the total the
  order is created, announced and paid with includes it). It is charged where a courier fee would be and
  waived where that would be (free over the threshold, a tier's or coupon's free delivery); the pricing
  explanation and ``pricing["community"]`` show both.
* :func:`leader_orders`: a leader (a member with a leader record) sees the orders of their point(s):
  what to hand to whom (the member's name as shown and masked phone, the lines), never the money or an
  address. A member without a leader record gets 403 ``not_a_leader``.
* :func:`handed_over`: the leader marks an order handed to its member, once, after it reached the point
  (the order is ``completed``: delivered). Only the leader of that point: anyone else's answer is the 404
  of an unknown order. Logged in the order's history and announced (``community.handed_over``).
"""

from __future__ import annotations

from contextvars import ContextVar
from datetime import datetime
from typing import Any

from django.conf import settings
from django.db import transaction
from django.utils import timezone

from o2o.accounts import pii
from o2o.accounts.models import Member
from o2o.accounts.pii_services import PHONE
from o2o.common.errors import Conflict, Forbidden, InvalidInput, NotFound
from o2o.core.geo import LatLng, haversine_m
from o2o.core.orders import OrderStatus as S
from o2o.groupbuy import runs
from o2o.groupbuy.models import CommunityLeader, CommunityOrder, CommunityRunShipment
from o2o.orders import history
from o2o.orders.actors import By
from o2o.orders.locks import lock_order
from o2o.orders.models import EventKind, Order, OrderLine
from o2o.orders.placement import PlaceRequest, order_place

CHOICES = ("any", "fastest", "cheapest", "same_city", "express")  # delivered to the point, never a pickup
_placing: ContextVar[int | None] = ContextVar("community_placing", default=None)  # the leader being ordered to


def community_fee_fen() -> int:
    return max(0, int(settings.O2O.get("COMMUNITY_FEE_FEN", 0)))


def _fen(fen: int) -> str:
    return f"¥{fen // 100}.{fen % 100:02d}"


def fee_replace(sender: Any = None, *, order: Order, now: datetime | None = None, **_: Any) -> None:
    """``order_priced`` receiver: a community order being placed pays the community fee instead of the
    courier fee (module docstring); any other order is left alone."""
    leader_id = _placing.get()
    if leader_id is None:
        return
    courier = order.delivery_fee_fen
    fee = min(community_fee_fen(), courier)  # never more than the delivery fee it replaces (0 when waived)
    total = order.total_fen - courier + fee
    pricing = dict(order.pricing)
    explanation = [e for e in pricing.get("explanation", []) if not str(e).startswith("应付 Total")]
    explanation.append(f"社区团购送至团长自提点：免配送费 {_fen(courier)}，团购服务费 {_fen(fee)} Community order "
                       f"to the leader's point: no delivery fee ({_fen(courier)}), community fee {_fen(fee)}")
    explanation.append(f"应付 Total: {_fen(total)}")
    pricing.update(delivery_fee_fen=fee, total_fen=total, explanation=explanation,
                   community={"leader_id": leader_id, "courier_fee_fen": courier, "community_fee_fen": fee})
    Order.objects.filter(pk=order.pk).update(delivery_fee_fen=fee, total_fen=total, pricing=pricing)
    order.delivery_fee_fen, order.total_fen, order.pricing = fee, total, pricing


def leader_get(leader_id: int) -> CommunityLeader:
    leader = CommunityLeader.objects.filter(pk=leader_id, active=True).select_related("member").first()
    if leader is None:
        raise NotFound("团长自提点不存在 Unknown community leader", code="unknown_leader",
                       details={"leader_id": leader_id})
    return leader


def leaders_near(*, lat: float | None = None, lng: float | None = None, limit: int = 50) -> list[dict[str, Any]]:
    """Active pickup points, nearest first when a point (GCJ-02) is given."""
    rows = list(CommunityLeader.objects.filter(active=True).order_by("pk"))
    out = [{"id": r.pk, "name": r.name, "address": r.address, "lat": r.lat, "lng": r.lng,
            "location_id": r.location_id, "community_fee_fen": community_fee_fen(),
            "distance_m": (round(haversine_m(LatLng(lat, lng), LatLng(r.lat, r.lng)))
                           if lat is not None and lng is not None else None)} for r in rows]
    if lat is not None and lng is not None:
        out.sort(key=lambda d: (d["distance_m"], d["id"]))
    return out[:limit]


def _leader_phone(leader: CommunityLeader) -> str:
    """The courier calls the leader: the phone of the leader's member account (encrypted again on the order)."""
    enc = leader.member.phone_enc
    return pii.decrypt(enc, field=PHONE) if enc else ""


def community_order_place(*, leader_id: int, member: Member, lines: list[tuple[int, int]], channel: str,
                          by: By, choice: str = "any", coupon_ids: tuple[int, ...] = (), points: int = 0,
                          expected_total_fen: int | None = None, now: datetime | None = None) -> CommunityOrder:
    """Place a member's order to a leader's point (the caller's transaction); 404 ``unknown_leader``,
    422 ``invalid_choice``, then whatever placing the order answers."""
    assert transaction.get_connection().in_atomic_block, "community_order_place needs the caller's transaction"
    if choice not in CHOICES:
        raise InvalidInput("社区团购送至团长自提点，请选择配送方式 A community order is delivered to the point",
                           code="invalid_choice", details={"choice": choice, "allowed": list(CHOICES)})
    now = now or timezone.now()
    leader = leader_get(leader_id)
    token = _placing.set(leader.pk)
    try:
        order = order_place(req=PlaceRequest(
            lines=lines, channel=channel, choice=choice, lat=leader.lat, lng=leader.lng, coord="gcj02",
            price_location_id=leader.location_id, address=f"社区团购自提点 {leader.name}: {leader.address}"[:200],
            contact_name=f"团长 {leader.name}"[:64], contact_phone=_leader_phone(leader), coupon_ids=coupon_ids,
            points=points, utm={"source": "community", "campaign": f"leader-{leader.pk}"},
            routing_surcharges=runs.routing_preference(leader.pk, now)),
            member=member, by=by, now=now)
    finally:
        _placing.reset(token)
    if expected_total_fen is not None and expected_total_fen != order.total_fen:  # the caller's transaction undoes
        raise Conflict("价格已变化，请确认后重新下单 The total changed; confirm the new total",
                       code="total_changed", details={"expected_total_fen": expected_total_fen,
                                                      "total_fen": order.total_fen})
    placed = CommunityOrder.objects.create(order=order, leader=leader, member=member, created_at=now)
    runs.runs_assign(order, leader, now)
    history.log(order, by=by, kind=EventKind.NOTE, at=now,
                reason=f"社区团购：送至团长自提点 #{leader.pk} community order: to leader #{leader.pk}'s point")
    return placed


def _leaders_of(member_id: int) -> list[int]:
    ids = list(CommunityLeader.objects.filter(member_id=member_id).values_list("pk", flat=True))
    if not ids:
        raise Forbidden("仅团长可查看 Community leaders only", code="not_a_leader")
    return ids


def _lines(order_ids: list[int]) -> dict[int, list[dict[str, Any]]]:
    out: dict[int, list[dict[str, Any]]] = {}
    for oid, sku_id, name, qty in (OrderLine.objects.filter(order_id__in=order_ids).order_by("pk")
                                   .values_list("order_id", "sku_id", "name", "qty")):
        out.setdefault(oid, []).append({"sku_id": sku_id, "name": name, "qty": qty})
    return out


def _slots(order_id: int) -> list[str]:
    """The delivery days (ISO dates) of the order's runs to the point (empty: an express parcel)."""
    return sorted({d.isoformat() for d in CommunityRunShipment.objects.filter(shipment__order_id=order_id)
                   .values_list("run__slot_date", flat=True)})


def _local(at: datetime | None) -> datetime | None:
    return timezone.localtime(at) if at is not None else None


def leader_orders(member_id: int, *, handed: bool | None = None, limit: int = 200) -> list[dict[str, Any]]:
    """The orders of the caller's point(s), newest first (403 ``not_a_leader``)."""
    qs = (CommunityOrder.objects.filter(leader_id__in=_leaders_of(member_id))
          .select_related("order", "member", "leader").order_by("-created_at", "-pk"))
    if handed is not None:
        qs = qs.filter(handed_over_at__isnull=not handed)
    rows = list(qs[:limit])
    lines = _lines([r.order_id for r in rows])
    return [point_dict(r, lines.get(r.order_id, [])) for r in rows]


def point_dict(r: CommunityOrder, lines: list[dict[str, Any]] | None = None) -> dict[str, Any]:
    """An order as its point's leader sees it: whom to hand what, never the money or an address."""
    return {"order_id": r.order_id, "order_number": r.order.number, "order_status": r.order.status,
            "leader_id": r.leader_id, "member_name": r.member.display_name, "member_phone": r.member.phone_masked,
            "lines": _lines([r.order_id]).get(r.order_id, []) if lines is None else lines,
            "created_at": _local(r.created_at), "delivered": r.order.status == S.COMPLETED,
            "handed_over_at": _local(r.handed_over_at), "slot_dates": _slots(r.order_id)}


def member_orders(member_id: int, *, limit: int = 200) -> list[dict[str, Any]]:
    """A member's own community orders, newest first."""
    rows = list(CommunityOrder.objects.filter(member_id=member_id).select_related("order", "leader")
                .order_by("-created_at", "-pk")[:limit])
    return [community_dict(r) for r in rows]


def community_dict(r: CommunityOrder) -> dict[str, Any]:
    o = r.order
    return {"order_id": o.pk, "order_number": o.number, "order_status": o.status, "total_fen": o.total_fen,
            "delivery_fee_fen": o.delivery_fee_fen, "slot_dates": _slots(o.pk),
            "payment_deadline": _local(o.payment_deadline), "leader_id": r.leader_id, "leader_name": r.leader.name,
            "leader_address": r.leader.address, "created_at": _local(r.created_at),
            "handed_over_at": _local(r.handed_over_at)}


def handed_over(*, order_id: int, member_id: int, now: datetime | None = None) -> CommunityOrder:
    """The leader of the order's point handed it to its member (see the module). 403 ``not_a_leader``,
    404 ``unknown_order`` (not an order of the caller's point), 409 ``not_delivered`` /
    ``already_handed_over``."""
    now = now or timezone.now()
    mine = _leaders_of(member_id)
    with transaction.atomic():
        placed = CommunityOrder.objects.filter(order_id=order_id, leader_id__in=mine).first()
        if placed is None:
            raise NotFound("订单不存在 Unknown order", code="unknown_order", details={"order_id": order_id})
        order = lock_order(order_id)
        if order.status != S.COMPLETED:
            raise Conflict("商品尚未送达自提点 The order has not reached the point yet", code="not_delivered",
                           details={"order_id": order_id, "status": order.status})
        if not CommunityOrder.objects.filter(pk=placed.pk, handed_over_at__isnull=True).update(handed_over_at=now):
            raise Conflict("该订单已交给会员 The order was already handed over", code="already_handed_over",
                           details={"order_id": order_id})
        by = By(member_id=member_id, label=f"leader:{placed.leader_id}")
        history.log(order, by=by, kind=EventKind.NOTE, at=now,
                    reason=f"团长 #{placed.leader_id} 已交给会员 handed to the member by leader #{placed.leader_id}")
        history.emit(order, "community.handed_over", key=f"order:{order.pk}:handed_over", leader_id=placed.leader_id)
        return CommunityOrder.objects.select_related("order", "member", "leader").get(pk=placed.pk)
