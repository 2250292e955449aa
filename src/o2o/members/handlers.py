"""Points and tiers from orders, through the transactional outbox (members sits above orders: orders never
import members; list ``"o2o.members.handlers.on_order_event"`` in ``O2O["OUTBOX_HANDLERS"]``).

* ``order.completed``: the order's member earns on what they paid and kept
  (``paid_fen - refunded_fen``, read from the order when the event is handled) by the
  channel's rate, one lot with ref ``order:<id>``.
* ``order.refunded_lines`` / ``order.refunded``: the earning is taken back in proportion to
  what was refunded after it: cumulatively, ``floor(points x refunded_since / basis)`` minus
  what was already taken back, so several partial refunds never take back more (or less, in
  the end) than the whole, and a late or repeated event finds nothing left to do. Each
  refund event is its own reversal (ref ``return:<id>`` or ``order:<id>:refunded``).

* ``order.completed`` also upgrades the member's tier at once if their trailing-12-month spend
  (every channel, this order included) now qualifies (``tiers.tier_upgrade_for_order``, once per
  order). Refunds never downgrade at once: the monthly review (``o2o review-tiers``) does.

Delivery is at least once; every step is idempotent by its reference. Events of orders
without a member, or that earned nothing, are ignored.
"""

from __future__ import annotations

from datetime import datetime

from django.db import transaction

from o2o.core import loyalty as core
from o2o.members.campaigns import campaign_for_order, earn_rule_for
from o2o.members.models import PointsLot
from o2o.members.points import account_lock, earn_rule, points_earn, points_reverse
from o2o.members.tiers import tier_upgrade_for_order
from o2o.orders.models import Order
from o2o.outbox.models import OutboxEvent

REVERSING = {"order.refunded_lines", "order.refunded"}


def order_ref(order_id: int) -> str:
    return f"order:{order_id}"


def earn_for_order(order: Order, now: datetime) -> int:
    """Points the completed ``order`` earns (0: nothing to earn); the lot's ref is ``order:<id>``."""
    if order.member_id is None:
        return 0
    basis = order.paid_fen - order.refunded_fen
    campaign = campaign_for_order(order)  # 积分活动: the best multiplier for when and where it was placed
    code = campaign.code if campaign is not None else None
    points = core.earn_for_order(max(basis, 0), order.channel, code, earn_rule_for(earn_rule(), campaign))
    if points > 0:
        points_earn(order.member_id, points, order_ref(order.pk), now, basis_fen=basis,
                    basis_refunded_fen=order.refunded_fen, campaign=code or "")
    return points


def reverse_for_order(order: Order, ref: str, now: datetime) -> int:
    """Take back the share of the order's points that its refunds since the earning call for."""
    if order.member_id is None:
        return 0
    with transaction.atomic():
        account_lock(order.member_id)  # read the lot's `reversed` under the account lock: no double reversal
        lot = PointsLot.objects.filter(account__member_id=order.member_id, ref=order_ref(order.pk)).first()
        if lot is None or not lot.basis_fen:
            return 0
        refunded = min(max(order.refunded_fen - lot.basis_refunded_fen, 0), lot.basis_fen)
        target = lot.points if refunded >= lot.basis_fen else lot.points * refunded // lot.basis_fen
        todo = target - lot.reversed
        if todo <= 0:
            return 0
        points_reverse(order.member_id, order_ref(order.pk), todo, now, ref=ref)
        return todo


def on_order_event(event: OutboxEvent) -> None:
    """The outbox handler: earn and upgrade the tier on ``order.completed``, reverse points on refunds."""
    if event.aggregate != "order" or (event.topic != "order.completed" and event.topic not in REVERSING):
        return
    # The order row is locked (as a OneID merge locks the orders it moves), so the member read here is
    # the order's member until this transaction ends: points and tier credit never land on a merged-away member.
    with transaction.atomic():
        _handle(event, Order.objects.select_for_update().filter(pk=int(event.aggregate_id)).first())


def _handle(event: OutboxEvent, order: Order | None) -> None:
    if order is None or order.member_id is None:
        return
    if event.topic == "order.completed":
        earn_for_order(order, event.created_at)
        # The window ends at the completion (a till's receipt may carry a later time than its event).
        at = max(event.created_at, order.completed_at or event.created_at)
        tier_upgrade_for_order(member_id=order.member_id, order_id=order.pk, now=at)
        return
    return_id = (event.payload or {}).get("return_id")
    ref = f"return:{return_id}" if event.topic == "order.refunded_lines" else f"{order_ref(order.pk)}:refunded"
    reverse_for_order(order, ref, event.created_at)
