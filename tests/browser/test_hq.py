"""HQ in Chromium: the dashboard filtered by a region and a store draws every chart with ECharts (served from
the site itself), and a Django admin (unfold) changelist is exported as an Excel file that openpyxl reads."""

from __future__ import annotations

import re
from datetime import timedelta

import openpyxl
import pytest
from playwright.sync_api import Page, expect

from tests.browser.world import CLERK_PASSWORD, api, sku_on_shelf

pytestmark = pytest.mark.browser
MEMBER_TOKEN = "demo-member-token"  # noqa: S105 - the demo's published token
STORE = "SH001"
DESKTOP = {"width": 1440, "height": 900}
CHARTS = ["channel", "mode", "pickup", "on_time", "cost", "stockouts", "tiers"]


def hq_user():  # noqa: ANN201 - accounts.User
    from o2o.accounts.models import User

    user = User.objects.filter(username="browser-hq").first()
    if user is None:
        user = User.objects.create_user("browser-hq", password=CLERK_PASSWORD, role="hq_admin", scope="hq",
                                        is_staff=True, is_superuser=True)
    return user


def some_orders(site_url: str, location_id: int) -> None:
    """Today's business at the store: two till receipts (one by the demo member) and an online pickup order."""
    from django.db import transaction
    from django.utils import timezone

    from o2o.accounts.models import Member
    from o2o.orders import lifecycle
    from o2o.orders.actors import SYSTEM, By
    from o2o.orders.locks import lock_order
    from o2o.orders.pos_orders import pos_order_record
    from o2o.stores.models import Location

    store = Location.objects.get(pk=location_id)
    s1, s2 = sku_on_shelf(location_id, skip=5), sku_on_shelf(location_id, skip=6)
    now = timezone.now()
    for no, lines in (("HQ-R1", [(s1.pk, 2, s1.list_price_fen)]), ("HQ-R2", [(s2.pk, 1, s2.list_price_fen)])):
        pos_order_record(location_id=location_id, receipt_no=no, lines=lines,
                         paid_fen=sum(q * p for _, q, p in lines), payment_method="cash", member_id=None,
                         occurred_at=now - timedelta(minutes=10), by=By(label="browser test till"))
    status, order = api(site_url, "POST", "/api/v1/orders", MEMBER_TOKEN, {
        "lines": [{"sku_id": s1.pk, "qty": 1}], "channel": "h5", "choice": "pickup", "lat": store.lat,
        "lng": store.lng, "pickup_location_id": location_id, "contact_name": "总部", "contact_phone": "13900003333"},
        key=f"hq-{location_id}")
    assert status == 201, order
    with transaction.atomic():
        lifecycle.order_paid(lock_order(order["id"]), amount_fen=order["total_fen"], by=SYSTEM)
    assert Member.objects.exists()


def hq_signs_in(page: Page, next_path: str) -> None:
    page.goto(f"/console/login?next={next_path}")
    page.locator("#id_username").fill("browser-hq")
    page.locator("#id_password").fill(CLERK_PASSWORD)
    page.get_by_test_id("login-submit").click()
    page.wait_for_url(re.compile(re.escape(next_path.split("?")[0])))


def test_dashboard_filtered_by_region_and_store_draws_every_chart(pages, site, shots):
    from o2o.stores.models import Location

    store = Location.objects.select_related("region").get(code=STORE)
    some_orders(site.url, store.pk)
    hq_user()
    page = pages.new(viewport=DESKTOP)
    console = []
    page.on("console", lambda m: console.append(f"{m.type}: {m.text}") if m.type == "error" else None)
    hq_signs_in(page, "/hq/")
    shots(page, "dashboard-all")

    page.locator("#id_region").select_option(str(store.region_id))
    page.locator("#id_store").select_option(str(store.pk))
    page.get_by_test_id("hq-filter-submit").click()
    page.wait_for_url(re.compile(rf"/hq/\?.*store={store.pk}"))
    assert f"region={store.region_id}" in page.url
    expect(page.get_by_test_id("hq-period")).to_contain_text("1 个网点")
    # The two receipts and the paid online order at least (other scenarios of the session may add to them).
    assert int(page.get_by_test_id("kpi-orders").locator("strong").inner_text()) >= 3
    pos_row = page.get_by_test_id("table-channel").locator('tr[data-key="pos"] td')
    assert int(pos_row.inner_text()) >= 2
    expect(page.locator("#id_store")).to_have_value(str(store.pk))

    containers = page.locator(".hq-canvas[data-chart]")
    drawn = [c for c in CHARTS if page.locator(f'[data-chart="{c}"]').count()]
    assert {"channel", "mode", "pickup"} <= set(drawn), drawn  # the orders above fill these three at least
    assert containers.count() == len(drawn)
    for name in drawn:  # ECharts drew into each container (the svg renderer; a canvas would do as well)
        expect(page.locator(f'[data-chart="{name}"]').locator("svg, canvas").first).to_be_visible()
        box = page.locator(f'[data-chart="{name}"]').bounding_box()
        assert box and box["width"] > 100 and box["height"] > 100, (name, box)
    for name in set(CHARTS) - set(drawn):  # no data: said so in words, not an empty frame
        expect(page.get_by_test_id(f"empty-{name.replace('_', '-')}")).to_contain_text("暂无数据")
    channel = page.locator('[data-chart="channel"] svg')
    expect(channel).to_contain_text("门店 POS")  # the bars are labelled with the channels' names
    assert page.evaluate("() => typeof window.echarts") == "object"
    assert any("/static/vendor/echarts/" in u for u in pages.requests)  # served by the site, no CDN
    shots(page, "dashboard-region-store")
    assert not console, console


def test_admin_changelist_exports_as_excel(pages, site, shots, tmp_path):
    from o2o.stores.models import Location

    hq_user()
    page = pages.new(viewport=DESKTOP)
    hq_signs_in(page, "/hq/")
    page.get_by_test_id("hq-admin-link").click()
    page.wait_for_url(re.compile(r"/admin/$"))
    page.goto("/admin/stores/location/")
    expect(page.locator("link[href*='unfold/css/styles.css']")).to_have_count(1)
    expect(page.locator("body")).to_contain_text(STORE)
    shots(page, "admin-locations")
    page.locator("a[href*='/admin/stores/location/export/']").first.click()
    page.wait_for_url(re.compile(r"/admin/stores/location/export/"))
    page.locator("select[name=format]").select_option(label="xlsx")
    shots(page, "admin-export-form")
    with page.expect_download() as info:
        page.locator("form [type=submit]").last.click()
    download = info.value
    assert download.suggested_filename.endswith(".xlsx"), download.suggested_filename
    path = tmp_path / download.suggested_filename
    download.save_as(path)
    sheet = openpyxl.load_workbook(path).active
    rows = list(sheet.iter_rows(values_only=True))
    assert list(rows[0][:7]) == ["code", "name", "kind", "region_code", "address", "lat_gcj02", "lng_gcj02"]
    codes = {r[0] for r in rows[1:]}
    assert STORE in codes and len(rows) - 1 == Location.objects.count()
    sh001 = next(r for r in rows[1:] if r[0] == STORE)
    store = Location.objects.get(code=STORE)
    assert float(sh001[5]) == pytest.approx(store.lat, abs=1e-9) and float(sh001[6]) == pytest.approx(store.lng, abs=1e-9)
