"""Daily sign-in points (签到): once per China day, the day's cap holds, a new day earns again."""

from __future__ import annotations

from datetime import datetime, timedelta

import pytest

from o2o.core.loyalty import CHINA_TZ
from o2o.members import actions
from o2o.members.models import PointsAccount
from o2o.members.points import points_check
from o2o.members.selectors import available_points
from tests.factories import assert_error, auth, member, staff
from tests.integration.fulfilment.world import post

pytestmark = pytest.mark.django_db


def test_sign_in_once_a_day_through_the_api(client):
    m, token = member()
    r = post(client, "/api/v1/members/me/sign-in", {}, token)
    assert r.status_code == 200, r.content
    assert r.json()["points"] == 5 and available_points(m.pk) == 5
    assert_error(post(client, "/api/v1/members/me/sign-in", {}, token), 409, "signed_in_today")
    assert available_points(m.pk) == 5
    assert_error(post(client, "/api/v1/members/me/sign-in", {}, None), 401)
    assert_error(post(client, "/api/v1/members/me/sign-in", {}, staff("clerk")[1]), 403)
    assert post(client, "/api/v1/members/me/points", {}, token).status_code == 405
    assert client.get("/api/v1/members/me/points", **auth(token)).json()["lots"][0]["ref"].startswith(
        "action:sign_in:")


def test_the_day_is_china_time_and_the_cap_holds(settings):
    settings.O2O = {**settings.O2O, "POINTS": {"EARN_ACTIONS": {"sign_in": [5, 5], "review": [10, 15]}}}
    m, _ = member()
    late = datetime(2026, 3, 1, 23, 30, tzinfo=CHINA_TZ)
    assert actions.sign_in(member_id=m.pk, now=late)["date"] == "2026-03-01"
    assert actions.sign_in(member_id=m.pk, now=late + timedelta(hours=1))["date"] == "2026-03-02"  # past midnight
    got = [actions.points_for_action(member_id=m.pk, action="review", key=f"line:{i}", now=late)[0] for i in range(3)]
    assert got == [10, 5, 0]  # 15 a day at most
    assert actions.points_for_action(member_id=m.pk, action="review", key="line:0", now=late) == (0, False)
    acc = PointsAccount.objects.get(member=m)
    assert acc.balance == 5 + 5 + 15 and points_check(acc) == ()
