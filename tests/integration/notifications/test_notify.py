"""Queueing: the channels a member can be reached on (the in-app outbox always), once per cause,
unsubscribed channels recorded as suppressed, nothing for a member who is gone."""

from __future__ import annotations

import pytest
from django.db import transaction

from o2o.accounts.models import Member
from o2o.notifications.models import ChannelPreference, Notification
from o2o.notifications.services import fired, notify, preferences_set
from tests.integration.notifications.support import T0, queue, reachable_member, statuses

pytestmark = pytest.mark.django_db


def test_a_member_reachable_everywhere_gets_a_row_per_channel_outbox_first():
    m = reachable_member()
    rows = queue(m, "pickup_ready:1")
    assert [r.channel for r in rows] == ["outbox", "sms", "wechat", "push"]
    assert all(r.status == "queued" and r.scheduled_for == T0 and r.category == "service" for r in rows)
    assert rows[0].payload["store"] == "徐汇旗舰店"


def test_only_the_channels_a_member_can_be_reached_on():
    assert [r.channel for r in queue(reachable_member(openid=False, device=False), "c:1")] == ["outbox", "sms"]
    assert [r.channel for r in queue(reachable_member(phone=False, device=False), "c:2")] == ["outbox", "wechat"]
    assert [r.channel for r in queue(reachable_member(phone=False, openid=False, device=False), "c:3")] == ["outbox"]


def test_once_per_cause_however_often_it_is_asked():
    m = reachable_member()
    assert len(queue(m, "coupon_expiring:9", kind="coupon_expiring", category="marketing")) == 4
    assert queue(m, "coupon_expiring:9", kind="coupon_expiring", category="marketing") == []
    assert Notification.objects.filter(cause_key="coupon_expiring:9").count() == 4
    assert fired(["coupon_expiring:9", "coupon_expiring:10"]) == {"coupon_expiring:9"}


def test_a_channel_the_member_unsubscribed_is_recorded_as_suppressed():
    m = reachable_member()
    preferences_set(m, {"sms": False, "push": True})
    queue(m, "c:1")
    got = statuses("c:1")
    assert got["sms"] == ("suppressed", "unsubscribed")
    assert got["push"] == ("queued", "") and got["outbox"] == ("queued", "")
    assert ChannelPreference.objects.get(member=m, channel="push").subscribed is True


def test_unsubscribing_suppresses_what_is_still_queued_on_that_channel():
    m = reachable_member()
    queue(m, "c:1")
    preferences_set(m, {"wechat": False})
    assert statuses("c:1")["wechat"] == ("suppressed", "unsubscribed")
    assert statuses("c:1")["sms"] == ("queued", "")


def test_nothing_for_a_member_who_is_gone_and_no_unknown_category():
    m = reachable_member()
    with pytest.raises(ValueError), transaction.atomic():
        notify(member_id=m.pk, kind="x", cause_key="c:2", title="t", body="b", category="spam")
    Member.objects.filter(pk=m.pk).update(is_active=False)
    assert queue(m, "c:1") == []
    assert not Notification.objects.filter(member=m).exists()


@pytest.mark.django_db(transaction=True)
def test_notify_runs_inside_the_transaction_of_its_cause():
    m = reachable_member()
    with pytest.raises(RuntimeError):
        notify(member_id=m.pk, kind="x", cause_key="c:2", title="t", body="b", category="service")
    assert not Notification.objects.exists()


def test_a_channel_switched_off_or_without_a_template_gets_nothing(settings):
    settings.O2O = {**settings.O2O, "NOTIFY": {**settings.O2O["NOTIFY"],
                                               "backends": {"sms": "off", "wechat": "simulator", "push": "simulator"}}}
    m = reachable_member()
    assert [r.channel for r in queue(m, "c:1")] == ["outbox", "wechat", "push"]
    # A kind without templates: no SMS, no WeChat (push and the inbox need none).
    assert [r.channel for r in queue(m, "c:2", kind="custom_kind")] == ["outbox", "push"]


def test_production_without_credentials_queues_nothing_on_that_channel(settings, monkeypatch):
    for name in ("O2O_ALIYUN_SMS_ACCESS_KEY_ID", "O2O_ALIYUN_SMS_ACCESS_KEY_SECRET", "O2O_ALIYUN_SMS_SIGN_NAME"):
        monkeypatch.delenv(name, raising=False)
    settings.O2O = {**settings.O2O, "NOTIFY": {**settings.O2O["NOTIFY"], "backends": {
        "sms": "production", "wechat": "simulator", "push": "simulator"}}}
    assert "sms" not in [r.channel for r in queue(reachable_member(), "c:1")]
