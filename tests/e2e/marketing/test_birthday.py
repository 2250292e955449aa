"""A member's birthday through the API: set once by the member (then 409 ``birthday_locked``), changed by
HQ customer service with a logged reason, read by the birthday coupons, exported and erased as personal data."""

from __future__ import annotations

import json
from datetime import date, timedelta

import pytest
from django.utils import timezone

from o2o.accounts.models import PiiAccessLog
from o2o.core.loyalty import CHINA_TZ
from o2o.marketing.auto import coupons_issue_auto
from o2o.marketing.models import Coupon, MemberReach
from o2o.marketing.nearby import reach_set
from tests.factories import assert_error, auth, location, member, region, staff
from tests.integration.fulfilment.world import post
from tests.integration.marketing.support import template

pytestmark = pytest.mark.django_db
URL = "/api/v1/members/me/birthday"


def put(client, url, body, token):  # noqa: ANN001, ANN201
    return client.put(url, data=json.dumps(body), content_type="application/json", **auth(token))


def test_a_member_sets_the_birthday_once_and_cannot_move_it(client):
    m, token = member()
    assert client.get(URL, **auth(token)).json() == {"birthday": None, "locked": False}
    r = put(client, URL, {"birthday": "1990-05-17"}, token)
    assert r.status_code == 200, r.content
    assert r.json() == {"birthday": "1990-05-17", "locked": True}
    assert put(client, URL, {"birthday": "1990-05-17"}, token).status_code == 200  # the same date: fine
    body = assert_error(put(client, URL, {"birthday": "1990-06-17"}, token), 409, "birthday_locked")
    assert body["details"] == {"birthday": "1990-05-17"} and "客服" in body["message"]
    assert MemberReach.objects.get(member=m).birthday == date(1990, 5, 17)
    assert client.get(URL, **auth(token)).json() == {"birthday": "1990-05-17", "locked": True}


def test_the_birthday_joins_the_home_place_on_one_row_without_touching_it(client):
    m, token = member()
    reach_set(m.pk, lat=31.2390, lng=121.4737, kind="home")
    assert put(client, URL, {"birthday": "1988-02-29"}, token).status_code == 200
    reach = MemberReach.objects.get(member=m)
    assert reach.birthday == date(1988, 2, 29) and reach.home_lat == 31.2390
    reach_set(m.pk, lat=31.2, lng=121.4, kind="home")  # moving home keeps the birthday
    assert MemberReach.objects.get(member=m).birthday == date(1988, 2, 29)


def test_bad_dates_are_refused_with_the_error_shape_and_nothing_is_stored(client):
    m, token = member()
    tomorrow = (timezone.now().astimezone(CHINA_TZ).date() + timedelta(days=1)).isoformat()
    assert_error(put(client, URL, {"birthday": tomorrow}, token), 422, "invalid_birthday")
    assert_error(put(client, URL, {"birthday": "1899-12-31"}, token), 422, "invalid_birthday")
    for bad in ("1990-02-30", "05-17", "", None, 19900517, "1990-05-17T00:00:00+08:00x"):
        assert_error(put(client, URL, {"birthday": bad}, token), 422)
    assert_error(put(client, URL, {}, token), 422)
    assert not MemberReach.objects.filter(member=m, birthday__isnull=False).exists()


def test_only_members_set_their_own_and_only_hq_customer_service_changes_one(client):
    m, token = member()
    assert put(client, URL, {"birthday": "1990-05-17"}, token).status_code == 200
    _, clerk = staff("clerk", loc=location(region("华东"), name="A店"))
    assert_error(put(client, URL, {"birthday": "1990-05-18"}, clerk), 403, "members_only")
    body = {"birthday": "1990-06-17", "reason": "会员来电，证件核对后更正"}
    assert_error(put(client, f"/api/v1/members/{m.pk}/birthday", body, clerk), 403)
    assert_error(put(client, f"/api/v1/members/{m.pk}/birthday", body, token), 403)
    _, region_cs = staff("customer_service", reg=region("华北"))
    assert_error(put(client, f"/api/v1/members/{m.pk}/birthday", body, region_cs), 403)
    cs_user, cs = staff("customer_service")
    assert_error(put(client, f"/api/v1/members/{m.pk}/birthday", {**body, "reason": " "}, cs), 422,
                 "reason_required")
    assert_error(put(client, "/api/v1/members/999999999/birthday", body, cs), 404, "unknown_member")
    assert MemberReach.objects.get(member=m).birthday == date(1990, 5, 17)  # nothing applied by the refusals
    r = put(client, f"/api/v1/members/{m.pk}/birthday", body, cs)
    assert r.status_code == 200, r.content
    assert r.json() == {"birthday": "1990-06-17", "locked": True}
    assert MemberReach.objects.get(member=m).birthday == date(1990, 6, 17)
    log = PiiAccessLog.objects.get(member=m, field="birthday")
    assert log.user_id == cs_user.pk and log.action == "change" and log.reason == body["reason"]
    # Customer service may also set one for a member who never did; the member is then locked too.
    other, other_token = member()
    assert put(client, f"/api/v1/members/{other.pk}/birthday", body, cs).status_code == 200
    assert_error(put(client, URL, {"birthday": "2000-01-01"}, other_token), 409, "birthday_locked")


def test_a_birthday_just_set_waits_until_it_has_settled_then_brings_the_coupon_once(client, settings):
    """A member cannot enter today's date to collect the gift at once: a birthday set in the last
    BIRTHDAY_COUPON_MIN_DAYS days gives nothing this year; an older one (or an imported one) does, once."""
    settings.O2O = {**settings.O2O, "BIRTHDAY_COUPON_MIN_DAYS": 30}
    now = timezone.now()
    today = now.astimezone(CHINA_TZ).date()
    m, token = member()
    born = date(1995, today.month, today.day) if (today.month, today.day) != (2, 29) else date(1996, 2, 29)
    assert put(client, URL, {"birthday": born.isoformat()}, token).status_code == 200
    bday = template(auto_on="birthday", claimable=False, member_limit=50, code="bday-api")
    assert coupons_issue_auto(now)["bday-api"]["issued"] == 0
    assert not Coupon.objects.filter(template=bday).exists()
    # Set 31 days ago (as if the member had told us last month): today's run issues it, once.
    MemberReach.objects.filter(member=m).update(birthday_set_at=now - timedelta(days=31))
    assert coupons_issue_auto(now)["bday-api"]["issued"] == 1
    assert Coupon.objects.get(template=bday).member_id == m.pk
    # Moving the date to get another one is refused, and a second run issues nothing more this year.
    assert_error(put(client, URL, {"birthday": (born - timedelta(days=1)).isoformat()}, token), 409,
                 "birthday_locked")
    assert coupons_issue_auto(now + timedelta(minutes=5))["bday-api"]["issued"] == 0


def test_the_birthday_is_in_the_export_and_gone_after_deletion(client):
    m, token = member()
    assert put(client, URL, {"birthday": "1990-05-17"}, token).status_code == 200
    export = client.get("/api/v1/members/me/export", **auth(token))
    assert export.status_code == 200, export.content
    assert export.json()["marketing"]["places"]["birthday"] == "1990-05-17"
    r = post(client, "/api/v1/members/me/deletion", {"confirm": True}, token)
    assert r.status_code == 200, r.content
    assert not MemberReach.objects.filter(member=m).exists()
