"""The console's pick and pack, line by line: each 确认 is recorded on the server (htmx swaps the lines
block with its answer), "备货完成" is enabled only when every line is picked, and the server refuses it
before that whatever the browser sends. Another store's clerk gets the 404 page, by URL or POST.
"""

from __future__ import annotations

import re

import pytest

from o2o.orders.models import OrderEvent, Shipment, ShipmentLine
from tests.e2e.web.test_console_queue import clerk_a, clerk_c, paid_pickup, signed_in, w  # noqa: F401

pytestmark = pytest.mark.django_db
HTMX = {"HTTP_HX_REQUEST": "true"}


def _ready_disabled(html: str) -> bool:
    tag = re.search(r'<button[^>]*data-testid="mark-ready"[^>]*>', html)
    assert tag is not None, "no mark-ready button"
    return " disabled" in tag.group(0)


def test_each_line_is_confirmed_on_the_server(client, w, clerk_a):  # noqa: F811
    _, sid = paid_pickup(client, w)
    signed_in(client, clerk_a)
    page = client.get(f"/console/shipments/{sid}").content.decode()
    for sku in (w.s1, w.s2):
        assert f'data-testid="pick-line-{sku.pk}"' in page and f'data-testid="short-line-{sku.pk}"' in page
        assert f'hx-post="/console/shipments/{sid}"' in page
    assert 'data-all-picked="0"' in page and _ready_disabled(page)
    assert 'id="short"' in page and f'aria-label="{w.s1.name} 缺货"' in page  # a line's 缺货 names it

    r = client.post(f"/console/shipments/{sid}", {"sku_id": w.s1.pk}, **HTMX)
    part = r.content.decode()
    assert r.status_code == 200 and part.lstrip().startswith('<div id="pick-lines"')
    assert f'data-testid="picked-line-{w.s1.pk}"' in part and f'data-testid="pick-line-{w.s2.pk}"' in part
    assert 'data-all-picked="0"' in part and "已确认 1 / 2 行" in part
    row = ShipmentLine.objects.get(shipment_id=sid, sku=w.s1)
    assert (row.picked_qty, row.picked_by_id) == (2, clerk_a.pk) and row.picked_at is not None
    assert Shipment.objects.get(pk=sid).status == "picking"  # the first pick starts picking

    early = client.post(f"/console/shipments/{sid}/ready", {"idem": "r0"})  # the browser's state does not matter
    assert early.status_code == 409 and "还有商品未确认拣货" in early.content.decode()
    assert Shipment.objects.get(pk=sid).status == "picking"

    last = client.post(f"/console/shipments/{sid}", {"sku_id": w.s2.pk}, **HTMX).content.decode()
    assert 'data-all-picked="1"' in last and "已确认 2 / 2 行" in last
    page = client.get(f"/console/shipments/{sid}").content.decode()
    assert not _ready_disabled(page)
    assert OrderEvent.objects.filter(shipment_id=sid, reason__startswith="拣货确认", user=clerk_a).count() == 2

    undo = client.post(f"/console/shipments/{sid}", {"sku_id": w.s2.pk, "qty": "0"}, **HTMX).content.decode()
    assert 'data-all-picked="0"' in undo and f'data-testid="pick-line-{w.s2.pk}"' in undo
    assert _ready_disabled(client.get(f"/console/shipments/{sid}").content.decode())
    client.post(f"/console/shipments/{sid}", {"sku_id": w.s2.pk}, **HTMX)
    done = client.post(f"/console/shipments/{sid}/ready", {"idem": "r1"})
    assert done.status_code == 302 and Shipment.objects.get(pk=sid).status == "ready_for_pickup"


def test_without_htmx_the_page_reloads_and_errors_show_in_chinese(client, w, clerk_a):  # noqa: F811
    _, sid = paid_pickup(client, w)
    signed_in(client, clerk_a)
    r = client.post(f"/console/shipments/{sid}", {"sku_id": w.s1.pk})
    assert r.status_code == 302 and r["Location"] == f"/console/shipments/{sid}"
    assert "已确认拣货" in client.get(f"/console/shipments/{sid}").content.decode()
    bad = client.post(f"/console/shipments/{sid}", {"sku_id": w.s1.pk, "qty": "-1"})
    assert bad.status_code == 422 and "数量应为不小于 0 的整数" in bad.content.decode()
    beyond = client.post(f"/console/shipments/{sid}", {"sku_id": w.s1.pk, "qty": "9"})
    assert beyond.status_code == 422 and 'data-testid="action-error"' in beyond.content.decode()
    unknown = client.post(f"/console/shipments/{sid}", {"sku_id": "999999"}, **HTMX)
    assert unknown.status_code == 200 and 'data-testid="pick-error"' in unknown.content.decode()
    assert "Traceback" not in unknown.content.decode()
    assert ShipmentLine.objects.get(shipment_id=sid, sku=w.s1).picked_qty == 2


def test_another_stores_clerk_cannot_pick(client, w, clerk_c):  # noqa: F811
    _, sid = paid_pickup(client, w)
    signed_in(client, clerk_c)
    assert client.get(f"/console/shipments/{sid}").status_code == 404
    r = client.post(f"/console/shipments/{sid}", {"sku_id": w.s1.pk}, **HTMX)
    assert r.status_code == 404
    assert not ShipmentLine.objects.filter(shipment_id=sid, picked_qty__gt=0).exists()
    assert Shipment.objects.get(pk=sid).status == "allocated"
