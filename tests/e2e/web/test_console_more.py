"""More of the console and the HQ admin: a scanned pickup QR at the counter, the queue's late timer, an Excel
(.xlsx) round trip of the SKU list, and happy-path product, SKU and store imports."""

from __future__ import annotations

import io
import json
import re
from datetime import timedelta

import openpyxl
import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.utils import timezone

from o2o.catalog.models import Category, Product, Sku
from o2o.orders.actors import By
from o2o.orders.models import Order, PickupCode, PickupVerification, Shipment
from o2o.orders.pickup_qr import qr_payload
from o2o.orders.store_work import shipment_mark_ready
from o2o.stores.models import Location
from tests.e2e.web.test_console_queue import clerk_a, paid_pickup, signed_in, w  # noqa: F401
from tests.e2e.web.test_hq_admin import hq, upload  # noqa: F401
from tests.factories import figures, region, sku

pytestmark = pytest.mark.django_db
XLSX = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"
FORMAT_CSV, FORMAT_XLSX = "0", "1"  # o2o.common.admin.table_formats(): CSV, then XLSX


def confirm_fields(html: str) -> dict[str, str]:
    """The hidden fields of import-export's confirm form (the preview's second step)."""
    got = {}
    for k in ("import_file_name", "original_file_name", "format"):
        m = re.search(rf'name="{k}" value="([^"]*)"', html)
        assert m, f"no confirm step offered (field {k}):\n{re.sub(r'<[^>]+>', ' ', html)[-1500:]}"
        got[k] = m.group(1)
    return got


def import_and_confirm(client, url: str, data: bytes, name: str, fmt: str, content_type: str):  # noqa: ANN001, ANN201
    preview = client.post(url + "import/", {"import_file": SimpleUploadedFile(name, data, content_type=content_type),
                                            "format": fmt, "resource": "0"})
    assert preview.status_code == 200
    return client.post(url + "process_import/", confirm_fields(preview.content.decode()))


# -- counter: the handheld scanner types the QR's payload and presses Enter ------------------------------------

def test_a_scanned_qr_payload_verifies_the_pickup(client, w, clerk_a, django_capture_on_commit_callbacks):  # noqa: F811
    _, sid = paid_pickup(client, w)
    with django_capture_on_commit_callbacks(execute=True):  # packed by a till integration: every line picked
        shipment_mark_ready(sid, By(label="test"), pick_all=True)
    code = PickupCode.objects.get(shipment_id=sid, status="live").code
    signed_in(client, clerk_a)
    payload = qr_payload(PickupCode.objects.get(shipment_id=sid, status="live"))
    assert payload.startswith("o2o1.") and code not in payload
    on_hand = figures(w.a, w.s1)[0]

    tampered = payload[:-2] + ("AA" if payload[-2:] != "AA" else "BB")
    bad = client.post(f"/console/s/{w.a.pk}/counter/verify", {"code": tampered, "idem": "qr-bad"})
    assert 400 <= bad.status_code < 500 and 'data-testid="verify-result"' in bad.content.decode()
    assert 'data-result="ok"' not in bad.content.decode()
    assert Shipment.objects.get(pk=sid).status == "ready_for_pickup" and figures(w.a, w.s1)[0] == on_hand

    ok = client.post(f"/console/s/{w.a.pk}/counter/verify", {"code": f"  {payload}\n", "idem": "qr-1"})
    html = ok.content.decode()
    assert ok.status_code == 200 and 'data-result="ok"' in html and "核销成功" in html
    order = Order.objects.get(shipments__pk=sid)
    assert order.status == "completed" and order.number in html
    assert PickupCode.objects.get(shipment_id=sid).status != "live"
    assert figures(w.a, w.s1)[0] == on_hand - 2
    assert PickupVerification.objects.filter(result="ok").count() == 1
    again = client.post(f"/console/s/{w.a.pk}/counter/verify", {"code": payload, "idem": "qr-2"})  # scanned twice
    assert again.status_code >= 400 and 'data-result="ok"' not in again.content.decode()
    assert figures(w.a, w.s1)[0] == on_hand - 2


# -- queue: a shipment past its promise shows a late timer -----------------------------------------------------

def _row(html: str, sid: int) -> str:
    m = re.search(rf'<li class="q-item[^"]*" data-testid="queue-row-{sid}">.*?</li>', html, re.S)
    assert m, f"shipment {sid} is not in the queue"
    return m.group(0)


def test_the_queue_shows_late_shipments_with_a_late_timer(client, w, clerk_a):  # noqa: F811
    _, sid = paid_pickup(client, w)
    signed_in(client, clerk_a)
    promise = timezone.now() + timedelta(minutes=40, seconds=30)
    Shipment.objects.filter(pk=sid).update(eta_earliest=promise - timedelta(minutes=30), eta_latest=promise)
    row = _row(client.get(f"/console/s/{w.a.pk}/queue").content.decode(), sid)
    assert "is-late" not in row and "timer-late" not in row
    assert re.search(r"剩 (39|40) 分钟", row), row

    promise = timezone.now() - timedelta(minutes=95)
    Shipment.objects.filter(pk=sid).update(eta_earliest=promise - timedelta(minutes=30), eta_latest=promise)
    html = client.get(f"/console/s/{w.a.pk}/queue").content.decode()
    row = _row(html, sid)
    assert 'class="q-item is-late"' in row and 'data-late="1"' in row
    assert re.search(r"超时 1 小时 3[56] 分", row), row
    assert "1 单超时" in html  # the header counts it
    live = _row(client.get(f"/console/s/{w.a.pk}/queue/live").content.decode(), sid)  # the 10 s refresh too
    assert "超时" in live


# -- HQ admin: Excel round trip and happy-path imports ---------------------------------------------------------

def test_sku_list_round_trips_through_excel(hq):  # noqa: F811
    s = sku(price_fen=1230)
    r = hq.post("/admin/catalog/sku/export/", {"format": FORMAT_XLSX, "resource": "0"})
    assert r.status_code == 200 and r["Content-Type"].startswith(XLSX)
    assert ".xlsx" in r["Content-Disposition"]
    book = openpyxl.load_workbook(io.BytesIO(r.content))
    rows = [list(row) for row in book.active.iter_rows(values_only=True)]
    header = rows[0]
    assert header[:3] == ["code", "product_code", "barcode"] and "list_price_fen" in header
    [mine] = [row for row in rows[1:] if row[0] == s.code]
    assert mine[header.index("product_code")] == s.product.code
    assert int(mine[header.index("list_price_fen")]) == 1230  # fen, not yuan

    mine[header.index("list_price_fen")] = 1990
    mine[header.index("name")] = "改名 · Excel"
    out = openpyxl.Workbook()
    out.active.append(header)
    out.active.append(mine)
    data = io.BytesIO()
    out.save(data)
    done = import_and_confirm(hq, "/admin/catalog/sku/", data.getvalue(), "skus.xlsx", FORMAT_XLSX, XLSX)
    assert done.status_code == 302
    s.refresh_from_db()
    assert (s.list_price_fen, s.name) == (1990, "改名 · Excel")
    assert Sku.objects.count() == 1  # matched by code: updated, not added


def test_product_then_sku_import_creates_both(hq):  # noqa: F811
    Category.objects.create(code="DAIRY", name="乳品")
    products = ("code,name,category_code,brand_name,unit,description,active\n"
                "P-IMP-1,光明鲜牛奶,DAIRY,,瓶,冷藏,是\n")
    done = import_and_confirm(hq, "/admin/catalog/product/", products.encode("utf-8-sig"), "products.csv",
                              FORMAT_CSV, "text/csv")
    assert done.status_code == 302
    product = Product.objects.get(code="P-IMP-1")
    assert (product.name, product.category.code, product.unit, product.active) == ("光明鲜牛奶", "DAIRY", "瓶", True)

    skus = ("code,product_code,barcode,name,spec,weight_g,list_price_fen,active\n"
            "S-IMP-1,P-IMP-1,6901234567892,光明鲜牛奶 950ml,950ml,1000,1590,1\n")
    done = import_and_confirm(hq, "/admin/catalog/sku/", skus.encode("utf-8-sig"), "skus.csv", FORMAT_CSV, "text/csv")
    assert done.status_code == 302
    s = Sku.objects.get(code="S-IMP-1")
    assert (s.product_id, s.barcode, s.weight_g, s.list_price_fen, s.active) == (
        product.pk, "6901234567892", 1000, 1590, True)
    assert "S-IMP-1" in hq.get("/admin/catalog/sku/").content.decode()


def test_store_import_creates_a_store_with_exact_coordinates_and_hours(hq):  # noqa: F811
    reg = region("华东")
    hours = {"mon": [["07:00", "22:00"]], "sun": [["08:00", "21:30"]]}
    cell = json.dumps(hours).replace('"', '""')
    csv = ("code,name,kind,region_code,address,lat_gcj02,lng_gcj02,opening_hours,can_pickup,can_same_city,"
           "can_express,delivery_radius_m,pick_capacity_per_hour,active\n"
           f'S-NEW-1,徐家汇新店,store,{reg.code},上海市徐汇区漕溪北路 1 号,31.192345,121.437654,"{cell}",'
           "是,是,否,3000,40,是\n")
    done = import_and_confirm(hq, "/admin/stores/location/", csv.encode("utf-8-sig"), "stores.csv", FORMAT_CSV,
                              "text/csv")
    assert done.status_code == 302
    loc = Location.objects.get(code="S-NEW-1")
    assert (loc.name, loc.kind, loc.region_id, loc.lat, loc.lng) == ("徐家汇新店", "store", reg.pk, 31.192345, 121.437654)
    assert loc.opening_hours == hours
    assert (loc.can_pickup, loc.can_same_city, loc.can_express, loc.delivery_radius_m, loc.active) == (
        True, True, False, 3000, True)
