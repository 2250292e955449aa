"""OneID over HTTP: trusted sign-in, self-service link with proof (merge), staff views, HQ undo, masking."""

from __future__ import annotations

import pytest

from o2o.accounts.models import Member, MemberMerge
from o2o.orders.models import Order
from tests.factories import assert_error, auth, location, member, staff
from tests.integration.fulfilment.world import post

pytestmark = pytest.mark.django_db

OPENID = "oWECHATopenid123456"
PHONE = "13812345678"


def identify(client, token, **body):  # noqa: ANN001, ANN003, ANN201
    return post(client, "/api/v1/members/identify", {"channel": "mini_program", **body}, token)


def no_clear_values(r) -> None:  # noqa: ANN001
    text = r.content.decode()
    assert OPENID not in text and PHONE not in text


@pytest.fixture
def hq():
    return staff("hq_admin")[1]


def test_trusted_channel_signs_in_by_openid_and_gets_a_member_token(client, hq):
    r = identify(client, hq, kind="wechat_openid", value=OPENID, app_id="wxshop")
    assert r.status_code == 200, r.content
    body = r.json()
    assert body["created"] and body["identity"]["value_masked"] == "oWEC****3456"
    no_clear_values(r)
    again = identify(client, hq, kind="wechat_openid", value=OPENID, app_id="wxshop").json()
    assert again["member_id"] == body["member_id"] and not again["created"] and again["token"] != body["token"]
    mine = client.get("/api/v1/members/me/identities", **auth(body["token"]))
    assert mine.status_code == 200, mine.content
    assert [i["kind"] for i in mine.json()["identities"]] == ["wechat_openid"]
    assert mine.json()["registered_channel"] == "mini_program" and mine.json()["channels"][0]["channel"] == \
        "mini_program"
    no_clear_values(mine)


def test_only_trusted_callers_may_identify(client):
    _, clerk = staff("clerk", loc=location())
    _, shopper = member()
    for token, status in ((clerk, 403), (shopper, 403), (None, 401)):
        assert_error(identify(client, token, kind="phone", value=PHONE), status)
    assert not Member.objects.filter(phone_masked="138****5678").exists()


def test_bad_input_has_the_error_shape(client, hq):
    body = assert_error(identify(client, hq, kind="qq", value="12345678"), 422, "invalid_identity")
    assert "phone" in body["details"]["allowed"]
    assert_error(identify(client, hq, kind="phone", value="12345"), 422, "invalid_identity")
    assert_error(identify(client, hq, kind="wechat_openid", value=OPENID), 422, "invalid_identity")  # no app id
    assert_error(post(client, "/api/v1/members/identify", {"kind": "phone", "value": PHONE, "channel": "fax"}, hq),
                 422, "invalid_channel")
    assert_error(post(client, "/api/v1/members/identify", {"kind": "phone"}, hq), 422)


def test_member_links_an_identity_proven_by_signing_in_with_it_and_hq_undoes_the_merge(client, hq):
    app = identify(client, hq, kind="app_account", value="lilei", channel="app").json()
    wx = identify(client, hq, kind="wechat_openid", value=OPENID, app_id="wxshop").json()
    Order.objects.create(number="E2E-1", member_id=wx["member_id"], channel="mini_program", choice="pickup")
    link = {"kind": "wechat_openid", "value": OPENID, "app_id": "wxshop", "channel": "mini_program"}
    # without proof, or with a token of someone else: refused, nothing merged
    _, stranger = member()
    assert_error(post(client, "/api/v1/members/me/identities", {**link, "proof_token": "nope"}, app["token"]),
                 403, "identity_not_proven")
    assert_error(post(client, "/api/v1/members/me/identities", {**link, "proof_token": stranger}, app["token"]),
                 403, "identity_not_proven")
    assert not MemberMerge.objects.exists()
    r = post(client, "/api/v1/members/me/identities", {**link, "proof_token": wx["token"]}, app["token"])
    assert r.status_code == 200, r.content
    merge = r.json()["merge"]
    assert merge["survivor_id"] == app["member_id"] and merge["merged_id"] == wx["member_id"]
    assert merge["moved"]["orders"] == 1 and merge["moved"]["identities"] == 1
    no_clear_values(r)
    kinds = {i["kind"] for i in client.get("/api/v1/members/me/identities", **auth(app["token"])).json()["identities"]}
    assert kinds == {"app_account", "wechat_openid"}
    assert Order.objects.get(number="E2E-1").member_id == app["member_id"]

    url = f"/api/v1/members/merges/{merge['id']}/undo"
    _, clerk = staff("clerk", loc=location())
    assert_error(post(client, url, {}, clerk), 403)
    assert_error(post(client, url, {}, app["token"]), 403)
    assert_error(post(client, url, {}, staff("customer_service")[1]), 403)
    undone = post(client, url, {}, hq)
    assert undone.status_code == 200, undone.content
    assert undone.json()["undone_at"] and undone.json()["moved"]["orders"] == 1
    assert Order.objects.get(number="E2E-1").member_id == wx["member_id"]
    assert Member.objects.get(pk=wx["member_id"]).is_active
    assert_error(post(client, url, {}, hq), 409, "merge_undone")
    assert_error(post(client, "/api/v1/members/merges/999999/undo", {}, hq), 404)


def test_trusted_channel_link_merges_without_proof(client, hq):
    a = identify(client, hq, kind="pos_card", value="CARD12345", channel="pos").json()
    b = identify(client, hq, kind="phone", value=PHONE, channel="h5").json()
    r = post(client, f"/api/v1/members/{a['member_id']}/identities", {"kind": "phone", "value": PHONE,
                                                                      "channel": "pos"}, hq)
    assert r.status_code == 200, r.content
    assert r.json()["merge"]["merged_id"] == b["member_id"] and r.json()["identity"]["value_masked"] == "138****5678"
    no_clear_values(r)
    _, shopper = member()
    assert_error(post(client, f"/api/v1/members/{a['member_id']}/identities",
                      {"kind": "phone", "value": "13900000000", "channel": "pos"}, shopper), 403)


def test_staff_see_identities_masked_only_of_members_of_their_stores(client, hq):
    a = identify(client, hq, kind="phone", value=PHONE, channel="h5").json()
    b = identify(client, hq, kind="app_account", value="hanmeimei", channel="app").json()
    store, other = location(), location()
    Order.objects.create(number="E2E-2", member_id=a["member_id"], channel="h5", choice="pickup", store=store)
    _, clerk = staff("clerk", loc=store)
    _, far_clerk = staff("clerk", loc=other)
    r = client.get(f"/api/v1/members/{a['member_id']}/identities", **auth(clerk))
    assert r.status_code == 200, r.content
    assert [i["value_masked"] for i in r.json()["identities"]] == ["138****5678"]
    no_clear_values(r)
    assert_error(client.get(f"/api/v1/members/{a['member_id']}/identities", **auth(far_clerk)), 404)
    assert client.get(f"/api/v1/members/{a['member_id']}/identities", **auth(hq)).status_code == 200
    # a member sees only their own: someone else's id is refused
    assert_error(client.get(f"/api/v1/members/{a['member_id']}/identities", **auth(b["token"])), 403)
    mine = client.get("/api/v1/members/me/identities", **auth(b["token"])).json()
    assert mine["member_id"] == b["member_id"] and [i["value_masked"] for i in mine["identities"]] == ["ha****ei"]
