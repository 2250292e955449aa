"""OneID merge: the survivor's tier reflects the combined spend at once (undo restores it); carts come back by id."""

from __future__ import annotations

from datetime import datetime, timedelta

import pytest

from o2o.accounts.identities import member_identify
from o2o.accounts.models import Member
from o2o.core.loyalty import CHINA_TZ
from o2o.members import tiers
from o2o.members.merge import member_merge, member_merge_undo
from o2o.members.models_tiers import TierHistory, TierState
from o2o.orders import carts
from o2o.orders.models import Cart, CartLine
from tests.factories import sku, staff
from tests.integration.members.tier_support import done_order

pytestmark = pytest.mark.django_db

T0 = datetime(2024, 3, 15, 10, 0, tzinfo=CHINA_TZ)


def silver(card: str, fen: int) -> Member:
    m = member_identify(kind="pos_card", value=card, channel="pos", now=T0).member
    o = done_order(m, fen, T0 - timedelta(days=30))
    assert tiers.tier_upgrade_for_order(member_id=m.pk, order_id=o.pk, now=T0 - timedelta(days=30)) is not None
    assert tiers.current_tier(m.pk).value == "silver"
    return m


def history(m: Member) -> list[tuple[str, str, str, str]]:
    return list(TierHistory.objects.filter(member=m).order_by("pk").values_list("from_tier", "to_tier", "reason", "ref"))


def test_two_silvers_whose_spend_adds_past_gold_merge_into_gold_and_undo_gives_silver_back():
    a, b = silver("CARD-A", 300_000), silver("CARD-B", 300_000)  # ¥3,000 each: silver; ¥6,000 together: gold
    before = TierState.objects.values("since", "achieved_at", "protected_until").get(member=a)
    merge = member_merge(survivor_id=a.pk, merged_id=b.pk, now=T0)

    state = TierState.objects.get(member=a)
    assert state.tier == "gold" and state.spend_12m_fen == 600_000 and state.since == T0
    assert state.achieved_at == T0 and state.protected_until == datetime(2025, 3, 15, 10, 0, tzinfo=CHINA_TZ)
    assert history(a)[-1] == ("silver", "gold", "merge", f"merge:{merge.pk}")
    assert "会员合并" in TierHistory.objects.filter(member=a).last().note
    # the merged member's tier and history stay with it, for the record
    assert TierState.objects.get(member=b).tier == "silver" and len(history(b)) == 1

    member_merge_undo(merge_id=merge.pk, user=staff("hq_admin")[0], now=T0 + timedelta(hours=1))
    state = TierState.objects.get(member=a)
    assert state.tier == "silver" and state.spend_12m_fen == 300_000
    assert {k: getattr(state, k) for k in before} == before  # exactly the tier before the merge
    assert history(a)[-1] == ("gold", "silver", "merge", f"merge:{merge.pk}:undo")
    assert len(history(a)) == 3 and TierState.objects.get(member=b).tier == "silver"


def test_a_merge_never_downgrades_and_a_later_change_survives_the_undo():
    a = silver("CARD-C", 150_000)
    TierState.objects.filter(member=a).update(tier="diamond")  # e.g. set by HQ, above what the spend gives
    b = member_identify(kind="pos_card", value="CARD-D", channel="pos", now=T0).member
    done_order(b, 100_000, T0 - timedelta(days=3))
    merge = member_merge(survivor_id=a.pk, merged_id=b.pk, now=T0)
    assert TierState.objects.get(member=a).tier == "diamond" and merge.moved["tier"]["history_id"] is None
    assert TierState.objects.get(member=a).spend_12m_fen == 250_000  # the figures count both

    c, d = silver("CARD-E", 300_000), silver("CARD-F", 300_000)
    second = member_merge(survivor_id=c.pk, merged_id=d.pk, now=T0)
    o = done_order(c, 1_500_000, T0 + timedelta(minutes=5))
    tiers.tier_upgrade_for_order(member_id=c.pk, order_id=o.pk, now=T0 + timedelta(minutes=5))  # gold -> diamond
    member_merge_undo(merge_id=second.pk, user=staff("hq_admin")[0], now=T0 + timedelta(hours=1))
    assert TierState.objects.get(member=c).tier == "diamond"  # the order's upgrade stands
    assert not TierHistory.objects.filter(member=c, ref=f"merge:{second.pk}:undo").exists()


def lines(cart: Cart) -> dict[int, int]:
    return dict(CartLine.objects.filter(cart=cart).values_list("sku_id", "qty"))


def test_undo_gives_back_exactly_the_carts_and_lines_that_moved():
    s1, s2, s3, s4 = sku(), sku(), sku(), sku()
    a = member_identify(kind="pos_card", value="CARD-G", channel="pos", now=T0).member
    b = member_identify(kind="pos_card", value="CARD-H", channel="pos", now=T0).member
    mine, theirs = carts.cart_for_member(a), carts.cart_for_member(b)
    carts.cart_set_line(mine, sku_id=s1.pk, qty=2)
    carts.cart_set_line(theirs, sku_id=s1.pk, qty=3)
    carts.cart_set_line(theirs, sku_id=s2.pk, qty=1)
    carts.cart_set_line(theirs, sku_id=s3.pk, qty=4)
    ordered = Cart.objects.create(member=b, token_hash="ordered-b", status="ordered")
    merge = member_merge(survivor_id=a.pk, merged_id=b.pk, now=T0)
    assert lines(mine) == {s1.pk: 5, s2.pk: 1, s3.pk: 4}
    recorded = merge.moved["carts"]
    assert sorted(recorded["ids"]) == sorted([theirs.pk, ordered.pk])
    own_s1 = CartLine.objects.get(cart=mine, sku_id=s1.pk)
    assert [own_s1.pk, s1.pk, 3, 2] in recorded["merged"]["lines"]

    # after the merge the survivor adds a line, adds more of a merged one, and removes another merged one
    carts.cart_set_line(mine, sku_id=s4.pk, qty=7)
    carts.cart_set_line(mine, sku_id=s2.pk, qty=3)
    CartLine.objects.filter(cart=mine, sku_id=s3.pk).delete()

    member_merge_undo(merge_id=merge.pk, user=staff("hq_admin")[0], now=T0 + timedelta(hours=1))
    mine.refresh_from_db()
    theirs.refresh_from_db()
    assert (mine.member_id, mine.status) == (a.pk, "open")
    assert lines(mine) == {s1.pk: 2, s2.pk: 2, s4.pk: 7}  # the survivor's own and what it added since
    assert (theirs.member_id, theirs.status, theirs.merged_into_id) == (b.pk, "open", None)
    assert lines(theirs) == {s1.pk: 3, s2.pk: 1, s3.pk: 4}  # the merged member's own lines, once
    assert Cart.objects.get(pk=ordered.pk).member_id == b.pk
    total = sum(CartLine.objects.filter(cart__in=[mine, theirs]).values_list("qty", flat=True))
    assert total == 2 + 2 + 7 + 3 + 1 + 4  # nothing counted twice


def test_undo_of_a_lowered_line_keeps_at_most_what_the_survivor_had():
    s1 = sku()
    a = member_identify(kind="pos_card", value="CARD-I", channel="pos", now=T0).member
    b = member_identify(kind="pos_card", value="CARD-J", channel="pos", now=T0).member
    mine, theirs = carts.cart_for_member(a), carts.cart_for_member(b)
    carts.cart_set_line(mine, sku_id=s1.pk, qty=4)
    carts.cart_set_line(theirs, sku_id=s1.pk, qty=10)
    merge = member_merge(survivor_id=a.pk, merged_id=b.pk, now=T0)
    carts.cart_set_line(mine, sku_id=s1.pk, qty=6)  # lowered from 14
    member_merge_undo(merge_id=merge.pk, user=staff("hq_admin")[0], now=T0)
    assert lines(mine) == {s1.pk: 4} and lines(theirs) == {s1.pk: 10}
