"""Groups that did not fill in time: expired, and every member's order cancelled and refunded in full.

:func:`groups_sweep` (``o2o expire-groups``, from cron like ``o2o expire-orders``) does, in order:

1. **expire**: each open group past ``expires_at`` becomes ``expired`` with a conditional UPDATE (its own
   short transaction, so a join waiting on the row re-checks and answers 409 ``group_expired``), announced
   as ``group.expired`` in the outbox;
2. **settle**: each order of an expired group still on hold is cancelled through the orders app's
   ``order_cancel`` (its stock goes back, what was paid is refunded in full; coupons and points come back
   through the outbox handlers of ``order.cancelled``), then taken off hold: one transaction per order,
   its row locked first. An order that already ended (unpaid, cancelled) is only taken off hold;
3. **release**: a full group whose orders are still held (the join's release did not run: a crash) is
   released (``groups.group_release``);
4. **drop**: an open group's member whose order ended gives the place back (``groups.member_drop``; the
   outbox handler does it too, this catches what a stopped relay missed).

Every step is idempotent and safe to run in several processes at once.
"""

from __future__ import annotations

import logging
from datetime import datetime

from django.db import DatabaseError, transaction
from django.utils import timezone

from o2o.common.errors import ApiError
from o2o.groupbuy.groups import ENDED, HOLD, group_release, member_drop
from o2o.groupbuy.models import Group, GroupMember, GroupStatus
from o2o.orders import history, lifecycle
from o2o.orders.actors import system
from o2o.orders.locks import lock_order
from o2o.orders.models import EventKind, Order
from o2o.outbox.services import event_emit

log = logging.getLogger("o2o.groupbuy")

REASON = "拼团未成团，自动取消并全额退款 group not full in time: cancelled and refunded in full"


def group_expire(group_id: int, *, now: datetime | None = None) -> bool:
    """Mark one open group past its expiry ``expired`` (conditional); False when it is not due (any more)."""
    now = now or timezone.now()
    with transaction.atomic():
        won = Group.objects.filter(pk=group_id, status=GroupStatus.OPEN, expires_at__lte=now).update(
            status=GroupStatus.EXPIRED, expired_at=now)
        if won:
            g = Group.objects.get(pk=group_id)
            event_emit(topic="group.expired", aggregate="group", aggregate_id=group_id, key=f"group:{group_id}:expired",
                       payload={"group_id": group_id, "deal_id": g.deal_id, "size": g.size, "joined": g.joined,
                                "order_ids": list(GroupMember.objects.filter(group_id=group_id, dropped_at__isnull=True)
                                                  .order_by("pk").values_list("order_id", flat=True))},
                       now=now)
        return bool(won)


def member_settle(order_id: int, *, now: datetime | None = None) -> bool:
    """Cancel and refund one held order of an expired group, then take it off hold; False when done before."""
    now = now or timezone.now()
    by = system("groupbuy-expiry")
    with transaction.atomic():
        order = lock_order(order_id)
        if order.hold != HOLD:
            return False
        if order.status not in ENDED:
            order = lifecycle.order_cancel(order_id=order.pk, by=by, reason=REASON, now=now)
        Order.objects.filter(pk=order.pk, hold=HOLD).update(hold="", hold_until=None)
        history.log(order, by=by, kind=EventKind.NOTE, at=now, reason=REASON)
        return True


def _each(ids: list[int], job, what: str) -> tuple[int, int]:  # noqa: ANN001 - a callable of one id
    done = failed = 0
    for pk in ids:
        try:
            done += bool(job(pk))
        except (ApiError, DatabaseError):
            log.exception("could not %s %s", what, pk)
            failed += 1
    return done, failed


def groups_sweep(*, now: datetime | None = None, limit: int = 500) -> dict[str, int]:
    """Expire, settle, release and drop (see the module); counts of each and of failures."""
    now = now or timezone.now()
    counts = {"expired": 0, "settled": 0, "released": 0, "dropped": 0, "failed": 0}
    due = list(Group.objects.filter(status=GroupStatus.OPEN, expires_at__lte=now).order_by("expires_at")
               .values_list("pk", flat=True)[:limit])
    counts["expired"], failed = _each(due, lambda pk: group_expire(pk, now=now), "expire group")
    counts["failed"] += failed
    held = list(GroupMember.objects.filter(group__status=GroupStatus.EXPIRED, order__hold=HOLD)
                .order_by("order_id").values_list("order_id", flat=True)[:limit])
    counts["settled"], failed = _each(held, lambda pk: member_settle(pk, now=now), "settle order")
    counts["failed"] += failed
    full = list(GroupMember.objects.filter(group__status=GroupStatus.FULL, order__hold=HOLD)
                .order_by("group_id").values_list("group_id", flat=True).distinct()[:limit])
    for pk in full:
        try:
            counts["released"] += group_release(pk, now=now)
        except (ApiError, DatabaseError):
            log.exception("could not release group %s", pk)
            counts["failed"] += 1
    ended = list(GroupMember.objects.filter(group__status=GroupStatus.OPEN, dropped_at__isnull=True,
                                            order__status__in=ENDED).values_list("order_id", flat=True)[:limit])
    counts["dropped"], failed = _each(ended, lambda pk: member_drop(pk, now=now), "drop place of order")
    counts["failed"] += failed
    return counts
