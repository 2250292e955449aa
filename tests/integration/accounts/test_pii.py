"""Members' phones: encrypted at rest, found by blind index, masked, revealed only with a log; keys rotate."""

from __future__ import annotations

import pytest
from cryptography.exceptions import InvalidTag

from o2o.accounts import pii
from o2o.accounts.models import Member, PiiAccessLog
from o2o.accounts.pii_services import (
    PHONE,
    member_reveal_phone,
    member_set_phone,
    members_by_phone,
    rotate_member_phones,
)
from o2o.common.errors import InvalidInput, NotFound
from tests.factories import member, staff

pytestmark = pytest.mark.django_db

K1 = "11" * 32
K2 = "22" * 32
INDEX = "33" * 32


@pytest.fixture
def keys(monkeypatch):
    def use(raw: str) -> None:
        monkeypatch.setenv("O2O_PII_KEYS", raw)
        monkeypatch.setenv("O2O_PII_INDEX_KEY", INDEX)
    use(f"k1:{K1}")
    return use


def test_phone_is_stored_encrypted_found_by_index_and_masked(keys):
    m, _ = member()
    member_set_phone(member=m, phone="+86 138-1234-5678")
    row = Member.objects.get(pk=m.pk)
    assert row.phone_masked == "138****5678"
    assert "13812345678" not in row.phone_enc and row.phone_enc.startswith("v1.k1.")
    assert pii.decrypt(row.phone_enc, field=PHONE) == "13812345678"
    assert [x.pk for x in members_by_phone("13812345678")] == [m.pk]
    assert members_by_phone("13812345679") == []
    # The same number twice encrypts differently (fresh nonce) but indexes the same.
    other, _ = member("另一个")
    member_set_phone(member=other, phone="13812345678")
    again = Member.objects.get(pk=other.pk)
    assert again.phone_enc != row.phone_enc and again.phone_index == row.phone_index


def test_a_value_moved_to_another_field_does_not_decrypt(keys):
    token = pii.encrypt("13812345678", field=PHONE)
    with pytest.raises(InvalidTag):
        pii.decrypt(token, field="order.contact_phone")


@pytest.mark.parametrize("bad", ["", "12345", "1381234567", "23812345678", "abc", "+1 415 555 0100"])
def test_bad_phones_are_refused(keys, bad):
    m, _ = member()
    with pytest.raises(InvalidInput):
        member_set_phone(member=m, phone=bad)
    assert Member.objects.get(pk=m.pk).phone_enc == ""


def test_reveal_needs_a_reason_and_is_logged(keys):
    m, _ = member()
    member_set_phone(member=m, phone="13812345678")
    user, _ = staff("customer_service")
    with pytest.raises(InvalidInput):
        member_reveal_phone(member_id=m.pk, user=user, reason=" ")
    assert PiiAccessLog.objects.count() == 0
    assert member_reveal_phone(member_id=m.pk, user=user, reason="顾客来电核实 caller verification") == "13812345678"
    log = PiiAccessLog.objects.get()
    assert (log.user_id, log.member_id, log.field, log.action) == (user.pk, m.pk, PHONE, "reveal")
    with pytest.raises(NotFound):
        member_reveal_phone(member_id=999_999, user=user, reason="x")


def test_keys_rotate_without_losing_a_value(keys):
    m, _ = member()
    member_set_phone(member=m, phone="13812345678")
    keys(f"k2:{K2},k1:{K1}")  # a new current key; the old one still decrypts
    assert pii.decrypt(Member.objects.get(pk=m.pk).phone_enc, field=PHONE) == "13812345678"
    assert rotate_member_phones() == 1
    rotated = Member.objects.get(pk=m.pk).phone_enc
    assert rotated.startswith("v1.k2.") and rotate_member_phones() == 0
    keys(f"k2:{K2}")  # the old key retired
    assert pii.decrypt(rotated, field=PHONE) == "13812345678"
    assert [x.pk for x in members_by_phone("13812345678")] == [m.pk]  # the index key did not change
