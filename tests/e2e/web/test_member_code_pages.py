"""The member code (会员码) on the pages: the storefront's /shop/me/code (QR, digits, expiry, htmx refresh)
and the console counter finding a member by a scanned code, with the tags that help serve them."""

from __future__ import annotations

import itertools

import pytest
from django.utils import timezone

from o2o.accounts.models import PiiAccessLog
from o2o.accounts.pii_services import member_set_phone
from o2o.core.orders.pickup_code import damm_check_digit
from o2o.members import codes
from o2o.members.models import MemberCode
from o2o.orders.models import Order
from o2o.profiles.models import MemberTag
from tests.e2e.web.test_shop_helpers import by_testid, fresh_cache, sign_in  # noqa: F401
from tests.factories import location, member, region, staff

pytestmark = pytest.mark.django_db
_n = itertools.count(1)


@pytest.fixture
def shops():
    east = region("华东")
    return location(east, name="A店"), location(east, name="B店")


@pytest.fixture
def regular(shops):
    """A member who shops at store B only, with a phone and two stored tags (one shown at the counter)."""
    m, _ = member("赵六")
    member_set_phone(member=m, phone="13712345678")
    Order.objects.create(number=f"MC{next(_n)}", member=m, channel="pos", choice="counter", store=shops[1],
                         status="completed", goods_fen=2500, total_fen=2500, paid_fen=2500)
    now = timezone.now()
    MemberTag.objects.create(member=m, name="price_sensitivity", value="high", version=1, visible=False,
                             explanation="discounted-line spend share 60.0%", as_of=now)
    MemberTag.objects.create(member=m, name="orders_count", value=1, version=1, explanation="orders", as_of=now)
    return m


def test_code_page_needs_sign_in(client):
    r = client.get("/shop/me/code")
    assert r.status_code == 302 and r["Location"] == "/shop/login?next=%2Fshop%2Fme%2Fcode"
    assert not MemberCode.objects.exists()


def test_code_page_shows_qr_digits_and_refreshes(client, regular):
    sign_in(client, regular)
    me = client.get("/shop/me").content.decode()
    assert 'href="/shop/me/code"' in me and by_testid(me, "member-code-link") == "会员码"
    r = client.get("/shop/me/code")
    html = r.content.decode()
    assert r.status_code == 200 and "no-store" in r.get("Cache-Control", "")
    row = MemberCode.objects.get(member=regular)
    assert 'data-testid="member-code-qr"><svg role="img"' in html and "<path" in html
    assert by_testid(html, "member-code-digits") == codes.format_code(row.code)
    assert [len(g) for g in codes.format_code(row.code).split(" ")] == [4, 4, 4, 4, 2]
    assert "有效期至" in by_testid(html, "member-code-expiry") and 'hx-trigger="every 60s, codeexpired"' in html
    assert "13712345678" not in html
    fragment = client.get("/shop/me/code", HTTP_HX_REQUEST="true")  # htmx's refresh: the card alone, a new code
    part = fragment.content.decode()
    assert fragment.status_code == 200 and "<html" not in part
    assert 'id="member-code"' in part and MemberCode.objects.filter(member=regular).count() == 1  # one live code
    newest = MemberCode.objects.filter(member=regular).latest("pk")
    assert newest.code in part and newest.code != row.code


def test_counter_finds_a_member_by_scanned_code_and_shows_tags(client, shops, regular):
    a, _ = shops
    client.force_login(staff("clerk", loc=a)[0])
    by_phone = client.post(f"/console/s/{a.pk}/counter/member", {"phone": "13712345678"})
    assert by_phone.status_code == 404 and "赵六" not in by_phone.content.decode()  # shops at B only
    code = codes.code_issue(member_id=regular.pk).code
    r = client.post(f"/console/s/{a.pk}/counter/member", {"phone": code})  # the scanner types the digits
    html = r.content.decode()
    assert r.status_code == 200, html
    assert "赵六" in html and regular.phone_masked in html and "13712345678" not in html
    assert 'data-found-by="code"' in html
    tags = by_testid(html, "member-tags")
    assert "价格敏感度：高" in tags and "订单数" not in tags  # a serving tag; not every tag
    assert "暂无你可查看的订单" in html  # B's orders stay B's
    assert PiiAccessLog.objects.filter(member=regular, action="lookup", field="lookup.code").count() == 1


def test_counter_code_errors(client, shops, regular):
    a, _ = shops
    client.force_login(staff("clerk", loc=a)[0])
    body = "88" + "2" * 15
    typo = body + str((int(damm_check_digit(body)) + 1) % 10)
    bad = client.post(f"/console/s/{a.pk}/counter/member", {"phone": typo})
    assert bad.status_code == 400 and "会员码不正确" in bad.content.decode()
    unknown = client.post(f"/console/s/{a.pk}/counter/member", {"phone": body + damm_check_digit(body)})
    assert unknown.status_code == 404 and "会员码无效或已过期" in unknown.content.decode()
    assert not PiiAccessLog.objects.exists()
