"""PIPL: a member's export carries their messages, channel choices and devices; deletion removes them all."""

from __future__ import annotations

import pytest

from o2o.members.privacy import member_erase, member_export
from o2o.notifications.models import ChannelPreference, Notification, PushDevice
from o2o.notifications.services import preferences_set
from tests.integration.notifications.support import queue, reachable_member

pytestmark = pytest.mark.django_db


def test_export_then_erase():
    m = reachable_member()
    other = reachable_member()
    preferences_set(m, {"sms": False})
    queue(m, "pickup_ready:1")
    queue(other, "pickup_ready:2")
    doc = member_export(member_id=m.pk, reason="member asked")
    section = doc["notifications"]
    assert {x["channel"] for x in section["messages"]} == {"outbox", "sms", "wechat", "push"}
    assert section["preferences"] == {"sms": False} and len(section["push_devices"]) == 1
    member_erase(member_id=m.pk, reason="member asked")
    assert not Notification.objects.filter(member=m).exists()
    assert not ChannelPreference.objects.filter(member=m).exists() and not PushDevice.objects.filter(member=m).exists()
    assert Notification.objects.filter(member=other).count() == 4  # someone else's stay
    assert queue(m, "pickup_ready:3") == []  # an erased member is inactive: nothing queued again
