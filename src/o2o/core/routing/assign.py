"""The exact assignment of an order's lines to a fixed set of sources.

Given a set S of at most three sources (at distinct nodes), each line goes to one source
of S that covers it, or stays unfilled at the penalty P. Costs are additive over lines
(:mod:`.costs`), so without further constraints each line simply takes its cheapest choice
and the set's value is::

    U(S) = sum_{s in S} a_s + parcel penalty * (|S| - 1) + time_cost(max eta)
           + sum_lines min(P, min_{s in S covering l} c_{s,l})

The only coupling is that every source of S must receive at least one line (a set with an
idle source is the same plan as the smaller set, which is solved on its own). When the
per-line choice leaves a source idle, a dynamic programme over the lines whose state is
the set of used sources (at most 2^3 = 8 states) finds the cheapest assignment that uses
them all: exact, O(8 x 4 x lines).
"""

from __future__ import annotations

from collections.abc import Sequence

from o2o.core.routing.candidates import Source

__all__ = ["UNFILLED", "assign_lines"]

UNFILLED = -1


def assign_lines(members: Sequence[Source], m: int, penalty: int) -> tuple[int, tuple[int, ...]] | None:
    """The cheapest line assignment using every member: (line costs incl. penalties, assignment).

    ``assignment[l]`` is an index into ``members`` or ``UNFILLED``. None when no assignment
    uses every member (some member covers no line that another could not take... or none).
    """
    k = len(members)
    full = (1 << k) - 1
    assign = [UNFILLED] * m
    total = 0
    used = 0
    for line in range(m):
        best, best_i = penalty, UNFILLED
        for i, s in enumerate(members):
            if s.cover >> line & 1 and s.line_costs[line] <= best:
                if s.line_costs[line] < best or best_i == UNFILLED:
                    best, best_i = s.line_costs[line], i
        assign[line] = best_i
        total += best
        if best_i != UNFILLED:
            used |= 1 << best_i
    if used == full:
        return total, tuple(assign)
    return _assign_all_used(members, m, penalty)


def _assign_all_used(members: Sequence[Source], m: int, penalty: int) -> tuple[int, tuple[int, ...]] | None:
    """Dynamic programme over lines; state = the set of members used so far."""
    k = len(members)
    full = (1 << k) - 1
    layers: list[dict[int, tuple[int, int, int]]] = []  # state -> (cost, previous state, choice)
    current: dict[int, tuple[int, int, int]] = {0: (0, 0, UNFILLED)}
    for line in range(m):
        options = [(UNFILLED, penalty)] + [
            (i, s.line_costs[line]) for i, s in enumerate(members) if s.cover >> line & 1
        ]
        nxt: dict[int, tuple[int, int, int]] = {}
        for state, (cost, _, _) in current.items():
            for i, c in options:
                new_state = state if i == UNFILLED else state | (1 << i)
                new_cost = cost + c
                old = nxt.get(new_state)
                if old is None or new_cost < old[0]:
                    nxt[new_state] = (new_cost, state, i)
        layers.append(nxt)
        current = nxt
    if full not in current:
        return None
    assign = [UNFILLED] * m
    state = full
    for line in range(m - 1, -1, -1):
        _, previous, choice = layers[line][state]
        assign[line] = choice
        state = previous
    return current[full][0], tuple(assign)
