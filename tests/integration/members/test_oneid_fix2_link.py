"""OneID link, second review: a pre-OneID contact phone counts as owned (merge for HQ, 409 for a channel
backend), the channel backend's target must be a member it could sign in itself, and erasure anonymises the
whole chain of members merged into the erased one."""

from __future__ import annotations

import pytest
from django.utils import timezone

from o2o.accounts.identities import member_identify
from o2o.accounts.models import Member, MemberIdentity, MemberMerge
from o2o.accounts.pii_services import member_set_phone, members_by_phone
from o2o.common.errors import Conflict, Forbidden
from o2o.members.merge import member_link, member_merge, member_merge_undo
from o2o.members.privacy import ANONYMISED, member_erase
from tests.factories import member, staff

pytestmark = pytest.mark.django_db

LEGACY = "13900139001"


def legacy(name: str = "老会员") -> Member:
    """A member from before OneID: the phone is only its contact phone, no phone identity."""
    m, _ = member(name)
    member_set_phone(member=m, phone=LEGACY)
    assert not MemberIdentity.objects.filter(member=m).exists()
    return m


def test_hq_linking_a_pre_oneid_contact_phone_merges_its_member():
    y = legacy()
    x = member_identify(kind="app_account", value="user-x-01", channel="app", now=timezone.now()).member
    linked = member_link(member_id=x.pk, kind="phone", value=LEGACY, channel="app", now=timezone.now())
    assert linked.merge is not None and linked.merge.merged_id == y.pk
    assert linked.identity.member_id == x.pk
    assert Member.objects.get(pk=y.pk).merged_into_id == x.pk
    # Y's phone sign-in lands on X through the merge, not through a silent attach
    assert member_identify(kind="phone", value=LEGACY, channel="h5", now=timezone.now()).member.pk == x.pk
    assert [m.pk for m in members_by_phone(LEGACY)] == [x.pk]
    undone = member_merge_undo(merge_id=linked.merge.pk, user=staff("hq_admin")[0], now=timezone.now())
    assert undone.undone_at is not None
    assert member_identify(kind="phone", value=LEGACY, channel="h5", now=timezone.now()).member.pk == y.pk


def test_a_channel_backend_gets_409_for_a_pre_oneid_contact_phone_and_nothing_changes():
    y = legacy()
    x = member_identify(kind="phone", value="13900139002", channel="h5", now=timezone.now()).member
    with pytest.raises(Conflict) as exc:
        member_link(member_id=x.pk, kind="phone", value=LEGACY, channel="h5", now=timezone.now(),
                    may_merge=False, backend=("h5", []))
    assert exc.value.code == "merge_needs_hq"
    assert not MemberMerge.objects.exists()
    assert list(MemberIdentity.objects.filter(member=x).values_list("value_masked", flat=True)) == ["139****9002"]
    assert member_identify(kind="phone", value=LEGACY, channel="h5", now=timezone.now()).member.pk == y.pk


def test_linking_ones_own_pre_oneid_phone_just_makes_it_an_identity():
    y = legacy()
    linked = member_link(member_id=y.pk, kind="phone", value=LEGACY, channel="pos", now=timezone.now())
    assert linked.merge is None and linked.identity.member_id == y.pk


def test_a_channel_backend_links_only_to_a_member_holding_an_identity_it_vouches_for():
    now = timezone.now()
    douyin = member_identify(kind="douyin_openid", value="dyVICTIM0001", app_id="tt01", channel="douyin",
                             now=now).member
    with pytest.raises(Forbidden) as exc:
        member_link(member_id=douyin.pk, kind="pos_card", value="EVIL12345", channel="pos", now=now,
                    may_merge=False, backend=("pos", []))
    assert exc.value.code == "member_not_of_channel"
    with pytest.raises(Forbidden):  # a Douyin backend of another app id
        member_link(member_id=douyin.pk, kind="phone", value="13900139003", channel="douyin", now=now,
                    backend=("douyin", ["tt02"]))
    ok = member_link(member_id=douyin.pk, kind="phone", value="13900139003", channel="douyin", now=now,
                     backend=("douyin", ["tt01"]))
    assert ok.identity.member_id == douyin.pk
    assert not MemberIdentity.objects.filter(kind="pos_card").exists()


def test_erasure_anonymises_the_whole_chain_of_merged_members():
    a, _ = member("甲某")
    b, _ = member("乙某")
    c, _ = member("丙某")
    member_merge(survivor_id=b.pk, merged_id=a.pk, now=timezone.now())  # a into b
    member_merge(survivor_id=c.pk, merged_id=b.pk, now=timezone.now())  # b (with a) into c
    member_erase(member_id=c.pk, reason="本人申请注销 own request", user=staff("hq_admin")[0])
    assert set(Member.objects.filter(pk__in=[a.pk, b.pk, c.pk]).values_list("display_name", flat=True)) == {
        ANONYMISED}
    assert Member.objects.get(pk=a.pk).deleted_at is not None
