"""A channel backend's token (least privilege): signs members in and links identities; nothing else."""

from __future__ import annotations

import io

import pytest
from django.core.management import CommandError, call_command

from o2o.accounts.models import ApiToken, User
from o2o.core.access import Perm, Role, role_perms
from tests.factories import assert_error, auth, location, member, sku, stock_in
from tests.integration.fulfilment.world import post

pytestmark = pytest.mark.django_db


def backend_token(username: str = "mini-program-backend", *args: str) -> str:
    out = io.StringIO()
    call_command("channel-backend-token", username, *args, stdout=out)
    return out.getvalue().split("token: ")[1].strip()


def test_the_role_holds_only_identify_and_public_reads():
    assert role_perms(Role.CHANNEL_BACKEND) == {Perm.MEMBER_IDENTIFY, Perm.CATALOG_VIEW, Perm.LOCATION_VIEW}
    assert Role.CHANNEL_BACKEND.label == "渠道后端 channel backend"


def test_the_command_makes_a_passwordless_hq_account_and_rotates_tokens():
    first = backend_token("app-backend")
    user = User.objects.get(username="app-backend")
    assert (user.role, user.scope, user.is_staff, user.has_usable_password()) == ("channel_backend", "hq", False, False)
    second = backend_token("app-backend", "--revoke-others")
    assert first != second and ApiToken.objects.filter(user=user, revoked=False).count() == 1
    User.objects.create(username="a-clerk", role="clerk", scope="hq")
    with pytest.raises(CommandError):
        backend_token("a-clerk")  # an existing account of another role is not turned into a backend


def test_a_channel_backend_signs_members_in_and_links_identities(client):
    token = backend_token()
    r = post(client, "/api/v1/members/identify", {"channel": "mini_program", "kind": "wechat_openid",
                                                    "value": "oCHANNELopenid01", "app_id": "wxshop"}, token)
    assert r.status_code == 200, r.content
    member_id, member_token = r.json()["member_id"], r.json()["token"]
    assert client.get("/api/v1/members/me/identities", **auth(member_token)).status_code == 200
    linked = post(client, f"/api/v1/members/{member_id}/identities",
                  {"channel": "app", "kind": "app_account", "value": "user-channel-01"}, token)
    assert linked.status_code == 200 and linked.json()["identity"]["kind"] == "app_account"
    assert client.get("/api/v1/catalog/skus", **auth(token)).status_code == 200  # a public read


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
    admin = client.get("/admin/", **h)  # the admin takes no bearer tokens and the account has no password
    assert admin.status_code == 302 and "/login" in admin["Location"]
    assert not client.login(username="mini-program-backend", password="")
