"""Storefront sign-in: phone + one-time code (sandbox SMS), visitor cart merged, safe ``next``."""

from __future__ import annotations

import re

import pytest

from o2o.accounts.pii_services import members_by_phone
from o2o.orders import carts
from o2o.web.auth import SESSION_MEMBER
from tests.e2e.web.test_shop_helpers import at_point, by_testid, fresh_cache
from tests.integration.fulfilment.world import build

pytestmark = pytest.mark.django_db
__all__ = ["fresh_cache"]  # the autouse fixture
PHONE = "13912345678"


@pytest.fixture
def w(monkeypatch):
    return build(monkeypatch)


def test_a_bad_phone_is_refused_beside_the_field(client):
    r = client.post("/shop/login", {"phone": "12345", "action": "send"})
    assert r.status_code == 400
    html = r.content.decode()
    field = re.search(r'<div class="field has-error">(.*?)</div>', html, re.S).group(1)
    assert 'name="phone"' in field and "请输入正确的 11 位手机号" in field
    assert 'data-testid="sandbox-sms-code"' not in html


def test_sign_in_with_the_sandbox_code_merges_the_cart(client, w):
    at_point(client, w.a)
    assert client.post("/shop/cart/add", {"sku_id": w.s1.pk, "qty": 2}).status_code == 302  # as a visitor
    r = client.post("/shop/login", {"phone": "139 1234 5678", "action": "send", "next": "/shop/cart"})
    assert r.status_code == 200
    code = by_testid(r.content.decode(), "sandbox-sms-code")
    assert re.fullmatch(r"\d{6}", code) and "沙箱短信" in r.content.decode()
    wrong = "000000" if code != "000000" else "111111"
    r = client.post("/shop/login", {"phone": PHONE, "code": wrong, "action": "login"})
    assert r.status_code == 400 and "验证码不正确" in r.content.decode()
    r = client.post("/shop/login", {"phone": PHONE, "code": code, "action": "login", "next": "/shop/cart"})
    assert r.status_code == 302 and r["Location"] == "/shop/cart"
    [member] = members_by_phone(PHONE)
    assert client.session[SESSION_MEMBER] == member.pk
    assert carts.cart_lines(carts.cart_for_member(member)) == [(w.s1.pk, 2)]
    # The same code cannot be used twice; signing in again finds the same member.
    client.post("/shop/logout")
    assert SESSION_MEMBER not in client.session
    assert client.post("/shop/login", {"phone": PHONE, "code": code, "action": "login"}).status_code == 400
    r = client.post("/shop/login", {"phone": PHONE, "action": "send"})
    r = client.post("/shop/login", {"phone": PHONE, "code": by_testid(r.content.decode(), "sandbox-sms-code"),
                                    "action": "login", "next": "//evil.example/x"})
    assert r["Location"] == "/shop/me" and len(members_by_phone(PHONE)) == 1


def test_five_wrong_codes_end_the_code(client):
    client.post("/shop/login", {"phone": PHONE, "action": "send"})
    for _ in range(5):
        r = client.post("/shop/login", {"phone": PHONE, "code": "999999", "action": "login"})
        assert r.status_code == 400
    assert "错误次数过多" in r.content.decode()
