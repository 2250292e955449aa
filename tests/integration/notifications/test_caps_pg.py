"""PostgreSQL: parallel senders share the work and never exceed the marketing cap; parallel triggers
queue a cause once; two bookings racing for one voucher: one wins."""

from __future__ import annotations

import secrets
from datetime import timedelta

import pytest
from django.db import connection
from django.utils import timezone

from o2o.marketing.appointments import appointment_book
from o2o.marketing.models import Coupon
from o2o.marketing.models_appointments import Appointment
from o2o.notifications import sending
from o2o.notifications.models import FrequencyCounter, Notification
from tests.concurrency import hold_first, race
from tests.factories import location
from tests.integration.marketing.support import template
from tests.integration.notifications.support import T0, queue, reachable_member

pytestmark = [pytest.mark.postgres, pytest.mark.django_db(transaction=True)]


def test_ten_parallel_senders_for_one_member_never_send_more_than_the_cap(sims, monkeypatch):
    assert connection.vendor == "postgresql"
    m = reachable_member()
    for i in range(10):
        queue(m, f"coupon_expiring:{i}", kind="coupon_expiring", category="marketing")
    monkeypatch.setattr(sending, "cap_slot_take", hold_first(sending.cap_slot_take))  # a real lock wait
    results = race(*[(lambda: sending.notifications_send_due(T0)) for _ in range(10)])
    assert sum(r["sent"] for r in results) == 2 * 4  # two causes, four channels each
    sent = set(Notification.objects.filter(member=m, status="sent").values_list("cause_key", flat=True))
    assert len(sent) == 2
    assert FrequencyCounter.objects.get(member=m, day=T0.date()).sent == 2
    assert len(sims.sms_sim.sent) == 2 and len(sims.wechat_sim.sent) == 2 and len(sims.push_sim.sent) == 2
    deferred = Notification.objects.filter(member=m, status="deferred", reason="frequency_cap")
    assert deferred.count() == 8 * 4


def test_parallel_senders_send_each_row_once(sims):
    members = [reachable_member() for _ in range(3)]
    for i, m in enumerate(members):
        queue(m, f"pickup_ready:{i}")
    results = race(*[(lambda: sending.notifications_send_due(T0)) for _ in range(6)])
    assert sum(r["sent"] for r in results) == 3 * 4
    assert len(sims.sms_sim.sent) == 3 and len(sims.wechat_sim.sent) == 3 and len(sims.push_sim.sent) == 3
    assert Notification.objects.exclude(status="sent").count() == 0


def test_two_triggers_racing_on_one_cause_queue_it_once():
    m = reachable_member()
    results = race(lambda: len(queue(m, "pickup_ready:7")), lambda: len(queue(m, "pickup_ready:7")))
    assert sorted(results) == [0, 4]
    assert Notification.objects.filter(cause_key="pickup_ready:7").count() == 4


def test_two_bookings_racing_for_one_voucher_one_wins():
    store, m = location(), reachable_member()
    now = timezone.now()
    v = Coupon.objects.create(template=template(), member=m, slot=1, member_limit=1, status="available",
                              code=f"{secrets.randbelow(10**16):016d}", source="claim", issued_at=now,
                              valid_from=now - timedelta(days=1), valid_until=now + timedelta(days=30))

    def book() -> object:
        return appointment_book(member=m, location_id=store.pk, service="修眉", starts_at=now + timedelta(days=2),
                                coupon_id=v.pk)

    results = race(book, book)
    assert sorted("booked" if isinstance(r, Appointment) else r for r in results) == ["booked", "coupon_reserved"]
    assert Appointment.objects.filter(coupon=v, status="booked").count() == 1
