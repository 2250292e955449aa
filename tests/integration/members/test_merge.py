"""Merging two members: everything moves, nothing is counted twice, and HQ's undo restores exactly."""

from __future__ import annotations

import itertools
from datetime import datetime, timedelta

import pytest

from o2o.accounts import pii
from o2o.accounts.identities import member_identify
from o2o.accounts.models import ApiToken, Member, MemberChannel, MemberIdentity, MemberMerge, PiiAccessLog
from o2o.common.errors import Conflict, InvalidInput
from o2o.core.loyalty import CHINA_TZ
from o2o.members import points as svc
from o2o.members.merge import member_merge, member_merge_undo
from o2o.members.models import PointsAccount, PointsEntry, PointsLot
from o2o.orders import carts
from o2o.orders.models import Cart, CartLine, Order
from o2o.outbox.models import OutboxEvent
from tests.factories import sku, staff

pytestmark = pytest.mark.django_db

T0 = datetime(2024, 3, 15, 10, 0, tzinfo=CHINA_TZ)
_n = itertools.count(1)


def order(m: Member) -> Order:
    return Order.objects.create(number=f"TM{next(_n)}", member=m, channel="h5", choice="pickup")


def customer(tag: str, *, phone: str, lines: dict[int, int], points: list[tuple], channel: str = "h5") -> Member:
    """A member signed in by phone and an app login, with orders, an open and an ordered cart, points, a log row."""
    m = member_identify(kind="phone", value=phone, channel=channel, now=T0).member
    member_identify(kind="app_account", value=f"user-{tag}", channel="app", now=T0)  # another member for now
    ApiToken.issue(member=m, label=tag)
    order(m), order(m)
    cart = carts.cart_for_member(m)
    for sku_id, qty in lines.items():
        carts.cart_set_line(cart, sku_id=sku_id, qty=qty)
    Cart.objects.filter(pk=cart.pk).update(location=None)
    Cart.objects.create(member=m, token_hash=f"ordered-{tag}", status="ordered")
    PiiAccessLog.objects.create(user=staff("hq_admin")[0], member=m, field="member.phone", reason="客服回访")
    for op, *args in points:
        getattr(svc, f"points_{op}")(m.pk, *args)
    return Member.objects.get(pk=m.pk)


def net(m: Member) -> int:
    acc = PointsAccount.objects.filter(member=m).first()
    return acc.net if acc else 0


def snapshot() -> dict[str, list]:
    return {
        "members": sorted(Member.objects.values_list("pk", "is_active", "merged_into_id", "phone_index")),
        "orders": sorted(Order.objects.values_list("pk", "member_id")),
        "carts": sorted(Cart.objects.values_list("pk", "member_id", "status", "merged_into_id")),
        "lines": sorted(CartLine.objects.values_list("cart_id", "sku_id", "qty")),
        "accounts": sorted(PointsAccount.objects.values_list("pk", "member_id", "balance", "debt")),
        "lots": sorted(PointsLot.objects.values_list("pk", "account_id", "no", "ref", "remaining", "reversed")),
        "entries": sorted(PointsEntry.objects.values_list("pk", "account_id", "op", "seq", "ref", "points")),
        "tokens": sorted(ApiToken.objects.filter(member__isnull=False).values_list("pk", "member_id")),
        "identities": sorted(MemberIdentity.objects.values_list("pk", "member_id", "kind", "value_index")),
        "pii": sorted(PiiAccessLog.objects.values_list("pk", "member_id")),
        "channels": sorted(MemberChannel.objects.values_list("pk", "member_id", "channel", "first_seen_at",
                                                            "last_seen_at")),
    }


@pytest.fixture
def two():
    s1, s2, s3 = sku(), sku(), sku()
    a = customer("a", phone="13800000001", lines={s1.pk: 2, s2.pk: 1},
                 points=[("earn", 100, "order:a1", T0), ("earn", 10, "signin:2024-03-15", T0),
                         ("spend", 30, "redeem:car-wash", T0)])
    b = customer("b", phone="13900000002", channel="mini_program", lines={s1.pk: 998, s3.pk: 4},
                 points=[("earn", 10, "signin:2024-03-15", T0), ("earn", 50, "order:b1", T0),
                         ("spend", 60, "redeem:car-wash", T0), ("reverse", "order:b1", 20, T0 + timedelta(days=1))])
    return a, b, (s1, s2, s3)


def test_merge_moves_everything_and_counts_nothing_twice(two):
    a, b, (s1, s2, s3) = two
    assert (net(a), net(b)) == (80, -20)  # b spent everything, then a refund took back 20: debt
    orders = Order.objects.filter(member__in=[a, b]).count()
    before = snapshot()
    merge = member_merge(survivor_id=a.pk, merged_id=b.pk, now=T0 + timedelta(days=2))

    assert Order.objects.filter(member=a).count() == orders and not Order.objects.filter(member=b).exists()
    acc = PointsAccount.objects.get(member=a)
    assert acc.net == 60 and (acc.balance, acc.debt) == (80, 20)
    assert svc.points_check(acc) == () and svc.points_check(PointsAccount.objects.get(member=b)) == ()
    assert PointsEntry.objects.filter(account=acc).count() == len([e for e in before["entries"]])
    refs = set(PointsLot.objects.filter(account=acc).values_list("ref", flat=True))
    assert refs == {"order:a1", "signin:2024-03-15", "order:b1", f"signin:2024-03-15@merge{merge.pk}"}
    assert sorted(PointsLot.objects.filter(account=acc).values_list("no", flat=True)) == [1, 2, 3, 4]

    [open_cart] = Cart.objects.filter(member=a, status="open")
    assert dict(CartLine.objects.filter(cart=open_cart).values_list("sku_id", "qty")) == {
        s1.pk: 999, s2.pk: 1, s3.pk: 4}  # 2 + 998 capped at 999
    assert Cart.objects.filter(member=a).count() == 4 and not Cart.objects.filter(member=b).exists()
    assert not ApiToken.objects.filter(member=b).exists() and ApiToken.objects.filter(member=a).count() == 2
    assert set(MemberIdentity.objects.filter(member=a).values_list("kind", flat=True)) == {"phone"}
    assert PiiAccessLog.objects.filter(member=a).count() == 2
    assert set(MemberChannel.objects.filter(member=a).values_list("channel", flat=True)) == {"h5", "mini_program"}

    b.refresh_from_db()
    assert (b.is_active, b.merged_into_id, b.phone_index) == (False, a.pk, "")
    assert OutboxEvent.objects.filter(topic="member.merged", aggregate_id=str(a.pk)).count() == 1
    # the survivor kept its own contact phone; b's phone signs in as the survivor now
    assert member_identify(kind="phone", value="13900000002", channel="h5", now=T0).member.pk == a.pk
    # a refund of b's order reverses on the survivor, where the lot now is
    svc.points_reverse(a.pk, "order:b1", 30, T0 + timedelta(days=3))
    assert svc.points_check(PointsAccount.objects.get(member=a)) == ()


def test_undo_restores_exactly(two):
    a, b, _ = two
    before = snapshot()
    merge = member_merge(survivor_id=a.pk, merged_id=b.pk, now=T0 + timedelta(days=2))
    assert snapshot() != before
    hq, _ = staff("hq_admin")
    done = member_merge_undo(merge_id=merge.pk, user=hq, now=T0 + timedelta(days=3))
    assert done.undone_at is not None and done.undone_by == hq
    assert snapshot() == before
    b.refresh_from_db()
    assert pii.decrypt(b.phone_enc, field="member.phone") == "13900000002"
    for m in (a, b):
        assert svc.points_check(PointsAccount.objects.get(member=m)) == ()
    with pytest.raises(Conflict) as again:
        member_merge_undo(merge_id=merge.pk, user=hq, now=T0)
    assert again.value.code == "merge_undone"
    # merged again after the undo: a new record
    assert member_merge(survivor_id=b.pk, merged_id=a.pk, now=T0 + timedelta(days=4)).pk != merge.pk


def test_survivor_without_a_phone_gets_the_merged_members_phone_and_undo_takes_it_back(two):
    _, b, _ = two
    c = member_identify(kind="pos_card", value="CARD7777", channel="pos", now=T0).member
    merge = member_merge(survivor_id=c.pk, merged_id=b.pk, now=T0)
    c.refresh_from_db()
    assert pii.decrypt(c.phone_enc, field="member.phone") == "13900000002" and c.phone_masked == "139****0002"
    member_merge_undo(merge_id=merge.pk, user=staff("hq_admin")[0], now=T0)
    c.refresh_from_db()
    assert c.phone_index == "" and Member.objects.get(pk=b.pk).phone_masked == "139****0002"


def test_undo_is_refused_once_moved_points_were_spent(two):
    a, b, _ = two
    svc.points_earn(b.pk, 500, "order:b2", T0)  # b: debt repaid, 480 left
    merge = member_merge(survivor_id=a.pk, merged_id=b.pk, now=T0)
    svc.points_spend(a.pk, 500, "redeem:tv", T0 + timedelta(hours=1))  # uses b's old lot
    before = snapshot()
    with pytest.raises(Conflict) as refused:
        member_merge_undo(merge_id=merge.pk, user=staff("hq_admin")[0], now=T0)
    assert refused.value.code == "merge_changed" and refused.value.details["what"] == "points_lot"
    assert snapshot() == before and MemberMerge.objects.get(pk=merge.pk).undone_at is None


def test_undo_is_refused_when_a_moved_order_earned_on_the_survivor(two):
    a, b, _ = two
    svc.points_earn(b.pk, 500, "order:b2", T0)  # no debt left to muddy the picture
    merge = member_merge(survivor_id=a.pk, merged_id=b.pk, now=T0)
    moved_order = Order.objects.filter(pk__in=merge.moved["orders"]).first()
    svc.points_earn(a.pk, 7, f"order:{moved_order.pk}", T0)
    with pytest.raises(Conflict) as refused:
        member_merge_undo(merge_id=merge.pk, user=staff("hq_admin")[0], now=T0)
    assert refused.value.details["what"] == "points_earned_by_moved_orders"


def test_a_chain_of_merges_is_undone_last_first(two):
    a, b, _ = two
    c = member_identify(kind="pos_card", value="CARD8888", channel="pos", now=T0).member
    first = member_merge(survivor_id=a.pk, merged_id=b.pk, now=T0)
    second = member_merge(survivor_id=c.pk, merged_id=a.pk, now=T0)
    hq, _ = staff("hq_admin")
    with pytest.raises(Conflict) as refused:
        member_merge_undo(merge_id=first.pk, user=hq, now=T0)
    assert refused.value.code == "survivor_merged"
    member_merge_undo(merge_id=second.pk, user=hq, now=T0)
    member_merge_undo(merge_id=first.pk, user=hq, now=T0)
    assert Member.objects.filter(pk__in=[a.pk, b.pk, c.pk], is_active=True).count() == 3


def test_bad_merges():
    m = member_identify(kind="pos_card", value="CARD9999", channel="pos", now=T0).member
    with pytest.raises(InvalidInput):
        member_merge(survivor_id=m.pk, merged_id=m.pk, now=T0)
    other = Member.objects.create()
    member_merge(survivor_id=m.pk, merged_id=other.pk, now=T0)
    with pytest.raises(Conflict) as twice:
        member_merge(survivor_id=m.pk, merged_id=other.pk, now=T0)
    assert twice.value.code == "member_inactive"


def test_link_attaches_a_free_identity_and_merges_an_owned_one(two):
    from o2o.common.errors import Forbidden
    from o2o.members.merge import member_link

    a, b, _ = two
    free = member_link(member_id=a.pk, kind="wechat_unionid", value="unionid-0001", channel="mini_program", now=T0)
    assert free.merge is None and free.identity.member_id == a.pk
    assert member_link(member_id=a.pk, kind="wechat_unionid", value="unionid-0001", channel="app",
                       now=T0).merge is None  # already a's: nothing to do
    with pytest.raises(Forbidden) as unproven:  # self-service: b's identity, proof from someone else
        member_link(member_id=a.pk, kind="phone", value="13900000002", channel="h5", now=T0, proof_member_id=a.pk)
    assert unproven.value.code == "identity_not_proven"
    linked = member_link(member_id=a.pk, kind="phone", value="13900000002", channel="h5", now=T0,
                         proof_member_id=b.pk)
    assert linked.merge is not None and linked.merge.merged_id == b.pk and linked.identity.member_id == a.pk
    assert linked.merge.identity_id == linked.identity.pk
    assert net(a) == 60 and not Member.objects.get(pk=b.pk).is_active
