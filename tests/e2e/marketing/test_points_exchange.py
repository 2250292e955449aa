"""积分兑换: a campaign with a points price (goods or a local service for points) is paid in points when claimed,
in the claim's transaction: not enough points issues nothing; a sold-out campaign takes no points."""

from __future__ import annotations

from datetime import datetime

import pytest

from o2o.core.loyalty import CHINA_TZ
from o2o.marketing.claims import coupon_issue, exchange_ref
from o2o.marketing.models import Coupon, CouponTemplate
from o2o.members import points as pts
from o2o.members.models import PointsAccount, PointsEntry
from o2o.members.selectors import available_points
from tests.factories import assert_error, auth, member
from tests.integration.fulfilment.world import post
from tests.integration.marketing.support import template

pytestmark = pytest.mark.django_db
T0 = datetime(2026, 11, 1, 10, 0, tzinfo=CHINA_TZ)


def car_wash(**kw) -> CouponTemplate:  # noqa: ANN003
    return template(kind="service_voucher", service="洗车 car wash", amount_fen=3000, threshold_fen=0,
                    points_price=800, redeem_online=False, **kw)


def test_claiming_an_exchange_pays_its_points_once(client):
    m, token = member()
    pts.points_earn(m.pk, 1000, "gift:1", T0)
    t = car_wash(budget=5)
    listed = next(x for x in client.get("/api/v1/coupons/campaigns", **auth(token)).json() if x["id"] == t.pk)
    assert listed["points_price"] == 800
    r = post(client, "/api/v1/coupons/claim", {"template_id": t.pk}, token, "ex1")
    assert r.status_code == 201, r.content
    assert available_points(m.pk) == 200
    again = post(client, "/api/v1/coupons/claim", {"template_id": t.pk}, token, "ex1")  # a retried request
    assert again.json()["id"] == r.json()["id"] and available_points(m.pk) == 200
    spend = PointsEntry.objects.filter(account__member=m, kind="spend")
    assert sum(e.points for e in spend) == -800 and {e.ref for e in spend} == {exchange_ref(r.json()["id"])}
    assert pts.points_check(PointsAccount.objects.get(member=m)) == ()


def test_not_enough_points_issues_nothing(client):
    m, token = member()
    pts.points_earn(m.pk, 799, "gift:1", T0)
    t = car_wash(budget=5)
    assert_error(post(client, "/api/v1/coupons/claim", {"template_id": t.pk}, token), 409, "insufficient_points")
    assert not Coupon.objects.exists() and CouponTemplate.objects.get(pk=t.pk).issued == 0
    assert available_points(m.pk) == 799


def test_a_sold_out_exchange_takes_no_points(client):
    first, t1 = member()
    late, t2 = member()
    for m in (first, late):
        pts.points_earn(m.pk, 1000, "gift:1", T0)
    t = car_wash(budget=1)
    assert post(client, "/api/v1/coupons/claim", {"template_id": t.pk}, t1).status_code == 201
    assert_error(post(client, "/api/v1/coupons/claim", {"template_id": t.pk}, t2), 409, "coupon_sold_out")
    assert available_points(late.pk) == 1000 and not Coupon.objects.filter(member=late).exists()


def test_staff_issued_exchange_coupons_are_free():
    m, _ = member()
    t = car_wash()
    coupon_issue(template_id=t.pk, member=m, source="staff")
    assert available_points(m.pk) == 0 and Coupon.objects.filter(member=m).count() == 1
