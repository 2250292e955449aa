"""The behaviour input of the tag engine: sign-ins, reviews, channels, identities -> engagement tags.

The 30-day sign-in days come from the events (``sign_in_days_30d``), not from :class:`Behaviour`: one column
feeds the tag, ``engaged_signin`` and the engagement level."""

from __future__ import annotations

from datetime import datetime, timedelta

import numpy as np
import pytest

from o2o.core.loyalty import CHINA_TZ
from o2o.core.profile import SPECS, TAG_NAMES, Behaviour, HistoryBuilder, ProfileConfig, compute_tags
from o2o.core.profile.behaviour import engagement

AS_OF = datetime(2026, 3, 31, 12, 0, tzinfo=CHINA_TZ)
ENGAGEMENT_TAGS = {"signin_days_90d", "engaged_signin", "reviews_written", "reviews_90d",
                   "review_avg_rating", "channels_seen", "days_since_seen", "omnichannel_seen", "identities_linked",
                   "engagement_level"}


def _history(*, signins: int = 12):
    """Purchases, and events with ``signins`` sign-in days of the fan's in the last 30 days (one a day)."""
    b = HistoryBuilder()
    b.line("fan", 1, AS_OF - timedelta(days=20), 3000, channel="mini_program", mode="pickup", store="S1")
    b.line("quiet", 2, AS_OF - timedelta(days=200), 1000)
    b.member("lurker")
    b.member("ghost")
    for d in range(1, signins + 1):
        b.event("fan", AS_OF - timedelta(days=d), "sign_in")
    b.event("fan", AS_OF - timedelta(days=40), "sign_in")  # outside the 30 days
    b.event("lurker", AS_OF - timedelta(days=3), "view")
    return b.build()


def _purchases():
    return _history()[0]


def _events():
    return _history()[1]


def _behaviour(as_of: datetime = AS_OF) -> Behaviour:
    seen = int((AS_OF - timedelta(days=2)).timestamp())
    return Behaviour.from_rows(as_of, {
        "fan": {"signin_days_90d": 40, "reviews_written": 4, "reviews_90d": 3,
                "review_rating_sum": 18, "channels_seen": 2, "online_channels_seen": 1, "pos_seen": 1,
                "last_seen_at": seen, "identities_linked": 3},
        "lurker": {"channels_seen": 1, "online_channels_seen": 1,
                   "last_seen_at": int((AS_OF - timedelta(days=60)).timestamp()), "identities_linked": 1},
        "stranger": {"signin_days_90d": 1},  # not among the purchases' members: ignored
    })


def test_engagement_tags_from_behaviour():
    table = compute_tags(_purchases(), AS_OF, events=_events(), behaviour=_behaviour())
    fan = table.row(table.index("fan"))
    assert (fan["sign_in_days_30d"], fan["signin_days_90d"], fan["engaged_signin"]) == (12, 40, True)
    assert (fan["reviews_written"], fan["reviews_90d"], fan["review_avg_rating"]) == (4, 3, 4.5)
    assert (fan["channels_seen"], fan["omnichannel_seen"], fan["identities_linked"]) == (2, True, 3)
    assert fan["days_since_seen"] == 2.0 and fan["engagement_level"] == "high"  # 2 + 2 + 1
    lurker = table.row(table.index("lurker"))
    assert lurker["engagement_level"] == "low" and lurker["review_avg_rating"] is None  # seen 60 days ago
    assert lurker["omnichannel_seen"] is False and lurker["days_since_seen"] == 60.0
    ghost = table.row(table.index("ghost"))  # given behaviour, but no row: zeros and sensible defaults
    assert (ghost["sign_in_days_30d"], ghost["reviews_written"], ghost["channels_seen"]) == (0, 0, 0)
    assert ghost["engagement_level"] == "none" and ghost["days_since_seen"] is None
    assert ghost["engaged_signin"] is False


def test_each_engagement_tag_is_versioned_explained_and_says_what_produced_it():
    table = compute_tags(_purchases(), AS_OF, events=_events(), behaviour=_behaviour())
    names = {s.name for s in SPECS}
    assert ENGAGEMENT_TAGS <= names and len(SPECS) >= 60
    tags = {t.name: t for t in table.tags_of(table.index("fan"))}
    for name in ENGAGEMENT_TAGS:
        t = tags[name]
        assert t.version >= 1 and t.explanation and "{" not in t.explanation, t
    assert "12 days (China calendar) with a 'sign_in'" in tags["sign_in_days_30d"].explanation
    assert "12 sign-in days in the last 30" in tags["engaged_signin"].explanation
    assert "score 5" in tags["engagement_level"].explanation and "(12 days;" in tags["engagement_level"].explanation
    assert tags["sign_in_days_30d"].visible and tags["reviews_written"].visible
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
            why = tags[name].explanation
            assert "no behaviour data" in why or "no review" in why or "never seen" in why \
                or "no behaviour events" in why or "needs both behaviour events" in why, (name, why)
    # the purchase tags are the same with or without behaviour
    with_b = compute_tags(_purchases(), AS_OF, events=_events(), behaviour=_behaviour())
    assert table.column("spend_total_fen") == with_b.column("spend_total_fen")


def test_the_sign_in_days_are_one_column_from_the_events():
    assert "signin_days_30d" not in TAG_NAMES and {"sign_in_days_30d", "signin_days_90d"} <= TAG_NAMES
    # behaviour without events: the counts apply, the sign-in based tags say the events are missing
    table = compute_tags(_purchases(), AS_OF, behaviour=_behaviour())
    fan = {t.name: t for t in table.tags_of(table.index("fan"))}
    assert fan["signin_days_90d"].value == 40 and fan["reviews_written"].value == 4
    assert fan["engaged_signin"].value is None and "no behaviour events" in fan["engaged_signin"].explanation
    assert fan["engagement_level"].value is None and "needs both" in fan["engagement_level"].explanation
    # events without behaviour: sign-in days and engaged_signin apply, the engagement level does not
    table = compute_tags(_purchases(), AS_OF, events=_events())
    fan = table.row(table.index("fan"))
    assert (fan["sign_in_days_30d"], fan["engaged_signin"], fan["engagement_level"]) == (12, True, None)
    # fewer sign-ins in the events: fewer engagement points (2 -> 1), the same column everywhere
    purchases, events = _history(signins=3)
    table = compute_tags(purchases, AS_OF, events=events, behaviour=_behaviour())
    fan = table.row(table.index("fan"))
    assert (fan["sign_in_days_30d"], fan["engaged_signin"], fan["engagement_level"]) == (3, False, "high")
    assert table.row(table.index("lurker"))["engagement_level"] == "low"


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
    table = compute_tags(_purchases(), AS_OF, ProfileConfig(engaged_signin_days=20), events=_events(),
                         behaviour=_behaviour())
    assert table.row(table.index("fan"))["engaged_signin"] is False


def test_contradictory_or_misaligned_behaviour_is_refused():
    with pytest.raises(ValueError, match="contradict"):
        Behaviour.from_rows(AS_OF, {"a": {"reviews_written": 1, "reviews_90d": 2, "review_rating_sum": 5}})
    with pytest.raises(ValueError, match="Unknown"):
        Behaviour.from_rows(AS_OF, {"a": {"signin_days_30d": 5}})  # the 30 days are the events' now
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
