"""PostgreSQL: two submissions of the same line's review at once leave one review and one points lot."""

from __future__ import annotations

from datetime import datetime

import pytest
from django.db import connection

from o2o.core.loyalty import CHINA_TZ
from o2o.members.models import PointsAccount, PointsLot
from o2o.members.points import points_check
from o2o.reviews import services
from o2o.reviews.models import Review
from tests.concurrency import hold_first, race
from tests.factories import member, sku
from tests.integration.reviews.world import order_with_lines

pytestmark = [pytest.mark.postgres, pytest.mark.django_db(transaction=True)]

T0 = datetime(2026, 3, 1, 10, 0, tzinfo=CHINA_TZ)


def test_a_double_submit_leaves_one_review_and_one_points_lot(monkeypatch):
    assert connection.vendor == "postgresql"
    m, _ = member()
    _, (line,) = order_with_lines(m, sku())
    # the first holds its transaction (review row written, points earned) until the second waits on the
    # UNIQUE (order_line) index: a real race, not a lucky ordering
    monkeypatch.setattr(services, "points_for_action", hold_first(services.points_for_action))
    results = race(lambda: services.review_create(member=m, order_line_id=line.pk, rating=5, text="a", now=T0),
                   lambda: services.review_create(member=m, order_line_id=line.pk, rating=4, text="b", now=T0))
    assert sorted(map(str, results)).count("already_reviewed") == 1
    assert Review.objects.filter(order_line=line).count() == 1
    assert PointsLot.objects.filter(account__member=m).count() == 1
    acc = PointsAccount.objects.get(member=m)
    assert acc.balance == 10 == Review.objects.get(order_line=line).points_earned
    assert points_check(acc) == ()


def test_many_reviews_at_once_never_pass_the_daily_cap():
    m, _ = member()
    _, lines = order_with_lines(m, *[sku() for _ in range(6)])
    race(*[(lambda ln=ln: services.review_create(member=m, order_line_id=ln.pk, rating=5, now=T0)) for ln in lines])
    assert Review.objects.filter(member=m).count() == 6
    assert PointsAccount.objects.get(member=m).balance == 30  # review: 10 each, 30 a day at most
    assert sum(Review.objects.filter(member=m).values_list("points_earned", flat=True)) == 30
