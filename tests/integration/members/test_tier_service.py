"""Tiers on the database: upgrade at once on a completed order (every channel, once per order),
the monthly review (one step down, protection, once per month), HQ's manual set."""

from __future__ import annotations

from datetime import datetime, timedelta

import pytest
from django.core.management import call_command

from o2o.common.errors import Conflict, InvalidInput, NotFound
from o2o.core.loyalty import CHINA_TZ, spend_12m
from o2o.members import tiers
from o2o.members.handlers import on_order_event
from o2o.members.models import TierHistory, TierState
from o2o.orders.models import Order
from o2o.outbox.models import OutboxEvent
from o2o.outbox.services import events_relay
from tests.e2e.orders.test_returns_support import completed_order, pos_order
from tests.factories import member, staff
from tests.integration.fulfilment.world import build
from tests.integration.members.tier_support import done_order

pytestmark = pytest.mark.django_db

T0 = datetime(2025, 3, 15, 10, 0, tzinfo=CHINA_TZ)


def relay() -> None:
    events_relay(handlers=[on_order_event])


def state(m) -> TierState:  # noqa: ANN001
    return TierState.objects.get(member=m)


def history(m) -> list[tuple[str, str, str]]:  # noqa: ANN001
    return list(TierHistory.objects.filter(member=m).order_by("at", "pk").values_list("from_tier", "to_tier",
                                                                                        "reason"))


# -- upgrade at once ----------------------------------------------------------------------------------------------

def test_a_pos_sale_upgrades_at_once_and_a_redelivered_event_changes_nothing(monkeypatch):
    w = build(monkeypatch)
    m, _ = member()
    order = pos_order(w.a, "TIER-1", [(w.s1, 2, 50_000)], 100_000, member=m)  # ¥1,000.00: silver exactly
    relay()
    s = state(m)
    assert (s.tier, s.spend_12m_fen, s.growth) == ("silver", 100_000, 1_000)
    assert s.achieved_at is not None and s.protected_until == tiers.core.add_months(s.achieved_at, 12)
    row = TierHistory.objects.get(member=m)
    assert (row.reason, row.ref, row.spend_12m_fen) == ("upgrade", f"order:{order.pk}", 100_000)
    assert "白银会员" in row.note
    event = OutboxEvent.objects.get(aggregate_id=str(order.pk), topic="order.completed")
    on_order_event(event)  # at least once: delivered again
    OutboxEvent.objects.filter(pk=event.pk).update(dispatched_at=None)
    relay()
    assert TierHistory.objects.filter(member=m).count() == 1 and state(m).tier == "silver"


def test_spend_counts_every_channel_and_an_online_order_tips_it(monkeypatch):
    w = build(monkeypatch)
    m, _ = member()
    done_order(m, 99_500, w.now - timedelta(days=30), channel="pos")  # a till sale last month
    order = completed_order(w, m, [(w.s1, 1)])  # online, picked up: ¥10.00
    assert Order.objects.get(pk=order.pk).channel == "mini_program"
    relay()
    assert state(m).tier == "silver" and state(m).spend_12m_fen == 99_500 + order.paid_fen


def test_a_big_order_skips_tiers_and_a_small_one_only_refreshes_the_figures():
    m, _ = member()
    big = done_order(m, 2_000_000, T0)
    assert tiers.tier_upgrade_for_order(member_id=m.pk, order_id=big.pk, now=T0).to_tier == "diamond"
    assert history(m) == [("normal", "diamond", "upgrade")]
    n, _ = member()
    small = done_order(n, 500, T0)
    assert tiers.tier_upgrade_for_order(member_id=n.pk, order_id=small.pk, now=T0) is None
    assert (state(n).tier, state(n).spend_12m_fen, state(n).basis_at) == ("normal", 500, T0)
    assert not TierHistory.objects.filter(member=n).exists()


def test_a_refund_never_downgrades_at_once():
    m, _ = member()
    order = done_order(m, 500_000, T0)
    tiers.tier_upgrade_for_order(member_id=m.pk, order_id=order.pk, now=T0)
    Order.objects.filter(pk=order.pk).update(refunded_fen=400_000)
    later = done_order(m, 100, T0 + timedelta(days=1))
    assert tiers.tier_upgrade_for_order(member_id=m.pk, order_id=later.pk, now=T0 + timedelta(days=1)) is None
    assert state(m).tier == "gold" and state(m).spend_12m_fen == 100_100


def test_the_window_is_the_cores_trailing_12_months():
    m, _ = member()
    now = datetime(2025, 2, 28, 12, tzinfo=CHINA_TZ)
    rows = [(datetime(2024, 2, 28, 12, tzinfo=CHINA_TZ), 1000, 0),  # exactly 12 months ago: out
            (datetime(2024, 2, 28, 12, 0, 1, tzinfo=CHINA_TZ), 2000, 500),  # just inside
            (now, 4000, 0), (now + timedelta(seconds=1), 8000, 0)]  # now: in; later: not yet
    for at, fen, refunded in rows:
        done_order(m, fen, at, refunded=refunded)
    assert tiers.spend_12m_of(m.pk, now) == spend_12m(rows, now) == 5500
    with pytest.raises(ValueError):
        tiers.spend_12m_of(m.pk, datetime(2025, 1, 1))  # noqa: DTZ001 - naive on purpose


def test_unknown_member_is_404():
    with pytest.raises(NotFound):
        tiers.tier_upgrade_for_order(member_id=99_999_999, order_id=1, now=T0)


# -- the monthly review -------------------------------------------------------------------------------------------

def test_protection_then_one_step_down_per_month():
    m, _ = member()
    order = done_order(m, 2_000_000, T0)
    tiers.tier_upgrade_for_order(member_id=m.pk, order_id=order.pk, now=T0)
    Order.objects.filter(pk=order.pk).update(refunded_fen=2_000_000)  # everything refunded later
    for months in range(1, 12):  # protected for 12 months: each review changes nothing
        assert tiers.tier_review(member_id=m.pk, now=tiers.core.add_months(T0, months)) is None
    assert state(m).tier == "diamond" and state(m).reviewed_month == "2026-02"
    steps = [tiers.tier_review(member_id=m.pk, now=tiers.core.add_months(T0, k)) for k in (12, 13, 14, 15)]
    assert [(r.from_tier, r.to_tier) for r in steps[:3]] == [("diamond", "gold"), ("gold", "silver"),
                                                              ("silver", "normal")]
    assert steps[3] is None
    s = state(m)
    assert s.tier == "normal" and s.achieved_at is None and s.protected_until is None
    assert [r.reason for r in TierHistory.objects.filter(member=m, reason="review")] == ["review"] * 3


def test_review_command_is_idempotent_per_month(capsys):
    m, _ = member()
    quiet, _ = member()
    done_order(m, 600_000, T0 - timedelta(days=3))  # never handled by the outbox: the review upgrades
    call_command("review-tiers", "--at", "2025-03-15T10:00:00+08:00")
    out = capsys.readouterr().out
    assert "upgraded 1" in out and "2025-03" in out
    assert state(m).tier == "gold" and state(quiet).tier == "normal"
    assert history(m) == [("normal", "gold", "review")]
    done_order(quiet, 150_000, T0 + timedelta(days=1))  # the quiet member would now qualify for silver
    call_command("review-tiers", "--at", "2025-03-28T09:00:00")  # naive: China time, same month
    out = capsys.readouterr().out
    assert "reviewed 0" in out and "already reviewed this month 2" in out
    assert state(quiet).tier == "normal" and TierHistory.objects.count() == 1
    call_command("review-tiers", "--at", "2025-04-01T02:30:00+08:00")  # next month: reviewed again
    assert state(quiet).tier == "silver" and state(m).tier == "gold"
    assert TierState.objects.filter(reviewed_month="2025-04").count() == 2


def test_review_command_refuses_a_bad_time():
    from django.core.management.base import CommandError

    with pytest.raises(CommandError, match="ISO"):
        call_command("review-tiers", "--at", "yesterday")


# -- HQ's manual set ----------------------------------------------------------------------------------------------

def test_manual_set_writes_history_with_the_reason_and_protects_a_raise():
    m, _ = member()
    user, _ = staff("hq_admin")
    row = tiers.tier_set_manual(member_id=m.pk, tier="gold", reason="大客户 key account", by_user_id=user.pk, now=T0)
    assert (row.from_tier, row.to_tier, row.reason, row.by_user_id) == ("normal", "gold", "manual", user.pk)
    assert "大客户" in row.note and row.ref.startswith("manual:")
    assert state(m).protected_until == tiers.core.add_months(T0, 12)
    with pytest.raises(Conflict):
        tiers.tier_set_manual(member_id=m.pk, tier="gold", reason="again", by_user_id=user.pk, now=T0)
    down = tiers.tier_set_manual(member_id=m.pk, tier="silver", reason="纠正 correction", by_user_id=user.pk, now=T0)
    assert down.to_tier == "silver" and state(m).protected_until is None
    for bad in ({"tier": "platinum", "reason": "x"}, {"tier": "gold", "reason": "  "}):
        with pytest.raises(InvalidInput):
            tiers.tier_set_manual(member_id=m.pk, by_user_id=user.pk, **bad)
    assert TierHistory.objects.filter(member=m).count() == 2
