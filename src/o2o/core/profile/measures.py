"""The per-member measures behind the tags, computed for all members at once (numpy).

Each function takes the lines (already cut at ``as_of``) or the orders built from them and
adds columns (name -> array of length n_members) to ``cols``. Members without a purchase
get zeros here; the table turns them into ``None`` for purchase tags.
"""

from __future__ import annotations

import numpy as np

from o2o.core.profile.groups import Orders, top_keys
from o2o.core.profile.history import MODES, OFFLINE_CHANNELS, Purchases
from o2o.core.profile.rules import ProfileConfig

__all__ = ["basics", "categories", "channels", "fulfilment", "habits", "prices", "windows"]

DAY = 86400.0
DAYPARTS = ("night", "morning", "midday", "afternoon", "evening")
# hour -> daypart: night 21-6, morning 6-11, midday 11-14, afternoon 14-17, evening 17-21
_HOUR_PART = np.array([0] * 6 + [1] * 5 + [2] * 3 + [3] * 3 + [4] * 4 + [0] * 3)
WEEKDAYS = ("mon", "tue", "wed", "thu", "fri", "sat", "sun")


def _div(a: np.ndarray, b: np.ndarray) -> np.ndarray:
    with np.errstate(divide="ignore", invalid="ignore"):
        return np.where(b > 0, a / np.where(b > 0, b, 1), 0.0)


def _name(vocab: tuple[str, ...], codes: np.ndarray) -> np.ndarray:
    names = np.array(list(vocab) + [""], dtype=object)
    return names[np.where(codes >= 0, codes, len(vocab))]


def basics(o: Orders, n: int, asof: int, cols: dict) -> None:
    cnt = o.count
    has = cnt > 0
    at = o.at if len(o.at) else np.zeros(1, dtype=np.int64)
    first = np.where(has, at[np.minimum(o.start, len(at) - 1)], 0)
    last = np.where(has, at[np.clip(o.end - 1, 0, len(at) - 1)], 0)
    spend = np.bincount(o.member, weights=o.net, minlength=n)
    paid = np.bincount(o.member, weights=o.paid, minlength=n)
    cols["orders_count"] = cnt
    cols["spend_total_fen"] = spend.astype(np.int64)
    cols["refunded_total_fen"] = np.bincount(o.member, weights=o.refunded, minlength=n).astype(np.int64)
    cols["refund_share"] = _div(paid - spend, paid)
    cols["first_purchase_at"], cols["last_purchase_at"] = first, last
    cols["days_since_last_purchase"] = np.where(has, (asof - last) / DAY, 0.0)
    cols["tenure_days"] = np.where(has, (asof - first) / DAY, 0.0)
    cols["avg_basket_fen"] = np.round(_div(spend, cnt)).astype(np.int64)
    qty = np.bincount(o.member, weights=o.qty, minlength=n)
    cols["avg_units_per_order"] = _div(qty, cnt)
    cols["avg_lines_per_order"] = _div(np.bincount(o.member, weights=o.lines, minlength=n), cnt)
    cols["avg_unit_price_fen"] = np.round(_div(spend, qty)).astype(np.int64)
    cols["basket_diversity"] = _div(np.bincount(o.member, weights=o.categories, minlength=n), cnt)
    cols["one_time_buyer"] = cnt == 1
    # baskets: max and median by sorting each member's orders by value
    if len(o.at):
        by_value = np.lexsort((o.net, o.member))
        v = o.net[by_value]
        end = np.maximum(o.end - 1, 0)
        cols["max_basket_fen"] = np.where(has, v[end], 0)
        lo, hi = o.start + (cnt - 1) // 2, o.start + cnt // 2
        lo, hi = np.minimum(lo, len(v) - 1), np.minimum(hi, len(v) - 1)
        cols["median_basket_fen"] = np.where(has, np.round((v[lo] + v[hi]) / 2), 0).astype(np.int64)
    else:
        cols["max_basket_fen"] = cols["median_basket_fen"] = np.zeros(n, dtype=np.int64)
    # inter-purchase gaps (days) between consecutive orders of the same member
    gaps = np.diff(o.at) / DAY
    same = o.member[1:] == o.member[:-1] if len(o.at) else np.zeros(0, dtype=bool)
    gm, g = o.member[1:][same], gaps[same]
    ngap = np.bincount(gm, minlength=n)
    mean_gap = _div(np.bincount(gm, weights=g, minlength=n), ngap)
    var = _div(np.bincount(gm, weights=g * g, minlength=n), ngap) - mean_gap ** 2
    cols["mean_interpurchase_days"] = mean_gap
    cols["interpurchase_cv"] = _div(np.sqrt(np.maximum(var, 0.0)), mean_gap)
    cols["has_gap"] = ngap > 0
    cols["expected_next_purchase_at"] = np.where(ngap > 0, last + mean_gap * DAY, 0).astype(np.int64)
    cols["days_until_expected_purchase"] = np.where(ngap > 0, (last + mean_gap * DAY - asof) / DAY, 0.0)
    months = np.maximum(cols["tenure_days"] / 30.4375, 1.0)
    cols["orders_per_month"] = _div(cnt.astype(float), months)
    cols["spend_per_month_fen"] = np.round(_div(spend, months)).astype(np.int64)
    cols["has"] = has


def windows(o: Orders, n: int, asof: int, start_12m: int, cols: dict, cfg: ProfileConfig) -> None:
    for days in (30, 90):
        w = o.at > asof - days * DAY
        cols[f"orders_{days}d"] = np.bincount(o.member[w], minlength=n)
        cols[f"spend_{days}d_fen"] = np.bincount(o.member[w], weights=o.net[w], minlength=n).astype(np.int64)
    w = o.at > start_12m
    cols["orders_12m"] = np.bincount(o.member[w], minlength=n)
    cols["spend_12m_fen"] = np.bincount(o.member[w], weights=o.net[w], minlength=n).astype(np.int64)
    prev = (o.at > asof - 180 * DAY) & (o.at <= asof - 90 * DAY)
    s_prev = np.bincount(o.member[prev], weights=o.net[prev], minlength=n)
    s_now = cols["spend_90d_fen"].astype(float)
    cols["spend_prev_90d_fen"] = s_prev.astype(np.int64)
    change = _div(s_now - s_prev, s_prev)
    cols["spend_trend_change"] = np.where(s_prev > 0, change, np.where(s_now > 0, 1.0, 0.0))
    cols["spend_trend"] = np.select(
        [(s_prev == 0) & (s_now == 0), s_prev == 0, change > cfg.trend_band, change < -cfg.trend_band],
        ["none", "growing", "growing", "declining"], default="stable").astype(object)


def channels(p: Purchases, o: Orders, n: int, cols: dict) -> None:
    nch = max(len(p.channels), 1)
    counts = np.bincount(o.member * nch + np.maximum(o.channel, 0), minlength=n * nch).reshape(n, nch)
    spend = np.bincount(o.member * nch + np.maximum(o.channel, 0), weights=o.net, minlength=n * nch).reshape(n, nch)
    total = counts.sum(axis=1)
    best = np.argmax(counts + _div(spend, spend.sum(axis=1, keepdims=True) + 1.0), axis=1)
    cols["preferred_channel"] = _name(p.channels, np.where(total > 0, best, -1))
    cols["preferred_channel_share"] = _div(counts[np.arange(n), best], total)
    cols["channel_count"] = (counts > 0).sum(axis=1)
    offline = np.array([c in OFFLINE_CHANNELS for c in p.channels] or [False])
    off = counts[:, offline].sum(axis=1) if offline.any() else np.zeros(n, dtype=np.int64)
    cols["online_share"] = _div(total - off, total)
    cols["omnichannel"] = (off > 0) & (total - off > 0)


def fulfilment(p: Purchases, o: Orders, n: int, cols: dict, cfg: ProfileConfig) -> None:
    nm = len(MODES)
    known = o.mode >= 0
    counts = np.bincount(o.member[known] * nm + o.mode[known], minlength=n * nm).reshape(n, nm)
    total = counts.sum(axis=1)
    pickup, same_city, express, counter = (counts[:, i] for i in range(nm))
    online = pickup + same_city + express
    cols["pickup_orders"], cols["delivery_orders"], cols["counter_orders"] = pickup, same_city + express, counter
    cols["pickup_share"] = _div(pickup, total)
    cols["delivery_share"] = _div(same_city + express, total)
    cols["counter_share"] = _div(counter, total)
    cols["pickup_share_online"] = _div(pickup, online)
    cols["prefers_pickup"] = (online > 0) & (cols["pickup_share_online"] >= cfg.prefers_share) & (pickup > 0)
    cols["prefers_delivery"] = (online > 0) & (_div(same_city + express, online) > cfg.prefers_share)
    cols["preferred_fulfilment"] = _name(MODES, np.where(total > 0, np.argmax(counts, axis=1), -1))
    top = top_keys(o.member, o.store, np.ones(len(o.member)), n, k=1)
    with_store = np.bincount(o.member[o.store >= 0], minlength=n)
    cols["preferred_store"] = _name(p.stores, top.keys[:, 0])
    cols["preferred_store_share"] = _div(top.weights[:, 0], with_store)
    cols["store_count"] = top.distinct


def prices(p: Purchases, n: int, cols: dict, cfg: ProfileConfig) -> None:
    amount = p.amount_fen.astype(float)
    disc = p.discount_fen > 0
    total = np.bincount(p.member, weights=amount, minlength=n)
    on_deal = np.bincount(p.member[disc], weights=amount[disc], minlength=n)
    share = _div(on_deal, total)
    cols["discount_spend_share"] = share
    cols["discount_saved_fen"] = np.bincount(p.member, weights=p.discount_fen, minlength=n).astype(np.int64)
    cols["avg_discount_rate"] = _div(cols["discount_saved_fen"].astype(float), total + cols["discount_saved_fen"])
    cols["discounted_line_share"] = _div(np.bincount(p.member[disc], minlength=n).astype(float),
                                         np.bincount(p.member, minlength=n))
    cols["price_sensitivity"] = np.select([share >= cfg.sensitivity_high, share >= cfg.sensitivity_medium],
                                          ["high", "medium"], default="low").astype(object)


def categories(p: Purchases, n: int, cols: dict) -> None:
    spend = (p.amount_fen - p.refunded_fen).astype(float)
    total = np.bincount(p.member, weights=spend, minlength=n)
    top = top_keys(p.member, p.category, spend, n, k=3)
    cols["top_category"] = _name(p.categories, top.keys[:, 0])
    cols["top_category_share"] = _div(top.weights[:, 0], total)
    names = _name(p.categories, top.keys)
    cols["top_categories"] = np.array([[c for c in row if c] for row in names.tolist()] + [None],
                                      dtype=object)[:-1]
    cols["category_count"] = top.distinct
    share = _div(top.pair_weight, total[top.pair_member])
    ent = np.bincount(top.pair_member, weights=np.where(share > 0, -share * np.log(np.maximum(share, 1e-300)), 0.0),
                      minlength=n)
    cols["category_entropy"] = _div(ent, np.log(np.maximum(top.distinct, 2)))
    dept = top_keys(p.member, p.department, spend, n, k=5)
    cols["top_department"] = _name(p.departments, dept.keys[:, 0])
    cols["department_count"] = dept.distinct
    dnames = _name(p.departments, dept.keys).tolist()
    dshare = np.round(_div(dept.weights, total[:, None]), 4).tolist()
    cols["department_shares"] = np.array(
        [{d: s for d, s in zip(names_row, share_row, strict=True) if d} for names_row, share_row in zip(dnames, dshare,
                                                                                                       strict=True)]
        + [None], dtype=object)[:-1]


def habits(o: Orders, n: int, offset_s: int, cols: dict) -> None:
    local = o.at + offset_s
    day = local // 86400
    weekday = (day + 3) % 7  # 1970-01-01 was a Thursday
    hour = (local % 86400) // 3600
    wd = np.bincount(o.member * 7 + weekday, minlength=n * 7).reshape(n, 7)
    total = wd.sum(axis=1)
    cols["preferred_weekday"] = _name(WEEKDAYS, np.where(total > 0, np.argmax(wd, axis=1), -1))
    cols["weekend_share"] = _div(wd[:, 5:].sum(axis=1), total)
    hr = np.bincount(o.member * 24 + hour, minlength=n * 24).reshape(n, 24)
    cols["preferred_hour"] = np.argmax(hr, axis=1)
    parts = np.zeros((n, len(DAYPARTS)), dtype=np.int64)
    for part in range(len(DAYPARTS)):
        parts[:, part] = hr[:, _HOUR_PART == part].sum(axis=1)
    cols["preferred_daypart"] = _name(DAYPARTS, np.where(total > 0, np.argmax(parts, axis=1), -1))
    uniq = np.unique(o.member * 1_000_000 + day) if len(day) else np.zeros(0, dtype=np.int64)
    cols["active_days"] = np.bincount(uniq // 1_000_000, minlength=n)
    month = (day.astype("datetime64[D]").astype("datetime64[M]").astype(np.int64)) if len(day) else day
    um = np.unique(o.member * 100_000 + month) if len(day) else np.zeros(0, dtype=np.int64)
    cols["active_months"] = np.bincount(um // 100_000, minlength=n)
