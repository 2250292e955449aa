"""PostgreSQL: two spends at once that together exceed the balance: exactly one wins, never below zero."""

from __future__ import annotations

from datetime import datetime

import pytest
from django.db import connection

from o2o.core.loyalty import CHINA_TZ
from o2o.members import points as svc
from o2o.members.models import PointsAccount, PointsEntry
from tests.concurrency import hold_first, race
from tests.factories import member

pytestmark = [pytest.mark.postgres, pytest.mark.django_db(transaction=True)]

T0 = datetime(2024, 3, 15, 10, 0, tzinfo=CHINA_TZ)
TIMEOUT = 20



def test_two_spends_that_together_exceed_the_balance_one_wins(monkeypatch):
    assert connection.vendor == "postgresql"
    m, _ = member()
    svc.points_earn(m.pk, 100, "order:1", T0)
    monkeypatch.setattr(svc, "ledger_of", hold_first(svc.ledger_of))  # the first holds the lock meanwhile
    results = race(lambda: svc.points_spend(m.pk, 70, "a", T0), lambda: svc.points_spend(m.pk, 70, "b", T0))
    assert sorted(map(str, results)).count("insufficient_points") == 1
    acc = PointsAccount.objects.get(member=m)
    assert acc.balance == 30 and acc.debt == 0
    assert PointsEntry.objects.filter(kind="spend").count() == 1
    assert svc.points_check(acc) == ()


def test_many_concurrent_spends_never_overspend():
    m, _ = member()
    svc.points_earn(m.pk, 50, "order:1", T0)
    results = race(*[(lambda i=i: svc.points_spend(m.pk, 7, f"s{i}", T0)) for i in range(10)])
    won = [r for r in results if isinstance(r, PointsAccount)]
    assert len(won) == 7 and results.count("insufficient_points") == 3
    acc = PointsAccount.objects.get(member=m)
    assert acc.balance == 1 and svc.points_check(acc) == ()


def test_first_earnings_at_once_create_one_account():
    m, _ = member()
    race(lambda: svc.points_earn(m.pk, 5, "a", T0), lambda: svc.points_earn(m.pk, 6, "b", T0))
    acc = PointsAccount.objects.get(member=m)
    assert acc.balance == 11 and svc.points_check(acc) == ()
