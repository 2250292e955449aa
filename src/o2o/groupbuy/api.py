"""Group buying API, mounted at ``/groupbuy``.

拼团 (members; staff may read the deals):
* ``GET /deals``: live deals. ``GET /deals/{id}/groups``: its groups one may still join.
* ``POST /deals/{id}/groups`` (``Idempotency-Key``): open a group and take its first place: 201 the group
  with the caller's place (``mine``: the order to pay at once, ``POST /payments``).
* ``POST /groups/{id}/join`` (``Idempotency-Key``): take a place; 409 ``group_full`` / ``group_expired`` /
  ``already_joined`` / ``member_limit_reached`` and nothing is placed.
* ``GET /groups/{id}``: a group (share link): counts and times, the caller's own place; no one else's.
* ``GET /groups/mine``: the caller's places.

社区团购 (members):
* ``GET /community/leaders``: active pickup points (``?lat=&lng=``: nearest first) and the community fee.
* ``POST /community/orders`` {leader_id, lines, choice...} (``Idempotency-Key``): an order delivered to the
  leader's point, paying the community fee instead of a courier fee (``delivery_fee_fen``), travelling with the
  point's run of its slot (``slot_dates``; ``runs``). ``GET /community/orders``: the caller's own.
* ``GET /community/leader/orders``: a leader's point's orders (403 ``not_a_leader`` for anyone else).
* ``POST /community/leader/orders/{order_id}/handed-over``: only the leader of that point (else 404), once,
  after delivery (409 ``not_delivered`` / ``already_handed_over``).
"""

from __future__ import annotations

from typing import Any

from django.http import HttpRequest
from django.utils import timezone
from ninja import Query, Router

from o2o.accounts.permissions import actor_of
from o2o.fulfilment.schemas import with_errors
from o2o.groupbuy import community, groups, selectors
from o2o.groupbuy.models import GroupMember, GroupStatus
from o2o.groupbuy.schemas import (
    CommunityOrderIn,
    CommunityOrderOut,
    DealOut,
    GroupOut,
    JoinIn,
    LeaderOut,
    PointOrderOut,
)
from o2o.inventory.idempotency import run_idempotent
from o2o.orders.api.common import IdemKey, Status, by_of, idempotent, member_of

router = Router(tags=["groupbuy"])
_BIGINT = 2**63 - 1


def _fulfil(body: JoinIn) -> groups.Fulfil:
    return groups.Fulfil(channel=body.channel, choice=body.choice, lat=body.lat, lng=body.lng, coord=body.coord,
                         pickup_location_id=body.pickup_location_id, price_location_id=body.price_location_id,
                         address=body.address, contact_name=body.contact_name, contact_phone=body.contact_phone,
                         expected_total_fen=body.expected_total_fen)


def _joined(request: HttpRequest, op: str, key: str | None, body: JoinIn, place) -> Status:  # noqa: ANN001
    """Run the join (``place()``, in the idempotent transaction), then release the group if it filled: after
    the commit, as its own transactions (each order row locked first; see ``groups``)."""

    def work() -> tuple[int, dict[str, Any]]:
        p: GroupMember = place()
        return 201, GroupOut.model_validate(selectors.group_dict(p.group, place=p)).model_dump(mode="json")

    actor = actor_of(request)
    out = run_idempotent(operation=f"{op}:{actor.kind.value}:{actor.id}"[:64], key=key,
                         payload=body.model_dump(mode="json"), work=work)
    if out.status != 201 or out.body.get("status") != GroupStatus.FULL:
        return Status(out.status, out.body)
    groups.group_release(out.body["id"])  # idempotent: a replayed answer releases nothing twice
    fresh = GroupMember.objects.select_related("group", "group__deal", "order").get(
        order_id=out.body["mine"]["order_id"])
    return Status(201, GroupOut.model_validate(selectors.group_dict(fresh.group, place=fresh)).model_dump(mode="json"))


@router.get("/deals", response=with_errors({200: list[DealOut]}), summary="Group deals (拼团) on now")
def deals(request: HttpRequest):
    actor_of(request)
    return selectors.live_deals()


@router.get("/deals/{int:deal_id}/groups", response=with_errors({200: list[GroupOut]}),
            summary="A deal's groups one may still join")
def deal_groups(request: HttpRequest, deal_id: int):
    actor_of(request)
    groups.deal_get(deal_id)
    return selectors.open_groups(deal_id)


@router.post("/deals/{int:deal_id}/groups", response=with_errors({201: GroupOut}, 409),
             summary="Open a group (开团) and take its first place; pay the order at once")
def group_open(request: HttpRequest, deal_id: int, body: JoinIn, idempotency_key: str | None = IdemKey):
    member = member_of(request)
    by = by_of(request)
    return _joined(request, f"groupbuy.open.{deal_id}", idempotency_key, body,
                   lambda: groups.group_open(deal_id=deal_id, member=member, qty=body.qty, fulfil=_fulfil(body),
                                             by=by))


@router.post("/groups/{int:group_id}/join", response=with_errors({201: GroupOut}, 409),
             summary="Join a group (参团): one place, never more than the group's size")
def group_join(request: HttpRequest, group_id: int, body: JoinIn, idempotency_key: str | None = IdemKey):
    member = member_of(request)
    by = by_of(request)
    return _joined(request, f"groupbuy.join.{group_id}", idempotency_key, body,
                   lambda: groups.group_join(group_id=group_id, member=member, qty=body.qty, fulfil=_fulfil(body),
                                             by=by))


@router.get("/groups/mine", response=with_errors({200: list[GroupOut]}), summary="My groups and their orders")
def my_groups(request: HttpRequest):
    return selectors.my_groups(member_of(request).pk)


@router.get("/groups/{int:group_id}", response=with_errors({200: GroupOut}),
            summary="A group as any member sees it (share link), with the caller's own place")
def group_get(request: HttpRequest, group_id: int):
    member = member_of(request)
    return selectors.group_dict(groups.group_get(group_id), member_id=member.pk)


@router.get("/community/leaders", response=with_errors({200: list[LeaderOut]}),
            summary="Community pickup points (团长自提点), nearest first")
def leaders(request: HttpRequest, lat: float | None = Query(None, ge=-90, le=90),
            lng: float | None = Query(None, ge=-180, le=180)):
    actor_of(request)
    return community.leaders_near(lat=lat, lng=lng)


@router.post("/community/orders", response=with_errors({201: CommunityOrderOut}, 409),
             summary="Order to a leader's pickup point (社区团购); pay it like any order")
def community_order(request: HttpRequest, body: CommunityOrderIn, idempotency_key: str | None = IdemKey):
    member = member_of(request)
    by = by_of(request)

    def work() -> tuple[int, dict[str, Any]]:
        placed = community.community_order_place(
            leader_id=body.leader_id, member=member, lines=[(ln.sku_id, ln.qty) for ln in body.lines],
            channel=body.channel, choice=body.choice, coupon_ids=tuple(body.coupon_ids), points=body.points,
            expected_total_fen=body.expected_total_fen, by=by)
        return 201, CommunityOrderOut.model_validate(community.community_dict(placed)).model_dump(mode="json")

    return idempotent(request, "groupbuy.community", idempotency_key, body.model_dump(mode="json"), work)


@router.get("/community/orders", response=with_errors({200: list[CommunityOrderOut]}),
            summary="My community orders")
def community_mine(request: HttpRequest):
    return community.member_orders(member_of(request).pk)


@router.get("/community/leader/orders", response=with_errors({200: list[PointOrderOut]}),
            summary="A leader's point: the orders to hand to the neighbours")
def leader_orders(request: HttpRequest, handed: bool | None = None):
    return community.leader_orders(member_of(request).pk, handed=handed)


@router.post("/community/leader/orders/{int:order_id}/handed-over", response=with_errors({200: PointOrderOut}, 409),
             summary="The leader handed the order to its member (once, after delivery)")
def order_handed_over(request: HttpRequest, order_id: int, idempotency_key: str | None = IdemKey):
    member = member_of(request)

    def work() -> tuple[int, dict[str, Any]]:
        placed = community.handed_over(order_id=order_id, member_id=member.pk, now=timezone.now())
        return 200, PointOrderOut.model_validate(community.point_dict(placed)).model_dump(mode="json")

    return idempotent(request, f"groupbuy.handed_over.{order_id}", idempotency_key, {}, work)
