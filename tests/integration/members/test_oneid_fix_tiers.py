"""OneID merge and the tier: the merged member's tier counts, undoing merges in any order ends where the
survivor began, and its own spend is re-evaluated after an undo."""

from __future__ import annotations

from datetime import datetime, timedelta

import pytest

from o2o.accounts.identities import member_identify
from o2o.accounts.models import Member, MemberMerge
from o2o.core.loyalty import CHINA_TZ
from o2o.members import tiers
from o2o.members.merge import member_merge, member_merge_undo
from o2o.members.models_tiers import TierHistory, TierState
from tests.factories import staff
from tests.integration.members.tier_support import done_order

pytestmark = pytest.mark.django_db

T0 = datetime(2024, 3, 15, 10, 0, tzinfo=CHINA_TZ)
H = timedelta(hours=1)


def new(card: str) -> Member:
    return member_identify(kind="pos_card", value=card, channel="pos", now=T0 - timedelta(days=400)).member


def silver(card: str, fen: int = 300_000) -> Member:
    m = new(card)
    o = done_order(m, fen, T0 - timedelta(days=30))
    assert tiers.tier_upgrade_for_order(member_id=m.pk, order_id=o.pk, now=T0 - timedelta(days=30)) is not None
    return m


def state(m: Member) -> TierState:
    return TierState.objects.get(member=m)


def undo(merge: MemberMerge, at: datetime) -> MemberMerge:
    return member_merge_undo(merge_id=merge.pk, user=staff("hq_admin")[0], now=at)


@pytest.mark.parametrize("order", ["first_merge_first", "last_merge_first"])
def test_two_merges_undone_in_either_order_leave_the_survivor_as_it_began(order):
    s, l1, l2 = new("CARD-S1"), silver("CARD-L1"), silver("CARD-L2")
    m1 = member_merge(survivor_id=s.pk, merged_id=l1.pk, now=T0)
    assert state(s).tier == "silver"
    m2 = member_merge(survivor_id=s.pk, merged_id=l2.pk, now=T0 + H)
    assert (state(s).tier, state(s).spend_12m_fen) == ("gold", 600_000)
    first, second = (m1, m2) if order == "first_merge_first" else (m2, m1)
    undo(first, T0 + 2 * H)
    if first is m1:  # merge 2 still stands, but its protection counted l1's orders: cleared for the review
        st = state(s)
        assert (st.tier, st.achieved_at, st.protected_until, st.spend_12m_fen) == ("gold", None, None, 300_000)
        assert MemberMerge.objects.get(pk=m1.pk).moved["tier"]["undo"]["how"] == "protection_cleared"
    else:
        assert state(s).tier == "silver"
    undo(second, T0 + 3 * H)
    st = state(s)
    assert (st.tier, st.spend_12m_fen, st.achieved_at, st.protected_until) == ("normal", 0, None, None)
    assert TierHistory.objects.filter(member=s).order_by("-pk").first().to_tier == "normal"
    assert TierHistory.objects.filter(member=s, ref__endswith=":undo").exists()


def test_undo_re_evaluates_the_survivors_own_spend():
    s, loser = new("CARD-S2"), silver("CARD-L3")
    merge = member_merge(survivor_id=s.pk, merged_id=loser.pk, now=T0)
    assert state(s).tier == "silver"
    own = done_order(s, 150_000, T0 + H)  # its own order qualifies it for the tier it already has
    assert tiers.tier_upgrade_for_order(member_id=s.pk, order_id=own.pk, now=T0 + H) is None
    undone = undo(merge, T0 + 2 * H)
    st = state(s)
    assert (st.tier, st.spend_12m_fen, st.achieved_at) == ("silver", 150_000, T0 + 2 * H)
    assert undone.moved["tier"]["undo"]["how"] == "restored"
    assert undone.moved["tier"]["undo"]["upgraded"] == "silver"


def test_an_old_gold_set_by_hq_merged_into_a_new_account_makes_the_survivor_gold():
    old = new("CARD-OLD")
    tiers.tier_set_manual(member_id=old.pk, tier="gold", reason="老会员迁移 legacy", by_user_id=None,
                          now=T0 - timedelta(days=390))
    before = TierState.objects.values("achieved_at", "protected_until").get(member=old)
    fresh = new("CARD-NEW")
    merge = member_merge(survivor_id=fresh.pk, merged_id=old.pk, now=T0)
    st = state(fresh)
    assert st.tier == "gold" and st.since == T0
    assert {"achieved_at": st.achieved_at, "protected_until": st.protected_until} == before  # its protection
    last = TierHistory.objects.filter(member=fresh).last()
    assert (last.from_tier, last.to_tier, last.reason, last.ref) == ("normal", "gold", "merge", f"merge:{merge.pk}")
    undo(merge, T0 + H)
    assert state(fresh).tier == "normal" and state(old).tier == "gold"


def test_a_merge_takes_the_higher_of_the_two_tiers_then_what_the_combined_spend_earns():
    a, b = silver("CARD-A1", 450_000), new("CARD-B1")
    tiers.tier_set_manual(member_id=b.pk, tier="gold", reason="客诉补偿 goodwill", by_user_id=None, now=T0 - H)
    merge = member_merge(survivor_id=a.pk, merged_id=b.pk, now=T0)
    assert state(a).tier == "gold" and state(a).protected_until == state(b).protected_until
    undo(merge, T0 + H)
    c, d = silver("CARD-C1", 400_000), silver("CARD-D1", 400_000)  # silver + silver, ¥8,000: gold now
    member_merge(survivor_id=c.pk, merged_id=d.pk, now=T0)
    assert (state(c).tier, state(c).achieved_at) == ("gold", T0)
