"""A group not full in time: expired, every member's order cancelled and refunded exactly, stock back;
the sweep is idempotent and also finishes what a crash or a stopped relay left undone."""

from __future__ import annotations

from datetime import timedelta

import pytest
from django.core.management import call_command
from django.db import transaction
from django.db.models import Sum
from django.utils import timezone

from o2o.groupbuy import groups
from o2o.groupbuy.expiry import groups_sweep
from o2o.groupbuy.handlers import on_order_event
from o2o.groupbuy.models import Group
from o2o.inventory import checks
from o2o.orders import lifecycle
from o2o.orders.models import Order, Refund, RefundStatus
from o2o.outbox.models import OutboxEvent
from o2o.outbox.services import events_relay
from tests.factories import figures, member
from tests.integration.fulfilment.world import build
from tests.integration.groupbuy.support import by, deal, join, open_group, pay, pickup_at

pytestmark = pytest.mark.django_db


@pytest.fixture
def w(monkeypatch):
    return build(monkeypatch)


def _past(g: Group) -> None:
    Group.objects.filter(pk=g.pk).update(opened_at=timezone.now() - timedelta(hours=25),
                                         expires_at=timezone.now() - timedelta(minutes=1))


def test_an_expired_group_refunds_every_member_exactly_and_puts_the_stock_back(w, django_capture_on_commit_callbacks):
    before = figures(w.a, w.s1)
    d = deal(w, size=4, price_fen=650, limit=3)
    first = open_group(w, d, member()[0], qty=2)
    second = join(w, first.group_id, member()[0], qty=3)
    unpaid = join(w, first.group_id, member()[0])
    pay(first.order_id, "wechat")
    pay(second.order_id, "alipay")
    paid = Order.objects.filter(pk__in=[first.order_id, second.order_id]).aggregate(s=Sum("paid_fen"))["s"]
    assert paid == 650 * 2 + 650 * 3
    assert figures(w.a, w.s1) == (before[0], before[1] + 6)
    g = first.group
    _past(g)
    with django_capture_on_commit_callbacks(execute=True):
        counts = groups_sweep()
    assert counts == {"expired": 1, "settled": 3, "released": 0, "dropped": 0, "failed": 0}
    g.refresh_from_db()
    assert g.status == "expired" and g.expired_at is not None and g.joined == 3
    orders = {o.pk: o for o in Order.objects.filter(pk__in=[first.order_id, second.order_id, unpaid.order_id])}
    assert {o.status for o in orders.values()} == {"cancelled"}
    assert all(o.hold == "" for o in orders.values())
    for o in orders.values():
        assert o.refunded_fen == o.paid_fen  # exactly what each paid, the unpaid one nothing
        assert (Refund.objects.filter(payment__order=o).aggregate(s=Sum("amount_fen"))["s"] or 0) == o.paid_fen
    assert orders[unpaid.order_id].paid_fen == 0
    refunds = Refund.objects.filter(payment__order_id__in=list(orders))
    assert refunds.aggregate(s=Sum("amount_fen"))["s"] == paid
    assert set(refunds.values_list("status", flat=True)) == {RefundStatus.SUCCEEDED}
    assert figures(w.a, w.s1) == before  # every unit back on the shelf
    assert OutboxEvent.objects.filter(topic="group.expired", aggregate_id=str(g.pk)).count() == 1
    assert OutboxEvent.objects.filter(topic="order.cancelled").count() == 3
    # Again: nothing to do, nothing refunded twice; the relayed cancellations change nothing either.
    assert groups_sweep() == {"expired": 0, "settled": 0, "released": 0, "dropped": 0, "failed": 0}
    assert events_relay(handlers=[on_order_event])[1] == 0
    assert Refund.objects.filter(payment__order_id__in=list(orders)).count() == refunds.count()
    assert Group.objects.get(pk=g.pk).joined == 3
    assert checks.run() == []


def test_a_join_after_the_expiry_is_refused_even_before_the_sweep(w):
    g = open_group(w, deal(w), member()[0]).group
    _past(g)
    with pytest.raises(Exception) as exc:  # noqa: PT011 - the Conflict's code is what matters
        join(w, g.pk, member()[0])
    assert getattr(exc.value, "code", None) == "group_expired"


def test_the_sweep_releases_a_full_group_a_crash_left_held(w):
    d = deal(w, size=2)
    first = open_group(w, d, member()[0])
    m = member()[0]
    with transaction.atomic():  # joined, but the release after the commit never ran
        last = groups.group_join(group_id=first.group_id, member=m, qty=1, fulfil=pickup_at(w.a), by=by(m))
    assert Group.objects.get(pk=first.group_id).status == "full"
    assert Order.objects.get(pk=last.order_id).hold == "group"
    assert groups_sweep()["released"] == 2
    assert set(Order.objects.filter(pk__in=[first.order_id, last.order_id]).values_list("hold", flat=True)) == {""}


def test_the_sweep_gives_back_places_the_relay_missed(w):
    first = open_group(w, deal(w, size=3), member()[0])
    pay(first.order_id)
    g = first.group
    late = join(w, g.pk, member()[0])
    deadline = Order.objects.get(pk=late.order_id).payment_deadline
    assert lifecycle.orders_expire(now=deadline + timedelta(seconds=1)) == 1
    assert Group.objects.get(pk=g.pk).joined == 2  # no relay ran
    assert groups_sweep()["dropped"] == 1
    assert Group.objects.get(pk=g.pk).joined == 1


def test_expire_groups_command(w):
    g = open_group(w, deal(w), member()[0]).group
    _past(g)
    from io import StringIO

    out = StringIO()
    call_command("expire-groups", stdout=out)
    assert "expired 1 groups, settled 1 orders" in out.getvalue()
    assert Group.objects.get(pk=g.pk).status == "expired"
