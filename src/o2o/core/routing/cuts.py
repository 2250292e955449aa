"""Cuts of one stock row for the clairvoyant bound's cut-and-price (:mod:`.bound`).

A stock row says ``sum_{o,p} qty(o, p) x[o, p] <= usable``: the orders' plans take no more
units of a SKU at a node than it holds. Whole plans obey more than that; the cuts here
state some of it. Every cut's coefficient in a plan is a number per line of the plan that
depends only on the order, the node, the SKU and the line's quantity there, so its dual
is a per-line schedule of that order (:attr:`.surcharges.Surcharges.per_line`) and the
pricing search stays exact: the Lagrangian bound stays a true lower bound.

Pure: numbers in, cuts out.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np

from o2o.core.routing.model import NodeId, SkuId

__all__ = ["CoverCut", "Cut", "RoundingCut", "broken_cuts", "most_broken_cover"]


@dataclass(frozen=True)
class RoundingCut:
    """A rounding (Chvatal-Gomory) cut of one stock row, multiplier k / d:
    ``sum floor(k qty / d) x <= floor(k usable / d)``.

    Valid for every whole choice of plans: the stock row says ``sum qty x <= usable``;
    multiplied by k / d and with every coefficient rounded down it stays true, and with whole
    ``x`` the left side is whole, so the right side rounds down too. It cuts off the LP's
    fractions of lines of several units (two orders wanting 2 of 3 units, at one and a half).
    Its coefficient depends only on the line's quantity at that node, so a cut's price is a
    per-line schedule (:attr:`.surcharges.Surcharges.per_line`) and the pricing search stays
    exact.
    """

    key: tuple[NodeId, SkuId]
    multiplier: int
    divisor: int
    rhs: int

    def coefficient(self, qty: int, order: int) -> int:  # noqa: ARG002 - the same for every order
        return (self.multiplier * qty) // self.divisor


@dataclass(frozen=True)
class CoverCut:
    """An extended cover cut of one stock row: ``sum_{o in E} x_o <= |C| - 1``.

    ``C`` (``members``: order -> units) is a set of orders whose lines at the node together
    want more than the usable stock: in whole plans they cannot all be served from it, so
    at most ``|C| - 1`` of them are. ``E`` adds every other order whose line there is at
    least as big as the biggest of ``C`` (``extend_from``): any ``|C|`` orders of ``E``
    together want at least as much as ``C`` (Nemhauser & Wolsey II.2.2, extended covers).
    Unlike a rounding cut it depends on which orders share the row, not only on the
    quantities, and cuts off what no rounding cut can: three orders take one of 4 units
    each and a fourth takes half of its line of 2. Its coefficient is still per order and
    per line (1 for a line of an order of ``E``, else 0), so the cut's price is a per-line
    schedule of that order and the pricing search stays exact.
    """

    key: tuple[NodeId, SkuId]
    members: tuple[tuple[int, int], ...]  # (order, units it wants at the node), sorted
    extend_from: int
    rhs: int

    def coefficient(self, qty: int, order: int) -> int:
        if qty <= 0:
            return 0
        if qty >= self.extend_from:
            return 1
        return int(any(o == order and qty >= q for o, q in self.members))


Cut = RoundingCut | CoverCut


def broken_cuts(key: tuple[NodeId, SkuId], entries: Sequence[tuple[int, int]], usable: int, x: np.ndarray,
                order_of: Sequence[int], largest_divisor: int = 12) -> list[tuple[float, Cut]]:
    """The cuts of one stock row that the LP solution ``x`` breaks, with how much each is broken.

    ``entries``: (column, units it takes of the row); ``order_of[column]``: its order.
    Rounding cuts: every multiplier k / d with d <= ``largest_divisor``. Cover cuts: the
    most broken one (:func:`most_broken_cover`).
    """
    found: list[tuple[float, Cut]] = []
    for d in range(2, min(largest_divisor, max(q for _, q in entries)) + 1):
        for k in range(1, d):
            if (k * usable) % d == 0:
                continue
            cut = RoundingCut(key, k, d, (k * usable) // d)
            excess = sum(cut.coefficient(q, 0) * x[c] for c, q in entries) - cut.rhs
            if excess > 1e-4:
                found.append((float(excess), cut))
    cover = most_broken_cover(key, entries, usable, x, order_of)
    if cover is not None:
        found.append(cover)
    return found


def most_broken_cover(key: tuple[NodeId, SkuId], entries: Sequence[tuple[int, int]], usable: int, x: np.ndarray,
                      order_of: Sequence[int]) -> tuple[float, CoverCut] | None:
    """The row's most broken cover cut under ``x``, with how much it is broken, or None.

    A cover C breaks ``sum_C x_o <= |C| - 1`` by ``1 - sum_C (1 - x_o)``, so the most
    broken one is a 0-1 knapsack: the least ``sum (1 - x_o)`` over sets of orders whose
    units exceed ``usable``, solved exactly by a table over the units (capped at
    ``usable + 1``). ``x_o`` is the share of order o's plans that take the row.
    """
    share: dict[int, float] = {}
    units: dict[int, int] = {}
    for c, q in entries:
        if x[c] > 1e-9 and q > 0:
            o = order_of[c]
            share[o] = share.get(o, 0.0) + float(x[c])
            units[o] = min(units.get(o, q), q)
    top = usable + 1
    table: dict[int, tuple[float, tuple[int, ...]]] = {0: (0.0, ())}  # units (capped) -> least cost, orders
    for o in sorted(share):
        for w, (cost, chosen) in list(table.items()):
            nw, nc = min(top, w + units[o]), cost + max(0.0, 1.0 - share[o])
            if nw not in table or nc < table[nw][0] - 1e-12:
                table[nw] = (nc, (*chosen, o))
    if top not in table or table[top][0] > 1 - 1e-4:
        return None
    members = tuple(sorted((o, units[o]) for o in table[top][1]))
    cut = CoverCut(key, members, max(q for _, q in members), len(members) - 1)
    excess = sum(cut.coefficient(q, order_of[c]) * x[c] for c, q in entries) - cut.rhs
    return (float(excess), cut) if excess > 1e-4 else None
