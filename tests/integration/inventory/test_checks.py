"""The consistency checks and the maintenance commands."""

from __future__ import annotations

from datetime import timedelta

import pytest
from django.core.management import CommandError, call_command
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.utils import timezone

from o2o.inventory import checks
from o2o.inventory.models import IdempotencyRecord, Stock
from tests.factories import figures, location, reserve, sku, stock_in

pytestmark = pytest.mark.django_db


@pytest.fixture
def item():
    loc, s = location(), sku()
    stock_in(loc, s, 10)
    reserve(loc, {s: 3})
    return loc, s


def test_consistent_inventory_has_no_problems(item, capsys):
    assert checks.run() == []
    call_command("check-inventory")
    assert "consistent" in capsys.readouterr().out


def test_tampered_on_hand_is_reported_and_the_command_fails(item):
    loc, s = item
    with connection.cursor() as cur:
        cur.execute("UPDATE inventory_stock SET on_hand = on_hand + 5 WHERE location_id = %s AND sku_id = %s",
                    [loc.pk, s.pk])
    problems = checks.run()
    assert [(p.kind, p.location_id, p.sku_id) for p in problems] == [("stock_vs_ledger", loc.pk, s.pk)]
    assert problems[0].details["stock_on_hand"] == 15 and problems[0].details["ledger_on_hand"] == 10
    with pytest.raises(CommandError):
        call_command("check-inventory")


def test_tampered_reserved_is_reported_against_ledger_and_reservations(item):
    loc, s = item
    with connection.cursor() as cur:
        cur.execute("UPDATE inventory_stock SET reserved = 1 WHERE location_id = %s AND sku_id = %s", [loc.pk, s.pk])
    assert {p.kind for p in checks.run()} == {"stock_vs_ledger", "reserved_vs_reservations"}


def test_stock_row_without_ledger_is_reported():
    loc, s = location(), sku()
    with connection.cursor() as cur:
        cur.execute("INSERT INTO inventory_stock (location_id, sku_id, bucket, on_hand, reserved) "
                    "VALUES (%s, %s, 0, 4, 0)", [loc.pk, s.pk])
    assert [p.kind for p in checks.run()] == ["stock_vs_ledger"]


def test_checks_are_set_based():
    loc = location()
    for _ in range(20):
        stock_in(loc, sku(), 3)
    with CaptureQueriesContext(connection) as q:
        checks.run()
    assert len(q.captured_queries) == 2


def test_stock_split_keeps_totals(item, capsys):
    loc, s = item
    call_command("stock-split", "--location", str(loc.pk), "--sku", str(s.pk), "--buckets", "4")
    assert Stock.objects.filter(location=loc, sku=s).count() == 4
    assert figures(loc, s) == (10, 3) and checks.run() == []
    call_command("stock-split", "--location", str(loc.pk), "--sku", str(s.pk), "--buckets", "1")
    assert Stock.objects.filter(location=loc, sku=s).count() == 1 and figures(loc, s) == (10, 3)
    with pytest.raises(CommandError):
        call_command("stock-split", "--location", str(loc.pk), "--sku", str(s.pk), "--buckets", "0")
    with pytest.raises(CommandError):
        call_command("stock-split", "--location", "999999999", "--sku", str(s.pk), "--buckets", "2")


def test_purge_idempotency_deletes_only_old_records():
    old = IdempotencyRecord.objects.create(key="old", operation="op", request_hash="h", status_code=201, response={})
    IdempotencyRecord.objects.filter(pk=old.pk).update(created_at=timezone.now() - timedelta(hours=25))
    IdempotencyRecord.objects.create(key="new", operation="op", request_hash="h", status_code=201, response={})
    call_command("purge-idempotency")
    assert list(IdempotencyRecord.objects.values_list("key", flat=True)) == ["new"]
    with pytest.raises(CommandError):
        call_command("purge-idempotency", "--hours", "1")
