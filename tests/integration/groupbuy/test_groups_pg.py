"""拼团 under real concurrency (PostgreSQL: row locks, one connection per thread): a group never overfills,
and the last join racing the expiry: whichever holds the group row first wins, whole."""

from __future__ import annotations

import threading
import time
from datetime import timedelta

import pytest
from django.db import connection, transaction
from django.utils import timezone

from o2o.common.errors import Conflict
from o2o.groupbuy import expiry, groups
from o2o.groupbuy.models import Group, GroupMember
from o2o.inventory import checks
from o2o.orders.models import Order
from tests.concurrency import TIMEOUT, race, someone_waits_on_a_lock
from tests.factories import figures, member
from tests.integration.fulfilment.world import build
from tests.integration.groupbuy.support import by, deal, pay, pickup_at

pytestmark = [pytest.mark.postgres, pytest.mark.django_db(transaction=True)]

JOINERS = 50


def _joiner(w, group_id: int, m):  # noqa: ANN001, ANN202
    def job() -> str:
        with transaction.atomic():
            groups.group_join(group_id=group_id, member=m, qty=1, fulfil=pickup_at(w.a), by=by(m))
        groups.group_release(group_id)  # as the API does after the commit
        return "joined"
    return job


def test_fifty_members_joining_a_five_person_group_at_once_fill_it_exactly(monkeypatch):
    assert connection.vendor == "postgresql"
    w = build(monkeypatch, a_stock=60)
    d = deal(w, size=5)
    owner = member()[0]
    now = timezone.now()
    # The group row as opening makes it, with no place taken yet: all 50 race for all 5 places.
    g = Group.objects.create(deal=d, opened_by=owner, size=5, joined=0, opened_at=now,
                             expires_at=now + timedelta(hours=24))
    members = [member()[0] for _ in range(JOINERS)]
    stock = figures(w.a, w.s1)
    placed: list[int] = []
    real = groups.order_place

    def counted(**kw):  # noqa: ANN003, ANN202
        order = real(**kw)
        placed.append(order.pk)
        return order

    monkeypatch.setattr(groups, "order_place", counted)
    results = race(*(_joiner(w, g.pk, m) for m in members))
    assert sorted(results).count("joined") == 5
    assert results.count("group_full") == JOINERS - 5 and len(results) == JOINERS
    g.refresh_from_db()
    assert (g.joined, g.status) == (5, "full") and g.full_at is not None
    places = list(GroupMember.objects.filter(group=g))
    assert len(places) == 5 and len({p.member_id for p in places}) == 5
    # Most joiners passed the pre-check together and placed an order: the conditional UPDATE refused all but
    # 5, and their transactions rolled the orders back.
    assert len(placed) > 5
    assert Order.objects.count() == 5
    assert set(Order.objects.values_list("hold", flat=True)) == {""}  # released: the group is full
    assert figures(w.a, w.s1) == (stock[0], stock[1] + 5)
    assert checks.run() == []


def _holding(fn, inside: threading.Event):  # noqa: ANN001, ANN202
    """``fn``, whose first call then waits (its transaction's locks held) until another transaction waits."""
    def wrapped(*args, **kw):  # noqa: ANN002, ANN003, ANN202
        out = fn(*args, **kw)
        if not inside.is_set():
            inside.set()
            deadline = time.monotonic() + 5
            while not someone_waits_on_a_lock() and time.monotonic() < deadline:
                time.sleep(0.01)
        return out
    return wrapped


def _one_then_other(first, second, inside: threading.Event) -> list[object]:  # noqa: ANN001
    """Start ``first``; once it holds its locks (``inside``), ``second``; their results (a Conflict as its code)."""
    results: list[object] = []
    errors: list[BaseException] = []

    def run(job) -> None:  # noqa: ANN001
        try:
            results.append(job())
        except Conflict as exc:
            results.append(exc.code)
        except BaseException as exc:  # noqa: BLE001
            errors.append(exc)
        finally:
            connection.close()

    one = threading.Thread(target=run, args=(first,))
    one.start()
    assert inside.wait(TIMEOUT)
    two = threading.Thread(target=run, args=(second,))
    two.start()
    for t in (one, two):
        t.join(TIMEOUT)
    assert not one.is_alive() and not two.is_alive() and errors == []
    return results


@pytest.mark.parametrize("first", ["join", "expire"])
def test_the_last_join_racing_the_expiry_one_wins_whole(monkeypatch, first):
    """The last place's join and the expiry both want the group row: the one holding it first wins, the
    other finds it changed. Join first: the group is full and its orders go to the store; expiry first:
    the join is refused (its order rolled back) and the opener is refunded."""
    assert connection.vendor == "postgresql"
    w = build(monkeypatch)
    d = deal(w, size=2)
    opener, late = member()[0], member()[0]
    with transaction.atomic():
        opened = groups.group_open(deal_id=d.pk, member=opener, qty=1, fulfil=pickup_at(w.a), by=by(opener))
    pay(opened.order_id)
    g = Group.objects.get(pk=opened.group_id)
    deadline = timezone.now() + timedelta(seconds=30)
    Group.objects.filter(pk=g.pk).update(expires_at=deadline)
    stock = figures(w.a, w.s1)
    inside = threading.Event()
    # Called right after each side's UPDATE of the group row, inside its transaction.
    if first == "join":
        monkeypatch.setattr(groups, "event_emit", _holding(groups.event_emit, inside))
    else:
        monkeypatch.setattr(expiry, "event_emit", _holding(expiry.event_emit, inside))

    def join() -> str:
        with transaction.atomic():
            groups.group_join(group_id=g.pk, member=late, qty=1, fulfil=pickup_at(w.a), by=by(late),
                              now=deadline - timedelta(seconds=1))
        groups.group_release(g.pk)
        return "joined"

    def expire() -> str:
        return "expired" if expiry.group_expire(g.pk, now=deadline) else "not_due"

    results = _one_then_other(*((join, expire) if first == "join" else (expire, join)), inside)
    expiry.groups_sweep(now=deadline)
    g.refresh_from_db()
    if first == "join":
        assert sorted(results) == ["joined", "not_due"]
        assert (g.status, g.joined) == ("full", 2)
        assert list(Order.objects.order_by("pk").values_list("status", "hold")) == [("allocated", ""),
                                                                                  ("pending_payment", "")]
        assert figures(w.a, w.s1) == (stock[0], stock[1] + 1)
    else:
        assert sorted(results) == ["expired", "group_expired"]
        assert (g.status, g.joined) == ("expired", 1)
        assert Order.objects.count() == 1  # the refused join's order was rolled back
        o = Order.objects.get()
        assert o.status == "cancelled" and o.refunded_fen == o.paid_fen > 0 and o.hold == ""
        assert figures(w.a, w.s1) == (stock[0], stock[1] - 1)
    assert checks.run() == []
