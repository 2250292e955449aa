"""The served site itself: the front door in Chinese and English, CJK rendering, error pages without tracebacks."""

from __future__ import annotations

import pytest

pytestmark = pytest.mark.browser


def test_front_door_in_chinese_then_english(pages, shots):
    page = pages.new(viewport={"width": 1024, "height": 768})
    page.goto("/")
    assert page.locator("html").get_attribute("lang") == "zh-hans"
    assert page.get_by_role("heading", level=1).inner_text().startswith("o2o")
    assert page.get_by_role("link", name="顾客商城 (H5)").is_visible()
    shots(page, "home-zh")
    page.get_by_role("button", name="English").click()
    page.wait_for_load_state()
    assert page.locator("html").get_attribute("lang") == "en"
    shots(page, "home-en")


def test_missing_page_is_a_page_not_a_traceback(pages, shots):
    page = pages.new()
    response = page.goto("/shop/orders/999999999")  # a visitor: sent to sign in first, then 404 (not theirs)
    assert response is not None and "/shop/login?next=" in page.url
    response = page.goto("/no/such/page")
    assert response is not None and response.status == 404
    body = page.locator("body").inner_text()
    assert "Traceback" not in body and "页面不存在" in body
    shots(page, "not-found")
