"""OneID: signing in by any identity finds one member, creates it on first sight, adopts pre-OneID phones."""

from __future__ import annotations

import importlib
from datetime import timedelta

import pytest
from django.apps import apps
from django.db import IntegrityError, connection, transaction
from django.utils import timezone

from o2o.accounts import pii
from o2o.accounts.identities import identity_attach, identity_key, member_identify, rotate_identities
from o2o.accounts.models import Member, MemberChannel, MemberIdentity
from o2o.accounts.pii_services import member_set_phone, members_by_phone
from o2o.common.errors import Forbidden, InvalidInput

pytestmark = pytest.mark.django_db

T0 = timezone.now().replace(microsecond=0)
OPENID = "oAbCdEfGhIjKlMnOpQrStUvW"


def test_first_sign_in_creates_the_member_and_the_next_finds_it():
    first = member_identify(kind="wechat_openid", value=OPENID, app_id="wxshop", channel="mini_program", now=T0)
    assert first.created and first.member.registered_channel == "mini_program"
    later = T0 + timedelta(days=3)
    again = member_identify(kind="wechat_openid", value=OPENID, app_id="wxshop", channel="mini_program", now=later)
    assert not again.created and again.member.pk == first.member.pk
    ident = MemberIdentity.objects.get(member=first.member)
    assert (ident.first_seen_at, ident.last_seen_at, ident.channel) == (T0, later, "mini_program")
    assert ident.value_masked == "oAbC****tUvW" and OPENID not in ident.value_enc
    assert pii.decrypt(ident.value_enc, field="identity.wechat_openid") == OPENID
    seen = MemberChannel.objects.get(member=first.member)
    assert (seen.channel, seen.first_seen_at, seen.last_seen_at) == ("mini_program", T0, later)
    # an older event arriving late widens first seen; last seen never goes back
    member_identify(kind="wechat_openid", value=OPENID, app_id="wxshop", channel="mini_program",
                    now=T0 - timedelta(days=1))
    seen.refresh_from_db()
    assert (seen.first_seen_at, seen.last_seen_at) == (T0 - timedelta(days=1), later)


def test_the_same_openid_of_another_app_is_another_identity():
    a = member_identify(kind="wechat_openid", value=OPENID, app_id="wxshop", channel="mini_program", now=T0)
    b = member_identify(kind="wechat_openid", value=OPENID, app_id="wxother", channel="mini_program", now=T0)
    assert a.member.pk != b.member.pk


def test_phone_sign_in_sets_the_contact_phone_and_members_by_phone_finds_it():
    got = member_identify(kind="phone", value="+86 139 0000 1111", channel="h5", now=T0)
    assert got.created and got.identity.value_masked == "139****1111"
    assert [m.pk for m in members_by_phone("13900001111")] == [got.member.pk]
    ident = got.identity
    assert ident.value_index == Member.objects.get(pk=got.member.pk).phone_index  # one blind index for both
    assert member_identify(kind="phone", value="13900001111", channel="app", now=T0).member.pk == got.member.pk
    assert set(MemberChannel.objects.filter(member=got.member).values_list("channel", flat=True)) == {"h5", "app"}


def test_a_member_made_before_oneid_is_adopted_by_its_phone():
    old = Member.objects.create(display_name="老会员")
    member_set_phone(member=old, phone="13700002222")
    got = member_identify(kind="phone", value="13700002222", channel="pos", now=T0)
    assert not got.created and got.member.pk == old.pk
    assert pii.decrypt(got.identity.value_enc, field="member.phone") == "13700002222"
    assert got.identity.value_index == Member.objects.get(pk=old.pk).phone_index


def test_one_identifier_one_owner_is_a_database_rule():
    a = member_identify(kind="pos_card", value="CARD0001", channel="pos", now=T0).member
    key, index = identity_key("pos_card", "card 0001")
    b = Member.objects.create()
    assert identity_attach(member=b, key=key, index=index, channel="pos", now=T0) is None
    with pytest.raises(IntegrityError), transaction.atomic():
        MemberIdentity.objects.create(member=b, kind="pos_card", value_enc="x", value_index=index, value_masked="*",
                                      channel="pos", first_seen_at=T0, last_seen_at=T0)
    assert MemberIdentity.objects.get(value_index=index).member_id == a.pk


def test_bad_input_and_deactivated_members():
    with pytest.raises(InvalidInput) as kind:
        member_identify(kind="qq", value="123456", channel="h5", now=T0)
    assert kind.value.code == "invalid_identity"
    with pytest.raises(InvalidInput) as channel:
        member_identify(kind="app_account", value="lilei", channel="fax", now=T0)
    assert channel.value.code == "invalid_channel"
    got = member_identify(kind="app_account", value="lilei", channel="app", now=T0)
    Member.objects.filter(pk=got.member.pk).update(is_active=False)
    with pytest.raises(Forbidden):
        member_identify(kind="app_account", value="LiLei", channel="app", now=T0)


def test_no_identifier_in_clear_in_the_database():
    member_identify(kind="douyin_openid", value="dyOPENID-1234567", app_id="dyapp", channel="douyin", now=T0)
    member_identify(kind="phone", value="13512345678", channel="h5", now=T0)
    with connection.cursor() as cur:
        cur.execute("SELECT * FROM accounts_memberidentity")
        dump = repr(cur.fetchall()) + repr(list(Member.objects.values()))
    assert "dyOPENID-1234567" not in dump and "13512345678" not in dump


def test_keys_rotate(monkeypatch):
    monkeypatch.setenv("O2O_PII_KEYS", "k1:" + "11" * 32)
    monkeypatch.setenv("O2O_PII_INDEX_KEY", "33" * 32)
    member_identify(kind="app_account", value="rotator", channel="app", now=T0)
    monkeypatch.setenv("O2O_PII_KEYS", "k2:" + "22" * 32 + ",k1:" + "11" * 32)
    assert rotate_identities() == 1 and rotate_identities() == 0
    ident = MemberIdentity.objects.get(kind="app_account")
    assert pii.key_id_of(ident.value_enc) == "k2"
    assert member_identify(kind="app_account", value="rotator", channel="app", now=T0).member.pk == ident.member_id


def test_the_migration_backfills_phone_identities_oldest_member_first():
    a, b = Member.objects.create(), Member.objects.create()
    member_set_phone(member=a, phone="13611112222")
    member_set_phone(member=b, phone="13611112222")
    backfill = importlib.import_module("o2o.accounts.migrations.0004_phone_identities_backfill").backfill
    backfill(apps, None)
    backfill(apps, None)  # twice changes nothing
    assert list(MemberIdentity.objects.values_list("member_id", "kind")) == [(a.pk, "phone")]
    assert member_identify(kind="phone", value="13611112222", channel="h5", now=T0).member.pk == a.pk
