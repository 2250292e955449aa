"""A/B experiments through the API: a coupon experiment assigns, logs exposure once, hands out the variant's
coupon; the report counts conversions, store visits and revenue after exposure, with "not enough data"."""

from __future__ import annotations

from datetime import timedelta

import pytest
from django.utils import timezone

from o2o.experiments.models import Experiment, Exposure
from o2o.experiments.services import report
from o2o.marketing.models import Coupon
from o2o.marketing.nearby import reach_set
from o2o.orders.models import Order
from tests.factories import assert_error, auth, location, member, staff
from tests.integration.fulfilment.world import post
from tests.integration.marketing.support import template

pytestmark = pytest.mark.django_db


def make(client, mk, t1, t2, **kw):  # noqa: ANN001, ANN003, ANN201
    body = {"key": "coupon-size", "name": "券面额 5 vs 10", "target": "coupon", "status": "running",
            "variants": [{"key": "control", "config": {"coupon_template_id": t1.pk}},
                         {"key": "ten", "config": {"coupon_template_id": t2.pk}}], **kw}
    return post(client, "/api/v1/experiments", body, mk)


def test_members_get_a_stable_variant_and_its_coupon(client):
    mk = staff("marketing")[1]
    t1, t2 = template(amount_fen=500, budget=100), template(amount_fen=1000, budget=100)
    r = make(client, mk, t1, t2)
    assert r.status_code == 201, r.content
    seen = {}
    for _ in range(12):
        m, token = member()
        a = client.get("/api/v1/experiments/coupon-size/variant", **auth(token)).json()
        b = client.get("/api/v1/experiments/coupon-size/variant", **auth(token)).json()
        assert a == b
        seen[m.pk] = a["variant"]
        c = post(client, "/api/v1/experiments/coupon-size/claim", {}, token)
        assert c.status_code == 201, c.content
        want = t1 if a["variant"] == "control" else t2
        assert Coupon.objects.get(member=m).template_id == want.pk
    assert Exposure.objects.count() == 12  # once per member
    assert dict(Exposure.objects.values_list("member_id", "variant")) == seen


def test_bad_experiments_and_access(client):
    mk = staff("marketing")[1]
    t = template()
    one = {"key": "x", "name": "x", "target": "coupon", "variants": [{"key": "a"}]}
    assert_error(post(client, "/api/v1/experiments", one, mk), 422)
    dup = {**one, "variants": [{"key": "a"}, {"key": "a"}]}
    assert_error(post(client, "/api/v1/experiments", dup, mk), 422, "invalid_variants")
    assert_error(post(client, "/api/v1/experiments", {**one, "key": "Bad Key"}, mk), 422)
    clerk = staff("clerk")[1]
    assert_error(make(client, clerk, t, t), 403)
    _, token = member()
    assert_error(make(client, token, t, t), 403)
    assert make(client, mk, t, t, status="draft").status_code == 201
    assert_error(client.get("/api/v1/experiments/coupon-size/variant", **auth(token)), 409, "experiment_not_running")
    assert_error(client.get("/api/v1/experiments/nope/variant", **auth(token)), 404, "unknown_experiment")
    assert_error(client.get("/api/v1/experiments/coupon-size/report", **auth(token)), 403)


def _order(m, *, paid: int, channel="h5", choice="pickup", status="completed", at=None) -> None:  # noqa: ANN001
    now = at or timezone.now()
    Order.objects.create(number=f"T{Order.objects.count() + 1:08d}{m.pk}", member=m, channel=channel, choice=choice,
                         status=status, goods_fen=paid, total_fen=paid, paid_fen=paid, paid_at=now, created_at=now)


def test_the_report_measures_after_exposure_and_tests_the_difference(client):
    mk = staff("marketing")[1]
    t = template()
    make(client, mk, t, t, min_per_variant=20)
    exp = Experiment.objects.get()
    past = timezone.now() - timedelta(days=1)
    arms = {"control": [], "ten": []}
    for i in range(400):
        m, _ = member()
        Exposure.objects.create(experiment=exp, member=m, variant="control" if i % 2 else "ten", at=past)
        arms["control" if i % 2 else "ten"].append(m)
    for i, m in enumerate(arms["control"]):
        if i % 10 == 0:  # 10 % convert
            _order(m, paid=5000, channel="pos", choice="counter")
    for i, m in enumerate(arms["ten"]):
        if i % 10 < 3:  # 30 % convert, online pickup
            _order(m, paid=4000)
    _order(arms["control"][1], paid=99999, at=past - timedelta(days=2))  # before exposure: not counted
    body = client.get("/api/v1/experiments/coupon-size/report", **auth(mk)).json()
    control, ten = body["variants"]
    assert (control["members"], control["conversions"], control["store_visits"]) == (200, 20, 20)
    assert (ten["members"], ten["conversions"], ten["store_visits"]) == (200, 60, 60)
    assert control["revenue_fen"] == 20 * 5000 and ten["revenue_fen"] == 60 * 4000
    vs = ten["vs_control"]
    assert vs["conversion"]["verdict"] == "better" and vs["conversion"]["p_value"] < 0.001
    assert ten["conversion"]["low"] < 0.3 < ten["conversion"]["high"]
    assert body["enough_data"] is True
    exp.min_per_variant = 500
    exp.save()
    again = report(exp)
    assert again["enough_data"] is False
    assert again["variants"][1]["vs_control"]["conversion"]["verdict"] == "not_enough_data"


def test_a_campaign_experiment_with_a_hold_out_near_a_store(client):
    store = location(lat=31.2304, lng=121.4737)
    t = template(budget=1000)
    mk = staff("marketing")[1]
    body = {"key": "near-holdout", "name": "3 km 券 vs 不发", "target": "campaign", "status": "running",
            "variants": [{"key": "holdout", "config": {}}, {"key": "coupon", "config": {"coupon_template_id": t.pk}}]}
    assert post(client, "/api/v1/experiments", body, mk).status_code == 201
    near = []
    for i in range(40):
        m, _ = member()
        reach_set(m.pk, lat=31.2304 + 0.0002 * i, lng=121.4737, kind="home")
        near.append(m)
    far, _ = member()
    reach_set(far.pk, lat=31.40, lng=121.60, kind="home")
    r = post(client, "/api/v1/experiments/near-holdout/issue-nearby", {"location_id": store.pk}, mk)
    assert r.status_code == 200, r.content
    out = r.json()
    assert out["reached"] == 40
    got = dict(Exposure.objects.values_list("member_id", "variant"))
    assert set(got) == {m.pk for m in near}
    coupon_members = {m for m, v in got.items() if v == "coupon"}
    assert set(Coupon.objects.values_list("member_id", flat=True)) == coupon_members
    assert out["variants"]["coupon"]["issued"] == len(coupon_members) > 0
    assert out["variants"]["holdout"]["exposed"] == 40 - len(coupon_members) > 0


def test_experiment_periods_need_aware_times_in_order(client):
    mk = staff("marketing")[1]
    base = {"key": "p1", "name": "p", "target": "page", "variants": [{"key": "a"}, {"key": "b"}]}
    assert_error(post(client, "/api/v1/experiments", {**base, "starts_at": "2026-12-01T00:00:00"}, mk), 422,
                 "naive_datetime")
    bad = {**base, "starts_at": "2026-12-02T00:00:00+08:00", "ends_at": "2026-12-01T00:00:00+08:00"}
    assert_error(post(client, "/api/v1/experiments", bad, mk), 422, "invalid_period")
    assert not Experiment.objects.exists()
