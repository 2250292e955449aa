"""compute-tags reads behaviour from the database: a member who signed in and reviewed gets engagement tags."""

from __future__ import annotations

from datetime import timedelta

import pytest

from o2o.accounts.identities import identity_attach, identity_key, member_identify
from o2o.members import actions
from o2o.profiles import services
from o2o.profiles.history import member_behaviour
from o2o.profiles.models import MemberTag
from o2o.reviews.services import review_create
from tests.factories import member, sku
from tests.integration.profiles.world import AS_OF
from tests.integration.reviews.world import order_with_lines

pytestmark = pytest.mark.django_db


def _tags(m) -> dict:  # noqa: ANN001
    return {t.name: t for t in MemberTag.objects.filter(member=m)}


def test_a_member_who_signed_in_and_reviewed_gets_the_engagement_tags():
    fan = member_identify(kind="wechat_openid", value="oFANopenid000001", app_id="wxshop", channel="mini_program",
                          now=AS_OF - timedelta(days=50)).member
    key, index = identity_key("pos_card", "CARD-0001")
    identity_attach(member=fan, key=key, index=index, channel="pos", now=AS_OF - timedelta(days=1))
    for d in (60, 40, 29, 21, 13, 8, 5, 3, 2, 1):  # in time order: 8 sign-ins in the last 30 days, 10 in 90
        actions.sign_in(member_id=fan.pk, now=AS_OF - timedelta(days=d))
    actions.sign_in(member_id=fan.pk, now=AS_OF + timedelta(days=1))  # after as_of: not counted
    _, lines = order_with_lines(fan, sku(), sku())
    review_create(member=fan, order_line_id=lines[0].pk, rating=5, text="好", now=AS_OF - timedelta(days=4))
    review_create(member=fan, order_line_id=lines[1].pk, rating=4, now=AS_OF - timedelta(days=100))
    quiet, _ = member("安静")
    services.tags_compute(as_of=AS_OF)
    t = _tags(fan)
    assert t["sign_in_days_30d"].value == 8 and t["signin_days_90d"].value == 10  # 30 days: the events' column
    assert t["engaged_signin"].value is True
    assert t["reviews_written"].value == 2 and t["reviews_90d"].value == 1 and t["review_avg_rating"].value == 4.5
    assert t["channels_seen"].value == 2 and t["omnichannel_seen"].value is True
    assert t["identities_linked"].value == 2 and t["days_since_seen"].value == 1.0
    assert t["engagement_level"].value == "high"  # 2 (sign-ins) + 1 (a review in 90 days) + 1 (seen yesterday)
    assert "8 days (China calendar) with a 'sign_in'" in t["sign_in_days_30d"].explanation
    assert t["sign_in_days_30d"].visible and "signin_days_30d" not in t
    assert t["engagement_level"].version >= 1 and not t["engagement_level"].visible
    q = _tags(quiet)
    assert q["sign_in_days_30d"].value == 0 and q["reviews_written"].value == 0
    assert q["engagement_level"].value == "none" and q["review_avg_rating"].value is None


def test_behaviour_is_read_in_a_few_queries(django_assert_max_num_queries):
    members = [member(f"m{i}")[0] for i in range(5)]
    for m in members:
        actions.sign_in(member_id=m.pk, now=AS_OF - timedelta(days=2))
        actions.sign_in(member_id=m.pk, now=AS_OF - timedelta(days=1))
    with django_assert_max_num_queries(4):
        beh = member_behaviour([m.pk for m in members], AS_OF)
    assert list(beh.aligned(tuple(m.pk for m in members))["signin_days_90d"]) == [2] * 5
