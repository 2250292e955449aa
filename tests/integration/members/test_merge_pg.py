"""PostgreSQL: a merge racing a points spend on the merged member loses no points and counts none twice."""

from __future__ import annotations

import threading
import time
from collections.abc import Callable
from datetime import datetime

import pytest
from django.db import connection

from o2o.accounts.models import Member
from o2o.core.loyalty import CHINA_TZ
from o2o.members import merge as merge_mod
from o2o.members import points as svc
from o2o.members.merge import member_merge
from o2o.members.models import PointsAccount, PointsEntry
from tests.concurrency import race, someone_waits_on_a_lock

pytestmark = [pytest.mark.postgres, pytest.mark.django_db(transaction=True)]

T0 = datetime(2024, 3, 15, 10, 0, tzinfo=CHINA_TZ)


def _hold_after(fn: Callable, locked: threading.Event) -> Callable:
    """``fn``, after which its caller says so and waits (holding its locks) until another transaction waits."""
    def wrapped(*args, **kw):  # noqa: ANN002, ANN003, ANN202
        out = fn(*args, **kw)
        if locked.is_set():  # only the first call holds
            return out
        locked.set()
        deadline = time.monotonic() + 5
        while not someone_waits_on_a_lock() and time.monotonic() < deadline:
            time.sleep(0.01)
        return out
    return wrapped


def _two() -> tuple[Member, Member]:
    a, b = Member.objects.create(), Member.objects.create()
    svc.points_earn(a.pk, 40, "order:1", T0)
    svc.points_earn(b.pk, 100, "order:2", T0)
    return a, b


def _check_totals(a: Member, b: Member, spent: int) -> None:
    acc_a, acc_b = PointsAccount.objects.get(member=a), PointsAccount.objects.get(member=b)
    assert acc_a.net + acc_b.net + spent == 140  # nothing lost, nothing counted twice
    assert acc_b.net == 0 and not Member.objects.get(pk=b.pk).is_active
    assert svc.points_check(acc_a) == () and svc.points_check(acc_b) == ()


@pytest.mark.parametrize("first", ["spend", "merge"])
def test_merge_racing_a_spend_on_the_merged_member(monkeypatch, first):
    assert connection.vendor == "postgresql"
    a, b = _two()
    locked = threading.Event()
    if first == "spend":  # the spend holds b's account lock; the merge waits, then moves what is left
        monkeypatch.setattr(svc, "ledger_of", _hold_after(svc.ledger_of, locked))
    else:  # the merge holds both accounts; the spend waits, then finds b's points gone
        monkeypatch.setattr(merge_mod, "_lock_accounts", _hold_after(merge_mod._lock_accounts, locked))

    def spend():  # noqa: ANN202
        if first == "merge":
            assert locked.wait(5)
        return svc.points_spend(b.pk, 60, "redeem:x", T0)

    def merge():  # noqa: ANN202
        if first == "spend":
            assert locked.wait(5)
        return member_merge(survivor_id=a.pk, merged_id=b.pk, now=T0)

    results = race(spend, merge)
    spent = 60 if any(isinstance(r, PointsAccount) for r in results) else 0
    if first == "spend":
        assert spent == 60 and PointsAccount.objects.get(member=a).net == 80
    else:
        assert "insufficient_points" in results and PointsAccount.objects.get(member=a).net == 140
    _check_totals(a, b, spent)
    assert PointsEntry.objects.filter(kind="spend").count() == (1 if spent else 0)


def test_two_merges_of_one_member_at_once_one_wins():
    a, b = _two()
    c = Member.objects.create()
    results = race(lambda: member_merge(survivor_id=a.pk, merged_id=b.pk, now=T0),
                   lambda: member_merge(survivor_id=c.pk, merged_id=b.pk, now=T0))
    assert results.count("member_inactive") == 1
    total = sum(acc.net for acc in PointsAccount.objects.all())
    assert total == 140


