"""The coupons API: claim and wallet (members), lookup / 核销 / issue (store staff, their store only),
the 3 km campaign (marketing), with object-level access tried with someone else's ids."""

from __future__ import annotations

import json

import pytest

from o2o.marketing.models import Coupon, CouponEvent
from o2o.marketing.nearby import reach_set
from o2o.orders.models import Order
from tests.factories import assert_error, auth, location, member, staff
from tests.integration.fulfilment.world import post
from tests.integration.marketing.support import template

pytestmark = pytest.mark.django_db


def put(client, url, body, token):  # noqa: ANN001, ANN201
    return client.put(url, data=json.dumps(body), content_type="application/json", **auth(token))


def test_a_member_claims_sees_the_coupon_in_the_wallet_and_cannot_claim_twice(client):
    t = template(budget=3)
    _, token = member()
    listed = client.get("/api/v1/coupons/campaigns", **auth(token)).json()
    (row,) = [x for x in listed if x["id"] == t.pk]
    assert row["can_claim"] is True and row["held"] == 0 and row["left"] == 3 and "满" in row["offer"]
    r = post(client, "/api/v1/coupons/claim", {"template_id": t.pk}, token, "k1")
    assert r.status_code == 201, r.content
    assert r.json()["state"] == "available" and len(r.json()["code"].replace(" ", "")) == 16
    again = post(client, "/api/v1/coupons/claim", {"template_id": t.pk}, token, "k1")  # the same key: same answer
    assert again.status_code == 201 and again.json()["id"] == r.json()["id"]
    assert_error(post(client, "/api/v1/coupons/claim", {"template_id": t.pk}, token, "k2"), 409,
                 "coupon_limit_reached")
    wallet = client.get("/api/v1/coupons/mine", **auth(token)).json()
    assert [c["id"] for c in wallet] == [r.json()["id"]]
    (row,) = [x for x in client.get("/api/v1/coupons/campaigns", **auth(token)).json() if x["id"] == t.pk]
    assert row["can_claim"] is False and row["held"] == 1 and row["left"] == 2


def test_bad_claims_answer_with_the_error_shape(client):
    _, token = member()
    assert_error(post(client, "/api/v1/coupons/claim", {"template_id": 999_999}, token), 404,
                 "unknown_coupon_template")
    assert_error(post(client, "/api/v1/coupons/claim", {"template_id": "x"}, token), 422)
    assert_error(post(client, "/api/v1/coupons/claim", "{not json", token), 400)
    assert_error(post(client, "/api/v1/coupons/claim", {"template_id": 1}, None), 401)
    clerk = staff("clerk", loc=location())[1]
    assert_error(post(client, "/api/v1/coupons/claim", {"template_id": template().pk}, clerk), 403, "members_only")


def test_the_counter_looks_up_then_redeems_once_and_the_wallet_shows_it_used(client):
    store = location()
    clerk = staff("clerk", loc=store)[1]
    m, token = member()
    t = template(budget=5, threshold_fen=0)  # a threshold needs receipt_no (test_counter_receipt_reverse_api)
    code = post(client, "/api/v1/coupons/claim", {"template_id": t.pk}, token).json()["code"]
    seen = client.get("/api/v1/coupons/lookup", {"code": code, "location_id": store.pk}, **auth(clerk))
    assert seen.status_code == 200, seen.content
    assert seen.json()["usable_here"] is True and seen.json()["member_id"] == m.pk
    assert "*" in seen.json()["member_phone_masked"] or seen.json()["member_phone_masked"] == ""
    r = post(client, "/api/v1/coupons/redeem", {"code": code, "location_id": store.pk}, clerk, "r1")
    assert r.status_code == 200, r.content and r.json()["state"] == "used"
    assert post(client, "/api/v1/coupons/redeem", {"code": code, "location_id": store.pk}, clerk, "r1").json()[
        "id"] == r.json()["id"]  # a retried request: the first answer
    assert_error(post(client, "/api/v1/coupons/redeem", {"code": code, "location_id": store.pk}, clerk, "r2"), 409,
                 "coupon_used")
    (c,) = client.get("/api/v1/coupons/mine", **auth(token)).json()
    assert c["state"] == "used" and c["used_channel"] == "counter" and c["used_store_id"] == store.pk
    assert CouponEvent.objects.filter(kind="used").count() == 1


def test_a_clerk_cannot_look_up_or_redeem_for_another_store_or_another_scope(client):
    mine, other = location(), location()
    clerk_other = staff("clerk", loc=other)[1]
    _, token = member()
    t = template(stores=[mine])
    code = post(client, "/api/v1/coupons/claim", {"template_id": t.pk}, token).json()["code"]
    # Naming the store the coupon is for, while working at another: the permission says no.
    assert_error(client.get("/api/v1/coupons/lookup", {"code": code, "location_id": mine.pk}, **auth(clerk_other)),
                 403)
    assert_error(post(client, "/api/v1/coupons/redeem", {"code": code, "location_id": mine.pk}, clerk_other), 403)
    # At their own store: the coupon's scope says no.
    view = client.get("/api/v1/coupons/lookup", {"code": code, "location_id": other.pk}, **auth(clerk_other)).json()
    assert view["usable_here"] is False and view["refusal_code"] == "coupon_not_valid_here"
    assert_error(post(client, "/api/v1/coupons/redeem", {"code": code, "location_id": other.pk}, clerk_other), 403,
                 "coupon_not_valid_here")
    assert Coupon.objects.get().status == "available"
    # A member cannot redeem at a counter, even their own coupon.
    assert_error(post(client, "/api/v1/coupons/redeem", {"code": code, "location_id": mine.pk}, token), 403)


def test_bad_codes_at_the_counter(client):
    store = location()
    clerk = staff("clerk", loc=store)[1]
    assert_error(client.get("/api/v1/coupons/lookup", {"code": "1234", "location_id": store.pk}, **auth(clerk)), 404,
                 "unknown_coupon")
    assert_error(post(client, "/api/v1/coupons/redeem", {"code": "", "location_id": store.pk}, clerk), 422)
    assert_error(post(client, "/api/v1/coupons/redeem", {"code": "1" * 65, "location_id": store.pk}, clerk), 422)
    assert_error(post(client, "/api/v1/coupons/redeem", {"code": "12\u00003", "location_id": store.pk}, clerk), 422,
                 "invalid_characters")


def test_staff_hand_out_coupons_at_their_store_only(client):
    store, other = location(), location()
    clerk = staff("clerk", loc=store)[1]
    m, _ = member()
    Order.objects.create(number="T0000001", member=m, channel="pos", choice="counter", status="completed",
                         store=store, goods_fen=100, total_fen=100, paid_fen=100)  # the member shops here
    stranger, _ = member()
    t = template(member_limit=2)
    body = {"template_id": t.pk, "member_id": m.pk, "location_id": store.pk}
    r = post(client, "/api/v1/coupons/issue", body, clerk, "i1")
    assert r.status_code == 201, r.content
    assert r.json()["source"] == "staff" and "code" not in r.json()  # the code is the member's to show
    assert post(client, "/api/v1/coupons/issue", body, clerk, "i1").json()["id"] == r.json()["id"]  # retried
    assert Coupon.objects.get().issued_at_store_id == store.pk
    assert_error(post(client, "/api/v1/coupons/issue", {**body, "location_id": other.pk}, clerk), 403)
    # Someone who never shopped here looks the same as nobody: no membership oracle, no coupon.
    assert_error(post(client, "/api/v1/coupons/issue", {**body, "member_id": stranger.pk}, clerk), 404,
                 "unknown_member")
    assert_error(post(client, "/api/v1/coupons/issue", {**body, "member_id": 999_999}, clerk), 404, "unknown_member")
    scoped = template(stores=[other])
    assert_error(post(client, "/api/v1/coupons/issue", {**body, "template_id": scoped.pk}, clerk), 403,
                 "coupon_not_valid_here")
    assert Coupon.objects.count() == 1


def test_marketing_issues_a_3km_campaign_and_members_set_their_home(client):
    store = location(lat=31.2304, lng=121.4737)
    t = template(stores=[store], budget=50)
    near, token = member()
    far, _ = member()
    r = put(client, "/api/v1/members/me/home", {"lat": 31.2390, "lng": 121.4737}, token)
    assert r.status_code == 200, r.content
    reach_set(far.pk, lat=31.30, lng=121.60, kind="home")
    mk = staff("marketing")[1]
    url = f"/api/v1/coupons/campaigns/{t.pk}/issue-nearby"
    dry = post(client, url, {"location_id": store.pk, "radius_m": 3000, "dry_run": True}, mk)
    assert dry.status_code == 200, dry.content
    assert dry.json()["reached"] == 1 and dry.json()["issued"] == 0
    done = post(client, url, {"location_id": store.pk}, mk).json()
    assert done["issued"] == 1 and list(Coupon.objects.values_list("member_id", flat=True)) == [near.pk]
    assert_error(post(client, url, {"location_id": store.pk}, staff("clerk", loc=store)[1]), 403)
    assert_error(post(client, url, {"location_id": store.pk}, token), 403)
    assert_error(post(client, url, {"location_id": store.pk, "radius_m": 0}, mk), 422)
    assert_error(put(client, "/api/v1/members/me/home", {"lat": 91, "lng": 121}, token), 422)
