"""PIPL over HTTP: phone reveal, export and deletion: who may, bad input, and a log row for every one."""

from __future__ import annotations

import pytest

import o2o.profiles.privacy  # noqa: F401 - connects the tags' receivers (ProfilesConfig.ready in the app)
from o2o.accounts.models import PiiAccessLog
from o2o.accounts.pii_services import member_set_phone
from o2o.orders.models import Order
from tests.factories import assert_error, auth, location, member, staff
from tests.integration.fulfilment.world import post

pytestmark = pytest.mark.django_db

PHONE = "13812345678"


@pytest.fixture
def world():
    store, other = location(), location()
    a, a_token = member("Alice")
    member_set_phone(member=a, phone=PHONE)
    b, b_token = member("Bob")
    member_set_phone(member=b, phone="13700007777")
    Order.objects.create(number="A-1", member=a, channel="pos", choice="counter", status="completed", store=store)
    Order.objects.create(number="B-1", member=b, channel="pos", choice="counter", status="completed", store=other)
    return {"store": store, "a": a, "a_token": a_token, "b": b, "b_token": b_token}


def reveal(client, member_id: int, token: str | None, reason="会员来电核实 caller check"):  # noqa: ANN001, ANN201
    return post(client, f"/api/v1/members/{member_id}/phone/reveal", {"reason": reason}, token)


def logs(action: str) -> int:
    return PiiAccessLog.objects.filter(action=action).count()


def test_customer_service_reveals_a_phone_and_it_is_logged(client, world):
    user, cs = staff("customer_service")
    r = reveal(client, world["a"].pk, cs)
    assert r.status_code == 200, r.content
    assert r.json() == {"member_id": world["a"].pk, "phone": PHONE}
    row = PiiAccessLog.objects.get(action="reveal")
    assert (row.user, row.member, row.reason) == (user, world["a"], "会员来电核实 caller check")


def test_reveal_access_and_bad_input(client, world):
    _, clerk = staff("clerk", loc=world["store"])
    _, store_cs = staff("customer_service", loc=world["store"])
    _, hq = staff("hq_admin")
    assert_error(reveal(client, world["a"].pk, clerk), 403)  # a clerk has no pii.reveal, even for its store
    assert_error(reveal(client, world["a"].pk, world["a_token"]), 403)  # members neither (their own: /me/export)
    assert_error(reveal(client, world["b"].pk, store_cs), 404, "unknown_member")  # not a member of its store
    assert_error(reveal(client, 999_999, hq), 404, "unknown_member")
    assert_error(reveal(client, world["a"].pk, hq, reason=" "), 422, "reason_required")
    assert_error(post(client, f"/api/v1/members/{world['a'].pk}/phone/reveal", {}, hq), 422)
    assert_error(reveal(client, world["a"].pk, None), 401)
    assert logs("reveal") == 0
    assert reveal(client, world["a"].pk, store_cs).json()["phone"] == PHONE  # its store's member
    assert logs("reveal") == 1


def test_member_exports_own_data_only(client, world):
    r = client.get("/api/v1/members/me/export", **auth(world["a_token"]))
    assert r.status_code == 200, r.content
    body = r.json()
    assert body["member"]["id"] == world["a"].pk and body["member"]["phone"] == PHONE
    assert [o["number"] for o in body["orders"]] == ["A-1"] and "Bob" not in r.content.decode()
    assert "tags" in body and logs("export") == 1
    _, hq = staff("hq_admin")
    assert_error(client.get("/api/v1/members/me/export", **auth(hq)), 403, "members_only")
    # member A cannot export B through the staff endpoint
    assert_error(post(client, f"/api/v1/members/{world['b'].pk}/export", {"reason": "我要看 curious"},
                      world["a_token"]), 403)
    assert logs("export") == 1


def test_hq_exports_on_request_store_staff_cannot(client, world):
    user, cs = staff("customer_service")
    _, store_cs = staff("customer_service", loc=world["store"])
    url = f"/api/v1/members/{world['b'].pk}/export"
    assert_error(post(client, url, {"reason": "会员申请 member asked"}, store_cs), 403)
    assert_error(post(client, url, {"reason": ""}, cs), 422, "reason_required")
    assert_error(post(client, "/api/v1/members/999999/export", {"reason": "会员申请 asked"}, cs), 404)
    r = post(client, url, {"reason": "会员申请 member asked"}, cs)
    assert r.status_code == 200, r.content
    assert r.json()["member"]["display_name"] == "Bob"
    assert PiiAccessLog.objects.get(action="export").user == user


def test_member_deletes_own_account_with_confirmation(client, world):
    url = "/api/v1/members/me/deletion"
    assert_error(post(client, url, {"confirm": False}, world["a_token"]), 422, "confirmation_required")
    assert_error(post(client, url, {}, world["a_token"]), 422)
    assert logs("deletion") == 0
    r = post(client, url, {"confirm": True}, world["a_token"])
    assert r.status_code == 200, r.content
    assert r.json()["member_id"] == world["a"].pk and r.json()["kept"]["orders"] == 1
    assert logs("deletion") == 1
    # the token is gone with the account
    assert_error(client.get("/api/v1/members/me/export", **auth(world["a_token"])), 401)
    # HQ asking again (idempotent) gets the same answer, no second log row
    _, cs = staff("customer_service")
    again = post(client, f"/api/v1/members/{world['a'].pk}/deletion", {"reason": "会员申请 asked"}, cs)
    assert again.status_code == 200 and again.json() == r.json()
    assert logs("deletion") == 1


def test_hq_deletion_access_open_orders_and_errors(client, world):
    _, clerk = staff("clerk", loc=world["store"])
    _, cs = staff("customer_service")
    url = f"/api/v1/members/{world['b'].pk}/deletion"
    assert_error(post(client, url, {"reason": "会员申请 asked"}, clerk), 403)
    assert_error(post(client, url, {"reason": "会员申请 asked"}, world["a_token"]), 403)  # A cannot delete B
    assert_error(post(client, url, {"reason": "x"}, cs), 422, "reason_required")
    assert_error(post(client, "/api/v1/members/999999/deletion", {"reason": "会员申请 asked"}, cs), 404)
    Order.objects.create(number="B-2", member=world["b"], channel="h5", choice="pickup", status="paid")
    body = assert_error(post(client, url, {"reason": "会员申请 asked"}, cs), 409, "open_orders")
    assert body["details"]["orders"] == ["B-2"]
    assert logs("deletion") == 0
    Order.objects.filter(number="B-2").update(status="completed")
    assert post(client, url, {"reason": "会员申请 asked"}, cs).status_code == 200
    assert logs("deletion") == 1
    world["b"].refresh_from_db()
    assert not world["b"].is_active and world["b"].phone_masked == ""
    # a deleted member's phone can no longer be revealed
    assert_error(reveal(client, world["b"].pk, cs), 404)
