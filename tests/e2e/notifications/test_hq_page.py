"""/hq/notifications: HQ staff see the latest messages with channel, status and why; others may not."""

from __future__ import annotations

from datetime import timedelta

import pytest
from django.db import transaction
from django.utils import timezone

from o2o.accounts.models import User
from o2o.accounts.pii_services import member_set_phone
from o2o.notifications import backends
from o2o.notifications.models import ChannelPreference
from o2o.notifications.sending import notifications_send_due
from o2o.notifications.services import notify
from tests.factories import location, member

pytestmark = pytest.mark.django_db


@pytest.fixture(autouse=True)
def sims():
    return backends.reset_simulated()


def _queue(m, cause: str, *, kind: str = "coupon_expiring", category: str = "marketing") -> None:  # noqa: ANN001
    with transaction.atomic():
        notify(member_id=m.pk, kind=kind, cause_key=cause, title="优惠券即将过期 A coupon expires soon",
               body="满50减10 明天到期", category=category, data={"coupon": "满50减10", "until": "2024年03月17日 23:59"})


@pytest.fixture
def world():
    m, _ = member("李雷")
    member_set_phone(member=m, phone="13812345678")
    ChannelPreference.objects.create(member=m, channel="sms", subscribed=False)
    _queue(m, "coupon_expiring:1")
    notifications_send_due(timezone.localtime().replace(hour=10) + timedelta(days=1))
    return m


def hq(client, role: str = "hq_admin", scope: str = "hq", **kw):  # noqa: ANN001, ANN003, ANN201
    user = User.objects.create_user(f"u-{role}-{scope}", password="x-secret-9", role=role, scope=scope, **kw)
    client.force_login(user)
    return client


def test_hq_sees_the_latest_with_why_and_never_a_clear_phone(client, world):
    page = hq(client).get("/hq/notifications")
    assert page.status_code == 200
    html = page.content.decode()
    assert "消息通知" in html and "李雷" in html and "138****5678" in html and "13812345678" not in html
    assert 'data-status="suppressed" data-channel="sms"' in html and "unsubscribed" in html
    assert 'data-status="sent" data-channel="outbox"' in html and "优惠券即将过期" in html


def test_filters_by_channel_status_and_kind(client, world):
    c = hq(client)
    html = c.get("/hq/notifications", {"channel": "sms"}).content.decode()
    assert html.count('data-testid="notify-row"') == 1 and 'data-channel="outbox"' not in html
    html = c.get("/hq/notifications", {"status": "sent", "kind": "coupon_expiring"}).content.decode()
    assert html.count('data-testid="notify-row"') == 1 and 'data-channel="outbox"' in html
    assert 'data-testid="notify-empty"' in c.get("/hq/notifications", {"status": "failed"}).content.decode()
    assert c.get("/hq/notifications", {"channel": "fax"}).status_code == 400


def test_marketing_staff_may_look_store_staff_and_visitors_may_not(client, world):
    assert hq(client, role="marketing").get("/hq/notifications").status_code == 200
    client.logout()
    assert hq(client, role="clerk", scope="store", location=location()).get("/hq/notifications").status_code == 403
    client.logout()
    r = client.get("/hq/notifications")
    assert r.status_code == 302 and r["Location"].startswith("/console/login")


def test_english_with_the_language_cookie(client, world):
    from django.conf import settings

    c = hq(client)
    c.cookies[settings.LANGUAGE_COOKIE_NAME] = "en"
    html = c.get("/hq/notifications").content.decode()
    assert "Notifications" in html and "消息通知</h1>" not in html
