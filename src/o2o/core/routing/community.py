"""社区团购: prefer the stores already sending a trip to a leader's pickup point in the slot.

A store with a run to the point in the order's slot (``o2o.groupbuy.runs``) has its courier paid already:
one more order on that trip costs it the pick and pack, not a courier. The engine prices every same-city
shipment with a courier, so the running store looks ``trip`` fen dearer than it really is. Surcharges never
make a node cheaper (:mod:`.surcharges`), so the difference is put on the others instead: with ``trips`` =
{running store: its trip's courier fen}, every candidate pays ``max(trips) - trips.get(node, 0)`` per
shipment. Comparing plans then compares their real extra cost (a running store's courier counted once, by
the run). ``unfilled_extra_fen`` is the largest surcharge, so the preference chooses *between* ways to fill
a line and never leaves one unfilled.

Pure: the caller knows the runs and passes them with the candidate nodes; ``route(..., surcharges=)`` takes
the result.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping

from o2o.core.routing.model import NodeId
from o2o.core.routing.surcharges import Surcharges

__all__ = ["prefer_running"]


def prefer_running(trips: Mapping[NodeId, int], candidates: Iterable[NodeId]) -> Surcharges | None:
    """Surcharges making the running stores (``trips``: node -> its trip's courier fen, >= 0) the cheaper
    sources by their trip; None when there is no running trip (route as usual)."""
    paid = {node: int(fen) for node, fen in trips.items() if int(fen) > 0}
    if not paid:
        return None
    top = max(paid.values())
    per = {node: top - paid.get(node, 0) for node in candidates}
    return Surcharges(per_shipment={node: fen for node, fen in per.items() if fen > 0}, unfilled_extra_fen=top)
