"""The fulfilment app's part of a member's deletion (PIPL), called by ``o2o.members.privacy.member_erase``.

For the member's orders (by number, the routing decisions' ``order_ref``):

* the destination of every routing decision is coarsened to two decimals (about a kilometre: the district
  is kept for the routing statistics, the home is not), in one UPDATE;
* the exact store-to-home distances in the decisions' ``plan`` / ``inputs`` (``distance_m`` per store:
  enough to triangulate the home) are rounded to whole kilometres, coordinates in them to two decimals,
  and the "x.x km" in the explanation to whole kilometres;
* text a person or a courier typed about the order (a cancel reason copied into a routed shipment's
  ``status_reason``) is cut out, including where it was cut off at 200 characters.

Costs, statuses and times stay. The stock ledger (append-only) never gets typed text: a reroute and a
cancel give it a fixed reason (``reroute``, ``orders.lifecycle``).
"""

from __future__ import annotations

import re
from typing import Any

from django.db.models import F
from django.db.models.functions import Round

from o2o.fulfilment.models import RoutedShipment, RoutingDecision

COARSE_DIGITS = 2
COARSE_M = 1000  # distances to whole kilometres
_DISTANCE_KEYS = frozenset({"distance_m", "dist_m"})
_COORD_KEYS = frozenset({"lat", "lng", "latitude", "longitude", "dest_lat", "dest_lng"})
_KM = re.compile(r"(?<![~\d.])(\d+(?:\.\d+)?) km")


#: a typed text cut off at the end of a longer one (``history.log`` keeps 200 characters) is still found when
#: at least MIN_TAIL characters of it are left, or MIN_CUT_TAIL when the longer text is CUT_AT long (it was
#: cut there): never a couple of characters that merely happen to end a long message.
MIN_TAIL, MIN_CUT_TAIL, CUT_AT = 8, 6, 200


def cut(text: str, texts: set[str], mark: str) -> str:
    """``text`` with each of ``texts`` (longest first) replaced by ``mark``; a text cut off at the end of
    ``text`` (its first characters end ``text``: a reason truncated to 200 characters) is replaced too."""
    for t in sorted(texts, key=len, reverse=True):
        if not t:
            continue
        if t in text:
            text = text.replace(t, mark)
            continue
        for k in range(min(len(t) - 1, len(text)), 0, -1):
            if text.endswith(t[:k]):
                if k >= MIN_TAIL or (len(text) >= CUT_AT and k >= MIN_CUT_TAIL):
                    text = text[:-k] + mark
                break
    return text


def coarsen_json(data: Any) -> Any:
    """``data`` (JSON) with distances rounded to :data:`COARSE_M` and coordinates to two decimals."""
    if isinstance(data, dict):
        out = {}
        for k, v in data.items():
            if k in _DISTANCE_KEYS and isinstance(v, int | float) and not isinstance(v, bool):
                out[k] = int(round(v / COARSE_M) * COARSE_M)
            elif k in _COORD_KEYS and isinstance(v, float):
                out[k] = round(v, COARSE_DIGITS)
            else:
                out[k] = coarsen_json(v)
        return out
    if isinstance(data, list):
        return [coarsen_json(v) for v in data]
    return data


def coarsen_text(text: str) -> str:
    """"2.3 km" -> "~2 km" (idempotent)."""
    return _KM.sub(lambda m: f"~{round(float(m.group(1)))} km", text)


def erase_routing_text(order_refs: list[str], *, texts: set[str], mark: str) -> dict[str, int]:
    """Coarsen the destinations and distances, cut ``texts`` out of the shipments' reasons; counts per kind."""
    if not order_refs:
        return {"routing_destinations": 0, "routing_plans": 0, "routing_reasons": 0}
    decisions = RoutingDecision.objects.filter(order_ref__in=order_refs)
    coarsened = decisions.update(dest_lat=Round(F("dest_lat"), COARSE_DIGITS),
                                 dest_lng=Round(F("dest_lng"), COARSE_DIGITS))
    plans = []
    for d in decisions.only("pk", "plan", "inputs", "explanation"):
        new = (coarsen_json(d.plan), coarsen_json(d.inputs), coarsen_text(d.explanation))
        if new != (d.plan, d.inputs, d.explanation):
            d.plan, d.inputs, d.explanation = new
            plans.append(d)
    RoutingDecision.objects.bulk_update(plans, ["plan", "inputs", "explanation"], batch_size=200)
    shipments = []
    if texts:
        for s in RoutedShipment.objects.filter(decision__in=decisions).exclude(status_reason="").only(
                "pk", "status_reason"):
            new_reason = cut(s.status_reason, texts, mark)[:200]
            if new_reason != s.status_reason:
                s.status_reason = new_reason
                shipments.append(s)
        RoutedShipment.objects.bulk_update(shipments, ["status_reason"], batch_size=200)
    return {"routing_destinations": coarsened, "routing_plans": len(plans), "routing_reasons": len(shipments)}
