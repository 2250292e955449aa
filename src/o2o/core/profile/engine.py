"""The tag engine: purchases (+ behaviour events, + behaviour counts) of every member -> a :class:`TagTable`.

``compute_tags(purchases, as_of)`` cuts the history at ``as_of`` (an aware datetime: the
engine never reads a clock), builds orders from lines, computes every measure for all
members at once (numpy), then the population rules (RFM quintiles, CLV fit, lifecycle) and
returns the table; :meth:`TagTable.tags_of` gives one member's tags with their explanations.
``events`` (optional, :class:`~.history.Events`: views, cart adds, searches, sign-ins) gives the clickstream
tags (``views_30d``, ``sign_in_days_30d``...); ``behaviour`` (optional, :class:`~.behaviour.Behaviour`: 90-day
sign-ins, reviews, channels, identities counted up to ``as_of``) the engagement tags, whose sign-in part reads
the events' ``sign_in_days_30d`` (one column, not two). Without them those tags are None, explained as
"no behaviour events / data were given".
"""

from __future__ import annotations

from datetime import datetime

import numpy as np

from o2o.core.loyalty.dates import add_months, require_aware
from o2o.core.loyalty.tiers import TIER_ORDER
from o2o.core.profile import measures, rules
from o2o.core.profile.behaviour import Behaviour, behaviour_columns
from o2o.core.profile.clv import CDNOW_BGNBD, CDNOW_GAMMA_GAMMA, BgNbd, GammaGamma, bgnbd_fit, gamma_gamma_fit
from o2o.core.profile.groups import orders_of
from o2o.core.profile.history import Events, Purchases
from o2o.core.profile.rules import ProfileConfig
from o2o.core.profile.table import TagTable

__all__ = ["compute_tags"]

DAY = 86400.0


def compute_tags(purchases: Purchases, as_of: datetime, config: ProfileConfig | None = None,
                 events: Events | None = None, clv_models: tuple[BgNbd, GammaGamma] | None = None,
                 behaviour: Behaviour | None = None) -> TagTable:
    """Every member's tags as of ``as_of`` (lines after it are ignored). ``clv_models`` skips the fit."""
    cfg = config or ProfileConfig()
    require_aware(as_of, "as_of")
    asof = int(as_of.timestamp())
    offset = int(as_of.utcoffset().total_seconds())
    p = purchases.take(purchases.at <= asof)
    n = p.n_members
    o = orders_of(p.member, p.basket, p.at, p.amount_fen, p.refunded_fen, p.discount_fen, p.qty, p.channel,
                  p.store, p.mode, p.category, n)
    cols: dict = {}
    measures.basics(o, n, asof, cols)
    start_12m = int(add_months(as_of, -12, as_of.tzinfo).timestamp())
    measures.windows(o, n, asof, start_12m, cols, cfg)
    measures.channels(p, o, n, cols)
    measures.fulfilment(p, o, n, cols, cfg)
    measures.prices(p, n, cols, cfg)
    measures.categories(p, n, cols)
    measures.habits(o, n, offset, cols)
    glob: dict = {"as_of": as_of.isoformat(), "version": cfg.version}
    _rfm(cols, glob, cfg)
    _lifecycle(cols, glob, cfg)
    _clv(p, cols, glob, cfg, asof, offset, clv_models)
    _tier(cols, glob, cfg)
    _registration(p, cols, asof)
    _events(events, n, asof, offset, cols, glob)
    behaviour_columns(behaviour, p.members, asof, cols, glob, signin_30d=cols["sign_in_days_30d"],
                      events_given=events is not None, engaged_signin_days=cfg.engaged_signin_days,
                      engaged_reviews_90d=cfg.engaged_reviews_90d, recent_days=cfg.engagement_recent_days,
                      window_days=cfg.engagement_window_days)
    return TagTable(members=p.members, cols=cols, glob=glob, offset_s=offset)


def _rfm(cols: dict, glob: dict, cfg: ProfileConfig) -> None:
    has = cols["has"]
    rec, freq, mon = cols["days_since_last_purchase"], cols["orders_count"], cols["spend_total_fen"]
    rc, fc, mc = (rules.quintile_cuts(v[has]) for v in (rec, freq, mon))
    r, f, m = rules.score_low_is_good(rec, rc), rules.score_high_is_good(freq, fc), rules.score_high_is_good(mon, mc)
    cols["rfm_r"], cols["rfm_f"], cols["rfm_m"] = r, f, m
    cols["rfm_score"] = np.char.add(np.char.add(r.astype(str), f.astype(str)), m.astype(str)).astype(object)
    cols["rfm_total"] = r + f + m
    cols["rfm_segment"] = rules.rfm_segment(r, f, m).astype(object)
    glob["r_cuts"] = [round(float(c), 2) for c in rc]
    glob["f_cuts"] = [round(float(c), 2) for c in fc]
    glob["m_cuts"] = [int(round(float(c))) for c in mc]
    big = float(np.quantile(mon[has], cfg.big_spender_quantile)) if has.any() else 0.0
    glob["big_spender_fen"] = int(round(big))
    cols["big_spender"] = has & (mon >= big)


def _lifecycle(cols: dict, glob: dict, cfg: ProfileConfig) -> None:
    has, own = cols["has"], cols["has_gap"]
    gaps = cols["mean_interpurchase_days"][own]
    median_gap = float(np.median(gaps)) if len(gaps) else cfg.active_min_days
    glob["median_gap_days"] = round(median_gap, 1)
    gap = np.where(own, cols["mean_interpurchase_days"], median_gap)
    stage, active, churn = rules.lifecycle(has, cols["tenure_days"], cols["days_since_last_purchase"], gap, cfg)
    cols["lifecycle_stage"] = stage.astype(object)
    cols["gap_used_days"], cols["active_limit_days"], cols["churn_limit_days"] = gap, active, churn
    cols["gap_source"] = np.where(own, "own mean interval", "population median").astype(object)
    overdue = cols["days_until_expected_purchase"] < -np.maximum(0.5 * gap, 3.0)
    cols["purchase_overdue"] = own & overdue


def _clv(p: Purchases, cols: dict, glob: dict, cfg: ProfileConfig, asof: int, offset: int,
         models: tuple[BgNbd, GammaGamma] | None) -> None:
    n = p.n_members
    day = (p.at + offset) // 86400
    net = (p.amount_fen - p.refunded_fen).astype(float)
    key = p.member.astype(np.int64) * 1_000_000 + day
    uniq, inv = np.unique(key, return_inverse=True)
    day_spend = np.bincount(inv.ravel(), weights=net, minlength=len(uniq))
    um, ud = uniq // 1_000_000, uniq % 1_000_000
    ndays = np.bincount(um, minlength=n)
    has = ndays > 0
    first = np.zeros(n, dtype=np.int64)
    last = np.zeros(n, dtype=np.int64)
    first_spend = np.zeros(n)
    if len(uniq):
        # uniq is sorted by (member, day): the first and last rows of each member
        starts = np.flatnonzero(np.r_[True, um[1:] != um[:-1]])
        ends = np.r_[starts[1:], len(um)] - 1
        first[um[starts]], last[um[ends]] = ud[starts], ud[ends]
        first_spend[um[starts]] = day_spend[starts]
    asof_day = (asof + offset) // 86400
    x = np.maximum(ndays - 1, 0).astype(float)
    t_x = (last - first) / 7.0
    big_t = np.where(has, (asof_day - first) / 7.0, 0.0)
    m = np.where(x > 0, (cols["spend_total_fen"] - first_spend) / np.maximum(x, 1), 0.0)
    if models is not None:
        bg, gg = models
    else:
        bg, gg = _fit(x[has], t_x[has], big_t[has], m[has], cfg)
    expected = np.where(has, bg.expected_purchases(cfg.clv_horizon_weeks, x, t_x, big_t), 0.0)
    alive = np.where(has, bg.p_alive(x, t_x, big_t), 0.0)
    spend = np.where(has, gg.expected_spend(x, m), 0.0)
    cols["clv_repeat_days"], cols["clv_tx_weeks"], cols["clv_age_weeks"] = x, t_x, big_t
    cols["clv_repeat_avg_fen"] = np.round(m).astype(np.int64)
    cols["expected_purchases_52w"] = expected
    cols["p_alive"] = alive
    cols["churn_risk"] = np.select([alive < 0.3, alive < 0.6], ["high", "medium"], default="low").astype(object)
    cols["expected_spend_per_purchase_fen"] = np.round(spend).astype(np.int64)
    clv = np.round(expected * spend).astype(np.int64)
    cols["clv_12m_fen"] = clv
    buyers = clv[has]
    hi, mid = (float(np.quantile(buyers, q)) if len(buyers) else 0.0 for q in (0.8, 0.5))
    cols["value_segment"] = np.select([clv >= hi, clv >= mid], ["high", "medium"], default="low").astype(object)
    glob["clv_cuts"] = [int(round(mid)), int(round(hi))]
    glob["bgnbd"] = f"r={bg.r:.3f} alpha={bg.alpha:.3f} a={bg.a:.3f} b={bg.b:.3f} ({bg.source}, n={bg.n})"
    glob["gamma_gamma"] = f"p={gg.p:.3f} q={gg.q:.3f} gamma={gg.gamma:.1f} ({gg.source}, n={gg.n})"
    glob["clv_models"] = (bg, gg)


def _fit(x: np.ndarray, t_x: np.ndarray, big_t: np.ndarray, m: np.ndarray,
         cfg: ProfileConfig) -> tuple[BgNbd, GammaGamma]:
    repeaters = int(np.sum((x > 0) & (m > 0)))
    if len(x) >= cfg.clv_min_customers and repeaters >= cfg.clv_min_repeaters:
        bg = bgnbd_fit(x, t_x, big_t)
        if bg.a <= 1e-6 or not np.isfinite(bg.log_likelihood):
            bg = CDNOW_BGNBD
    else:
        bg = CDNOW_BGNBD
    if repeaters >= cfg.clv_min_repeaters:
        gg = gamma_gamma_fit(x, m)
        if gg.q <= 1.0:
            gg = _scaled_prior(m[(x > 0) & (m > 0)])
    else:
        gg = _scaled_prior(m[(x > 0) & (m > 0)])
    return bg, gg


def _scaled_prior(m: np.ndarray) -> GammaGamma:
    """CDNOW's shape (p, q) with gamma scaled so the population mean is the observed mean spend."""
    p, q = CDNOW_GAMMA_GAMMA.p, CDNOW_GAMMA_GAMMA.q
    mean = float(np.mean(m)) if len(m) else 10_000.0
    return GammaGamma(p=p, q=q, gamma=mean * (q - 1) / p, n=len(m),
                      source="CDNOW prior shape scaled to the observed mean (too few repeat buyers to fit)")


def _tier(cols: dict, glob: dict, cfg: ProfileConfig) -> None:
    policy = cfg.tier_policy
    thresholds = np.array([policy.thresholds[t] for t in TIER_ORDER])
    spend = cols["spend_12m_fen"]
    idx = np.searchsorted(thresholds, spend, side="right") - 1
    idx = np.clip(idx, 0, len(TIER_ORDER) - 1)
    cols["tier"] = np.array([t.value for t in TIER_ORDER], dtype=object)[idx]
    nxt = np.minimum(idx + 1, len(TIER_ORDER) - 1)
    cols["tier_next"] = np.where(idx < len(TIER_ORDER) - 1,
                                 np.array([t.value for t in TIER_ORDER], dtype=object)[nxt], None)
    cols["tier_gap_fen"] = np.where(idx < len(TIER_ORDER) - 1, thresholds[nxt] - spend, 0)
    glob["tier_thresholds"] = ", ".join(f"{t.value} {int(policy.thresholds[t])}" for t in TIER_ORDER)


def _registration(p: Purchases, cols: dict, asof: int) -> None:
    n = p.n_members
    reg = p.registered_at if p.registered_at is not None else np.full(n, -1, dtype=np.int64)
    known = reg >= 0
    cols["registered_known"] = known
    cols["member_age_days"] = np.where(known, (asof - reg) / DAY, 0.0)
    cols["days_to_first_purchase"] = np.where(known & cols["has"], (cols["first_purchase_at"] - reg) / DAY, 0.0)


def _events(ev: Events | None, n: int, asof: int, offset: int, cols: dict, glob: dict) -> None:
    """The clickstream tags from ``ev`` (events after ``as_of`` ignored). A sign-in day is a local (``as_of``'s
    offset: China) calendar day, like the sign-in itself (once per China day)."""
    glob["events_given"] = ev is not None
    if ev is None:
        for name in ("events_30d", "views_30d", "cart_adds_30d", "searches_30d", "sign_in_days_30d"):
            cols[name] = np.zeros(n, dtype=np.int64)
        cols["last_seen_days"] = np.zeros(n)
        cols["view_to_order_30d"] = np.zeros(n)
        cols["orders_30d_n"] = cols["orders_30d"]
        cols["has_events"] = np.zeros(n, dtype=bool)
        return
    if len(ev.member) and ev.member.max() >= n:
        raise ValueError("事件的会员下标越界 event member index outside the purchases' members")
    keep = ev.at <= asof
    member, at, kind = ev.member[keep], ev.at[keep], ev.kind[keep]
    recent = at > asof - 30 * DAY
    cols["events_30d"] = np.bincount(member[recent], minlength=n)
    for name, k in (("views_30d", "view"), ("cart_adds_30d", "cart_add"), ("searches_30d", "search")):
        sel = recent & (kind == ev.code(k))
        cols[name] = np.bincount(member[sel], minlength=n)
    sel = recent & (kind == ev.code("sign_in"))
    days = np.unique(member[sel].astype(np.int64) * 1_000_000 + (at[sel] + offset) // 86400)
    cols["sign_in_days_30d"] = np.bincount(days // 1_000_000, minlength=n)
    last = np.full(n, -1, dtype=np.int64)
    np.maximum.at(last, member, at)
    cols["has_events"] = last >= 0
    cols["last_seen_days"] = np.where(last >= 0, (asof - last) / DAY, 0.0)
    views = cols["views_30d"].astype(float)
    cols["orders_30d_n"] = cols["orders_30d"]  # the plain count (the orders_30d tag is None without a purchase)
    cols["view_to_order_30d"] = np.where(views > 0, cols["orders_30d"] / np.maximum(views, 1), 0.0)
