"""The fulfilment app's part of a member's deletion (PIPL), called by ``o2o.members.privacy.member_erase``.

For the member's orders (by number, the routing decisions' ``order_ref``): the destination of every
routing decision is coarsened to two decimals (about a kilometre: the district is kept for the routing
statistics, the home is not), and text a person typed about the order (a cancel reason copied into a
routed shipment's ``status_reason``) is cut out. Costs, plans, statuses and times stay.
"""

from __future__ import annotations

from collections.abc import Iterable

from o2o.fulfilment.models import RoutedShipment, RoutingDecision

COARSE_DIGITS = 2


def _cut(text: str, texts: Iterable[str], mark: str) -> str:
    for t in sorted(texts, key=len, reverse=True):
        if t and t in text:
            text = text.replace(t, mark)
    return text


def erase_routing_text(order_refs: list[str], *, texts: set[str], mark: str) -> dict[str, int]:
    """Coarsen the destinations and cut ``texts`` out of the shipments' reasons; counts per kind."""
    decisions = RoutingDecision.objects.filter(order_ref__in=order_refs)
    coarsened = 0
    for pk, lat, lng in decisions.values_list("pk", "dest_lat", "dest_lng"):
        c_lat, c_lng = round(lat, COARSE_DIGITS), round(lng, COARSE_DIGITS)
        if (c_lat, c_lng) != (lat, lng):
            coarsened += RoutingDecision.objects.filter(pk=pk).update(dest_lat=c_lat, dest_lng=c_lng)
    cut = 0
    if texts:
        for pk, reason in (RoutedShipment.objects.filter(decision__in=decisions).exclude(status_reason="")
                           .values_list("pk", "status_reason")):
            new = _cut(reason, texts, mark)[:200]
            if new != reason:
                cut += RoutedShipment.objects.filter(pk=pk).update(status_reason=new)
    return {"routing_destinations": coarsened, "routing_reasons": cut}
