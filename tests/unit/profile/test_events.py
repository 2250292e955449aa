"""The clickstream tags from behaviour events: counts of the last 30 days, sign-in days on the China calendar,
the last event, the view-to-order ratio; malformed events are refused."""

from __future__ import annotations

from datetime import datetime, timedelta

import numpy as np
import pytest

from o2o.core.loyalty import CHINA_TZ
from o2o.core.profile import EVENT_KINDS, SPECS, Events, HistoryBuilder, compute_tags

AS_OF = datetime(2026, 3, 31, 12, 0, tzinfo=CHINA_TZ)
CLICK_TAGS = ("events_30d", "views_30d", "cart_adds_30d", "searches_30d", "sign_in_days_30d", "last_seen_days",
              "view_to_order_30d")


def _world():
    b = HistoryBuilder()
    b.line("buyer", 1, AS_OF - timedelta(days=5), 3000)
    b.line("buyer", 2, AS_OF - timedelta(days=2), 1000)
    b.member("quiet")
    for d in (1, 2, 3, 4):
        b.event("buyer", AS_OF - timedelta(days=d), "view")
    b.event("buyer", AS_OF - timedelta(days=1), "cart_add")
    b.event("buyer", AS_OF - timedelta(days=6), "search")
    b.event("buyer", AS_OF - timedelta(days=31), "view")  # before the 30 days: only for last seen
    b.event("buyer", AS_OF + timedelta(hours=1), "view")  # after as_of: ignored
    # 23:30 and 00:30 China time: two China days (one UTC day, 15:30 and 16:30 UTC)
    late = datetime(2026, 3, 20, 23, 30, tzinfo=CHINA_TZ)
    b.event("buyer", late, "sign_in")
    b.event("buyer", late + timedelta(hours=1), "sign_in")
    b.event("buyer", late + timedelta(hours=2), "sign_in")  # the same China day again: one day
    b.event("quiet", AS_OF - timedelta(days=45), "search")  # only an old event
    return b.build()


def test_clickstream_counts_and_china_sign_in_days():
    p, ev = _world()
    table = compute_tags(p, AS_OF, events=ev)
    buyer = table.row(table.index("buyer"))
    assert (buyer["views_30d"], buyer["cart_adds_30d"], buyer["searches_30d"]) == (4, 1, 1)
    assert buyer["sign_in_days_30d"] == 2 and buyer["events_30d"] == 4 + 1 + 1 + 3
    assert buyer["last_seen_days"] == 1.0 and buyer["view_to_order_30d"] == 0.5  # 2 orders / 4 views
    quiet = {t.name: t for t in table.tags_of(table.index("quiet"))}
    assert quiet["views_30d"].value == 0 and quiet["view_to_order_30d"].value == 0.0
    assert quiet["last_seen_days"].value == 45.0
    assert quiet["view_to_order_30d"].explanation.startswith("orders 0 / views 0")  # not "orders None"
    why = {t.name: t.explanation for t in table.tags_of(table.index("buyer"))}
    assert why["sign_in_days_30d"].startswith("2 days (China calendar)")
    assert "views 4, cart adds 1, searches 1, sign-in days 2" in why["events_30d"]


def test_without_events_the_clickstream_tags_are_none_and_explained():
    p, _ = _world()
    table = compute_tags(p, AS_OF)
    for name in CLICK_TAGS:
        assert table.column(name) == [None, None], name
    tags = {t.name: t for t in table.tags_of(0)}
    assert "no behaviour events were given" in tags["views_30d"].explanation
    assert "no behaviour event" in tags["last_seen_days"].explanation
    assert {s.name for s in SPECS} >= set(CLICK_TAGS) and len(SPECS) >= 60


def test_malformed_events_are_refused():
    p, _ = _world()
    one = np.array([0], dtype=np.int64)
    with pytest.raises(ValueError, match="as many"):
        Events(member=one, at=np.array([1, 2]), kind=one, kinds=EVENT_KINDS)
    with pytest.raises(ValueError, match="out of range"):
        Events(member=one, at=one, kind=np.array([7]), kinds=EVENT_KINDS)
    with pytest.raises(ValueError, match="out of range"):
        Events(member=np.array([-1]), at=one, kind=one, kinds=EVENT_KINDS)
    outside = Events(member=np.array([5]), at=np.array([int(AS_OF.timestamp())]), kind=one, kinds=EVENT_KINDS)
    with pytest.raises(ValueError, match="outside the purchases"):
        compute_tags(p, AS_OF, events=outside)
