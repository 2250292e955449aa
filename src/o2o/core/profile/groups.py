"""Vectorised group-by helpers over member indices (numpy only): per-member sums, tops and shares."""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

__all__ = ["Orders", "TopKeys", "group_bounds", "orders_of", "top_keys"]


def group_bounds(sorted_member: np.ndarray, n: int) -> tuple[np.ndarray, np.ndarray]:
    """For rows sorted by member: each member's [start, end) in them."""
    ids = np.arange(n)
    return np.searchsorted(sorted_member, ids, "left"), np.searchsorted(sorted_member, ids, "right")


@dataclass(frozen=True)
class TopKeys:
    """Per member: the ``k`` keys with the largest weight (-1 padded), their weights, and how many keys."""

    keys: np.ndarray  # (n, k)
    weights: np.ndarray  # (n, k)
    distinct: np.ndarray  # (n,)
    pair_member: np.ndarray  # every (member, key) pair's member
    pair_weight: np.ndarray  # and its weight


def top_keys(member: np.ndarray, key: np.ndarray, weight: np.ndarray, n: int, k: int = 3) -> TopKeys:
    """Largest-weight keys per member; ties broken by the smaller key (stable, explainable)."""
    ok = key >= 0
    member, key, weight = member[ok].astype(np.int64), key[ok].astype(np.int64), weight[ok].astype(float)
    width = int(key.max()) + 1 if len(key) else 1
    uniq, inv = np.unique(member * width + key, return_inverse=True)
    wsum = np.bincount(inv.ravel(), weights=weight, minlength=len(uniq))
    um, uk = uniq // width, uniq % width
    order = np.lexsort((uk, -wsum, um))
    um, uk, wsum = um[order], uk[order], wsum[order]
    start, _ = group_bounds(um, n)
    rank = np.arange(len(um)) - start[um]
    keys = np.full((n, k), -1, dtype=np.int64)
    weights = np.zeros((n, k))
    sel = rank < k
    keys[um[sel], rank[sel]] = uk[sel]
    weights[um[sel], rank[sel]] = wsum[sel]
    return TopKeys(keys=keys, weights=weights, distinct=np.bincount(um, minlength=n), pair_member=um,
                   pair_weight=wsum)


@dataclass(frozen=True)
class Orders:
    """Order-level rows (one per basket) sorted by (member, time), and each member's [start, end)."""

    member: np.ndarray
    at: np.ndarray
    paid: np.ndarray  # amount_fen summed
    net: np.ndarray  # paid - refunded
    refunded: np.ndarray
    discount: np.ndarray
    qty: np.ndarray
    lines: np.ndarray
    categories: np.ndarray  # distinct categories in the basket
    channel: np.ndarray
    store: np.ndarray
    mode: np.ndarray
    start: np.ndarray
    end: np.ndarray

    @property
    def count(self) -> np.ndarray:
        return self.end - self.start


def orders_of(member: np.ndarray, basket: np.ndarray, at: np.ndarray, amount: np.ndarray, refunded: np.ndarray,
              discount: np.ndarray, qty: np.ndarray, channel: np.ndarray, store: np.ndarray, mode: np.ndarray,
              category: np.ndarray, n: int) -> Orders:
    """Lines -> orders: sums per basket, the first line's channel/store/mode, the earliest line's time."""
    if len(basket) == 0:
        empty = np.zeros(0, dtype=np.int64)
        start, end = np.zeros(n, dtype=np.int64), np.zeros(n, dtype=np.int64)
        return Orders(*(empty,) * 12, start=start, end=end)
    order = np.argsort(basket, kind="stable")
    b = basket[order]
    starts = np.flatnonzero(np.r_[True, b[1:] != b[:-1]])

    def per(col: np.ndarray, how: np.ufunc = np.add) -> np.ndarray:
        return how.reduceat(col[order], starts)

    o_member = member[order][starts]
    o_at = per(at, np.minimum)
    paid, refunded = per(amount), per(refunded)
    # distinct categories per basket
    bidx = np.repeat(np.arange(len(starts)), np.diff(np.r_[starts, len(b)]))
    cat = category[order]
    known = cat >= 0
    pairs = np.unique(bidx[known] * (int(cat.max()) + 1 if known.any() else 1) + cat[known])
    width = int(cat.max()) + 1 if known.any() else 1
    ncat = np.bincount(pairs // width, minlength=len(starts))
    rows = np.lexsort((o_at, o_member))
    o_member = o_member[rows]
    start, end = group_bounds(o_member, n)
    return Orders(
        member=o_member, at=o_at[rows], paid=paid[rows], net=(paid - refunded)[rows], refunded=refunded[rows],
        discount=per(discount)[rows], qty=per(qty)[rows], lines=np.diff(np.r_[starts, len(b)])[rows],
        categories=ncat[rows], channel=channel[order][starts][rows], store=store[order][starts][rows],
        mode=mode[order][starts][rows], start=start, end=end,
    )
