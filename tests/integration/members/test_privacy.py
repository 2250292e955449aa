"""PIPL: a member's export holds their data (and nobody else's); deletion anonymises, keeps the records."""

from __future__ import annotations

import itertools
from datetime import datetime

import pytest
from django.apps import apps

import o2o.profiles.privacy  # noqa: F401 - connects the tags' receivers (ProfilesConfig.ready in the app)
from o2o.accounts.identities import member_identify
from o2o.accounts.models import ApiToken, Member, MemberChannel, MemberIdentity, PiiAccessLog
from o2o.accounts.pii_services import member_set_phone, members_by_phone
from o2o.common.errors import Conflict, InvalidInput
from o2o.core.loyalty import CHINA_TZ
from o2o.members import points as pts
from o2o.members.models import PointsEntry, PointsLot
from o2o.members.models_tiers import TierHistory
from o2o.members.privacy import ANONYMISED, member_erase, member_export
from o2o.orders import carts
from o2o.orders.models import Cart, CartLine, Order, OrderLine
from o2o.orders.placement import contact_phone_fields
from o2o.outbox.models import OutboxEvent
from o2o.profiles.models import MemberTag
from tests.factories import sku, staff

pytestmark = pytest.mark.django_db

T0 = datetime(2024, 3, 15, 10, 0, tzinfo=CHINA_TZ)
PHONE, OPENID, CONTACT_PHONE = "13812345678", "oWECHATopenid123456", "13900001111"
NAME, ADDRESS = "张三丰测试", "上海市徐汇区漕溪北路88号1201室"
_n = itertools.count(1)


def order(m: Member, *, status: str = "completed", fen: int = 5000, sku_id: int | None = None) -> Order:
    n = next(_n)
    o = Order.objects.create(number=f"PV{n}", member=m, channel="h5", choice="same_city", status=status,
                             goods_fen=fen, total_fen=fen, paid_fen=fen if status != "pending_payment" else 0,
                             address=ADDRESS, contact_name=NAME, dest_lat=31.19, dest_lng=121.43,
                             **contact_phone_fields(CONTACT_PHONE))
    if sku_id is not None:
        OrderLine.objects.create(order=o, sku_id=sku_id, name="牛奶", qty=1, unit_price_fen=fen, list_price_fen=fen,
                                 subtotal_fen=fen, payable_fen=fen)
    return o


@pytest.fixture
def alice() -> Member:
    """A member with a phone and an openid, an order with a line, points, a tier change, tags and a cart."""
    m = member_identify(kind="wechat_openid", value=OPENID, app_id="wxshop", channel="mini_program", now=T0).member
    Member.objects.filter(pk=m.pk).update(display_name="Alice")
    member_set_phone(member=m, phone=PHONE)
    member_identify(kind="phone", value=PHONE, channel="h5", now=T0)  # adopts: phone identity of alice
    s = sku(price_fen=5000)
    o = order(m, sku_id=s.pk)
    pts.points_earn(m.pk, 50, f"order:{o.pk}", T0, basis_fen=5000)
    TierHistory.objects.create(member=m, from_tier="normal", to_tier="silver", reason="manual", ref="manual:1",
                               note="测试 test", at=T0)
    MemberTag.objects.create(member=m, name="preferred_channel", value="h5", version=1, explanation="orders",
                             visible=True, as_of=T0)
    MemberTag.objects.create(member=m, name="churn_risk", value=0.3, version=1, explanation="model", visible=False,
                             as_of=T0)
    carts.cart_set_line(carts.cart_for_member(m), sku_id=s.pk, qty=2)
    ApiToken.issue(member=m)
    m.refresh_from_db()
    return m


@pytest.fixture
def bob() -> Member:
    m = Member.objects.create(display_name="Bob")
    member_set_phone(member=m, phone="13700007777")
    Order.objects.create(number="BOB-1", member=m, channel="pos", choice="counter", status="completed",
                         contact_name="Bob Contact")
    return m


def dump() -> str:
    """Every row of every table, as text (what a database dump would show)."""
    return "\n".join(repr(row) for model in apps.get_models() for row in model.objects.values_list())


def test_export_holds_the_members_data_and_nobody_elses(alice, bob):
    doc = member_export(member_id=alice.pk, reason="")
    assert doc["member"]["display_name"] == "Alice" and doc["member"]["phone"] == PHONE
    assert {(i["kind"], i["value"]) for i in doc["identities"]} == {("wechat_openid", OPENID), ("phone", PHONE)}
    [o] = doc["orders"]
    assert o["contact"] == {"name": NAME, "phone": CONTACT_PHONE, "address": ADDRESS, "lat": 31.19, "lng": 121.43}
    assert [ln["qty"] for ln in o["lines"]] == [1] and o["paid_fen"] == 5000
    assert doc["points"]["balance"] == 50 and [e["points"] for e in doc["points"]["entries"]] == [50]
    assert doc["tier"]["history"][0]["to"] == "silver"
    assert [t["name"] for t in doc["tags"]] == ["preferred_channel"]  # invisible tags are not the member's view
    assert [ln["qty"] for c in doc["carts"] for ln in c["lines"]] == [2]
    assert {c["channel"] for c in doc["channels"]} == {"mini_program", "h5"}
    text = repr(doc)
    assert "Bob" not in text and "13700007777" not in text and "BOB-1" not in text
    log = PiiAccessLog.objects.get(member=alice, action="export")
    assert log.user is None and log.field == "member.all"  # no user: the member themself


def test_staff_export_needs_a_reason_and_is_logged_with_the_user(alice):
    user, _ = staff("customer_service")
    with pytest.raises(InvalidInput):
        member_export(member_id=alice.pk, reason=" ", user=user)
    assert not PiiAccessLog.objects.exists()
    member_export(member_id=alice.pk, reason="会员来电申请 phone request", user=user)
    assert PiiAccessLog.objects.get(action="export").user == user


def test_deletion_anonymises_keeps_records_and_frees_the_identifiers(alice, bob):
    entries_before = list(PointsEntry.objects.filter(account__member=alice).values_list("pk", "points", "ref"))
    out = member_erase(member_id=alice.pk, reason="")
    assert out["kept"] == {"orders": 1, "points_entries": 1, "tier_changes": 1}
    alice.refresh_from_db()
    assert (alice.display_name, alice.phone_enc, alice.phone_index, alice.phone_masked) == (ANONYMISED, "", "", "")
    assert not alice.is_active and alice.deleted_at is not None
    assert not MemberIdentity.objects.filter(member=alice).exists()
    assert not MemberChannel.objects.filter(member=alice).exists()
    assert not ApiToken.objects.filter(member=alice, revoked=False).exists()
    assert not Cart.objects.filter(member=alice).exists() and not CartLine.objects.exists()
    assert list(MemberTag.objects.filter(member=alice)) == []
    o = Order.objects.get(member=alice)  # the order stays, with its money and lines, without the contact
    assert (o.contact_name, o.address, o.contact_phone_enc, o.contact_phone_masked) == (ANONYMISED, ANONYMISED, "", "")
    assert o.dest_lat is None and o.paid_fen == 5000 and o.lines.count() == 1
    assert list(PointsEntry.objects.filter(account__member=alice).values_list("pk", "points", "ref")) == entries_before
    assert PointsLot.objects.filter(account__member=alice).count() == 1
    assert TierHistory.objects.filter(member=alice).count() == 1
    assert PiiAccessLog.objects.filter(member=alice, action="deletion").count() == 1
    assert OutboxEvent.objects.filter(topic="member.deleted", aggregate_id=str(alice.pk)).count() == 1
    # bob untouched
    bob.refresh_from_db()
    assert bob.display_name == "Bob" and bob.phone_masked == "137****7777" and bob.is_active
    assert Order.objects.get(number="BOB-1").contact_name == "Bob Contact"
    # the same openid and phone sign up anew: a NEW member
    again = member_identify(kind="wechat_openid", value=OPENID, app_id="wxshop", channel="mini_program", now=T0)
    assert again.created and again.member.pk != alice.pk
    assert members_by_phone(PHONE) == []
    by_phone = member_identify(kind="phone", value=PHONE, channel="h5", now=T0)
    assert by_phone.created and by_phone.member.pk not in (alice.pk, again.member.pk)


def test_no_personal_data_of_the_deleted_member_left_in_any_table(alice, bob):
    member_export(member_id=alice.pk, reason="")
    before = dump()
    assert NAME in before and ADDRESS in before  # the dump does see plain columns
    member_erase(member_id=alice.pk, reason="")
    after = dump()
    for value in (PHONE, OPENID, CONTACT_PHONE, NAME, ADDRESS, "Alice", "138****5678"):
        assert value not in after, value
    assert "Bob" in after


def test_deletion_is_refused_while_orders_are_open(alice):
    open_order = order(alice, status="paid")
    with pytest.raises(Conflict) as err:
        member_erase(member_id=alice.pk, reason="")
    assert err.value.code == "open_orders" and err.value.details["orders"] == [open_order.number]
    alice.refresh_from_db()
    assert alice.is_active and alice.display_name == "Alice" and MemberIdentity.objects.filter(member=alice).exists()
    assert not PiiAccessLog.objects.filter(action="deletion").exists()
    Order.objects.filter(pk=open_order.pk).update(status="cancelled")
    assert member_erase(member_id=alice.pk, reason="")["kept"]["orders"] == 2


def test_deletion_is_idempotent(alice):
    first = member_erase(member_id=alice.pk, reason="")
    second = member_erase(member_id=alice.pk, reason="again")
    assert second == first
    assert PiiAccessLog.objects.filter(member=alice, action="deletion").count() == 1
    assert OutboxEvent.objects.filter(topic="member.deleted").count() == 1


def test_a_member_merged_into_another_is_not_erased_alone(alice):
    merged = Member.objects.create(display_name="Old", is_active=False, merged_into=alice)
    with pytest.raises(Conflict) as err:
        member_erase(member_id=merged.pk, reason="")
    assert err.value.code == "member_merged"
    member_erase(member_id=alice.pk, reason="")
    merged.refresh_from_db()
    assert merged.display_name == ANONYMISED and merged.deleted_at is not None
