"""The behaviour input of the tag engine: sign-ins, reviews, channels, identities -> engagement tags."""

from __future__ import annotations

from datetime import datetime, timedelta

import numpy as np
import pytest

from o2o.core.loyalty import CHINA_TZ
from o2o.core.profile import SPECS, Behaviour, HistoryBuilder, ProfileConfig, compute_tags
from o2o.core.profile.behaviour import engagement

AS_OF = datetime(2026, 3, 31, 12, 0, tzinfo=CHINA_TZ)
ENGAGEMENT_TAGS = {"signin_days_30d", "signin_days_90d", "engaged_signin", "reviews_written", "reviews_90d",
                   "review_avg_rating", "channels_seen", "days_since_seen", "omnichannel_seen", "identities_linked",
                   "engagement_level"}


def _purchases():
    b = HistoryBuilder()
    b.line("fan", 1, AS_OF - timedelta(days=20), 3000, channel="mini_program", mode="pickup", store="S1")
    b.line("quiet", 2, AS_OF - timedelta(days=200), 1000)
    b.member("lurker")
    b.member("ghost")
    return b.build()[0]


def _behaviour(as_of: datetime = AS_OF) -> Behaviour:
    seen = int((AS_OF - timedelta(days=2)).timestamp())
    return Behaviour.from_rows(as_of, {
        "fan": {"signin_days_30d": 12, "signin_days_90d": 40, "reviews_written": 4, "reviews_90d": 3,
                "review_rating_sum": 18, "channels_seen": 2, "online_channels_seen": 1, "pos_seen": 1,
                "last_seen_at": seen, "identities_linked": 3},
        "lurker": {"channels_seen": 1, "online_channels_seen": 1,
                   "last_seen_at": int((AS_OF - timedelta(days=60)).timestamp()), "identities_linked": 1},
        "stranger": {"signin_days_30d": 1, "signin_days_90d": 1},  # not among the purchases' members: ignored
    })


def test_engagement_tags_from_behaviour():
    table = compute_tags(_purchases(), AS_OF, behaviour=_behaviour())
    fan = table.row(table.index("fan"))
    assert (fan["signin_days_30d"], fan["signin_days_90d"], fan["engaged_signin"]) == (12, 40, True)
    assert (fan["reviews_written"], fan["reviews_90d"], fan["review_avg_rating"]) == (4, 3, 4.5)
    assert (fan["channels_seen"], fan["omnichannel_seen"], fan["identities_linked"]) == (2, True, 3)
    assert fan["days_since_seen"] == 2.0 and fan["engagement_level"] == "high"  # 2 + 2 + 1
    lurker = table.row(table.index("lurker"))
    assert lurker["engagement_level"] == "low" and lurker["review_avg_rating"] is None  # seen 60 days ago
    assert lurker["omnichannel_seen"] is False and lurker["days_since_seen"] == 60.0
    ghost = table.row(table.index("ghost"))  # given behaviour, but no row: zeros and sensible defaults
    assert (ghost["signin_days_30d"], ghost["reviews_written"], ghost["channels_seen"]) == (0, 0, 0)
    assert ghost["engagement_level"] == "none" and ghost["days_since_seen"] is None
    assert ghost["engaged_signin"] is False


def test_each_engagement_tag_is_versioned_explained_and_says_what_produced_it():
    table = compute_tags(_purchases(), AS_OF, behaviour=_behaviour())
    names = {s.name for s in SPECS}
    assert ENGAGEMENT_TAGS <= names and len(SPECS) >= 60
    tags = {t.name: t for t in table.tags_of(table.index("fan"))}
    for name in ENGAGEMENT_TAGS:
        t = tags[name]
        assert t.version >= 1 and t.explanation and "{" not in t.explanation, t
    assert "12 days with a sign-in" in tags["signin_days_30d"].explanation
    assert "score 5" in tags["engagement_level"].explanation
    assert tags["signin_days_30d"].visible and tags["reviews_written"].visible
    assert not tags["engagement_level"].visible and not tags["days_since_seen"].visible
    ghost = {t.name: t for t in table.tags_of(table.index("ghost"))}
    assert ghost["review_avg_rating"].explanation.startswith("no review written")


def test_without_behaviour_the_tags_are_none_and_explained():
    table = compute_tags(_purchases(), AS_OF)
    for i in range(len(table)):
        tags = {t.name: t for t in table.tags_of(i)}
        assert len(tags) == len(SPECS)
        for name in ENGAGEMENT_TAGS:
            assert tags[name].value is None, name
            assert "no behaviour data" in tags[name].explanation or "no review" in tags[name].explanation \
                or "never seen" in tags[name].explanation
    # the purchase tags are the same with or without behaviour
    with_b = compute_tags(_purchases(), AS_OF, behaviour=_behaviour())
    assert table.column("spend_total_fen") == with_b.column("spend_total_fen")


@pytest.mark.parametrize(("s30", "r90", "seen", "active", "level"), [
    (0, 0, np.nan, False, "none"),
    (0, 0, 30.0, True, "low"),  # seen within 90 days only
    (1, 0, np.nan, True, "low"),
    (1, 1, np.nan, True, "medium"),
    (8, 0, np.nan, True, "medium"),
    (8, 1, 1.0, True, "high"),
    (3, 3, np.nan, True, "medium"),  # 1 + 2
    (3, 3, 1.0, True, "high"),  # 1 + 2 + 1
    (0, 0, 3.0, True, "low"),
])
def test_engagement_rule(s30, r90, seen, active, level):
    got = engagement(np.array([s30]), np.array([r90]), np.array([seen]), np.array([active]),
                     engaged_signin_days=8, engaged_reviews_90d=3, recent_days=7.0)
    assert got[0][0] == level


def test_the_thresholds_come_from_the_config():
    table = compute_tags(_purchases(), AS_OF, ProfileConfig(engaged_signin_days=20), behaviour=_behaviour())
    assert table.row(table.index("fan"))["engaged_signin"] is False


def test_contradictory_or_misaligned_behaviour_is_refused():
    with pytest.raises(ValueError, match="contradict"):
        Behaviour.from_rows(AS_OF, {"a": {"signin_days_30d": 5, "signin_days_90d": 2}})
    with pytest.raises(ValueError, match="contradict"):
        Behaviour.from_rows(AS_OF, {"a": {"reviews_written": 2, "review_rating_sum": 11}})
    with pytest.raises(ValueError, match="negative"):
        Behaviour.from_rows(AS_OF, {"a": {"identities_linked": -1}})
    with pytest.raises(ValueError, match="Unknown"):
        Behaviour.from_rows(AS_OF, {"a": {"page_views": 3}})
    with pytest.raises(ValueError, match="aware"):
        Behaviour.from_rows(AS_OF.replace(tzinfo=None), {})
    with pytest.raises(ValueError, match="another as_of"):
        compute_tags(_purchases(), AS_OF, behaviour=_behaviour(AS_OF - timedelta(days=1)))
