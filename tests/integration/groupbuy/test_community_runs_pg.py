"""社区团购 runs under real concurrency (PostgreSQL, one connection per thread): several members ordering to one
point at once end in one run of the slot, and their shipments packed at once in one courier booking."""

from __future__ import annotations

import pytest
from django.db import connection, transaction

from o2o.accounts.pii_services import member_set_phone
from o2o.groupbuy import community, runs
from o2o.groupbuy.models import CommunityRun, CommunityRunShipment
from o2o.orders import couriers
from o2o.orders.models import CourierTask, Shipment
from tests.concurrency import hold_first, race
from tests.factories import member, sku, stock_in
from tests.integration.fulfilment.world import build
from tests.integration.groupbuy.support import book_at_once, by, fresh_couriers, leader, pay
from tests.integration.orders.test_delivery_world import pack

__all__ = ["book_at_once", "fresh_couriers"]  # the autouse fixtures
pytestmark = [pytest.mark.postgres, pytest.mark.django_db(transaction=True)]

MEMBERS = 6


def test_members_ordering_to_one_point_at_once_end_in_one_run_and_one_booking(monkeypatch):
    assert connection.vendor == "postgresql"
    w = build(monkeypatch)
    boss = member("团长")[0]
    member_set_phone(member=boss, phone="13900002222")
    point = leader(w, boss)
    # One SKU each: their stock reservations lock different rows, so nothing but the run serialises them.
    skus = [sku() for _ in range(MEMBERS)]
    for s in skus:
        stock_in(w.a, s, 5)
    buyers = [member()[0] for _ in range(MEMBERS)]
    monkeypatch.setattr(runs, "_open_run", hold_first(runs._open_run))  # a real wait on the run, not luck

    def order(m, s):  # noqa: ANN001, ANN202
        def job() -> int:
            with transaction.atomic():
                return community.community_order_place(leader_id=point.pk, member=m, lines=[(s.pk, 1)],
                                                       channel="mini_program", choice="same_city", by=by(m)).order_id
        return job

    order_ids = race(*(order(m, s) for m, s in zip(buyers, skus, strict=True)))
    assert len(order_ids) == MEMBERS
    [run] = CommunityRun.objects.all()
    assert (run.leader_id, run.location_id) == (point.pk, w.a.pk)
    assert CommunityRunShipment.objects.filter(run=run).count() == MEMBERS
    for oid in order_ids:
        pay(oid)
    shipments = list(Shipment.objects.filter(order_id__in=order_ids))
    assert {s.status for s in shipments} == {"allocated"}

    results = race(*(lambda s=s: pack(s) for s in shipments))  # the store marks them all ready at once
    [task] = CourierTask.objects.all()
    assert {r.pk for r in results} == {task.pk}
    run.refresh_from_db()
    assert run.lead_shipment_id == task.shipment_id
    assert CommunityRunShipment.objects.filter(run=run, boarded_at__isnull=False).count() == MEMBERS
    task.refresh_from_db()
    assert task.external_id  # booked once, after the lead's commit
    booked = sum(len(couriers.simulator(p).requests) for p in couriers.PROVIDERS)
    assert booked == 1
