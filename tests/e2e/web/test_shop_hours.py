"""The storefront at night: closed stores promise tomorrow's pickup time, never "约 N 分钟"."""

from __future__ import annotations

import re

import pytest
from django.conf import settings

from tests.e2e.web.test_shop_helpers import at_point, by_testid, fresh_cache
from tests.integration.fulfilment.world import at, build_with_hours

pytestmark = pytest.mark.django_db
__all__ = ["fresh_cache"]  # the autouse fixture


@pytest.fixture
def w(monkeypatch):
    return build_with_hours(monkeypatch)  # stores 07:00-22:00, the warehouse round the clock


def offers(html: str) -> dict[str, str]:
    found = re.findall(r'data-testid="offer-(\w+)"[^>]*>(.*?)</li>', html, re.S)
    return {kind: re.sub(r"\s+", " ", re.sub(r"<[^>]+>", " ", body)).strip() for kind, body in found}


@pytest.mark.parametrize(("hour", "minute", "day"), [(23, 30, "明天"), (0, 41, "今天")])
def test_product_page_at_night_shows_the_morning_pickup_and_no_minutes(client, w, hour, minute, day):
    at(w, hour, minute)
    at_point(client, w.a)
    html = client.get(f"/shop/p/{w.s1.pk}").content.decode()
    headline = by_testid(html, "availability-headline")
    assert headline == f"徐汇店 有货 1.0 km，{day}可自提"
    got = offers(html)
    if day == "明天":
        assert "明天 07:15 前备好" in got["pickup"]
    else:  # 00:41: the store opens this (calendar) morning
        assert "07:15 前备好" in got["pickup"] and "明天" not in got["pickup"]
    assert "约" not in got["same_city"] and "分钟" not in got["same_city"]
    assert re.search(rf"可配送 {day} 0[78]:\d\d 前送达", got["same_city"]), got["same_city"]
    # The store list reads the same clock: the current store is shown closed.
    page = client.get("/shop/location").content.decode()
    assert "已打烊" in page and "07:00-22:00" in page


def test_product_page_in_the_day_is_unchanged(client, w):
    at(w, 10, 0)
    at_point(client, w.a)
    html = client.get(f"/shop/p/{w.s1.pk}").content.decode()
    assert by_testid(html, "availability-headline").startswith("徐汇店 有货 1.0 km，今天可自提")
    got = offers(html)
    assert "10:15 前备好" in got["pickup"] and "可配送 约" in got["same_city"]
    assert "营业中" in client.get("/shop/location").content.decode()


def test_english_night_texts(client, w):
    at(w, 23, 30)
    at_point(client, w.a)
    client.cookies[settings.LANGUAGE_COOKIE_NAME] = "en"
    html = client.get(f"/shop/p/{w.s1.pk}").content.decode()
    assert "pickup tomorrow" in by_testid(html, "availability-headline")
    got = offers(html)
    assert "tomorrow" in got["pickup"] and "07:15" in got["pickup"]
    assert "about" not in got["same_city"] and "tomorrow" in got["same_city"]
