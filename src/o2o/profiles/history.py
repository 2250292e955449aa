"""Reading every member's purchase history from the order tables, for the tag engine.

A purchase is an order with a member and a ``paid_at`` (online orders once paid, POS sales
at once), of any channel; cancelled or expired orders never paid are left out, refunded
ones count with their refunded fen (their net spend falls to what was kept).

Per line: ``payable_fen`` (what the line paid), ``discount_fen``, ``refunded_fen``, ``qty``;
per order: ``paid_at``, ``channel``, the store (``Order.store``: the POS or pickup store, else
the location of the order's first live shipment), the fulfilment mode (the first live
shipment's mode, else the order's ``choice`` when it is a mode); the category is the SKU's
product category and the department its parent category (the category itself at the top).
"""

from __future__ import annotations

from collections.abc import Iterable

from o2o.accounts.models import Member
from o2o.catalog.models import Category
from o2o.core.profile import MODES, HistoryBuilder, Purchases
from o2o.orders.models import Order, OrderLine, Shipment, ShipmentStatus

__all__ = ["member_histories"]

_BATCH = 5000


def _chunks(ids: list[int], size: int = _BATCH) -> Iterable[list[int]]:
    for i in range(0, len(ids), size):
        yield ids[i:i + size]


def member_histories(member_ids: Iterable[int] | None = None) -> Purchases:
    """The purchases of the given members (all members not merged into another when None)."""
    members = Member.objects.filter(merged_into__isnull=True, deleted_at__isnull=True)
    if member_ids is not None:
        members = members.filter(pk__in=list(member_ids))
    builder = HistoryBuilder()
    for pk, created_at in members.order_by("pk").values_list("pk", "created_at"):
        builder.member(pk, registered_at=created_at)
    ids = list(builder.member_keys)
    cats = {pk: (name, parent) for pk, name, parent in Category.objects.values_list("pk", "name", "parent_id")}

    def department(cat_id: int | None) -> str | None:
        if cat_id is None:
            return None
        seen = set()
        while cats[cat_id][1] is not None and cat_id not in seen:
            seen.add(cat_id)
            cat_id = cats[cat_id][1]
        return cats[cat_id][0]

    for chunk in _chunks(ids):
        orders = {o[0]: o for o in Order.objects.filter(member_id__in=chunk, paid_at__isnull=False).values_list(
            "pk", "member_id", "paid_at", "channel", "store_id", "choice")}
        if not orders:
            continue
        ship: dict[int, tuple[str, int]] = {}
        live = Shipment.objects.filter(order_id__in=list(orders)).exclude(
            status__in=[ShipmentStatus.REROUTED, ShipmentStatus.CANCELLED]).order_by("pk")
        for order_id, mode, location_id in live.values_list("order_id", "mode", "location_id"):
            ship.setdefault(order_id, (mode, location_id))
        lines = OrderLine.objects.filter(order_id__in=list(orders)).values_list(
            "order_id", "payable_fen", "discount_fen", "refunded_fen", "qty", "sku__product__category_id")
        for order_id, payable, discount, refunded, qty, cat_id in lines:
            _, member_id, paid_at, channel, store_id, choice = orders[order_id]
            mode, location_id = ship.get(order_id, (choice if choice in MODES else None, None))
            store = store_id if store_id is not None else location_id
            builder.line(member_id, order_id, paid_at, payable, discount_fen=discount, refunded_fen=refunded,
                         qty=qty, channel=channel, store=store, mode=mode,
                         category=cats[cat_id][0] if cat_id in cats else None, department=department(cat_id))
    purchases, _ = builder.build()
    return purchases
