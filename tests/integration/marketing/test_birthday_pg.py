"""PostgreSQL: a birthday is set once even when a member's first settings race (each thread on its own
connection): one date wins, every other attempt is 409 ``birthday_locked`` (or the same date again)."""

from __future__ import annotations

from datetime import date

import pytest
from django.db import connection

from o2o.marketing.birthday import birthday_set
from o2o.marketing.models import MemberReach
from tests.concurrency import race
from tests.factories import member

pytestmark = [pytest.mark.postgres, pytest.mark.django_db(transaction=True)]


def test_parallel_first_settings_leave_one_birthday():
    assert connection.vendor == "postgresql"
    m, _ = member()
    days = [date(1990, 1, 1 + i) for i in range(8)]
    results = race(*[(lambda d=d: birthday_set(m.pk, d)) for d in days])
    won = [r for r in results if isinstance(r, date)]
    assert len(won) == 1 and results.count("birthday_locked") == 7, results
    assert MemberReach.objects.filter(member=m).count() == 1
    assert MemberReach.objects.get(member=m).birthday == won[0]


def test_parallel_settings_of_one_date_all_succeed_on_one_row():
    m, _ = member()
    results = race(*[(lambda: birthday_set(m.pk, date(1988, 2, 29))) for _ in range(6)])
    assert results == [date(1988, 2, 29)] * 6
    assert list(MemberReach.objects.filter(member=m).values_list("birthday", flat=True)) == [date(1988, 2, 29)]
