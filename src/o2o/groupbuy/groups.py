"""拼团: opening a group, joining it (atomically: a group never overfills), releasing a full group's orders,
and giving a place back when its order ends while the group is still open.

Joining (:func:`group_join`, in the caller's transaction) places the member's order first (``order_place``,
the deal price added as an exclusive promotion for that order only), puts it on hold (``Order.hold =
"group"``: the stores neither see nor pick it) and only then takes a place with one conditional UPDATE::

    UPDATE group SET joined = joined + 1 WHERE id = ? AND status = 'open' AND joined < size AND expires_at > now

No row: 409 ``group_full`` / ``group_expired`` and the caller's transaction rolls back, order, stock
reservation and all. On PostgreSQL a second joiner waits on the first one's row lock and re-checks the
condition once it commits, so N places are taken by exactly N joins. The join that takes the last place
marks the group full in the same transaction (conditional too) and announces ``group.full`` in the outbox.

When places count: at the join (the order is placed then). The member pays at once: the order's payment
deadline is the sooner of the usual window and the group's expiry. An unpaid order expires as any order
does; while its group is open, the place is given back (:func:`member_drop`: a conditional decrement,
run by the outbox handler on ``order.expired`` / ``order.cancelled`` and by the ``expire-groups`` sweep).
Once a group is full it stays full: its orders are released (:func:`group_release`) and a member who then
never pays simply loses their order (the others keep theirs; the stores may already be picking them).

:func:`group_release` runs after the join's transaction commits (it locks each order row first, the
orders app's lock order, which the joining transaction, already holding stock rows, must not take); the
``expire-groups`` sweep releases any full group a crash left with held orders.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta

from django.conf import settings
from django.db import connection, transaction
from django.db.models import F, Sum
from django.utils import timezone

from o2o.accounts.models import Member
from o2o.common.errors import Conflict, InvalidInput, NotFound
from o2o.core.orders import OrderStatus as S
from o2o.core.promotions import FixedPrice, Promotion, Scope
from o2o.fulfilment.models import RoutedShipment
from o2o.groupbuy.models import Group, GroupDeal, GroupMember, GroupStatus
from o2o.inventory.reservations import reservation_extend
from o2o.orders import history
from o2o.orders.actors import By, system
from o2o.orders.lifecycle import paid_hold_s
from o2o.orders.locks import lock_order
from o2o.orders.models import EventKind, Order, Shipment, ShipmentStatus
from o2o.orders.placement import PlaceRequest, order_place
from o2o.outbox.services import event_emit

HOLD = "group"  # ``Order.hold`` of an order whose group is not full yet
ENDED = (S.CANCELLED.value, S.EXPIRED.value, S.REFUNDED.value)  # an order that will not be filled
HOLD_MARGIN_S = 3600


def hold_margin_s() -> int:
    return int(settings.O2O.get("GROUPBUY", {}).get("HOLD_MARGIN_S", HOLD_MARGIN_S))


@dataclass(frozen=True)
class Fulfil:
    """How the member's order is fulfilled and paid (as ``POST /orders`` takes it)."""

    channel: str
    choice: str
    lat: float
    lng: float
    coord: str = "gcj02"
    pickup_location_id: int | None = None
    price_location_id: int | None = None
    address: str = ""
    contact_name: str = ""
    contact_phone: str = ""
    expected_total_fen: int | None = None


def promotion_id(deal: GroupDeal) -> str:
    # Not a number, so it never names a stored ``marketing.Promotion`` (those are listed by number).
    return f"group:{deal.pk}"


def deal_promotion(deal: GroupDeal, qty: int) -> Promotion:
    """The deal price as a promotion of this order only (exclusive: no other promotion on the line)."""
    stores = frozenset({deal.store_id}) if deal.store_id else frozenset()
    return Promotion(id=promotion_id(deal), label=f"拼团价 Group price: {deal.name}"[:100],
                     offer=FixedPrice(price_fen=deal.deal_price_fen, max_units=qty),
                     scope=Scope(sku_ids=frozenset({deal.sku_id}), store_ids=stores), priority=1000, exclusive=True)


def deal_get(deal_id: int) -> GroupDeal:
    deal = GroupDeal.objects.select_related("sku").filter(pk=deal_id).first()
    if deal is None:
        raise NotFound("拼团活动不存在 Unknown group deal", code="unknown_deal", details={"deal_id": deal_id})
    return deal


def deal_live(deal: GroupDeal, now: datetime) -> bool:
    return deal.active and deal.starts_at <= now < deal.ends_at


def group_get(group_id: int) -> Group:
    group = Group.objects.select_related("deal", "deal__sku").filter(pk=group_id).first()
    if group is None:
        raise NotFound("拼团不存在 Unknown group", code="unknown_group", details={"group_id": group_id})
    return group


def _closed(group_id: int, now: datetime) -> Conflict:
    """Why a group took no one: full, or expired (read fresh)."""
    g = Group.objects.filter(pk=group_id).values("status", "joined", "size", "expires_at").first() or {}
    details = {"group_id": group_id, "status": g.get("status"), "joined": g.get("joined"), "size": g.get("size"),
               "expires_at": timezone.localtime(g["expires_at"]).isoformat() if g.get("expires_at") else None}
    if g.get("status") == GroupStatus.FULL or (g.get("status") == GroupStatus.OPEN and g["joined"] >= g["size"]):
        return Conflict("该团已满 The group is full", code="group_full", details=details)
    return Conflict("该团已结束 The group has expired", code="group_expired", details=details)


def _check_fulfil(deal: GroupDeal, f: Fulfil) -> None:
    if deal.store_id and (f.choice != "pickup" or f.pickup_location_id != deal.store_id):
        raise InvalidInput("该拼团仅限指定门店自提 This deal is for pickup at its store only", code="deal_store_only",
                           details={"store_id": deal.store_id, "choice": f.choice,
                                    "pickup_location_id": f.pickup_location_id})


def _check_member(group: Group, member: Member, qty: int) -> None:
    """One live place per member and group; at most ``member_limit`` units per member in the deal, over their
    places whose orders still stand. The member's row is locked first (PostgreSQL), so two joins of one
    member are checked one after the other."""
    deal = group.deal
    if qty > deal.member_limit:
        raise InvalidInput("超过每人限购数量 More than the deal allows per member", code="member_limit_exceeded",
                           details={"qty": qty, "member_limit": deal.member_limit})
    if connection.vendor == "postgresql":
        list(Member.objects.select_for_update(no_key=True).filter(pk=member.pk).values_list("pk", flat=True))
    if GroupMember.objects.filter(group=group, member=member, dropped_at__isnull=True).exists():
        raise Conflict("您已在该团中 You are already in this group", code="already_joined",
                       details={"group_id": group.pk})
    held = (GroupMember.objects.filter(member=member, group__deal=deal, dropped_at__isnull=True)
            .exclude(order__status__in=ENDED).aggregate(n=Sum("qty"))["n"] or 0)
    if held + qty > deal.member_limit:
        raise Conflict("已达到每人限购数量 You already hold the most this deal allows", code="member_limit_reached",
                       details={"qty": qty, "held": held, "member_limit": deal.member_limit})


def group_join(*, group_id: int, member: Member, qty: int, fulfil: Fulfil, by: By,
               now: datetime | None = None) -> GroupMember:
    """Place the member's order and take a place in the group, in the caller's transaction (see the module).

    404 ``unknown_group``; 409 ``group_full`` / ``group_expired`` / ``deal_inactive`` / ``already_joined`` /
    ``member_limit_reached``; 422 ``deal_store_only`` / ``member_limit_exceeded``; and whatever placing the
    order answers (``cannot_fill``, ``insufficient_stock``, ``total_changed``...).
    """
    assert transaction.get_connection().in_atomic_block, "group_join needs the caller's transaction"
    now = now or timezone.now()
    group = group_get(group_id)
    deal = group.deal
    if group.status != GroupStatus.OPEN or group.joined >= group.size or group.expires_at <= now:
        raise _closed(group.pk, now)  # nothing placed: the cheap answer for the many late joiners
    if not deal.active:
        raise Conflict("拼团活动已停止 The group deal was stopped", code="deal_inactive", details={"deal_id": deal.pk})
    _check_fulfil(deal, fulfil)
    _check_member(group, member, qty)
    order = order_place(req=PlaceRequest(
        lines=[(deal.sku_id, qty)], channel=fulfil.channel, choice=fulfil.choice, lat=fulfil.lat, lng=fulfil.lng,
        coord=fulfil.coord, pickup_location_id=fulfil.pickup_location_id,
        price_location_id=fulfil.price_location_id, address=fulfil.address, contact_name=fulfil.contact_name,
        contact_phone=fulfil.contact_phone, expected_total_fen=fulfil.expected_total_fen,
        utm={"source": "groupbuy", "campaign": f"deal-{deal.pk}"}, extra_promotions=(deal_promotion(deal, qty),)),
        member=member, by=by, now=now)
    deadline = min(order.payment_deadline, group.expires_at) if order.payment_deadline else group.expires_at
    held = {"hold": HOLD, "payment_deadline": deadline,
            "hold_until": group.expires_at + timedelta(seconds=hold_margin_s())}
    Order.objects.filter(pk=order.pk).update(**held)
    for k, v in held.items():
        setattr(order, k, v)
    won = Group.objects.filter(pk=group.pk, status=GroupStatus.OPEN, joined__lt=F("size"),
                               expires_at__gt=now).update(joined=F("joined") + 1)
    if not won:
        raise _closed(group.pk, now)  # the caller's transaction rolls the order back
    filled = Group.objects.filter(pk=group.pk, status=GroupStatus.OPEN, joined=F("size")).update(
        status=GroupStatus.FULL, full_at=now)
    group.refresh_from_db(fields=["joined", "status", "full_at"])
    place = GroupMember.objects.create(group=group, member=member, order=order, qty=qty, joined_at=now)
    history.log(order, by=by, kind=EventKind.NOTE, at=now,
                reason=f"参加拼团 #{group.pk}，成团前暂不备货 joined group #{group.pk}; on hold until it is full")
    if filled:
        orders = list(GroupMember.objects.filter(group=group, dropped_at__isnull=True).order_by("pk")
                      .values_list("order_id", flat=True))
        event_emit(topic="group.full", aggregate="group", aggregate_id=group.pk, key=f"group:{group.pk}:full",
                   payload={"group_id": group.pk, "deal_id": deal.pk, "size": group.size, "order_ids": orders,
                            "member_ids": list(GroupMember.objects.filter(group=group, dropped_at__isnull=True)
                                               .order_by("pk").values_list("member_id", flat=True))},
                   now=now)
    return place


def group_open(*, deal_id: int, member: Member, qty: int, fulfil: Fulfil, by: By,
               now: datetime | None = None) -> GroupMember:
    """Open a group of a live deal and take its first place (the caller's transaction).
    409 ``deal_not_live`` outside the deal's dates or when stopped; then as :func:`group_join`."""
    now = now or timezone.now()
    deal = deal_get(deal_id)
    if not deal_live(deal, now):
        raise Conflict("拼团活动未开始或已结束 The group deal is not on now", code="deal_not_live",
                       details={"deal_id": deal.pk, "active": deal.active,
                                "starts_at": timezone.localtime(deal.starts_at).isoformat(),
                                "ends_at": timezone.localtime(deal.ends_at).isoformat()})
    group = Group.objects.create(deal=deal, opened_by=member, size=deal.group_size, joined=0, opened_at=now,
                                 expires_at=now + timedelta(hours=deal.window_hours))
    return group_join(group_id=group.pk, member=member, qty=qty, fulfil=fulfil, by=by, now=now)


# --- a full group's orders go to the stores -------------------------------------------------------


def _extend_paid_holds(order: Order, by: By, now: datetime) -> None:
    """A paid order waited for its group: hold its stock the usual paid time from now on."""
    until = now + timedelta(seconds=paid_hold_s())
    for s in Shipment.objects.filter(order=order, status=ShipmentStatus.ALLOCATED, routed_id__isnull=False):
        rid = RoutedShipment.objects.filter(pk=s.routed_id).values_list("reservation_id", flat=True).first()
        if rid is not None and not reservation_extend(reservation_id=rid, expires_at=until):
            history.log(order, by=by, kind=EventKind.NOTE, shipment=s, at=now,
                        reason="成团时该发货单的库存预占已失效 the hold had lapsed when the group filled")


def group_release(group_id: int, *, now: datetime | None = None) -> int:
    """Release every held order of a full group to its stores (one transaction per order, its row
    locked first); the number released. Idempotent: a released order is skipped."""
    now = now or timezone.now()
    if not Group.objects.filter(pk=group_id, status=GroupStatus.FULL).exists():
        return 0
    by = system("groupbuy")
    done = 0
    for order_id in list(GroupMember.objects.filter(group_id=group_id, order__hold=HOLD).order_by("order_id")
                         .values_list("order_id", flat=True)):
        with transaction.atomic():
            order = lock_order(order_id)
            if order.hold != HOLD:
                continue
            Order.objects.filter(pk=order.pk, hold=HOLD).update(hold="", hold_until=None, updated_at=now)
            if order.status not in ENDED:
                _extend_paid_holds(order, by, now)
            history.log(order, by=by, kind=EventKind.NOTE, at=now,
                        reason=f"拼团 #{group_id} 已成团，门店可以备货 group #{group_id} is full: released to the store")
            done += 1
    return done


# --- a place given back ---------------------------------------------------------------------------


def member_drop(order_id: int, *, now: datetime | None = None) -> bool:
    """The order ended (not paid in time, cancelled) while its group is open: give its place back
    (``joined - 1``, conditional on the group still being open). False when there is nothing to do:
    not a group order, still standing, already dropped, or its group is full or expired."""
    now = now or timezone.now()
    with transaction.atomic():
        place = GroupMember.objects.filter(order_id=order_id, dropped_at__isnull=True).first()
        if place is None or not Order.objects.filter(pk=order_id, status__in=ENDED).exists():
            return False
        won = Group.objects.filter(pk=place.group_id, status=GroupStatus.OPEN, joined__gt=0).update(
            joined=F("joined") - 1)
        if not won:
            return False
        GroupMember.objects.filter(pk=place.pk).update(dropped_at=now)
        Order.objects.filter(pk=order_id, hold=HOLD).update(hold="", hold_until=None)
        order = Order.objects.get(pk=order_id)
        history.log(order, by=system("groupbuy"), kind=EventKind.NOTE, at=now,
                    reason=f"订单未成立，让出拼团 #{place.group_id} 名额 the order ended: its place in group "
                           f"#{place.group_id} was given back")
        return True
