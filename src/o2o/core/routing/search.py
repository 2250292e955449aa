"""The exact search over source sets: the cheapest plans of one order with at most 3 parcels.

A plan is a set S of 1..3 sources at distinct nodes plus an assignment of lines. Because
line costs are additive (:mod:`.costs`), the value of a set, when each line takes its
cheapest choice and every source gets a line, is the closed form U(S) of :mod:`.assign`;
otherwise the set's true value is higher but never below U(S), and a smaller set does at
least as well. So:

1. U is computed **for many sets at once** with numpy over the cost matrix
   ``M[s, l] = min(c_{s,l}, P)``: all singles, all pairs, and the triples whose pair prefix
   can still beat the incumbent (a lower bound over every third source: the smallest
   fixed cost and the column minima of M among the sources after the pair).
2. Sets are taken in increasing U; each is assigned exactly (:func:`.assign.assign_lines`)
   and offered to the top-K list; the search stops when U reaches the K-th best objective.
   A set skipped this way has value >= U >= that objective, so it could not enter the
   top K: the best plan, and the K best source sets among the kept sources, are exact.

The empty plan (everything unfilled) is always a candidate, so the search never fails.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np

from o2o.core.routing.assign import UNFILLED, assign_lines
from o2o.core.routing.basket import Basket
from o2o.core.routing.candidates import Source, cost_matrix
from o2o.core.routing.config import RoutingConfig
from o2o.core.routing.model import Choice

__all__ = ["Option", "search"]

_CHUNK = 2_000_000  # most (pair, third, line) cells built at once when bounding triples
_NONE = np.iinfo(np.int64).max // 4


@dataclass(frozen=True, slots=True)
class Option:
    """A solved set: objective, the sources (at distinct nodes), and each line's source index or -1."""

    objective: int
    sources: tuple[Source, ...]
    assign: tuple[int, ...]


class _TopK:
    """The K best options seen, at most one per set of (node, mode): carriers do not count as
    different plans (the same node set with another courier is the same stock decision)."""

    def __init__(self, k: int) -> None:
        self.k = max(1, k)
        self._best: dict[frozenset[tuple[object, str]], Option] = {}

    def threshold(self) -> int:
        """An option must have an objective below this to enter."""
        if len(self._best) < self.k:
            return _NONE
        return sorted(o.objective for o in self._best.values())[self.k - 1]

    def offer(self, option: Option) -> None:
        key = frozenset((s.node.node_id, s.mode.value) for s in option.sources)
        old = self._best.get(key)
        if old is not None and old.objective <= option.objective:
            return
        if old is None and option.objective >= self.threshold():
            return
        self._best[key] = option
        if len(self._best) > self.k:
            worst = max(self._best, key=lambda kk: self._best[kk].objective)
            del self._best[worst]

    def best_first(self) -> list[Option]:
        return sorted(self._best.values(), key=lambda o: o.objective)


def search(
    sources: Sequence[Source],
    basket: Basket,
    config: RoutingConfig,
    choice: Choice,
    k_best: int = 1,
    offset: int = 0,
) -> list[Option]:
    """The ``k_best`` best options (distinct source sets, best first); objectives include ``offset``."""
    penalty = max(0, config.unfilled_line_penalty_fen)
    parcel = max(0, config.extra_parcel_penalty_fen)
    max_parcels = min(3, max(1, config.max_parcels))
    m = basket.m
    top = _TopK(k_best)
    top.offer(Option(offset + penalty * m, (), (UNFILLED,) * m))
    srcs = sorted(sources, key=lambda s: s.fixed_fen)
    n = len(srcs)
    if n == 0 or m == 0:
        return top.best_first()

    cost = cost_matrix(srcs, m, penalty)
    fixed = np.array([s.fixed_fen for s in srcs], dtype=np.int64)
    eta = np.array([s.eta.latest_min for s in srcs], dtype=np.int64)
    node_of: dict[object, int] = {}
    node = np.array([node_of.setdefault(s.node.node_id, len(node_of)) for s in srcs], dtype=np.int64)
    lam, cap = config.time_value(choice), max(0, config.time_value_cap_fen)

    def time_cost(latest: np.ndarray) -> np.ndarray:
        return np.minimum(lam * latest, cap)

    def evaluate(values: np.ndarray, members: list[np.ndarray]) -> None:
        for idx in np.argsort(values, kind="stable").tolist():
            if values[idx] >= top.threshold():
                break
            group = tuple(srcs[int(ids[idx])] for ids in members)
            solved = assign_lines(group, m, penalty)
            if solved is None:
                continue
            lines_cost, assign = solved
            objective = (
                offset
                + sum(s.fixed_fen for s in group)
                + parcel * (len(group) - 1)
                + config.time_cost(choice, max(s.eta.latest_min for s in group))
                + lines_cost
            )
            top.offer(Option(objective, group, assign))

    # Singles.
    every = np.arange(n)
    evaluate(offset + fixed + time_cost(eta) + cost.sum(axis=1), [every])
    if max_parcels < 2 or n < 2:
        return top.best_first()

    # Pairs i < j at distinct nodes.
    first, second = np.triu_indices(n, 1)
    distinct = node[first] != node[second]
    first, second = first[distinct], second[distinct]
    pair_lines = np.minimum(cost[first], cost[second])
    pair_base = offset + fixed[first] + fixed[second] + parcel
    evaluate(pair_base + time_cost(np.maximum(eta[first], eta[second])) + pair_lines.sum(axis=1), [first, second])
    if max_parcels < 3 or n < 3:
        return top.best_first()

    # Triples i < j < k. Sources are sorted by fixed cost, so a third source after j costs at
    # least fixed[j + 1] and its line costs are at least the suffix minima of M from j + 1:
    # that bounds every triple extending a pair. Pairs are taken in increasing bound, a few
    # hundred at a time, so the incumbent tightens before most triples are ever built.
    suffix_min = np.full((n + 1, m), penalty, dtype=np.int64)
    for row in range(n - 1, -1, -1):
        suffix_min[row] = np.minimum(suffix_min[row + 1], cost[row])
    alive = second < n - 1
    first, second, pair_lines, pair_base = first[alive], second[alive], pair_lines[alive], pair_base[alive]
    pair_time = np.maximum(eta[first], eta[second])
    prefix = pair_base + parcel + fixed[np.minimum(second + 1, n - 1)] + time_cost(pair_time)
    prefix += np.minimum(pair_lines, suffix_min[second + 1]).sum(axis=1)
    by_prefix = np.argsort(prefix, kind="stable")
    rows = max(1, min(256, _CHUNK // max(1, n * m)))
    for start in range(0, len(by_prefix), rows):
        chunk = by_prefix[start : start + rows]
        chunk = chunk[prefix[chunk] < top.threshold()]
        if not len(chunk):
            break
        f, s_, pl, pb = first[chunk], second[chunk], pair_lines[chunk], pair_base[chunk]
        pair_row, third = np.nonzero(
            (every[None, :] > s_[:, None]) & (node[None, :] != node[f][:, None]) & (node[None, :] != node[s_][:, None])
        )
        if not len(third):
            continue
        lines = np.minimum(pl[pair_row], cost[third]).sum(axis=1)
        latest = np.maximum(pair_time[chunk][pair_row], eta[third])
        value = pb[pair_row] + parcel + fixed[third] + time_cost(latest) + lines
        keep = value < top.threshold()
        evaluate(value[keep], [f[pair_row][keep], s_[pair_row][keep], third[keep]])
    return top.best_first()
