"""A channel backend's token (least privilege): signs members in and links identities, for its one channel,
the identity kinds that channel verifies and its app ids; never merges; nothing else."""

from __future__ import annotations

import io

import pytest
from django.core.management import CommandError, call_command

from o2o.accounts.models import ApiToken, ChannelBackend, Member, MemberMerge, User
from o2o.core.access import Perm, Role, role_perms
from tests.factories import assert_error, auth, location, member, sku, staff, stock_in
from tests.integration.fulfilment.world import post

pytestmark = pytest.mark.django_db


MINI = ("--channel", "mini_program", "--app-id", "wxshop")


def backend_token(username: str = "mini-program-backend", *args: str) -> str:
    out = io.StringIO()
    call_command("channel-backend-token", username, *(args or MINI), stdout=out)
    return out.getvalue().split("token: ")[1].strip()


def test_the_role_holds_only_identify():
    assert role_perms(Role.CHANNEL_BACKEND) == {Perm.MEMBER_IDENTIFY}
    assert Role.CHANNEL_BACKEND.label == "渠道后端 channel backend"


def test_the_command_makes_a_passwordless_hq_account_bound_to_one_channel_and_rotates_tokens():
    first = backend_token("app-backend", "--channel", "app")
    user = User.objects.get(username="app-backend")
    assert (user.role, user.scope, user.is_staff, user.has_usable_password()) == ("channel_backend", "hq", False, False)
    assert (user.channel_backend.channel, user.channel_backend.app_ids) == ("app", [])
    second = backend_token("app-backend", "--channel", "app", "--revoke-others")
    assert first != second and ApiToken.objects.filter(user=user, revoked=False).count() == 1
    with pytest.raises(CommandError):
        backend_token("app-backend", "--channel", "h5")  # the channel of an account never changes
    User.objects.create(username="a-clerk", role="clerk", scope="hq")
    with pytest.raises(CommandError):
        backend_token("a-clerk", "--channel", "app")  # an existing account of another role is not turned into a backend
    with pytest.raises(CommandError):
        backend_token("mini-no-app", "--channel", "mini_program")  # per-app channel: --app-id required
    with pytest.raises(CommandError):
        backend_token("pos-with-app", "--channel", "pos", "--app-id", "wx1")
    with pytest.raises(CommandError):
        call_command("channel-backend-token", "no-channel", stdout=io.StringIO())  # --channel is required
    assert not User.objects.filter(username__in=["mini-no-app", "pos-with-app", "no-channel"]).exists()
    backend_token("dy-backend", "--channel", "douyin", "--app-id", "tt02", "--app-id", "tt01")
    assert ChannelBackend.objects.get(user__username="dy-backend").app_ids == ["tt01", "tt02"]


def test_a_channel_backend_signs_members_in_and_links_identities(client):
    token = backend_token()
    r = post(client, "/api/v1/members/identify", {"channel": "mini_program", "kind": "wechat_openid",
                                                    "value": "oCHANNELopenid01", "app_id": "wxshop"}, token)
    assert r.status_code == 200, r.content
    member_id, member_token = r.json()["member_id"], r.json()["token"]
    assert client.get("/api/v1/members/me/identities", **auth(member_token)).status_code == 200
    linked = post(client, f"/api/v1/members/{member_id}/identities",
                  {"channel": "mini_program", "kind": "phone", "value": "13800138011"}, token)
    assert linked.status_code == 200 and linked.json()["identity"]["kind"] == "phone"
    assert linked.json()["merge"] is None


def test_a_channel_backend_acts_only_for_its_channel_kinds_and_app_ids(client):
    token = backend_token()  # mini_program, app id wxshop
    m, _ = member()

    def both(body: dict, code: str) -> None:
        assert_error(post(client, "/api/v1/members/identify", body, token), 403, code)
        assert_error(post(client, f"/api/v1/members/{m.pk}/identities", body, token), 403, code)

    both({"channel": "app", "kind": "app_account", "value": "user-channel-01"}, "channel_not_allowed")
    both({"channel": "douyin", "kind": "douyin_openid", "value": "dyOPENID0001", "app_id": "tt01"},
         "channel_not_allowed")
    both({"channel": "mini_program", "kind": "pos_card", "value": "CARD0001"}, "identity_kind_not_allowed")
    both({"channel": "mini_program", "kind": "app_account", "value": "user-channel-01"}, "identity_kind_not_allowed")
    both({"channel": "mini_program", "kind": "wechat_openid", "value": "oOTHERapp0001", "app_id": "wxother"},
         "app_not_allowed")
    assert not m.identities.exists() and Member.objects.count() == 1

    pos = backend_token("pos-backend", "--channel", "pos")
    r = post(client, "/api/v1/members/identify", {"channel": "pos", "kind": "pos_card", "value": "CARD0001"}, pos)
    assert r.status_code == 200, r.content
    assert_error(post(client, "/api/v1/members/identify", {"channel": "pos", "kind": "phone",
                                                           "value": "13800138000"}, pos), 403,
                 "identity_kind_not_allowed")
    h5 = backend_token("h5-backend", "--channel", "h5")
    assert post(client, "/api/v1/members/identify", {"channel": "h5", "kind": "phone", "value": "13800138000"},
                h5).status_code == 200
    ChannelBackend.objects.filter(user__username="h5-backend").delete()  # a backend bound to nothing: nothing
    assert_error(post(client, "/api/v1/members/identify", {"channel": "h5", "kind": "phone",
                                                           "value": "13800138000"}, h5), 403, "channel_not_allowed")


def test_a_channel_backend_never_merges_but_hq_and_the_member_still_can(client):
    token = backend_token()
    body = {"channel": "mini_program", "kind": "wechat_openid", "value": "oOWNEDbyB0001", "app_id": "wxshop"}
    b = post(client, "/api/v1/members/identify", body, token).json()
    a = post(client, "/api/v1/members/identify", {**body, "value": "oOWNEDbyA0001"}, token).json()
    assert_error(post(client, f"/api/v1/members/{a['member_id']}/identities", body, token), 409, "merge_needs_hq")
    assert not MemberMerge.objects.exists()
    # the member, in their own session, proving the identity with the token they got signing in with it
    mine = post(client, "/api/v1/members/me/identities", {**body, "proof_token": b["token"]}, a["token"])
    assert mine.status_code == 200, mine.content
    assert mine.json()["merge"]["merged_id"] == b["member_id"]
    # HQ keeps the unrestricted path (any channel, and merges)
    _, hq = staff("hq_admin")
    c = post(client, "/api/v1/members/identify", {"channel": "app", "kind": "app_account", "value": "someone-c"}, hq)
    assert c.status_code == 200
    merged = post(client, f"/api/v1/members/{a['member_id']}/identities",
                  {"channel": "app", "kind": "app_account", "value": "someone-c"}, hq)
    assert merged.status_code == 200 and merged.json()["merge"]["merged_id"] == c.json()["member_id"]


def test_a_channel_backend_gets_403_on_orders_stock_points_coupons_and_admin(client):
    token = backend_token()
    m, _ = member()
    loc = location()
    s = sku()
    stock_in(loc, s, 5)
    h = auth(token)
    assert_error(client.get("/api/v1/orders", **h), 403)
    assert_error(client.get(f"/api/v1/inventory/locations/{loc.pk}/stock", **h), 403)
    assert_error(post(client, "/api/v1/inventory/adjustments", {"location_id": loc.pk, "sku_id": s.pk, "delta": 1,
                                                              "reason": "测试原因"}, token), 403)
    assert_error(client.get(f"/api/v1/members/{m.pk}/points", **h), 403)
    assert_error(client.get(f"/api/v1/members/{m.pk}/identities", **h), 403)
    assert_error(client.get("/api/v1/coupons/lookup", {"code": "X", "location_id": loc.pk}, **h), 403)
    assert_error(post(client, f"/api/v1/members/{m.pk}/phone/reveal", {"reason": "客服回访"}, token), 403)
    assert_error(post(client, f"/api/v1/members/{m.pk}/tier", {"tier": "gold", "reason": "测试原因"}, token), 403)
    assert_error(post(client, "/api/v1/members/merges/1/undo", {}, token), 403)
    assert_error(post(client, f"/api/v1/members/{m.pk}/deletion", {"reason": "测试删除"}, token), 403)
    # no staff view of the catalog or the stores (inactive SKUs, warehouses, capacity)
    assert_error(client.get("/api/v1/catalog/skus", **h), 403)
    assert_error(client.get(f"/api/v1/locations/{loc.pk}", **h), 403)
    admin = client.get("/admin/", **h)  # the admin takes no bearer tokens and the account has no password
    assert admin.status_code == 302 and "/login" in admin["Location"]
    assert not client.login(username="mini-program-backend", password="")


def test_a_channel_backend_links_only_to_a_member_it_could_sign_in_itself(client):
    """The takeover: a POS backend attached a card of its own to a Douyin-only member, then signed in with the
    card and got that member's token. Now 403 ``member_not_of_channel``: the target must already hold an
    identity the backend vouches for (its kinds; openids: its app ids)."""
    pos = backend_token("pos-backend", "--channel", "pos")
    dy = backend_token("dy-backend", "--channel", "douyin", "--app-id", "tt01")
    victim = post(client, "/api/v1/members/identify", {"channel": "douyin", "kind": "douyin_openid",
                                                       "value": "dyVICTIM0001", "app_id": "tt01"}, dy).json()
    evil = {"channel": "pos", "kind": "pos_card", "value": "EVIL12345"}
    assert_error(post(client, f"/api/v1/members/{victim['member_id']}/identities", evil, pos), 403,
                 "member_not_of_channel")
    assert not Member.objects.get(pk=victim["member_id"]).identities.filter(kind="pos_card").exists()
    signed = post(client, "/api/v1/members/identify", evil, pos).json()  # the card is nobody's: a new member
    assert signed["created"] and signed["member_id"] != victim["member_id"]
    # a member the POS backend signed in itself (holds a card) may get another card
    again = post(client, f"/api/v1/members/{signed['member_id']}/identities",
                 {**evil, "value": "EVIL67890"}, pos)
    assert again.status_code == 200 and again.json()["merge"] is None
    # openids count only under the backend's own app ids
    mini = backend_token()  # wxshop
    other_app = post(client, "/api/v1/members/identify", {"channel": "mini_program", "kind": "wechat_openid",
                                                          "value": "oOTHERapp0002", "app_id": "wxother"},
                     staff("hq_admin")[1]).json()
    phone = {"channel": "mini_program", "kind": "phone", "value": "13800138077"}
    assert_error(post(client, f"/api/v1/members/{other_app['member_id']}/identities", phone, mini), 403,
                 "member_not_of_channel")
    # HQ keeps linking to anyone
    hq = post(client, f"/api/v1/members/{victim['member_id']}/identities", {**evil, "value": "HQCARD0001"},
              staff("hq_admin")[1])
    assert hq.status_code == 200, hq.content


def test_a_channel_backend_cannot_take_a_pre_oneid_contact_phone_without_a_merge(client):
    """Y has phone P only as a contact phone from before OneID: linking P to another member is a merge (409 for a
    backend), never a silent attach after which Y's phone sign-in would land on the other member."""
    from o2o.accounts.pii_services import member_set_phone

    h5 = backend_token("h5-backend", "--channel", "h5")
    old, _ = member("老会员")
    member_set_phone(member=old, phone="13900139001")
    mine = post(client, "/api/v1/members/identify", {"channel": "h5", "kind": "phone", "value": "13900139002"},
                h5).json()
    assert_error(post(client, f"/api/v1/members/{mine['member_id']}/identities",
                      {"channel": "h5", "kind": "phone", "value": "13900139001"}, h5), 409, "merge_needs_hq")
    back = post(client, "/api/v1/members/identify", {"channel": "h5", "kind": "phone", "value": "13900139001"},
                h5).json()
    assert back["member_id"] == old.pk and not back["created"]
