"""PostgreSQL: two deletions of one member at once erase once (one log row, one event, the same answer)."""

from __future__ import annotations

import pytest
from django.db import connection

from o2o.accounts.models import PiiAccessLog
from o2o.accounts.pii_services import member_set_phone
from o2o.members import privacy
from o2o.outbox.models import OutboxEvent
from tests.concurrency import hold_first, race
from tests.factories import member

pytestmark = [pytest.mark.postgres, pytest.mark.django_db(transaction=True)]


def test_two_deletions_at_once_erase_once(monkeypatch):
    assert connection.vendor == "postgresql"
    m, _ = member("Alice")
    member_set_phone(member=m, phone="13812345678")
    monkeypatch.setattr(privacy, "_cart_ids", hold_first(privacy._cart_ids))  # the first holds the member lock
    first, second = race(lambda: privacy.member_erase(member_id=m.pk, reason=""),
                         lambda: privacy.member_erase(member_id=m.pk, reason=""))
    assert first == second and first["member_id"] == m.pk
    assert PiiAccessLog.objects.filter(member=m, action="deletion").count() == 1
    assert OutboxEvent.objects.filter(topic="member.deleted").count() == 1
    m.refresh_from_db()
    assert not m.is_active and m.phone_enc == ""
