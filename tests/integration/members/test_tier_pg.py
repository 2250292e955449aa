"""PostgreSQL: two completions of one member's orders handled at once upgrade once (one history row)."""

from __future__ import annotations

from datetime import datetime

import pytest
from django.db import connection

from o2o.core.loyalty import CHINA_TZ
from o2o.members import tiers
from o2o.members.models import TierHistory, TierState
from tests.concurrency import hold_first, race
from tests.factories import member
from tests.integration.members.tier_support import done_order

pytestmark = [pytest.mark.postgres, pytest.mark.django_db(transaction=True)]

T0 = datetime(2025, 3, 15, 10, 0, tzinfo=CHINA_TZ)



def test_two_completions_at_once_upgrade_once(monkeypatch):
    assert connection.vendor == "postgresql"
    m, _ = member()
    a, b = done_order(m, 60_000, T0), done_order(m, 60_000, T0)  # together ¥1,200: silver
    TierState.objects.create(member=m)  # the race is on the row lock, not on creating the row
    monkeypatch.setattr(tiers, "metrics_of", hold_first(tiers.metrics_of))
    results = race(lambda: tiers.tier_upgrade_for_order(member_id=m.pk, order_id=a.pk, now=T0),
                   lambda: tiers.tier_upgrade_for_order(member_id=m.pk, order_id=b.pk, now=T0))
    assert sorted(map(type, results), key=str) == sorted([TierHistory, type(None)], key=str)  # no Conflict
    assert TierHistory.objects.filter(member=m).count() == 1
    s = TierState.objects.get(member=m)
    assert s.tier == "silver" and s.spend_12m_fen == 120_000


def test_a_review_and_an_upgrade_at_once_stay_consistent(monkeypatch):
    m, _ = member()
    order = done_order(m, 500_000, T0)
    monkeypatch.setattr(tiers, "metrics_of", hold_first(tiers.metrics_of))
    race(lambda: tiers.tier_upgrade_for_order(member_id=m.pk, order_id=order.pk, now=T0),
         lambda: tiers.tier_review(member_id=m.pk, now=T0))
    rows = list(TierHistory.objects.filter(member=m).values_list("from_tier", "to_tier"))
    assert rows == [("normal", "gold")]  # whichever came first upgraded; the other found it done
    assert TierState.objects.get(member=m).tier == "gold"
