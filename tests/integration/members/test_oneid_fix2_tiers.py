"""OneID merges and tiers, second review: an undo clears only a protection that rests on its orders, merged
members are left out of the monthly review, and the merged member is re-evaluated when its merge is undone."""

from __future__ import annotations

from datetime import timedelta

import pytest

from o2o.accounts.models import Member
from o2o.members import tiers
from o2o.members.merge import member_merge
from o2o.members.models_tiers import TierHistory, TierState
from o2o.members.privacy import member_erase
from tests.factories import staff
from tests.integration.members.test_oneid_fix_tiers import T0, H, new, silver, state, undo
from tests.integration.members.tier_support import done_order

pytestmark = pytest.mark.django_db

MONTH = timedelta(days=31)


def test_undoing_a_merge_keeps_the_protection_a_later_merge_brought_with_the_merged_members_tier():
    s = new("CARD-FS1")
    l1 = silver("CARD-FL1", 500_000)  # gold on its own orders
    assert state(l1).tier == "gold"
    l2 = new("CARD-FL2")
    tiers.tier_set_manual(member_id=l2.pk, tier="diamond", reason="大客户 key account", by_user_id=None,
                          now=T0 - 2 * H)  # diamond, protected 12 months, not earned on l1's orders
    diamond_until = state(l2).protected_until
    m1 = member_merge(survivor_id=s.pk, merged_id=l1.pk, now=T0)
    assert state(s).tier == "gold"
    m2 = member_merge(survivor_id=s.pk, merged_id=l2.pk, now=T0 + H)
    assert state(s).tier == "diamond"
    undone = undo(m1, T0 + 2 * H)
    st = state(s)
    assert (st.tier, st.protected_until) == ("diamond", diamond_until)  # came with l2, not with merge 1
    # the monthly review does not take it down while l2's protection runs
    assert tiers.tier_review(member_id=s.pk, now=T0 + MONTH) is None
    assert state(s).tier == "diamond"
    assert undone.moved["tier"]["undo"]["how"] == "kept"
    assert m1.moved["tier"]["protection"] == m2.moved["tier"]["protection"] == "merged"


def test_a_later_merges_upgrade_on_the_combined_figures_still_loses_its_protection():
    s, l1, l2 = new("CARD-FS2"), silver("CARD-FL3"), silver("CARD-FL4")
    m1 = member_merge(survivor_id=s.pk, merged_id=l1.pk, now=T0)
    m2 = member_merge(survivor_id=s.pk, merged_id=l2.pk, now=T0 + H)
    assert state(s).tier == "gold"
    assert undo(m1, T0 + 2 * H).moved["tier"]["undo"]["how"] == "protection_cleared"
    assert (state(s).tier, state(s).protected_until) == ("gold", None)
    assert m2.moved["tier"]["protection"] == "upgrade"


def test_merged_and_erased_members_are_left_out_of_the_monthly_review():
    old = new("CARD-FOLD")
    tiers.tier_set_manual(member_id=old.pk, tier="gold", reason="老会员迁移 legacy", by_user_id=None,
                          now=T0 - timedelta(days=390))  # protection ran out
    gone = new("CARD-FGONE")
    tiers.tier_set_manual(member_id=gone.pk, tier="gold", reason="老会员迁移 legacy", by_user_id=None,
                          now=T0 - timedelta(days=390))
    member_erase(member_id=gone.pk, reason="本人申请注销 own request", user=staff("hq_admin")[0])
    s = new("CARD-FS3")
    merge = member_merge(survivor_id=s.pk, merged_id=old.pk, now=T0)
    before = TierHistory.objects.filter(member__in=[old, gone]).count()
    for k in range(1, 4):
        tiers.tiers_review_all(now=T0 + k * MONTH)
    assert (state(old).tier, state(old).reviewed_month) == ("gold", "")  # no drift while merged
    assert (state(gone).tier, state(gone).reviewed_month) == ("gold", "")
    assert TierHistory.objects.filter(member__in=[old, gone]).count() == before
    assert state(s).reviewed_month == tiers.month_of(T0 + 3 * MONTH)  # the survivor is reviewed
    assert tiers.tier_review(member_id=old.pk, now=T0 + 4 * MONTH) is None and state(old).tier == "gold"
    undo(merge, T0 + 4 * MONTH)
    assert Member.objects.get(pk=old.pk).merged_into_id is None
    tiers.tiers_review_all(now=T0 + 5 * MONTH)
    assert state(old).tier == "silver"  # back on its own: reviewed again


def test_undo_re_evaluates_the_merged_member_on_its_own_orders():
    s, loser = new("CARD-FS4"), new("CARD-FL5")
    done_order(loser, 300_000, T0 - timedelta(days=30))  # earns silver; never upgraded (no order event)
    assert tiers.current_tier(loser.pk) == "normal"
    merge = member_merge(survivor_id=s.pk, merged_id=loser.pk, now=T0)
    assert state(s).tier == "silver"
    undone = undo(merge, T0 + H)
    assert state(s).tier == "normal"
    st = state(loser)
    assert (st.tier, st.spend_12m_fen, st.achieved_at) == ("silver", 300_000, T0 + H)
    assert undone.moved["tier"]["undo"]["merged"]["upgraded"] == "silver"
    row = TierHistory.objects.get(member=loser, ref=f"merge:{merge.pk}:undo")
    assert (row.from_tier, row.to_tier, row.reason) == ("normal", "silver", "merge")
    assert TierState.objects.filter(member=loser).count() == 1
