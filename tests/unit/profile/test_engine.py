"""The tag engine on small hand-made histories: 60+ tags, each explained, RFM in 1..5, the rules."""

from __future__ import annotations

from datetime import datetime, timedelta

import numpy as np
from hypothesis import given
from hypothesis import strategies as st

from o2o.core.loyalty import CHINA_TZ
from o2o.core.profile import SPECS, HistoryBuilder, compute_tags

T0 = datetime(2024, 1, 1, 10, 0, tzinfo=CHINA_TZ)
AS_OF = T0 + timedelta(days=100)


def _world():
    b = HistoryBuilder()
    for k in range(6):  # m1: a regular, every 10 days, pickup at S1, milk, half discounted
        at = T0 + timedelta(days=40 + 10 * k)
        b.line("m1", k, at, 2000, discount_fen=300 if k % 2 else 0, channel="mini_program", store="S1",
               mode="pickup", category="milk", department="dairy")
        b.line("m1", k, at, 500, channel="mini_program", store="S1", mode="pickup", category="bread",
               department="bakery")
    b.line("m2", 100, T0, 9000, channel="pos", store="S2", mode="counter", category="wine", department="drinks")
    b.line("m2", 101, T0 + timedelta(days=5), 1000, refunded_fen=1000, channel="h5", mode="express",
           category="wine", department="drinks")
    b.line("m3", 200, AS_OF - timedelta(days=3), 100, channel="pos", store="S1", mode="counter", category="milk")
    b.line("m3", 201, AS_OF + timedelta(days=3), 99999, channel="pos", store="S1", mode="counter")  # future
    b.member("m4", registered_at=T0)
    b.event("m1", AS_OF - timedelta(days=1), "view")
    b.event("m1", AS_OF - timedelta(days=2), "view")
    return b.build()


def test_at_least_sixty_tags_each_with_a_version_and_an_explanation():
    p, ev = _world()
    table = compute_tags(p, AS_OF, events=ev)
    assert len(SPECS) >= 60
    for i in range(len(table)):
        tags = table.tags_of(i)
        assert len(tags) == len(SPECS) and len({t.name for t in tags}) == len(tags)
        for t in tags:
            assert t.version >= 1 and t.explanation.strip(), t
            assert "{" not in t.explanation, t  # every template field was filled


def test_values_of_a_regular_pickup_member():
    p, ev = _world()
    table = compute_tags(p, AS_OF, events=ev)
    m1 = table.row(table.index("m1"))
    assert m1["orders_count"] == 6 and m1["spend_total_fen"] == 6 * 2500
    assert m1["avg_basket_fen"] == 2500 and m1["preferred_store"] == "S1"
    assert m1["prefers_pickup"] is True and m1["preferred_channel"] == "mini_program"
    assert m1["mean_interpurchase_days"] == 10.0
    assert m1["expected_next_purchase_date"] == "2024-04-10"  # last 2024-03-31 + 10 days
    assert m1["top_category"] == "milk" and m1["top_categories"] == ["milk", "bread"]
    assert abs(m1["discount_spend_share"] - 3 * 2000 / 15000) < 1e-4
    assert m1["lifecycle_stage"] == "active" and m1["views_30d"] == 2
    assert m1["department_shares"] == {"dairy": 0.8, "bakery": 0.2}


def test_refunds_future_orders_and_members_without_purchases():
    p, ev = _world()
    table = compute_tags(p, AS_OF, events=ev)
    m2, m3, m4 = (table.row(table.index(k)) for k in ("m2", "m3", "m4"))
    assert m2["spend_total_fen"] == 9000 and m2["refunded_total_fen"] == 1000 and m2["omnichannel"] is True
    assert m2["lifecycle_stage"] == "churned"  # 100 days since, interval 5 days: beyond max(90, 15)
    assert m3["orders_count"] == 1 and m3["spend_total_fen"] == 100  # the order after as_of is ignored
    assert m3["lifecycle_stage"] == "new" and m3["expected_next_purchase_date"] is None
    assert m4["orders_count"] is None and m4["lifecycle_stage"] == "prospect" and m4["tier"] == "normal"
    assert m4["member_age_days"] == 100.0
    why = {t.name: t.explanation for t in table.tags_of(table.index("m4"))}
    assert "no purchase" in why["orders_count"] and "prospect" in why["lifecycle_stage"]


def test_rfm_explanations_show_the_cut_points():
    p, ev = _world()
    table = compute_tags(p, AS_OF, events=ev)
    why = {t.name: t.explanation for t in table.tags_of(table.index("m1"))}
    assert str(table.glob["r_cuts"]) in why["rfm_r"] and "days before" in why["rfm_r"]


@given(st.lists(st.tuples(st.integers(0, 30), st.integers(0, 400), st.integers(1, 10**6), st.booleans()),
                min_size=1, max_size=80))
def test_rfm_scores_are_in_one_to_five(lines):
    b = HistoryBuilder()
    for i, (member, day, fen, pos) in enumerate(lines):
        b.line(member, i, T0 + timedelta(days=day, hours=i % 24), fen, channel="pos" if pos else "app",
               mode="counter" if pos else "pickup", store="S1")
    p, _ = b.build()
    table = compute_tags(p, T0 + timedelta(days=401))
    for name in ("rfm_r", "rfm_f", "rfm_m"):
        vals = [v for v in table.column(name) if v is not None]
        assert vals and all(1 <= v <= 5 for v in vals)
    for i in range(len(table)):
        assert all(t.explanation for t in table.tags_of(i))
    assert all(v in {"prospect", "new", "active", "at_risk", "churned"} for v in table.column("lifecycle_stage"))
    shares = np.array([v for v in table.column("pickup_share") if v is not None])
    assert np.all((shares >= 0) & (shares <= 1))


def test_naive_as_of_is_refused():
    p, _ = _world()
    try:
        compute_tags(p, datetime(2024, 4, 1))  # noqa: DTZ001
    except ValueError as exc:
        assert "aware" in str(exc)
    else:
        raise AssertionError("naive as_of accepted")
