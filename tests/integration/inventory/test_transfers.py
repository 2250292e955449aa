"""Transfers: ship (free stock only), in transit, receive once, short receipts."""

from __future__ import annotations

import pytest

from o2o.common.errors import InvalidInput, NotFound
from o2o.inventory import checks, selectors
from o2o.inventory.errors import InsufficientStock
from o2o.inventory.ledger import Who
from o2o.inventory.models import Movement, MovementKind, Transfer, TransferLine, TransferStatus
from o2o.inventory.transfers import transfer_receive, transfer_ship
from o2o.inventory.validation import Line
from tests.factories import figures, location, reserve, sku, stock_in

pytestmark = pytest.mark.django_db

WHO = Who(label="test")


@pytest.fixture
def net():
    src, dst, a, b = location(), location(), sku(), sku()
    stock_in(src, a, 10)
    stock_in(src, b, 4)
    return src, dst, a, b


def test_ship_takes_stock_out_of_the_source_and_puts_it_in_transit(net):
    src, dst, a, b = net
    t = transfer_ship(source_id=src.pk, destination_id=dst.pk, lines=[Line(b.pk, 4), Line(a.pk, 3)], who=WHO,
                      reference="T-1")
    assert t.status == TransferStatus.SHIPPED and [ln.sku_id for ln in t.lines] == sorted([a.pk, b.pk])
    assert figures(src, a) == (7, 0) and figures(src, b) == (0, 0)
    assert figures(dst, a) == (0, 0)
    outs = Movement.objects.filter(transfer_id=t.id)
    assert {(m.location_id, m.kind, m.delta_on_hand) for m in outs} == {
        (src.pk, MovementKind.TRANSFER_OUT, -3), (src.pk, MovementKind.TRANSFER_OUT, -4)}
    incoming = selectors.in_transit(location_id=dst.pk)
    assert [(ln["sku_id"], ln["qty"]) for ln in incoming["incoming"]] == sorted([(a.pk, 3), (b.pk, 4)])
    assert selectors.in_transit(location_id=src.pk)["outgoing"] and not incoming["outgoing"]
    assert selectors.in_transit_qty(sku_id=a.pk) == 3
    assert checks.run() == []


def test_ship_only_free_stock_and_nothing_on_failure(net):
    src, dst, a, b = net
    reserve(src, {a: 8})
    before = Movement.objects.count()
    with pytest.raises(InsufficientStock) as exc:
        transfer_ship(source_id=src.pk, destination_id=dst.pk, lines=[Line(a.pk, 3), Line(b.pk, 1)], who=WHO)
    assert exc.value.shortages[0]["sku_id"] == a.pk and exc.value.shortages[0]["available"] == 2
    assert Movement.objects.count() == before and not Transfer.objects.exists()
    assert figures(src, a) == (10, 8) and figures(src, b) == (4, 0)


def test_ship_refuses_bad_input(net):
    src, dst, a, _ = net
    with pytest.raises(InvalidInput):
        transfer_ship(source_id=src.pk, destination_id=src.pk, lines=[Line(a.pk, 1)], who=WHO)
    with pytest.raises(InvalidInput):
        transfer_ship(source_id=src.pk, destination_id=dst.pk, lines=[Line(a.pk, 0)], who=WHO)
    with pytest.raises(NotFound):
        transfer_ship(source_id=src.pk, destination_id=10**9, lines=[Line(a.pk, 1)], who=WHO)
    with pytest.raises(NotFound):
        transfer_ship(source_id=src.pk, destination_id=dst.pk, lines=[Line(10**9, 1)], who=WHO)
    assert not Transfer.objects.exists()


def test_receive_in_full_once(net):
    src, dst, a, b = net
    t = transfer_ship(source_id=src.pk, destination_id=dst.pk, lines=[Line(a.pk, 5)], who=WHO)
    got = transfer_receive(transfer_id=t.id, who=WHO)
    assert got.status == TransferStatus.RECEIVED and got.received_at is not None
    assert got.lines[0].received_qty == 5 and got.lines[0].lost_in_transit == 0
    assert figures(dst, a) == (5, 0)
    count = Movement.objects.count()
    again = transfer_receive(transfer_id=t.id, who=WHO, received=[Line(a.pk, 1)])
    assert again == got and Movement.objects.count() == count and figures(dst, a) == (5, 0)
    assert selectors.in_transit(location_id=dst.pk)["incoming"] == []
    assert checks.run() == []


def test_short_receipt_is_lost_in_transit(net):
    src, dst, a, b = net
    t = transfer_ship(source_id=src.pk, destination_id=dst.pk, lines=[Line(a.pk, 5), Line(b.pk, 2)], who=WHO)
    got = transfer_receive(transfer_id=t.id, who=WHO, received=[Line(a.pk, 3), Line(b.pk, 0)])
    lines = {ln.sku_id: ln for ln in got.lines}
    assert (lines[a.pk].received_qty, lines[a.pk].lost_in_transit) == (3, 2)
    assert (lines[b.pk].received_qty, lines[b.pk].lost_in_transit) == (0, 2)
    assert figures(dst, a) == (3, 0) and figures(dst, b) == (0, 0)
    assert figures(src, a) == (5, 0)  # the source does not get the shortfall back
    m = Movement.objects.get(transfer_id=t.id, kind=MovementKind.TRANSFER_IN, sku_id=a.pk)
    assert m.delta_on_hand == 3 and m.details == {"source_id": src.pk, "shipped": 5, "lost_in_transit": 2}
    assert TransferLine.objects.get(transfer_id=t.id, sku_id=b.pk).received_qty == 0
    assert checks.run() == []


def test_receive_refuses_bad_lines_and_changes_nothing(net):
    src, dst, a, b = net
    t = transfer_ship(source_id=src.pk, destination_id=dst.pk, lines=[Line(a.pk, 5)], who=WHO)
    count = Movement.objects.count()
    for bad in ([Line(b.pk, 1)], [Line(a.pk, 6)], [Line(a.pk, -1)], [Line(a.pk, 1), Line(a.pk, 1)]):
        with pytest.raises(InvalidInput):
            transfer_receive(transfer_id=t.id, who=WHO, received=bad)
    with pytest.raises(NotFound):
        transfer_receive(transfer_id=10**9, who=WHO)
    assert Movement.objects.count() == count
    assert Transfer.objects.get(pk=t.id).status == TransferStatus.SHIPPED
