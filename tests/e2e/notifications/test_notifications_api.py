"""The notifications API: a member's channel choices, push devices and inbox; members only, their own only,
and bad input answers the one error shape."""

from __future__ import annotations

import json
from datetime import timedelta

import pytest
from django.db import transaction
from django.utils import timezone

from o2o.notifications import backends
from o2o.notifications.models import ChannelPreference, Notification, PushDevice
from o2o.notifications.sending import notifications_send_due
from o2o.notifications.services import notify
from tests.factories import assert_error, auth, location, member, staff

pytestmark = pytest.mark.django_db

URL = "/api/v1/notifications"


@pytest.fixture(autouse=True)
def sims():
    return backends.reset_simulated()


def put(client, url, body, token):  # noqa: ANN001, ANN201
    return client.put(url, data=json.dumps(body), content_type="application/json", **auth(token))


def post(client, url, body, token):  # noqa: ANN001, ANN201
    return client.post(url, data=json.dumps(body), content_type="application/json", **auth(token))


def test_preferences_read_and_set_per_channel(client):
    m, token = member()
    r = client.get(f"{URL}/preferences", **auth(token))
    assert r.status_code == 200, r.content
    got = {c["channel"]: c for c in r.json()["channels"]}
    assert set(got) == {"sms", "wechat", "push", "outbox"} and all(c["subscribed"] for c in got.values())
    assert got["outbox"]["reachable"] is True and got["sms"]["reachable"] is False  # no phone yet
    r = put(client, f"{URL}/preferences", {"channels": {"sms": False, "push": False}}, token)
    assert r.status_code == 200, r.content
    got = {c["channel"]: c["subscribed"] for c in r.json()["channels"]}
    assert got == {"sms": False, "wechat": True, "push": False, "outbox": True}
    assert set(ChannelPreference.objects.filter(member=m, subscribed=False).values_list("channel", flat=True)) == {
        "sms", "push"}
    r = put(client, f"{URL}/preferences", {"channels": {"sms": True}}, token)
    assert {c["channel"]: c["subscribed"] for c in r.json()["channels"]}["sms"] is True


def test_bad_preferences_get_the_error_shape(client):
    _, token = member()
    assert_error(put(client, f"{URL}/preferences", {"channels": {"fax": False}}, token), 422, "invalid")
    assert_error(put(client, f"{URL}/preferences", {"channels": {}}, token), 422, "invalid")
    assert_error(put(client, f"{URL}/preferences", {"channels": {"sms": "maybe"}}, token), 422, "invalid")
    assert_error(client.put(f"{URL}/preferences", data="{nope", content_type="application/json", **auth(token)), 400)
    assert_error(client.get(f"{URL}/preferences"), 401, "unauthorized")
    clerk = staff("clerk", loc=location())[1]
    assert_error(client.get(f"{URL}/preferences", **auth(clerk)), 403, "members_only")


def test_a_device_registers_once_and_moves_with_the_member_who_signs_in_on_it(client):
    a, token_a = member()
    b, token_b = member()
    body = {"registration_id": "1a0018970a8b0f7d2d1", "platform": "android"}
    r = post(client, f"{URL}/devices", body, token_a)
    assert r.status_code == 201 and r.json() == {**body, "created": True}
    r = post(client, f"{URL}/devices", body, token_a)
    assert r.status_code == 200 and r.json()["created"] is False
    r = post(client, f"{URL}/devices", {**body, "platform": "ios"}, token_b)
    assert r.status_code == 200
    device = PushDevice.objects.get(registration_id=body["registration_id"])
    assert device.member_id == b.pk and device.platform == "ios"
    assert_error(post(client, f"{URL}/devices", {"registration_id": "bad id!", "platform": "android"}, token_a), 422)
    assert_error(post(client, f"{URL}/devices", {**body, "platform": "windows"}, token_a), 422)
    assert not PushDevice.objects.filter(member=a).exists()


def test_a_member_keeps_at_most_ten_devices(client):
    m, token = member()
    for i in range(12):
        assert post(client, f"{URL}/devices", {"registration_id": f"device{i:04d}", "platform": "ios"},
                    token).status_code == 201
    assert PushDevice.objects.filter(member=m).count() == 10
    assert not PushDevice.objects.filter(registration_id="device0000").exists()


def _queue(m, cause: str, **kw) -> None:  # noqa: ANN001
    with transaction.atomic():
        notify(member_id=m.pk, kind="pickup_ready", cause_key=cause, title="订单已备好 Ready", body="到店自提 Pick up",
               category="service", data={"store": "徐汇店"}, **kw)


def test_the_inbox_shows_only_my_sent_messages_with_how_each_channel_went(client):
    me, token = member()
    other, other_token = member()
    _queue(me, "pickup_ready:1")
    _queue(other, "pickup_ready:2")
    _queue(me, "pickup_ready:3", send_at=timezone.now() + timedelta(hours=1))  # not due yet
    assert client.get(f"{URL}/mine", **auth(token)).json() == []  # nothing sent yet
    notifications_send_due()
    items = client.get(f"{URL}/mine", **auth(token)).json()
    assert [i["title"] for i in items] == ["订单已备好 Ready"]
    assert items[0]["channels"] == {"outbox": "sent"} and items[0]["data"] == {"store": "徐汇店"}
    assert items[0]["category"] == "service" and items[0]["sent_at"] is not None
    mine_ids = {i["id"] for i in items}
    assert mine_ids == set(Notification.objects.filter(member=me, status="sent").values_list("pk", flat=True))
    assert len(client.get(f"{URL}/mine", **auth(other_token)).json()) == 1
    assert_error(client.get(f"{URL}/mine", {"limit": 0}, **auth(token)), 422)
    assert_error(client.get(f"{URL}/mine", {"limit": "x"}, **auth(token)), 422)
