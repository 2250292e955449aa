"""Helpers for the returns and POS order tests (no tests here): orders in the states the tests
need, made with the existing services, and a recording fake refunder."""

from __future__ import annotations

from datetime import datetime

from django.db import transaction
from django.db.models import F
from django.utils import timezone

from o2o.core.orders import Adjustment
from o2o.core.orders import ShipmentStatus as SS
from o2o.fulfilment.handover import routed_shipment_fulfil
from o2o.orders import history, lifecycle
from o2o.orders.actors import By, system
from o2o.orders.locks import lock_order
from o2o.orders.models import Order, Shipment
from o2o.orders.placement import PlaceRequest, order_place
from o2o.orders.pos_orders import pos_order_record
from tests.integration.fulfilment.world import P

# How each mode's shipment goes from allocated to completed (the goods leave the store first).
PATH = {"pickup": [SS.READY_FOR_PICKUP, SS.COMPLETED],
        "same_city": [SS.AWAITING_COURIER, SS.OUT_FOR_DELIVERY, SS.COMPLETED],
        "express": [SS.SHIPPED, SS.COMPLETED]}
CLERK = system("test-clerk")


class OneFenOff:
    """A pricing step (``O2O["PRICING_STEPS"]``) that makes payables uneven: 1 fen off every line."""

    name = "fen"

    def discount(self, lines, context) -> Adjustment:  # noqa: ANN001
        return Adjustment("fen", "立减1分 1 fen off", len(lines), (1,) * len(lines))


def discounted(settings) -> None:  # noqa: ANN001 - the pytest-django settings fixture
    settings.O2O = {**settings.O2O, "PRICING_ENGINE": "o2o.orders.pricing.steps_engine",
                    "PRICING_STEPS": ["tests.e2e.orders.test_returns_support.OneFenOff"]}


def placed_order(w, mem, pairs, *, choice: str = "pickup", pickup=None) -> Order:  # noqa: ANN001
    req = PlaceRequest(lines=[(s.pk, q) for s, q in pairs], channel="mini_program", choice=choice, lat=P.lat,
                       lng=P.lng, pickup_location_id=(pickup or w.a).pk if choice == "pickup" else None)
    with transaction.atomic():
        return order_place(req=req, member=mem, by=By(member_id=mem.pk, label=f"member:{mem.pk}"))


def paid_order(w, mem, pairs, **kw) -> Order:  # noqa: ANN001
    order = placed_order(w, mem, pairs, **kw)
    with transaction.atomic():
        order = lock_order(order.pk)
        lifecycle.order_paid(order, amount_fen=order.total_fen, by=system("test-payment"))
    return order


def handed_over(order: Order) -> Order:
    """Every open shipment leaves its store (stock goes) and completes."""
    with transaction.atomic():
        lock_order(order.pk)
        for sh in Shipment.objects.filter(order=order, status=SS.ALLOCATED).order_by("pk"):
            routed_shipment_fulfil(routed_id=sh.routed_id, who=CLERK.who, reason="handed over")
            for target in PATH[sh.mode]:
                history.shipment_move(sh, target, by=CLERK)
    order.refresh_from_db()
    assert order.status == "completed", order.status
    return order


def completed_order(w, mem, pairs, **kw) -> Order:  # noqa: ANN001
    return handed_over(paid_order(w, mem, pairs, **kw))


def pos_order(loc, receipt: str, lines, paid_fen: int, *, method: str = "cash", member=None,  # noqa: ANN001
              at: datetime | None = None) -> Order:
    """A till's receipt recorded through the service; ``lines`` = [(sku, qty, unit_price_fen)]."""
    with transaction.atomic():
        order, _ = pos_order_record(location_id=loc.pk, receipt_no=receipt,
                                    lines=[(s.pk, q, p) for s, q, p in lines], paid_fen=paid_fen,
                                    payment_method=method, member_id=member.pk if member else None,
                                    occurred_at=at or timezone.now(), by=CLERK)
    return order


class Refunds:
    """A recording refunder: adds to ``Order.refunded_fen`` as the payments hook does."""

    def __init__(self) -> None:
        self.calls: list[tuple[int, int, int | None]] = []

    def __call__(self, order, amount_fen, reason, by, *, order_return=None) -> None:  # noqa: ANN001
        self.calls.append((order.pk, amount_fen, order_return.pk if order_return is not None else None))
        won = Order.objects.filter(pk=order.pk, refunded_fen__lte=F("paid_fen") - amount_fen).update(
            refunded_fen=F("refunded_fen") + amount_fen)
        assert won, "refund beyond what was paid"

    def total(self, order_id: int) -> int:
        return sum(a for o, a, _ in self.calls if o == order_id)


def fake_refunds(monkeypatch) -> Refunds:  # noqa: ANN001
    fake = Refunds()
    monkeypatch.setattr(lifecycle, "_refunder", [])
    lifecycle.set_refunder(fake)
    return fake
