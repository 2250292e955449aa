"""The HQ admin (/admin/): unfold theme, Chinese labels, CSV export and import (two steps, all or nothing),
and the stock count import that goes through the ledger instead of writing stock rows."""

from __future__ import annotations

import re

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile

from o2o.accounts.models import User
from o2o.catalog.models import PriceOverride
from o2o.inventory.models import Movement
from tests.factories import figures, location, sku, staff, stock_in

pytestmark = pytest.mark.django_db


@pytest.fixture
def hq(client):
    # No password (nothing to hash): the test client signs in with force_login.
    user = User.objects.create(username="hq-admin", is_staff=True, is_superuser=True, role="hq_admin", scope="hq")
    client.force_login(user)
    return client


def upload(client, url: str, text: str, name: str = "prices.csv"):  # noqa: ANN001
    f = SimpleUploadedFile(name, text.encode("utf-8-sig"), content_type="text/csv")
    return client.post(url, {"import_file": f, "format": "0", "resource": "0"})


MAIN_MODELS = ["catalog/product", "catalog/sku", "catalog/priceoverride", "catalog/category", "stores/location",
               "stores/region", "inventory/stock", "inventory/movement", "orders/order", "orders/shipment",
               "accounts/user", "accounts/member", "auth/group", "fulfilment/routingdecision",
               "members/pointsaccount"]


def test_changelists_render_in_the_unfold_theme_with_chinese_labels(hq):
    s, loc = sku(), location()
    stock_in(loc, s, 3)
    for model in MAIN_MODELS:
        r = hq.get(f"/admin/{model}/")
        html = r.content.decode()
        assert r.status_code == 200, model
        assert "unfold/css/styles.css" in html and "o2o 管理后台" in html, model
    html = hq.get("/admin/catalog/sku/").content.decode()
    assert "标价（分）" in html and s.code in html
    assert hq.get(f"/admin/stores/location/{loc.pk}/change/").status_code == 200
    assert hq.get("/admin/").status_code == 200


def test_a_store_clerk_cannot_open_the_admin(client):
    clerk, _ = staff("clerk", loc=location())
    client.force_login(clerk)
    r = client.get("/admin/catalog/sku/")
    assert r.status_code == 302 and "/admin/login/" in r["Location"]


def test_sku_export_as_csv_contains_the_sku_in_fen(hq):
    s = sku(price_fen=1230)
    r = hq.post("/admin/catalog/sku/export/", {"format": "0", "resource": "0"})
    assert r.status_code == 200 and r["Content-Type"].startswith("text/csv")
    body = r.content.decode("utf-8-sig")
    header, *rows = body.splitlines()
    assert header.split(",")[:3] == ["code", "product_code", "barcode"] and "list_price_fen" in header
    assert any(row.startswith(f"{s.code},{s.product.code},") and ",1230," in row for row in rows)


def test_price_import_with_a_bad_row_shows_the_row_error_and_writes_nothing(hq):
    s, loc = sku(), location()
    csv = ("id,sku_code,location_code,channel,price_fen,starts_at,ends_at\n"
           f",{s.code},{loc.code},,990,,\n"
           f",{s.code},{loc.code},h5,12.30,,\n"  # yuan where fen is expected: refused, never rounded
           f",NO-SUCH-SKU,,h5,500,,\n")
    r = upload(hq, "/admin/catalog/priceoverride/import/", csv)
    html = r.content.decode()
    assert r.status_code == 200
    assert "金额以分为单位" in html and "找不到SKU编码：NO-SUCH-SKU" in html
    assert "process_import" not in html  # no confirm step offered
    assert PriceOverride.objects.count() == 0


def test_price_import_previews_then_writes_once_even_if_confirmed_twice(hq):
    s, loc = sku(), location()
    csv = f"id,sku_code,location_code,channel,price_fen\n,{s.code},{loc.code},,990\n,{s.code},,h5,880\n"
    r = upload(hq, "/admin/catalog/priceoverride/import/", csv)
    html = r.content.decode()
    assert r.status_code == 200 and PriceOverride.objects.count() == 0  # the preview writes nothing
    confirm = {k: re.search(rf'name="{k}" value="([^"]*)"', html).group(1)
               for k in ("import_file_name", "original_file_name", "format")}
    r = hq.post("/admin/catalog/priceoverride/process_import/", confirm)
    assert r.status_code == 302
    assert sorted(PriceOverride.objects.values_list("price_fen", "channel", "location_id")) == [
        (880, "h5", None), (990, "", loc.pk)]
    r = hq.post("/admin/catalog/priceoverride/process_import/", confirm, follow=True)  # a second click
    assert r.status_code == 200 and "没有重复导入" in r.content.decode()
    assert PriceOverride.objects.count() == 2


def test_stock_count_import_adjusts_through_the_ledger_and_is_idempotent(hq):
    s, loc = sku(), location()
    stock_in(loc, s, 10)
    export = hq.post("/admin/inventory/stock/export/", {"format": "0", "resource": "0"}).content.decode("utf-8-sig")
    assert export.splitlines()[0].startswith("location_code,location_name,sku_code,sku_name,on_hand,reserved")
    assert f"{loc.code},{loc.name},{s.code},{s.name},10,0,10,," in export
    csv = f"location_code,sku_code,counted,reason\n{loc.code},{s.code},7,破损\n"
    for before in (10, 7):  # the same count twice: the second finds nothing to change
        html = upload(hq, "/admin/inventory/stock/import/", csv, "count.csv").content.decode()
        assert figures(loc, s) == (before, 0)  # the preview is rolled back
        confirm = {k: re.search(rf'name="{k}" value="([^"]*)"', html).group(1)
                   for k in ("import_file_name", "original_file_name", "format")}
        assert hq.post("/admin/inventory/stock/process_import/", confirm).status_code == 302
    assert figures(loc, s) == (7, 0)
    adjust = Movement.objects.get(location=loc, sku=s, kind="adjust")
    assert (adjust.delta_on_hand, adjust.reason) == (-3, "盘点导入 count import: 破损")
    assert adjust.actor.username == "hq-admin"


def test_stock_count_below_reserved_is_a_row_error(hq):
    from tests.factories import reserve

    s, loc = sku(), location()
    stock_in(loc, s, 5)
    reserve(loc, {s: 4})
    html = upload(hq, "/admin/inventory/stock/import/",
                  f"location_code,sku_code,counted\n{loc.code},{s.code},2\n", "count.csv").content.decode()
    assert "少于已预占的 4" in html and figures(loc, s) == (5, 4)
