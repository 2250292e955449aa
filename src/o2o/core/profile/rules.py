"""The explicit rules behind the derived tags: RFM quintiles, RFM segments, lifecycle stage, thresholds.

Every rule here is a plain function of numbers the tag's explanation prints, so a member (or
the marketing team) can check any tag by hand.

RFM (quintiles over the population of members with at least one purchase)
    The cut points are the 20/40/60/80th percentiles of the population's values.
    ``F = 1 + number of cut points strictly below the member's order count`` (same for M and
    spend), so a value equal to the lowest cut point scores 1 and ties never inflate a score;
    ``R = 1 + number of cut points strictly above the member's days since last purchase``
    (recent is good). Scores are always in 1..5.

Lifecycle stage (first rule that matches)
    ``prospect``: no purchase. ``new``: first purchase within ``new_days`` (30) of as-of.
    ``active``: last purchase within ``max(active_min_days, active_factor x gap)`` days,
    ``at_risk``: within ``max(churn_min_days, churn_factor x gap)`` days (and at most
    ``churn_max_days``), else ``churned``; ``gap`` is the member's own mean inter-purchase
    interval (two orders or more), else the population's median gap.
"""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np

from o2o.core.loyalty.tiers import DEFAULT_TIER_POLICY, TierPolicy

__all__ = [
    "LIFECYCLE_STAGES",
    "RFM_SEGMENTS",
    "ProfileConfig",
    "lifecycle",
    "quintile_cuts",
    "rfm_segment",
    "score_high_is_good",
    "score_low_is_good",
]

LIFECYCLE_STAGES = ("prospect", "new", "active", "at_risk", "churned")
RFM_SEGMENTS = ("champions", "loyal", "potential_loyalist", "recent", "needs_attention", "at_risk",
                "hibernating", "lost")


@dataclass(frozen=True)
class ProfileConfig:
    version: str = "1"
    new_days: float = 30.0
    active_min_days: float = 30.0
    active_factor: float = 1.5
    churn_min_days: float = 90.0
    churn_factor: float = 3.0
    churn_max_days: float = 365.0
    prefers_share: float = 0.5  # prefers_pickup / prefers_delivery: share of online orders
    sensitivity_high: float = 0.5  # share of spend on discounted lines
    sensitivity_medium: float = 0.2
    trend_band: float = 0.2  # growing above +20 %, declining below -20 %
    clv_horizon_weeks: float = 52.0
    clv_min_customers: int = 200  # fewer purchasers: published CDNOW priors instead of a fit
    clv_min_repeaters: int = 30
    big_spender_quantile: float = 0.9
    tier_policy: TierPolicy = field(default=DEFAULT_TIER_POLICY)
    # behaviour (o2o.core.profile.behaviour): engaged_signin, engagement_level
    engaged_signin_days: int = 8  # sign-in days in the last 30 for "engaged" (about twice a week)
    engaged_reviews_90d: int = 3  # reviews in the last 90 days for the top review points
    engagement_recent_days: float = 7.0  # seen on a channel this recently: one more point
    engagement_window_days: float = 90.0  # any sign-in, review or sighting in it: at least "low"


def quintile_cuts(values: np.ndarray) -> np.ndarray:
    """The 20/40/60/80th percentiles (linear interpolation) of ``values``; zeros when empty."""
    if len(values) == 0:
        return np.zeros(4)
    return np.quantile(values.astype(float), [0.2, 0.4, 0.6, 0.8])


def score_high_is_good(values: np.ndarray, cuts: np.ndarray) -> np.ndarray:
    return 1 + (values[:, None] > cuts[None, :]).sum(axis=1)


def score_low_is_good(values: np.ndarray, cuts: np.ndarray) -> np.ndarray:
    return 1 + (values[:, None] < cuts[None, :]).sum(axis=1)


def rfm_segment(r: np.ndarray, f: np.ndarray, m: np.ndarray) -> np.ndarray:
    """Segment names (first rule that matches): champions R>=4,F>=4; loyal R>=3,F>=4; potential_loyalist
    R>=4,F 2-3; recent R>=4,F=1; at_risk R<=2,F>=3; lost R=1,F=1; hibernating R<=2; else needs_attention."""
    conditions = [
        (r >= 4) & (f >= 4),
        (r >= 3) & (f >= 4),
        (r >= 4) & (f >= 2),
        (r >= 4),
        (r <= 2) & (f >= 3),
        (r == 1) & (f == 1),
        (r <= 2),
    ]
    choices = ["champions", "loyal", "potential_loyalist", "recent", "at_risk", "lost", "hibernating"]
    return np.select(conditions, choices, default="needs_attention")


def lifecycle(has: np.ndarray, tenure_days: np.ndarray, recency_days: np.ndarray, gap_days: np.ndarray,
              cfg: ProfileConfig) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """(stage, active limit in days, churn limit in days) per member."""
    active_limit = np.maximum(cfg.active_min_days, cfg.active_factor * gap_days)
    churn_limit = np.minimum(np.maximum(cfg.churn_min_days, cfg.churn_factor * gap_days), cfg.churn_max_days)
    churn_limit = np.maximum(churn_limit, active_limit)
    stage = np.select(
        [~has, tenure_days <= cfg.new_days, recency_days <= active_limit, recency_days <= churn_limit],
        ["prospect", "new", "active", "at_risk"], default="churned")
    return stage, active_limit, churn_limit
