"""Steps the browser scenarios share: what a customer and a clerk do on their pages."""

from __future__ import annotations

import re

from playwright.sync_api import Page, expect

from tests.browser.world import CLERK_PASSWORD, Spot


def customer_locates(page: Page, spot: Spot, shots) -> None:  # noqa: ANN001
    """The phone's GPS (WGS-84, set on the browser context) puts the customer in 徐汇; the nearest store becomes current."""
    page.goto("/shop/location")
    with page.expect_navigation():  # the click submits the location form from JavaScript: wait for it, or a
        page.get_by_test_id("use-my-location").click()  # goto racing it is aborted (ERR_ABORTED)
    page.goto("/shop/location")
    store = page.get_by_test_id(f"store-{spot.location_id}")
    expect(store).to_be_visible()
    expect(store.get_by_test_id("is-current-store")).to_be_visible()
    expect(store).to_contain_text(f"{spot.distance_m / 1000:.1f} km")
    shots(page, "customer-nearest-stores")


def customer_finds_and_adds(page: Page, sku, qty: int, spot: Spot, shots) -> None:  # noqa: ANN001
    """Search by name, open the product, see it on the shelf at the store 1-2 km away, put qty in the cart."""
    page.goto("/shop/")
    page.get_by_role("searchbox").fill(sku.name.split(" · ")[0])
    page.get_by_role("searchbox").press("Enter")
    page.wait_for_url(re.compile(r"/shop/search"))
    page.locator(f"a[href='/shop/p/{sku.pk}']").first.click()
    expect(page.get_by_test_id("product-name")).to_have_text(sku.name)
    headline = page.get_by_test_id("availability-headline")
    expect(headline).to_contain_text("有货")
    expect(headline).to_contain_text(spot.location_name)
    expect(page.get_by_test_id("offer-pickup").first).to_have_attribute("data-location-id", str(spot.location_id))
    shots(page, "customer-product-availability")
    for _ in range(qty):
        badge_before = page.get_by_test_id("cart-badge").inner_text()
        page.get_by_test_id("add-to-cart").first.click()
        expect(page.get_by_test_id("cart-badge")).not_to_have_text(badge_before)
    expect(page.get_by_test_id("cart-badge")).to_have_text(str(qty))
    page.goto("/shop/cart")
    expect(page.get_by_test_id(f"cart-line-{sku.pk}")).to_be_visible()
    expect(page.get_by_test_id(f"cart-line-{sku.pk}").get_by_test_id("qty")).to_have_text(str(qty))
    shots(page, "customer-cart")


def customer_signs_in_at_checkout(page: Page, phone: str, shots) -> None:  # noqa: ANN001
    page.get_by_test_id("checkout").click()
    page.wait_for_url(re.compile(r"/shop/login"))
    page.locator("#id_phone").fill(phone)
    page.get_by_test_id("send-code").click()
    code = page.get_by_test_id("sandbox-sms-code").inner_text().strip()
    assert re.fullmatch(r"\d{6}", code), code
    page.locator("#id_code").fill(code)
    shots(page, "customer-sign-in")
    page.get_by_test_id("sign-in").click()
    page.wait_for_url(re.compile(r"/shop/checkout"))


def customer_places_and_pays(page: Page, option, shots, *, contact: dict | None = None) -> int:  # noqa: ANN001
    """Choose the option, fill the contact, place the order, pay in the WeChat Pay sandbox; the order's id."""
    option.locator("input[type=radio]").check()
    for field, value in (contact or {}).items():
        page.locator(f"#id_{field}").fill(value)
    shots(page, "customer-checkout")
    page.get_by_test_id("place-order").click()
    page.wait_for_url(re.compile(r"/shop/orders/\d+/pay"))
    order_id = int(re.search(r"/shop/orders/(\d+)/pay", page.url).group(1))
    page.get_by_test_id("provider-wechat").click()
    page.get_by_test_id("pay").click()
    page.wait_for_url(re.compile(r"/pay/sandbox/"))
    shots(page, "customer-sandbox-pay")
    page.get_by_test_id("sandbox-pay").click()
    page.wait_for_url(re.compile(rf"/shop/orders/{order_id}$"))
    expect(page.get_by_test_id("order-status")).to_have_attribute("data-status", "allocated")
    shots(page, "customer-order-paid")
    return order_id


def clerk_signs_in(page: Page, username: str, password: str = CLERK_PASSWORD) -> None:
    page.goto("/console/login")
    page.locator("#id_username").fill(username)
    page.locator("#id_password").fill(password)
    page.get_by_test_id("login-submit").click()
    page.wait_for_url(re.compile(r"/console/(s/\d+/queue|$)"))


def clerk_picks_and_packs(page: Page, shipment_id: int, sku_ids: list[int], shots) -> None:  # noqa: ANN001
    row = page.get_by_test_id(f"queue-row-{shipment_id}")
    expect(row).to_be_visible()
    shots(page, "clerk-queue")
    row.get_by_role("link").first.click()
    page.wait_for_url(re.compile(rf"/console/shipments/{shipment_id}"))
    page.get_by_test_id("start-picking").click()
    expect(page.get_by_test_id("shipment-status")).to_have_attribute("data-status", "picking")
    expect(page.get_by_test_id("mark-ready")).to_be_disabled()  # until every line is confirmed on the server
    for sku_id in sku_ids:
        page.get_by_test_id(f"pick-line-{sku_id}").click()  # htmx: the server records it and answers the lines
        expect(page.get_by_test_id(f"picked-line-{sku_id}")).to_be_visible()
    expect(page.get_by_test_id("pick-lines")).to_have_attribute("data-all-picked", "1")
    expect(page.get_by_test_id("mark-ready")).to_be_enabled()
    expect(page.get_by_test_id("mark-ready")).to_be_focused()  # the keyboard moves on to "mark ready"
    shots(page, "clerk-picking")
    page.get_by_test_id("mark-ready").click()
    expect(page.get_by_test_id("shipment-status")).not_to_have_attribute("data-status", "picking")
    shots(page, "clerk-packed")


def customer_signs_in(page: Page, phone: str, shots, next_path: str = "/shop/me") -> None:  # noqa: ANN001
    """Sign in from the storefront's sign-in page with the sandbox SMS code, then land on ``next_path``."""
    page.goto(f"/shop/login?next={next_path}")
    page.locator("#id_phone").fill(phone)
    page.get_by_test_id("send-code").click()
    code = page.get_by_test_id("sandbox-sms-code").inner_text().strip()
    assert re.fullmatch(r"\d{6}", code), code
    page.locator("#id_code").fill(code)
    shots(page, "customer-sign-in")
    page.get_by_test_id("sign-in").click()
    page.wait_for_url(re.compile(re.escape(next_path.split("?")[0]) + r"(\?|#|$)"))


def clerk_looks_up_coupon(page: Page, code: str) -> None:
    """At the counter's coupon card: type the code (as the customer shows it) and look it up."""
    page.goto("/console/counter")
    page.get_by_test_id("coupon-code-input").fill(code)
    page.get_by_test_id("coupon-lookup").click()
    expect(page.get_by_test_id("coupon-view")).to_be_visible()


def customer_uses_gps(page: Page, spot: Spot) -> None:
    """As ``customer_locates``, without the screenshot and distance checks."""
    page.goto("/shop/location")
    with page.expect_navigation():
        page.get_by_test_id("use-my-location").click()
    page.goto("/shop/location")
    expect(page.get_by_test_id(f"store-{spot.location_id}").get_by_test_id("is-current-store")).to_be_visible()
