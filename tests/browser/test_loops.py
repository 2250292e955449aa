"""The O2O loops in a real browser: a customer's phone and a clerk's tablet, on the served demo network.

1. Pickup: a customer in 徐汇 finds a product on the shelf of a store 1-2 km away, orders it for pickup,
   pays in the sandbox; the store's clerk picks and packs it; the customer sees the code; the clerk
   verifies it at the counter; the order is completed; stock moved by exactly the ordered quantity.
2. Same-city delivery: the same, with the simulated first courier failing; the console shows the
   exception and the re-dispatch; the second courier delivers.
3. A clerk of another store can neither see nor verify that order, through the pages or by typed URLs.
"""

from __future__ import annotations

import re

import pytest
from playwright.sync_api import expect

from tests.browser.flows import (
    clerk_picks_and_packs,
    clerk_signs_in,
    customer_finds_and_adds,
    customer_locates,
    customer_places_and_pays,
    customer_signs_in_at_checkout,
)
from tests.browser.world import api, make_clerk, sku_on_shelf, stock_of, xuhui_spot

pytestmark = pytest.mark.browser
HQ_TOKEN = "demo-hq-admin-token"  # noqa: S105 - the demo's published token
TABLET = {"width": 1280, "height": 800}


def _shipment(order_id: int):  # noqa: ANN202 - orders.Shipment
    from o2o.orders.models import Shipment

    [s] = Shipment.objects.filter(order_id=order_id).exclude(status="rerouted")
    return s


def _elsewhere(sku_id: int, location_id: int) -> int:
    from django.db.models import Sum

    from o2o.inventory.models import Stock

    return Stock.objects.filter(sku_id=sku_id).exclude(location_id=location_id).aggregate(n=Sum("on_hand"))["n"] or 0


def test_pickup_loop(site, pages, shots):
    spot = xuhui_spot()
    sku = sku_on_shelf(spot.location_id, at_least=5)
    qty = 2
    on_hand, reserved = stock_of(spot.location_id, sku.pk)
    elsewhere = _elsewhere(sku.pk, spot.location_id)
    clerk = make_clerk(spot.location_id, f"clerk-{spot.location_id}")

    phone = pages.new(geolocation={"latitude": spot.wgs.lat, "longitude": spot.wgs.lng})
    customer_locates(phone, spot, shots)
    customer_finds_and_adds(phone, sku, qty, spot, shots)
    customer_signs_in_at_checkout(phone, "13912340001", shots)
    pickup = phone.locator(f"[data-testid=option-pickup][data-location-id='{spot.location_id}']")
    order_id = customer_places_and_pays(phone, pickup, shots)
    shipment = _shipment(order_id)
    assert (shipment.location_id, shipment.mode) == (spot.location_id, "pickup")
    assert stock_of(spot.location_id, sku.pk) == (on_hand, reserved + qty)  # held for the order, not yet gone

    tablet = pages.new(viewport=TABLET)
    clerk_signs_in(tablet, clerk.username)
    clerk_picks_and_packs(tablet, shipment.pk, [sku.pk], shots)
    expect(tablet.get_by_test_id("shipment-status")).to_have_attribute("data-status", "ready_for_pickup")

    phone.reload()
    expect(phone.get_by_test_id("order-status")).to_have_attribute("data-status", "ready_for_pickup")
    code = phone.get_by_test_id("pickup-code").inner_text().replace(" ", "")
    assert re.fullmatch(r"\d{10}", code), code
    expect(phone.get_by_test_id("pickup-qr").locator("svg")).to_be_visible()
    shots(phone, "customer-pickup-code")

    tablet.goto("/console/counter")
    tablet.get_by_test_id("pickup-code-input").fill(code)
    tablet.get_by_test_id("verify-pickup").click()
    expect(tablet.get_by_test_id("verify-result")).to_have_attribute("data-result", "ok")
    shots(tablet, "clerk-verified")

    phone.reload()
    expect(phone.get_by_test_id("order-status")).to_have_attribute("data-status", "completed")
    shots(phone, "customer-completed")
    assert stock_of(spot.location_id, sku.pk) == (on_hand - qty, reserved)
    assert _elsewhere(sku.pk, spot.location_id) == elsewhere


def test_delivery_loop_with_a_failed_courier(site, pages, shots):
    spot = xuhui_spot()
    sku = sku_on_shelf(spot.location_id, at_least=5, skip=1)
    qty = 1
    phone = pages.new(geolocation={"latitude": spot.wgs.lat, "longitude": spot.wgs.lng})
    customer_locates(phone, spot, shots)
    customer_finds_and_adds(phone, sku, qty, spot, shots)
    customer_signs_in_at_checkout(phone, "13912340002", shots)
    option = phone.get_by_test_id("option-same_city")
    expect(option).to_be_visible()
    order_id = customer_places_and_pays(phone, option, shots, contact={
        "contact_name": "王小明", "contact_phone": "13912340002", "address": "徐汇区 漕溪北路 1 号 2 室"})
    shipment = _shipment(order_id)
    assert shipment.mode == "same_city"
    store = shipment.location_id
    on_hand, reserved = stock_of(store, sku.pk)
    clerk = make_clerk(store, f"clerk-{store}")

    tablet = pages.new(viewport=TABLET)
    clerk_signs_in(tablet, clerk.username)
    clerk_picks_and_packs(tablet, shipment.pk, [sku.pk], shots)
    expect(tablet.get_by_test_id("shipment-status")).to_have_attribute("data-status", "awaiting_courier")
    expect(tablet.get_by_test_id("courier-task-1")).to_be_visible()
    first = tablet.get_by_test_id("courier-task-1").get_attribute("data-provider")

    # The simulated first courier finds no rider; ten minutes later it gives up.
    status, body = api(site.url, "POST", "/api/v1/delivery/sandbox/fail", HQ_TOKEN,
                       {"shipment_id": shipment.pk, "mode": "no_rider"})
    assert status == 200, body
    status, body = api(site.url, "POST", "/api/v1/delivery/sandbox/advance", HQ_TOKEN, {"minutes": 12})
    assert status == 200, body
    tablet.reload()
    expect(tablet.get_by_test_id("courier-task-1")).to_have_attribute("data-status", "failed")
    second = tablet.get_by_test_id("courier-task-2")
    expect(second).to_be_visible()
    assert second.get_attribute("data-provider") != first
    tablet.goto(f"/console/s/{store}/queue")
    expect(tablet.get_by_test_id("alerts")).to_contain_text(shipment.order.number)
    shots(tablet, "clerk-courier-exception")
    tablet.goto(f"/console/shipments/{shipment.pk}")
    shots(tablet, "clerk-redispatched")

    # The second courier picks the parcel up and delivers it.
    status, body = api(site.url, "POST", "/api/v1/delivery/sandbox/advance", HQ_TOKEN, {"minutes": 90})
    assert status == 200, body
    phone.reload()
    expect(phone.get_by_test_id("order-status")).to_have_attribute("data-status", "completed")
    expect(phone.get_by_test_id("courier-tracking")).to_be_visible()
    shots(phone, "customer-delivered")
    assert stock_of(store, sku.pk) == (on_hand - qty, reserved - qty)


def test_another_store_cannot_see_or_verify(site, pages, shots):
    from o2o.stores.models import Location

    spot = xuhui_spot()
    sku = sku_on_shelf(spot.location_id, at_least=5, skip=2)
    clerk = make_clerk(spot.location_id, f"clerk-{spot.location_id}")
    other = Location.objects.filter(kind="store", active=True).exclude(pk=spot.location_id).order_by("pk").first()
    stranger = make_clerk(other.pk, f"clerk-{other.pk}")

    phone = pages.new(geolocation={"latitude": spot.wgs.lat, "longitude": spot.wgs.lng})
    customer_locates(phone, spot, shots)
    customer_finds_and_adds(phone, sku, 1, spot, shots)
    customer_signs_in_at_checkout(phone, "13912340003", shots)
    pickup = phone.locator(f"[data-testid=option-pickup][data-location-id='{spot.location_id}']")
    order_id = customer_places_and_pays(phone, pickup, shots)
    shipment = _shipment(order_id)
    tablet = pages.new(viewport=TABLET)
    clerk_signs_in(tablet, clerk.username)
    clerk_picks_and_packs(tablet, shipment.pk, [sku.pk], shots)
    phone.reload()
    code = phone.get_by_test_id("pickup-code").inner_text().replace(" ", "")

    intruder = pages.new(viewport=TABLET)
    clerk_signs_in(intruder, stranger.username)
    expect(intruder.get_by_test_id("current-store")).to_contain_text(other.name)
    expect(intruder.get_by_test_id(f"queue-row-{shipment.pk}")).to_have_count(0)
    shots(intruder, "stranger-own-queue")
    for url in (f"/console/shipments/{shipment.pk}", f"/console/s/{spot.location_id}/queue",
                f"/console/s/{spot.location_id}/counter"):
        response = intruder.goto(url)
        assert response is not None and response.status in (403, 404), (url, response and response.status)
        assert shipment.order.number not in intruder.content()
    shots(intruder, "stranger-typed-url")
    intruder.goto("/console/counter")
    intruder.get_by_test_id("pickup-code-input").fill(code)
    intruder.get_by_test_id("verify-pickup").click()
    result = intruder.get_by_test_id("verify-result")
    expect(result).not_to_have_attribute("data-result", "ok")
    shots(intruder, "stranger-verify-refused")
    # The order is untouched: still ready for pickup, and the code still works at its own store.
    phone.reload()
    expect(phone.get_by_test_id("order-status")).to_have_attribute("data-status", "ready_for_pickup")
    tablet.goto("/console/counter")
    tablet.get_by_test_id("pickup-code-input").fill(code)
    tablet.get_by_test_id("verify-pickup").click()
    expect(tablet.get_by_test_id("verify-result")).to_have_attribute("data-result", "ok")
