"""resolve_price: the stated precedence, windows, ties, and properties over random overrides."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest
from hypothesis import given
from hypothesis import strategies as st

from o2o.core.pricing import PriceOverride, PriceSource, ResolvedPrice, is_active, resolve_price

T0 = datetime(2026, 3, 1, 12, 0, tzinfo=UTC)
H = timedelta(hours=1)
STORE, OTHER = 7, 8
CH, OTHER_CH = "mini_program", "douyin"


def ov(location_id=None, channel="", price=500, starts=None, ends=None) -> PriceOverride:
    return PriceOverride(location_id=location_id, channel=channel, price_fen=price, starts_at=starts, ends_at=ends)


def resolve(overrides, *, location_id=STORE, channel=CH, at=T0) -> ResolvedPrice:
    return resolve_price(1000, overrides, location_id=location_id, channel=channel, at=at)


# --- the stated precedence --------------------------------------------------------------------

def test_no_overrides_gives_list_price():
    assert resolve([]) == ResolvedPrice(1000, PriceSource.LIST)


def test_store_and_channel_beats_store_beats_channel():
    both, store, channel = ov(STORE, CH, 700), ov(STORE, "", 800), ov(None, CH, 600)
    assert resolve([channel, store, both]).source is PriceSource.STORE_CHANNEL
    assert resolve([channel, store, both]).price_fen == 700
    # 线上线下同价: the store's shelf price beats a channel-wide price, even a lower one.
    assert resolve([channel, store]) == ResolvedPrice(800, PriceSource.STORE, store)
    assert resolve([channel]) == ResolvedPrice(600, PriceSource.CHANNEL, channel)


def test_other_store_and_other_channel_do_not_apply():
    assert resolve([ov(OTHER, "", 1), ov(OTHER, CH, 2), ov(None, OTHER_CH, 3), ov(STORE, OTHER_CH, 4)]).source \
        is PriceSource.LIST


def test_none_and_empty_channel_mean_any_channel():
    assert resolve([ov(STORE, None, 900)]).source is PriceSource.STORE
    assert resolve([ov(STORE, "", 900)]).source is PriceSource.STORE


def test_without_store_only_channel_overrides_apply():
    got = resolve([ov(STORE, "", 800), ov(STORE, CH, 700), ov(None, CH, 650)], location_id=None)
    assert got.source is PriceSource.CHANNEL and got.price_fen == 650


def test_without_channel_only_store_overrides_apply():
    for channel in (None, ""):
        got = resolve([ov(STORE, CH, 700), ov(None, CH, 650), ov(STORE, "", 800)], channel=channel)
        assert got.source is PriceSource.STORE and got.price_fen == 800


def test_unscoped_override_is_ignored():
    assert resolve([ov(None, "", 1)]).source is PriceSource.LIST
    assert resolve([ov(None, None, 1)]).source is PriceSource.LIST


# --- windows ------------------------------------------------------------------------------------

@pytest.mark.parametrize(("starts", "ends", "active"), [
    (None, None, True),
    (T0, None, True),            # starts_at is inclusive
    (None, T0, False),           # ends_at is exclusive
    (T0 - H, T0 + H, True),
    (T0 + H, None, False),       # not started yet
    (None, T0 - H, False),       # over
])
def test_window_bounds(starts, ends, active):
    o = ov(STORE, CH, 700, starts, ends)
    assert is_active(o, T0) is active
    assert resolve([o]).source is (PriceSource.STORE_CHANNEL if active else PriceSource.LIST)


def test_expired_stronger_level_falls_back_to_weaker_active_one():
    got = resolve([ov(STORE, CH, 700, ends=T0 - H), ov(None, CH, 650)])
    assert got.source is PriceSource.CHANNEL and got.price_fen == 650


# --- ties within a level -----------------------------------------------------------------------

def test_latest_start_wins_within_a_level():
    old, new = ov(STORE, "", 700, starts=T0 - 5 * H), ov(STORE, "", 900, starts=T0 - H)
    assert resolve([old, new]).price_fen == 900
    assert resolve([new, old]).price_fen == 900


def test_open_start_counts_as_earliest():
    assert resolve([ov(STORE, "", 700), ov(STORE, "", 900, starts=T0 - 100 * H)]).price_fen == 900


def test_same_start_lowest_price_wins():
    a, b = ov(None, CH, 700, starts=T0 - H), ov(None, CH, 650, starts=T0 - H)
    assert resolve([a, b]).price_fen == 650 and resolve([b, a]).price_fen == 650


# --- properties ---------------------------------------------------------------------------------

times = st.one_of(st.none(), st.integers(-48, 48).map(lambda h: T0 + h * H))
overrides = st.builds(
    lambda loc, channel, price, a, b: ov(loc, channel, price, *sorted_window(a, b)),
    st.sampled_from([None, STORE, OTHER]),
    st.sampled_from([None, "", CH, OTHER_CH]),
    st.integers(1, 100_000),
    times,
    times,
)
channels = st.sampled_from([None, "", CH, OTHER_CH])
locations = st.sampled_from([None, STORE, OTHER])


def sorted_window(a, b):
    if a is not None and b is not None:
        if a == b:
            return a, None
        return min(a, b), max(a, b)
    return a, b


def applicable_level(o: PriceOverride, location_id, channel) -> PriceSource | None:
    """An independent restatement of the precedence levels."""
    at_store = o.location_id is not None and o.location_id == location_id
    on_channel = bool(o.channel) and bool(channel) and o.channel == channel
    if at_store and on_channel:
        return PriceSource.STORE_CHANNEL
    if at_store and not o.channel:
        return PriceSource.STORE
    if o.location_id is None and on_channel:
        return PriceSource.CHANNEL
    return None


@given(st.lists(overrides, max_size=12), locations, channels, st.integers(1, 100_000))
def test_result_is_a_candidate_or_the_list_price(ovs, location_id, channel, list_price):
    got = resolve_price(list_price, ovs, location_id=location_id, channel=channel, at=T0)
    if got.source is PriceSource.LIST:
        assert got.price_fen == list_price and got.override is None
    else:
        assert got.override in ovs and got.price_fen == got.override.price_fen
        assert is_active(got.override, T0)
        assert applicable_level(got.override, location_id, channel) is got.source


@given(st.lists(overrides, max_size=12), overrides, locations, channels, st.integers(0, 12))
def test_adding_an_inactive_override_changes_nothing(ovs, extra, location_id, channel, pos):
    before = resolve(ovs, location_id=location_id, channel=channel)
    for dead in (
        PriceOverride(extra.location_id, extra.channel, extra.price_fen, starts_at=T0 + H, ends_at=None),
        PriceOverride(extra.location_id, extra.channel, extra.price_fen, starts_at=extra.starts_at and T0 - 99 * H,
                      ends_at=T0),
    ):
        assert not is_active(dead, T0)
        after = resolve([*ovs[:pos], dead, *ovs[pos:]], location_id=location_id, channel=channel)
        assert after == before


@given(st.lists(overrides, max_size=12), locations, channels)
def test_precedence_order_holds(ovs, location_id, channel):
    got = resolve(ovs, location_id=location_id, channel=channel)
    active_levels = {applicable_level(o, location_id, channel) for o in ovs if is_active(o, T0)} - {None}
    order = [PriceSource.STORE_CHANNEL, PriceSource.STORE, PriceSource.CHANNEL]
    expected = next((lvl for lvl in order if lvl in active_levels), PriceSource.LIST)
    assert got.source is expected
    if expected is not PriceSource.LIST:
        same_level = [o for o in ovs if is_active(o, T0) and applicable_level(o, location_id, channel) is expected]
        latest = max(same_level, key=lambda o: (o.starts_at is not None, o.starts_at or T0))
        tied = [o for o in same_level if o.starts_at == latest.starts_at]
        assert got.override.starts_at == latest.starts_at
        assert got.price_fen == min(o.price_fen for o in tied)


@given(st.lists(overrides, max_size=12), locations, channels)
def test_order_of_overrides_does_not_matter(ovs, location_id, channel):
    a = resolve(ovs, location_id=location_id, channel=channel)
    b = resolve(list(reversed(ovs)), location_id=location_id, channel=channel)
    assert (a.price_fen, a.source) == (b.price_fen, b.source)


@given(st.lists(overrides, max_size=12), st.integers(1, 100_000), channels)
def test_another_stores_override_never_matters(ovs, price, channel):
    before = resolve(ovs, location_id=STORE, channel=channel)
    after = resolve([*ovs, ov(OTHER, channel or "", price)], location_id=STORE, channel=channel)
    assert after == before
