"""Sending what is due: every channel through its simulator, quiet hours, the daily marketing cap,
retries, and the reasons a row is suppressed."""

from __future__ import annotations

import io
import json
from datetime import timedelta

import pytest
from django.core.management import call_command

from o2o.accounts import pii
from o2o.accounts.models import Member
from o2o.accounts.pii_services import PHONE
from o2o.notifications.models import ChannelPreference, FrequencyCounter, Notification
from o2o.notifications.rules import CHINA
from o2o.notifications.sending import notifications_send_due
from tests.integration.notifications.support import COUPON, T0, queue, reachable_member, statuses

pytestmark = pytest.mark.django_db

NIGHT = T0.replace(hour=22)  # 22:00 China time: quiet
NEXT_MORNING = (T0 + timedelta(days=1)).replace(hour=9)


def sent_causes(member: Member) -> set[str]:
    return set(Notification.objects.filter(member=member, status="sent").values_list("cause_key", flat=True))


def test_a_service_message_goes_out_on_every_channel_as_each_provider_expects(sims):
    m = reachable_member()
    rows = queue(m, "pickup_ready:1")
    assert notifications_send_due(T0) == {"sent": 4, "deferred": 0, "suppressed": 0, "failed": 0, "retrying": 0}
    (sms,) = sims.sms_sim.sent
    assert sms.phone_numbers == (pii.decrypt(m.phone_enc, field=PHONE),) and sms.template_code == "SMS_480101"
    assert sms.params == {"order": "O2O20240315001", "store": "徐汇旗舰店", "deadline": "2024年03月15日 18:00"}
    sms_row = next(r for r in rows if r.channel == "sms")
    assert sms.out_id == f"n{sms_row.pk}"
    (wx,) = sims.wechat_sim.sent
    assert wx.touser.startswith("oSimOpenid") and wx.template_id == "o2o-pickup-ready"
    assert wx.page == "pages/order/detail?id=1"
    assert wx.data == {"character_string1": "O2O20240315001", "thing2": "徐汇旗舰店", "time3": "2024年03月15日 18:00"}
    (push,) = sims.push_sim.sent
    assert push.alert == "正文 Body" and push.title == "标题 Title" and push.extras["kind"] == "pickup_ready"
    got = {n.channel: n for n in Notification.objects.filter(cause_key="pickup_ready:1")}
    assert all(n.status == "sent" and n.sent_at == T0 and n.attempts == 1 for n in got.values())
    assert got["sms"].provider == "aliyun_sms" and got["sms"].provider_message_id == sms.biz_id
    assert got["wechat"].provider_message_id == str(wx.msgid) and got["push"].provider_message_id == push.msg_id
    assert got["outbox"].provider == "outbox"
    assert notifications_send_due(T0 + timedelta(minutes=1))["sent"] == 0  # nothing twice
    assert len(sims.sms_sim.sent) == 1


def test_service_messages_ignore_the_quiet_hours(sims):
    m = reachable_member()
    queue(m, "pickup_ready:1", now=NIGHT)
    assert notifications_send_due(NIGHT)["sent"] == 4 and len(sims.sms_sim.sent) == 1


def test_marketing_waits_for_the_end_of_the_quiet_hours(sims):
    m = reachable_member()
    queue(m, "coupon_expiring:1", kind="coupon_expiring", category="marketing", now=NIGHT)
    assert notifications_send_due(NIGHT)["deferred"] == 4
    assert {ch: s for ch, s in statuses("coupon_expiring:1").items()} == {
        ch: ("deferred", "quiet_hours") for ch in ("outbox", "sms", "wechat", "push")}
    assert set(Notification.objects.values_list("scheduled_for", flat=True)) == {NEXT_MORNING}
    assert notifications_send_due(NEXT_MORNING - timedelta(minutes=1))["sent"] == 0
    assert sims.sms_sim.sent == [] and sims.wechat_sim.sent == []
    assert notifications_send_due(NEXT_MORNING)["sent"] == 4
    assert sims.sms_sim.sent[0].params == {"coupon": "满50减10", "until": "2024年03月17日 23:59"}


def test_the_daily_cap_counts_causes_and_defers_the_rest_to_the_next_day(sims):
    m = reachable_member()
    for i in range(3):
        queue(m, f"coupon_expiring:{i}", kind="coupon_expiring", category="marketing")
    queue(m, "pickup_ready:1")  # service: never capped
    counts = notifications_send_due(T0)
    assert counts["sent"] == 3 * 4 and counts["deferred"] == 4
    assert sent_causes(m) == {"coupon_expiring:0", "coupon_expiring:1", "pickup_ready:1"}
    assert statuses("coupon_expiring:2")["sms"] == ("deferred", "frequency_cap")
    assert FrequencyCounter.objects.get(member=m, day=T0.date()).sent == 2
    assert set(Notification.objects.filter(cause_key="coupon_expiring:2").values_list("scheduled_for", flat=True)) \
        == {NEXT_MORNING}
    assert notifications_send_due(NEXT_MORNING)["sent"] == 4
    assert FrequencyCounter.objects.get(member=m, day=NEXT_MORNING.date()).sent == 1
    assert len(sims.sms_sim.sent) == 4


def test_a_capped_cause_that_will_be_over_by_tomorrow_is_dropped(settings):
    settings.O2O = {**settings.O2O, "NOTIFY": {**settings.O2O["NOTIFY"], "daily_cap": 1}}
    m = reachable_member(openid=False, device=False)
    queue(m, "coupon_expiring:1", kind="coupon_expiring", category="marketing")
    queue(m, "coupon_expiring:2", kind="coupon_expiring", category="marketing", expires_at=T0 + timedelta(hours=6))
    notifications_send_due(T0)
    assert statuses("coupon_expiring:2") == {"outbox": ("suppressed", "frequency_cap"),
                                             "sms": ("suppressed", "frequency_cap")}


def test_a_retryable_failure_is_tried_again_later_without_taking_another_cap_slot(sims):
    m = reachable_member()
    queue(m, "coupon_expiring:1", kind="coupon_expiring", category="marketing")
    sims.sms_sim.fail("server", times=1)
    assert notifications_send_due(T0) == {"sent": 3, "deferred": 0, "suppressed": 0, "failed": 0, "retrying": 1}
    sms = Notification.objects.get(cause_key="coupon_expiring:1", channel="sms")
    assert sms.status == "queued" and sms.attempts == 1 and "http_503" in sms.reason
    assert sms.scheduled_for == T0 + timedelta(minutes=2)
    assert notifications_send_due(T0 + timedelta(minutes=1))["sent"] == 0
    assert notifications_send_due(T0 + timedelta(minutes=2))["sent"] == 1
    sms.refresh_from_db()
    assert sms.status == "sent" and sms.attempts == 2 and sms.reason == "" and len(sims.sms_sim.sent) == 1
    assert FrequencyCounter.objects.get(member=m).sent == 1


def test_retries_are_bounded(sims, settings):
    settings.O2O = {**settings.O2O, "NOTIFY": {**settings.O2O["NOTIFY"], "max_attempts": 3}}
    m = reachable_member(openid=False, device=False)
    queue(m, "pickup_ready:1")
    sims.sms_sim.fail("network")
    at = T0
    for _ in range(3):
        notifications_send_due(at)
        at += timedelta(hours=1)
    sms = Notification.objects.get(cause_key="pickup_ready:1", channel="sms")
    assert sms.status == "failed" and sms.attempts == 3 and "network_error" in sms.reason
    assert notifications_send_due(at)["failed"] == 0 and sims.sms_sim.sent == []


def test_a_refusal_no_retry_cures_fails_at_once(sims):
    m = reachable_member()
    queue(m, "pickup_ready:1")
    sims.wechat_sim.fail("reject")
    notifications_send_due(T0)
    got = statuses("pickup_ready:1")
    assert got["wechat"][0] == "failed" and "43101" in got["wechat"][1]
    assert got["sms"] == ("sent", "") and got["outbox"] == ("sent", "")


def test_what_changed_between_queueing_and_sending_is_respected(sims):
    m = reachable_member()
    queue(m, "pickup_ready:1")
    ChannelPreference.objects.create(member=m, channel="push", subscribed=False)  # unsubscribed meanwhile
    Member.objects.filter(pk=m.pk).update(phone_enc="", phone_index="", phone_masked="")  # phone removed
    notifications_send_due(T0)
    got = statuses("pickup_ready:1")
    assert got["push"] == ("suppressed", "unsubscribed")
    assert got["sms"][0] == "suppressed" and got["sms"][1].startswith("unreachable")
    assert got["wechat"] == ("sent", "") and sims.sms_sim.sent == [] and sims.push_sim.sent == []


def test_an_expired_cause_and_a_member_who_left_get_nothing(sims):
    m = reachable_member()
    queue(m, "pickup_deadline:1", kind="pickup_deadline", expires_at=T0 + timedelta(minutes=30))
    notifications_send_due(T0 + timedelta(hours=1))
    assert set(statuses("pickup_deadline:1").values()) == {("suppressed", "expired")}
    other = reachable_member()
    queue(other, "pickup_ready:2")
    Member.objects.filter(pk=other.pk).update(is_active=False)
    notifications_send_due(T0)
    assert set(statuses("pickup_ready:2").values()) == {("suppressed", "member_inactive")}
    assert sims.sms_sim.sent == []


def test_a_template_field_the_trigger_did_not_fill_fails_that_channel_only(sims):
    m = reachable_member(openid=False, device=False)
    queue(m, "coupon_expiring:1", kind="coupon_expiring", category="marketing", data={"coupon": "满50减10"})
    notifications_send_due(T0)
    got = statuses("coupon_expiring:1")
    assert got["outbox"] == ("sent", "") and got["sms"][0] == "failed" and "until" in got["sms"][1]


def test_the_command_prints_the_counts():
    m = reachable_member(phone=False, openid=False, device=False)
    queue(m, "pickup_ready:1", now=T0 - timedelta(days=1))
    out = io.StringIO()
    call_command("send-notifications", stdout=out)
    assert json.loads(out.getvalue()) == {"sent": 1, "deferred": 0, "suppressed": 0, "failed": 0, "retrying": 0}


def test_quiet_hours_follow_settings(settings, sims):
    settings.O2O = {**settings.O2O, "NOTIFY": {**settings.O2O["NOTIFY"], "quiet_hours": ["12:00", "14:00"]}}
    m = reachable_member(openid=False, device=False)
    noon = T0.replace(hour=12, minute=30)
    queue(m, "coupon_expiring:1", kind="coupon_expiring", category="marketing", now=noon, data=COUPON)
    assert notifications_send_due(noon)["deferred"] == 2
    assert Notification.objects.filter(scheduled_for=T0.replace(hour=14).astimezone(CHINA)).count() == 2
