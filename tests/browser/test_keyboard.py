"""A clerk works the counter by keyboard only: sign in, skip link first, Tab through the console's navigation to
the counter, the pickup-code input has focus, type the code, Enter, read the result. Every stop of the Tab
sequence shows a visible focus ring, and the Tab order is the document order (no positive tabindex)."""

from __future__ import annotations

import re

import pytest
from playwright.sync_api import Page, expect

from tests.browser.conftest import TABLET
from tests.browser.world import CLERK_PASSWORD, api, make_clerk, sku_on_shelf

pytestmark = pytest.mark.browser
MEMBER_TOKEN = "demo-member-token"  # noqa: S105 - the demo's published tokens
CLERK_TOKEN = "demo-clerk-token"  # noqa: S105
STORE = "SH001"  # the demo clerk's store

# What the focused element is, and whether a focus ring is drawn (outline, or a box-shadow ring).
FOCUSED = """() => {
  const el = document.activeElement;
  if (!el || el === document.body) return null;
  const cs = getComputedStyle(el);
  return {tag: el.tagName.toLowerCase(), testid: el.dataset.testid || "", cls: el.className || "",
          text: (el.innerText || el.value || "").trim().slice(0, 30), id: el.id || "",
          outline: cs.outlineStyle, outlineWidth: parseFloat(cs.outlineWidth) || 0, shadow: cs.boxShadow,
          key: el.tagName + "|" + (el.id || el.getAttribute("href") || el.dataset.testid || el.name || el.innerText)};
}"""

# The keyboard's Tab stops in document order: what a sane page without positive tabindex gives.
TABBABLE = """() => Array.from(document.querySelectorAll(
    'a[href], button, input:not([type=hidden]), select, textarea, [tabindex]'))
  .filter(el => !el.disabled && el.tabIndex >= 0 && el.getClientRects().length > 0
                && getComputedStyle(el).visibility !== 'hidden')
  .map(el => el.tagName + "|" + (el.id || el.getAttribute("href") || el.dataset.testid || el.name || el.innerText))"""


def ready_pickup_code(site_url: str, location_id: int) -> str:
    """A pickup order for the demo member at the store, paid and packed: its live pickup code."""
    from django.db import transaction

    from o2o.orders import lifecycle
    from o2o.orders.actors import SYSTEM
    from o2o.orders.locks import lock_order
    from o2o.orders.models import PickupCode
    from o2o.stores.models import Location

    store = Location.objects.get(pk=location_id)
    s = sku_on_shelf(location_id, skip=3)
    status, order = api(site_url, "POST", "/api/v1/orders", MEMBER_TOKEN, {
        "lines": [{"sku_id": s.pk, "qty": 1}], "channel": "h5", "choice": "pickup", "lat": store.lat,
        "lng": store.lng, "pickup_location_id": location_id, "contact_name": "键盘", "contact_phone": "13900002222"},
        key=f"kb-{location_id}")
    assert status == 201, order
    with transaction.atomic():  # paid: what the payment service does once the money arrived
        lifecycle.order_paid(lock_order(order["id"]), amount_fen=order["total_fen"], by=SYSTEM)
    sid = order["shipments"][0]["id"]
    status, body = api(site_url, "POST", f"/api/v1/store/shipments/{sid}/ready", CLERK_TOKEN, {"pick_all": True},
                       key=f"kb-ready-{sid}")
    assert status == 200, body
    return PickupCode.objects.get(shipment_id=sid, status="live").code


def focused(page: Page) -> dict:
    got = page.evaluate(FOCUSED)
    assert got is not None, "nothing has the keyboard focus"
    return got


def assert_focus_visible(f: dict) -> None:
    ring = (f["outline"] != "none" and f["outlineWidth"] >= 1) or (f["shadow"] not in ("", "none"))
    assert ring, f"no visible focus indicator on {f}"


def test_clerk_verifies_a_pickup_by_keyboard_only(pages, site, shots):
    from o2o.stores.models import Location

    store = Location.objects.get(code=STORE)
    code = ready_pickup_code(site.url, store.pk)
    clerk = make_clerk(store.pk, f"clerk-kb-{store.pk}")
    page = pages.new(viewport=TABLET)

    # Sign in: the user name has the focus, Tab to the password, Enter submits.
    page.goto("/console/login")
    assert focused(page)["id"] == "id_username"
    page.keyboard.type(clerk.username)
    page.keyboard.press("Tab")
    assert focused(page)["id"] == "id_password"
    page.keyboard.type(CLERK_PASSWORD)
    page.keyboard.press("Enter")
    page.wait_for_url(re.compile(rf"/console/s/{store.pk}/queue"))

    # First Tab stop: the skip link, shown when focused; then the navigation in document order.
    page.keyboard.press("Tab")
    skip = focused(page)
    assert "skip-link" in skip["cls"] and skip["text"] == "跳到主要内容", skip
    assert_focus_visible(skip)
    expect(page.locator(".skip-link")).to_be_in_viewport()
    shots(page, "queue-skip-link-focused")
    order = page.evaluate(TABBABLE)
    assert order[0] == skip["key"], order[:3]
    assert page.evaluate("() => document.querySelectorAll('[tabindex]:not([tabindex=\"-1\"]):not([tabindex=\"0\"])').length") == 0
    seen = [skip]
    for _ in range(12):
        if seen[-1]["testid"] == "nav-counter":
            break
        page.keyboard.press("Tab")
        seen.append(focused(page))
        assert_focus_visible(seen[-1])
    assert seen[-1]["testid"] == "nav-counter", [f["key"] for f in seen]
    assert [f["key"] for f in seen] == order[:len(seen)]  # Tab follows the document order
    shots(page, "queue-nav-counter-focused")
    page.keyboard.press("Enter")
    page.wait_for_url(re.compile(rf"/console/s/{store.pk}/counter"))

    # The counter opens with the pickup-code input focused; it is also the first stop after the navigation.
    box = focused(page)
    assert box["testid"] == "pickup-code-input", box
    assert_focus_visible(box)
    back = [box]
    for _ in range(15):
        page.keyboard.press("Shift+Tab")
        back.append(focused(page))
        if "skip-link" in back[-1]["cls"]:
            break
    assert "skip-link" in back[-1]["cls"], [f["key"] for f in back]
    order = page.evaluate(TABBABLE)
    forward = [f["key"] for f in reversed(back)]
    assert forward == order[:len(forward)]  # skip link first, ..., the pickup-code input
    for _ in range(len(back) - 1):
        page.keyboard.press("Tab")
    assert focused(page)["testid"] == "pickup-code-input"
    shots(page, "counter-input-focused")

    # A wrong code first: the refusal is announced; then the right one.
    wrong = "0" * 10
    page.keyboard.type(wrong)
    page.keyboard.press("Enter")
    result = page.get_by_test_id("verify-result")
    expect(result).to_be_visible()
    assert result.get_attribute("data-result") != "ok" and result.get_attribute("role") == "alert"
    box = focused(page)
    if box["testid"] != "pickup-code-input":  # after the page came back, Tab to the input again
        page.keyboard.press("Tab")
        for _ in range(20):
            if focused(page)["testid"] == "pickup-code-input":
                break
            page.keyboard.press("Tab")
    assert focused(page)["testid"] == "pickup-code-input"
    page.keyboard.press("Control+a")
    page.keyboard.type(code)
    page.keyboard.press("Enter")
    expect(page.get_by_test_id("verify-result")).to_have_attribute("data-result", "ok")
    expect(page.get_by_test_id("verify-result")).to_contain_text("核销成功")
    shots(page, "counter-verified")
