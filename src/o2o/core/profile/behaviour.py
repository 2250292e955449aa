"""Behaviour input of the tag engine: per-member counts of sign-ins, reviews, channels and identities.

A :class:`Behaviour` holds one row per member (the caller's keys, like :class:`~.history.Purchases`),
counted by the caller up to ``as_of`` (the database side: a few aggregate queries, ``o2o.profiles.history``):

* ``signin_days_90d``: distinct days with a sign-in (签到) in the 90 days before ``as_of`` (each sign-in is once
  per China day, so a count of sign-ins). The 30-day count is not here: it is the events' ``sign_in_days_30d``
  (:class:`~.history.Events` ``sign_in`` rows, the engine's ``_events``), passed in as ``signin_30d``, so the
  tags ``sign_in_days_30d``, ``engaged_signin`` and the engagement level read one column;
* ``reviews_written``: reviews (评价) written on or before ``as_of``; ``reviews_90d``: of them, in the last 90
  days; ``review_rating_sum``: the sum of their ratings (the average is the sum / reviews_written);
* ``channels_seen``: distinct channels the member was seen on; ``online_channels_seen``: of them, not the
  POS; ``pos_seen``: 1 when seen at the POS; ``last_seen_at``: epoch seconds of the latest sighting on any
  channel (-1: never);
* ``identities_linked``: identities (phone, openid, card...) linked to the member (OneID).

A member without a row gets zeros (and ``last_seen_at`` -1). :func:`behaviour_columns` turns it (and the
events' 30-day sign-in days) into the engine's tag columns, with the engagement rule (:func:`engagement`):

score = sign-in points (2: at least ``engaged_signin_days`` days in 30, 1: any in 30) + review points
(2: at least ``engaged_reviews_90d`` reviews in 90 days, 1: any) + 1 when seen on any channel in the last
``engagement_recent_days`` days. Level: ``high`` from 4, ``medium`` from 2, ``low`` at 1 or with any sign-in,
review or sighting in the last ``engagement_window_days`` days, else ``none``.
"""

from __future__ import annotations

from collections.abc import Hashable, Mapping
from dataclasses import dataclass
from datetime import datetime

import numpy as np

__all__ = ["BEHAVIOUR_FIELDS", "Behaviour", "behaviour_columns", "engagement"]

DAY = 86400.0
BEHAVIOUR_FIELDS: tuple[str, ...] = (
    "signin_days_90d", "reviews_written", "reviews_90d", "review_rating_sum",
    "channels_seen", "online_channels_seen", "pos_seen", "last_seen_at", "identities_linked",
)
_DEFAULT = {name: 0 for name in BEHAVIOUR_FIELDS} | {"last_seen_at": -1}


def _epoch(at: datetime) -> int:
    if at.tzinfo is None or at.utcoffset() is None:
        raise ValueError(f"时间必须带时区 as_of must be an aware datetime: {at!r}")
    return int(at.timestamp())


@dataclass(frozen=True)
class Behaviour:
    """Per-member behaviour counted up to ``as_of`` (epoch seconds); ``cols[name][i]`` is member ``members[i]``'s."""

    members: tuple[Hashable, ...]
    as_of: int
    cols: Mapping[str, np.ndarray]

    def __post_init__(self) -> None:
        n = len(self.members)
        if set(self.cols) != set(BEHAVIOUR_FIELDS):
            raise ValueError(f"行为列不完整 Behaviour needs exactly the columns {BEHAVIOUR_FIELDS}")
        for name, col in self.cols.items():
            if len(col) != n:
                raise ValueError(f"列长度不一致 Column {name} has {len(col)} rows, expected {n}")
            if name != "last_seen_at" and n and np.any(col < 0):
                raise ValueError(f"计数不能为负 {name} must not be negative")
        c = self.cols
        if n and (np.any(c["reviews_90d"] > c["reviews_written"])
                  or np.any(c["review_rating_sum"] < c["reviews_written"])
                  or np.any(c["review_rating_sum"] > 5 * c["reviews_written"])
                  or np.any(c["online_channels_seen"] + c["pos_seen"] > c["channels_seen"])
                  or np.any(c["pos_seen"] > 1) or np.any(c["last_seen_at"] > self.as_of)):
            raise ValueError("行为数据不一致 Behaviour counts contradict each other (reviews 90d <= written, "
                             "ratings 1..5, online + pos <= channels, last seen not after as_of)")

    @classmethod
    def from_rows(cls, as_of: datetime, rows: Mapping[Hashable, Mapping[str, int]]) -> Behaviour:
        """From ``{member key: {field: value}}``; missing fields are 0 (``last_seen_at``: -1)."""
        members = tuple(rows)
        cols = {}
        for name in BEHAVIOUR_FIELDS:
            cols[name] = np.array([int(rows[m].get(name, _DEFAULT[name])) for m in members], dtype=np.int64)
        for m in members:
            unknown = set(rows[m]) - set(BEHAVIOUR_FIELDS)
            if unknown:
                raise ValueError(f"未知的行为字段 Unknown behaviour fields {sorted(unknown)}")
        return cls(members=members, as_of=_epoch(as_of), cols=cols)

    def aligned(self, members: tuple[Hashable, ...]) -> dict[str, np.ndarray]:
        """The columns in the order of ``members`` (members without a row: the defaults)."""
        pos = {m: i for i, m in enumerate(self.members)}
        idx = np.array([pos.get(m, -1) for m in members], dtype=np.int64)
        have = idx >= 0
        out = {}
        for name in BEHAVIOUR_FIELDS:
            col = np.full(len(members), _DEFAULT[name], dtype=np.int64)
            col[have] = np.asarray(self.cols[name], dtype=np.int64)[idx[have]]
            out[name] = col
        return out


def engagement(signin_30d: np.ndarray, reviews_90d: np.ndarray, days_since_seen: np.ndarray,
               active_90d: np.ndarray, *, engaged_signin_days: int, engaged_reviews_90d: int,
               recent_days: float) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
    """(level, score, sign-in points, review points, seen point) by the rule in the module doc.
    ``days_since_seen`` is NaN for a member never seen; ``active_90d``: any sign-in, review or sighting
    in the window."""
    s_pts = np.select([signin_30d >= engaged_signin_days, signin_30d >= 1], [2, 1], default=0)
    r_pts = np.select([reviews_90d >= engaged_reviews_90d, reviews_90d >= 1], [2, 1], default=0)
    seen = np.where(np.isfinite(days_since_seen) & (days_since_seen <= recent_days), 1, 0)
    score = s_pts + r_pts + seen
    level = np.select([score >= 4, score >= 2, (score >= 1) | active_90d], ["high", "medium", "low"],
                      default="none").astype(object)
    return level, score, s_pts, r_pts, seen


def behaviour_columns(beh: Behaviour | None, members: tuple[Hashable, ...], asof: int, cols: dict, glob: dict,
                      *, signin_30d: np.ndarray, events_given: bool, engaged_signin_days: int,
                      engaged_reviews_90d: int, recent_days: float, window_days: float) -> None:
    """Add the behaviour tags' columns (and what their explanations read) to ``cols`` / ``glob``.
    ``signin_30d``: the events' sign-in days in the last 30 days (zeros when ``events_given`` is false)."""
    n = len(members)
    glob["behaviour_given"] = beh is not None
    glob.update(engaged_signin_days=engaged_signin_days, engaged_reviews_90d=engaged_reviews_90d,
                engagement_recent_days=recent_days, engagement_window_days=window_days)
    if beh is not None and beh.as_of != asof:
        raise ValueError("行为数据的截止时间与 as_of 不同 Behaviour was counted to another as_of")
    c = beh.aligned(members) if beh is not None else {k: np.full(n, v, dtype=np.int64) for k, v in _DEFAULT.items()}
    cols["behaviour_given"] = np.full(n, beh is not None)
    cols["engagement_given"] = np.full(n, beh is not None and events_given)
    for name in ("signin_days_90d", "reviews_written", "reviews_90d", "channels_seen", "identities_linked",
                 "online_channels_seen", "pos_seen"):
        cols[name] = c[name]
    written = c["reviews_written"]
    cols["has_reviews"] = written > 0
    cols["review_avg_rating"] = np.where(written > 0, c["review_rating_sum"] / np.maximum(written, 1), 0.0)
    seen_at = c["last_seen_at"]
    cols["has_seen"] = seen_at >= 0
    since = np.where(seen_at >= 0, np.maximum(asof - seen_at, 0) / DAY, np.nan)
    cols["days_since_seen"] = np.nan_to_num(since, nan=0.0)
    signin_30d = np.asarray(signin_30d, dtype=np.int64)
    cols["engaged_signin"] = signin_30d >= engaged_signin_days
    cols["omnichannel_seen"] = (c["online_channels_seen"] > 0) & (c["pos_seen"] > 0)
    active = ((signin_30d > 0) | (c["signin_days_90d"] > 0) | (c["reviews_90d"] > 0)
              | (np.nan_to_num(since, nan=np.inf) <= window_days))
    level, score, s_pts, r_pts, seen = engagement(
        signin_30d, c["reviews_90d"], since, active, engaged_signin_days=engaged_signin_days,
        engaged_reviews_90d=engaged_reviews_90d, recent_days=recent_days)
    cols["engagement_level"] = level
    cols["engagement_score"], cols["engagement_signin_pts"] = score, s_pts
    cols["engagement_review_pts"], cols["engagement_seen_pt"] = r_pts, seen
