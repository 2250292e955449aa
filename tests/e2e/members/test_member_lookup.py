"""Staff member look-up (POST /members/lookup) by phone, member code and POS card; the member code endpoint.

Store staff find by phone or card only the members who shop at or are served by their store (HQ: all);
a live member code (the member showing it at the counter) opens the member to any staff with order.view.
"""

from __future__ import annotations

import itertools
import json
from datetime import timedelta
from types import SimpleNamespace

import pytest
from django.utils import timezone

from o2o.accounts.identities import member_identify
from o2o.accounts.models import Member, PiiAccessLog
from o2o.accounts.pii_services import member_set_phone
from o2o.core.orders.pickup_code import damm_check_digit
from o2o.members import codes
from o2o.members.models import MemberCode
from o2o.orders.models import Order, Shipment
from o2o.profiles.models import MemberTag
from tests.factories import assert_error, auth, location, member, region, staff

pytestmark = pytest.mark.django_db

URL = "/api/v1/members/lookup"
PHONE_A, PHONE_B, PHONE_D = "13912340001", "13912340002", "13912340003"
CARD_B = "POS-B-0002"
_n = itertools.count(1)
_BODY = "88" + "1234567890" + "12345"
BAD_CHECK = _BODY + str((int(damm_check_digit(_BODY)) + 1) % 10)  # one digit mistyped


def order(m: Member, *, store=None, channel: str = "pos", choice: str = "counter", fen: int = 1000,  # noqa: ANN001
          minutes_ago: int = 0) -> Order:
    return Order.objects.create(number=f"LK{next(_n)}", member=m, channel=channel, choice=choice, store=store,
                                status="completed", goods_fen=fen, total_fen=fen, paid_fen=fen,
                                created_at=timezone.now() - timedelta(minutes=minutes_ago))


@pytest.fixture
def w():
    east = region("华东")
    a, b = location(east, name="A店"), location(east, name="B店")
    ann, ann_token = member("安")  # shops at A (POS and pickup)
    member_set_phone(member=ann, phone=PHONE_A)
    for i in range(7):
        order(ann, store=a, minutes_ago=i, fen=1000 + i)
    order(ann, store=a, channel="h5", choice="pickup", minutes_ago=30)
    bob, bob_token = member("鲍")  # shops at B only; has a POS card
    member_set_phone(member=bob, phone=PHONE_B)
    order(bob, store=b)
    card_owner = member_identify(kind="pos_card", value=CARD_B, channel="pos", now=timezone.now()).member
    Member.objects.filter(pk=card_owner.pk).update(display_name="鲍卡")
    order(card_owner, store=b)
    dan, _ = member("丹")  # served by delivery from A: no Order.store
    member_set_phone(member=dan, phone=PHONE_D)
    delivered = order(dan, channel="h5", choice="same_city")
    Shipment.objects.create(order=delivered, location=a, mode="same_city", status="completed")
    moved = order(dan, channel="h5", choice="same_city")  # re-routed away from B: B did not serve her
    Shipment.objects.create(order=moved, location=b, mode="same_city", status="rerouted")
    MemberTag.objects.create(member=ann, name="lifecycle_stage", value="active", version=1, explanation="recent",
                             visible=False, as_of=timezone.now())
    MemberTag.objects.create(member=ann, name="orders_count", value=8, version=1, explanation="orders",
                             as_of=timezone.now())
    return SimpleNamespace(a=a, b=b, ann=ann, ann_token=ann_token, bob=bob, bob_token=bob_token,
                           card_owner=card_owner, dan=dan, clerk_a=staff("clerk", loc=a)[1],
                           clerk_b=staff("clerk", loc=b)[1], hq=staff("hq_admin")[1],
                           mgr_east=staff("region_manager", reg=east)[1])


def find(client, body: dict, token: str):  # noqa: ANN001, ANN201
    return client.post(URL, json.dumps(body), content_type="application/json", **auth(token))


def live_code(client, token: str) -> str:  # noqa: ANN001
    r = client.get("/api/v1/members/me/code", **auth(token))
    assert r.status_code == 200, r.content
    return r.json()["code"]


def test_member_gets_a_code_with_qr(client, w):
    r = client.get("/api/v1/members/me/code", **auth(w.ann_token))
    assert r.status_code == 200, r.content
    body = r.json()
    assert body["code"].startswith("88") and len(body["code"]) == 18 and body["ttl_s"] == 120
    assert body["code_display"].replace(" ", "") == body["code"]
    assert body["qr_svg"].startswith("<svg") and body["expires_at"].endswith("+08:00")
    assert r["Cache-Control"] == "no-store"
    again = client.get("/api/v1/members/me/code", **auth(w.ann_token)).json()
    assert again["code"] != body["code"]
    assert list(MemberCode.objects.filter(member=w.ann).values_list("code", flat=True)) == [again["code"]]
    assert_error(client.get("/api/v1/members/me/code", **auth(w.clerk_a)), 403, "members_only")
    assert_error(client.get("/api/v1/members/me/code"), 401)


def test_by_phone_masked_with_tier_points_orders_and_tags(client, w):
    r = find(client, {"phone": "139 1234 0001"}, w.clerk_a)
    assert r.status_code == 200, r.content
    assert PHONE_A not in r.content.decode()
    body = r.json()
    assert body["found_by"] == "phone" and [m["member_id"] for m in body["members"]] == [w.ann.pk]
    m = body["members"][0]
    assert m["phone_masked"] == "139****0001" and m["display_name"] == "安"
    assert m["tier"]["tier"] == "normal" and "discount_percent" in m["tier"]["benefits"]
    assert m["points"] == {"balance": 0, "available": 0, "net": 0}
    assert len(m["orders"]) == 5  # the last 5 of 8
    assert [o["total_fen"] for o in m["orders"]] == [1000, 1001, 1002, 1003, 1004]
    assert {o["channel"] for o in m["orders"]} == {"pos"}
    assert [(t["name"], t["value"]) for t in m["tags"]] == [("lifecycle_stage", "active")]  # serving tags only
    log = PiiAccessLog.objects.get(member=w.ann)
    assert (log.action, log.field) == ("lookup", "lookup.phone") and log.user.location_id == w.a.pk
    assert PHONE_A not in log.reason


def test_store_staff_see_only_their_members_by_phone_and_card(client, w):
    assert_error(find(client, {"phone": PHONE_B}, w.clerk_a), 404, "unknown_member")
    assert_error(find(client, {"card": CARD_B}, w.clerk_a), 404, "unknown_member")
    assert not PiiAccessLog.objects.exists()  # nothing found, nothing logged
    by_card = find(client, {"card": "pos-b-0002"}, w.clerk_b)  # normalised like the till's
    assert by_card.status_code == 200, by_card.content
    assert [m["member_id"] for m in by_card.json()["members"]] == [w.card_owner.pk]
    assert by_card.json()["found_by"] == "card"
    assert PiiAccessLog.objects.get(member=w.card_owner).field == "lookup.card"
    assert find(client, {"phone": PHONE_B}, w.clerk_b).status_code == 200
    assert find(client, {"phone": PHONE_B}, w.hq).status_code == 200  # HQ: everyone
    assert find(client, {"phone": PHONE_A}, w.mgr_east).status_code == 200  # the region's stores
    assert_error(find(client, {"card": "NOCARD1"}, w.hq), 404, "unknown_member")
    nowhere = staff("region_manager", reg=region("空"))[1]  # a region without stores sees nobody
    assert_error(find(client, {"phone": PHONE_A}, nowhere), 404, "unknown_member")


def test_a_live_code_opens_the_member_to_any_store(client, w):
    code = live_code(client, w.bob_token)
    r = find(client, {"code": codes.format_code(code)}, w.clerk_a)  # shops at B only; shows the code at A
    assert r.status_code == 200, r.content
    body = r.json()
    assert body["found_by"] == "code" and [m["member_id"] for m in body["members"]] == [w.bob.pk]
    assert body["members"][0]["orders"] == []  # B's orders are not A's to see
    assert PHONE_B not in r.content.decode()
    assert PiiAccessLog.objects.get(member=w.bob).field == "lookup.code"
    MemberCode.objects.filter(code=code).update(issued_at=timezone.now() - timedelta(minutes=5),
                                                expires_at=timezone.now() - timedelta(minutes=3))
    assert_error(find(client, {"code": code}, w.clerk_a), 404, "unknown_member_code")
    unknown = "88" + "0" * 15
    assert_error(find(client, {"code": unknown + damm_check_digit(unknown)}, w.clerk_a), 404, "unknown_member_code")


def test_served_by_delivery_from_the_store_is_visible(client, w):
    r = find(client, {"phone": PHONE_D}, w.clerk_a)
    assert r.status_code == 200, r.content
    assert [m["member_id"] for m in r.json()["members"]] == [w.dan.pk]
    assert [o["channel"] for o in r.json()["members"][0]["orders"]] == ["h5"]  # the one A delivered
    assert_error(find(client, {"phone": PHONE_D}, w.clerk_b), 404)  # B's shipment was re-routed away
    assert client.get(f"/api/v1/members/{w.dan.pk}/points", **auth(w.clerk_a)).status_code == 200
    assert_error(client.get(f"/api/v1/members/{w.dan.pk}/points", **auth(w.clerk_b)), 404)


def test_members_are_refused(client, w):
    assert_error(find(client, {"phone": PHONE_A}, w.ann_token), 403, "staff_only")
    assert_error(find(client, {"code": live_code(client, w.ann_token)}, w.bob_token), 403, "staff_only")
    assert_error(find(client, {"phone": PHONE_A}, ""), 401)
    assert not PiiAccessLog.objects.exists()


@pytest.mark.parametrize("body", [{}, {"phone": "", "code": "  "}, {"phone": PHONE_A, "code": "880000"},
                                  {"phone": PHONE_A, "card": CARD_B}])
def test_not_exactly_one_key_is_422(client, w, body):
    assert_error(find(client, body, w.clerk_a), 422, "one_lookup_key")


@pytest.mark.parametrize("body,code", [({"code": "not-a-code"}, "invalid_member_code"),
                                       ({"code": BAD_CHECK}, "invalid_member_code"),
                                       ({"phone": "12345"}, "invalid_phone"), ({"card": "!!"}, "invalid_identity"),
                                       ({"phone": "1" * 40}, "invalid"), ({"phone": 13912340001}, "invalid")])
def test_garbage_is_422(client, w, body, code):
    r = find(client, body, w.clerk_a)
    assert_error(r, 422, code)
    assert "13912340001" not in r.content.decode()


def test_malformed_json_is_4xx(client, w):
    r = client.post(URL, "{", content_type="application/json", **auth(w.clerk_a))
    assert r.status_code in (400, 422) and set(r.json()) == {"code", "message", "details"}


def test_misses_are_logged_without_the_value_and_a_guessing_clerk_is_stopped(client, w, settings):
    from o2o.members.models import LookupAttempt

    settings.O2O = {**settings.O2O, "MEMBER_LOOKUP_MISSES_PER_10_MIN": 2}
    assert_error(find(client, {"phone": "13912349999"}, w.clerk_a), 404, "unknown_member")  # nobody
    assert find(client, {"phone": PHONE_A}, w.clerk_a).status_code == 200  # hits never count
    assert find(client, {"phone": PHONE_A}, w.clerk_a).status_code == 200
    assert_error(find(client, {"phone": PHONE_B}, w.clerk_a), 404, "unknown_member")  # not this store's
    rows = list(LookupAttempt.objects.order_by("pk").values_list("way", "found"))
    assert rows == [("phone", 0), ("phone", 1), ("phone", 1), ("phone", 0)]
    assert "13912349999" not in str(list(LookupAttempt.objects.values()))
    assert_error(find(client, {"phone": PHONE_A}, w.clerk_a), 429, "too_many_lookups")  # two misses: stopped
    assert LookupAttempt.objects.count() == 4  # the refused one is not a look-up
    assert find(client, {"phone": PHONE_A}, w.hq).status_code == 200  # per user: HQ is not stopped
