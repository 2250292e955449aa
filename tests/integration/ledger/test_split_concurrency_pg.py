"""Splitting and merging a hot item while others reserve and split it too: totals never change
and the stock always equals its ledger (PostgreSQL row locks)."""

from __future__ import annotations

import random
import threading

import pytest
from django.db import connections, transaction

from o2o.inventory import buckets
from o2o.inventory.checks import run as run_checks
from o2o.inventory.errors import InsufficientStock
from o2o.inventory.ledger import Who
from o2o.inventory.reservations import reservation_create
from o2o.inventory.stock import stock_receive
from o2o.inventory.validation import Line
from tests.factories import location, sku

pytestmark = [pytest.mark.postgres, pytest.mark.django_db(transaction=True)]


def test_concurrent_splits_and_reservations_keep_stock_equal_to_ledger():
    loc, item = location(), sku()
    with transaction.atomic():
        stock_receive(location_id=loc.pk, lines=[Line(item.pk, 200)], who=Who(label="setup"))
    errors: list[BaseException] = []
    granted: list[int] = []
    lock = threading.Lock()

    def splitter(n: int) -> None:
        rng = random.Random(n)
        try:
            for _ in range(15):
                with transaction.atomic():
                    buckets.split(location_id=loc.pk, sku_id=item.pk, buckets=rng.randint(1, 8))
        except BaseException as exc:  # noqa: BLE001
            errors.append(exc)
        finally:
            connections.close_all()

    def reserver(n: int) -> None:
        rng = random.Random(100 + n)
        try:
            for _ in range(15):
                q = rng.randint(1, 3)
                try:
                    with transaction.atomic():
                        reservation_create(location_id=loc.pk, lines=[Line(item.pk, q)], who=Who(label="r"))
                except InsufficientStock:
                    continue
                with lock:
                    granted.append(q)
        except BaseException as exc:  # noqa: BLE001
            errors.append(exc)
        finally:
            connections.close_all()

    threads = [threading.Thread(target=splitter, args=(n,)) for n in range(4)]
    threads += [threading.Thread(target=reserver, args=(n,)) for n in range(8)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert errors == []
    totals = buckets.totals(loc.pk, item.pk)
    assert totals.on_hand == 200 and totals.reserved == sum(granted)
    assert run_checks() == []
