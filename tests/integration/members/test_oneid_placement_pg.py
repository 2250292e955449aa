"""PostgreSQL: a merge and an order placement of the merged member at once never leave an order on it."""

from __future__ import annotations

import threading
import time
from collections.abc import Callable

import pytest
from django.db import connection, transaction

from o2o.accounts.models import Member
from o2o.members import merge as merge_mod
from o2o.members.merge import member_merge
from o2o.orders import placement
from o2o.orders.actors import By
from o2o.orders.models import Order
from o2o.orders.placement import PlaceRequest
from tests.concurrency import race, someone_waits_on_a_lock
from tests.factories import member
from tests.integration.fulfilment.world import P, build

pytestmark = [pytest.mark.postgres, pytest.mark.django_db(transaction=True)]


def _hold_after(fn: Callable, locked: threading.Event) -> Callable:
    """``fn``; its first caller then says so and waits, holding its locks, until another transaction waits."""
    def wrapped(*args, **kw):  # noqa: ANN002, ANN003, ANN202
        out = fn(*args, **kw)
        if locked.is_set():
            return out
        locked.set()
        deadline = time.monotonic() + 5
        while not someone_waits_on_a_lock() and time.monotonic() < deadline:
            time.sleep(0.01)
        return out
    return wrapped


@pytest.mark.parametrize("first", ["place", "merge"])
def test_merge_racing_a_placement_of_the_merged_member(monkeypatch, first):
    assert connection.vendor == "postgresql"
    w = build(monkeypatch)
    a, _ = member("甲")
    b, _ = member("乙")
    stale = Member.objects.get(pk=b.pk)  # the request authenticated b before the merge
    locked = threading.Event()
    if first == "place":  # placement holds b's row; the merge waits, then moves the new order
        monkeypatch.setattr(placement, "lock_active_member", _hold_after(placement.lock_active_member, locked))
    else:  # the merge holds both rows; placement waits, then finds b merged
        monkeypatch.setattr(merge_mod, "_lock_members", _hold_after(merge_mod._lock_members, locked))

    def place():  # noqa: ANN202
        if first == "merge":
            assert locked.wait(5)
        req = PlaceRequest(lines=[(w.s1.pk, 1)], channel="h5", choice="same_city", lat=P.lat, lng=P.lng)
        with transaction.atomic():
            return placement.order_place(req=req, member=stale, by=By(member_id=b.pk, label="test"))

    def merge():  # noqa: ANN202
        if first == "place":
            assert locked.wait(5)
        return member_merge(survivor_id=a.pk, merged_id=b.pk, now=w.now)

    results = race(place, merge)
    assert not Order.objects.filter(member=b).exists()  # never an order left on the merged member
    assert not Member.objects.get(pk=b.pk).is_active
    if first == "place":
        [order] = [r for r in results if isinstance(r, Order)]
        assert Order.objects.get(pk=order.pk).member_id == a.pk  # placed first, moved by the merge
        merge_row = next(r for r in results if isinstance(r, merge_mod.MemberMerge))
        assert order.pk in merge_row.moved["orders"]
    else:
        assert "member_inactive" in results and not Order.objects.exists()
