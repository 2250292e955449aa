"""Member codes (会员码): issue, TTL expiry, uniqueness, check digit, inactive members refused, purge."""

from __future__ import annotations

from datetime import datetime, timedelta

import pytest
from django.db import IntegrityError, transaction
from django.utils import timezone

from o2o.accounts.models import Member
from o2o.common.errors import Conflict, Forbidden, InvalidInput, NotFound
from o2o.core.loyalty import CHINA_TZ
from o2o.core.orders.pickup_code import damm_check_digit
from o2o.members import codes
from o2o.members.models import MemberCode
from tests.factories import member

pytestmark = pytest.mark.django_db

T0 = datetime(2025, 5, 1, 10, 0, tzinfo=CHINA_TZ)


def test_issue_gives_a_live_18_digit_code_with_prefix_and_check_digit():
    m, _ = member("码")
    row = codes.code_issue(member_id=m.pk, now=T0)
    assert len(row.code) == 18 and row.code.isdigit() and row.code.startswith("88")
    assert damm_check_digit(row.code[:-1]) == row.code[-1]
    assert row.issued_at == T0 and row.expires_at == T0 + timedelta(seconds=120)  # the default TTL
    assert codes.code_member(row.code, now=T0 + timedelta(seconds=119)) == m
    spaced = codes.format_code(row.code)
    assert [len(g) for g in spaced.split(" ")] == [4, 4, 4, 4, 2]
    assert codes.code_member(spaced, now=T0) == m  # typed in groups by a clerk
    full_width = "".join(chr(0xFF10 + int(c)) for c in row.code)
    assert codes.code_member(full_width, now=T0) == m


def test_code_expires_after_the_ttl():
    m, _ = member()
    row = codes.code_issue(member_id=m.pk, now=T0)
    with pytest.raises(NotFound) as exc:
        codes.code_member(row.code, now=T0 + timedelta(seconds=120))  # exclusive: gone at expires_at
    assert exc.value.code == "unknown_member_code"
    MemberCode.objects.filter(pk=row.pk).update(issued_at=timezone.now() - timedelta(minutes=10),
                                                expires_at=timezone.now() - timedelta(minutes=1))
    with pytest.raises(NotFound):
        codes.code_member(row.code)  # the wall clock


def test_ttl_comes_from_the_setting(settings):
    settings.O2O = {**settings.O2O, "MEMBER_CODE_TTL_S": 30}
    m, _ = member()
    row = codes.code_issue(member_id=m.pk, now=T0)
    assert row.expires_at - row.issued_at == timedelta(seconds=30)
    assert codes.code_member(row.code, now=T0 + timedelta(seconds=29)) == m
    with pytest.raises(NotFound):
        codes.code_member(row.code, now=T0 + timedelta(seconds=30))


def test_a_nonsense_ttl_is_refused(settings):
    settings.O2O = {**settings.O2O, "MEMBER_CODE_TTL_S": 0}
    m, _ = member()
    with pytest.raises(ValueError, match="MEMBER_CODE_TTL_S"):
        codes.code_issue(member_id=m.pk, now=T0)


def test_asking_again_gives_a_fresh_code_and_the_old_one_dies():
    m, _ = member()
    first = codes.code_issue(member_id=m.pk, now=T0)
    second = codes.code_issue(member_id=m.pk, now=T0 + timedelta(seconds=60))
    assert first.code != second.code
    at = T0 + timedelta(seconds=90)
    with pytest.raises(NotFound):  # a screenshot of the first code is worthless once the page renewed
        codes.code_member(first.code, now=at)
    assert codes.code_member(second.code, now=at) == m
    assert codes.code_member(second.code, now=T0 + timedelta(seconds=150)) == m
    other, _ = member()
    codes.code_issue(member_id=other.pk, now=T0 + timedelta(seconds=61))  # another member's code: no effect
    assert codes.code_member(second.code, now=at) == m


def test_codes_are_unique_in_the_database():
    m, _ = member()
    other, _ = member()
    row = codes.code_issue(member_id=m.pk, now=T0)
    with pytest.raises(IntegrityError), transaction.atomic():
        MemberCode.objects.create(code=row.code, member=other, issued_at=T0, expires_at=T0 + timedelta(seconds=5))
    with pytest.raises(IntegrityError), transaction.atomic():  # expires after it was issued
        MemberCode.objects.create(code="880000000000000001", member=m, issued_at=T0, expires_at=T0)
    with pytest.raises(IntegrityError), transaction.atomic():  # the prefix
        MemberCode.objects.create(code="130000000000000001", member=m, issued_at=T0,
                                  expires_at=T0 + timedelta(seconds=5))


def test_a_random_collision_is_drawn_again(monkeypatch):
    m, _ = member()
    someone, _ = member()
    taken = codes.code_issue(member_id=someone.pk, now=T0).code  # another member's live code
    fresh = "88" + "1" * 15
    fresh += damm_check_digit(fresh)
    draws = iter([taken, taken, fresh])
    monkeypatch.setattr(codes, "new_code", lambda: next(draws))
    assert codes.code_issue(member_id=m.pk, now=T0).code == fresh
    assert MemberCode.objects.filter(code=taken).count() == 1


def test_malformed_and_unknown_codes():
    m, _ = member()
    row = codes.code_issue(member_id=m.pk, now=T0)
    typo = row.code[:-2] + str((int(row.code[-2]) + 1) % 10) + row.code[-1]
    for garbage in ("", "12345", "13812345678", typo, "88" + "x" * 16, row.code + "0", None, 42):
        with pytest.raises(InvalidInput) as exc:
            codes.code_member(garbage, now=T0)
        assert exc.value.code == "invalid_member_code"
    unknown = "88" + "0" * 15
    unknown += damm_check_digit(unknown)
    with pytest.raises(NotFound) as exc:
        codes.code_member(unknown, now=T0)
    assert exc.value.code == "unknown_member_code"
    assert codes.looks_like_code("8812 3456 7890 1234 56") and not codes.looks_like_code("13812345678")


def test_inactive_members_get_no_code_and_their_live_codes_stop_working():
    merged_into, _ = member("留")
    merged, _ = member("并")
    deleted, _ = member("注销")
    off, _ = member("停")
    live = codes.code_issue(member_id=merged.pk, now=T0)
    Member.objects.filter(pk=merged.pk).update(is_active=False, merged_into=merged_into)
    Member.objects.filter(pk=deleted.pk).update(is_active=False, deleted_at=T0)
    Member.objects.filter(pk=off.pk).update(is_active=False)
    for who, error, code in ((merged, Conflict, "member_merged"), (deleted, Conflict, "member_deleted"),
                             (off, Forbidden, "member_inactive")):
        with pytest.raises(error) as exc:
            codes.code_issue(member_id=who.pk, now=T0)
        assert exc.value.code == code and exc.value.status in (403, 409)
    assert MemberCode.objects.filter(member__in=[deleted, off]).count() == 0
    with pytest.raises(NotFound):  # issued before the merge: no longer finds anyone
        codes.code_member(live.code, now=T0 + timedelta(seconds=1))
    with pytest.raises(NotFound) as exc:
        codes.code_issue(member_id=99_999_999, now=T0)
    assert exc.value.code == "unknown_member"


def test_issuing_purges_expired_codes():
    m, _ = member()
    old = [codes.code_issue(member_id=m.pk, now=T0 - timedelta(hours=1)) for _ in range(3)]
    codes.code_issue(member_id=m.pk, now=T0)
    assert not MemberCode.objects.filter(pk__in=[r.pk for r in old]).exists()
    assert MemberCode.objects.filter(member=m).count() == 1


def test_qr_svg_is_inline_svg():
    svg = codes.qr_svg("88" + "1" * 16)
    assert svg.startswith("<svg") and "<path" in svg and "<title>会员码 Member code</title>" in svg
