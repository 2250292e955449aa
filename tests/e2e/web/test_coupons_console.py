"""The counter's coupon card (核销优惠券): look a code up, see the offer, the state and the masked member,
confirm once (a double submit answers the first result); refusals in Chinese, other stores kept out."""

from __future__ import annotations

import re

import pytest

from o2o.accounts.pii_services import member_set_phone
from o2o.core.orders.pickup_code import damm_check_digit
from o2o.marketing.claims import coupon_issue
from o2o.marketing.models import Coupon, CouponEvent
from tests.e2e.web.test_console_queue import clerk_a, clerk_c, signed_in, w  # noqa: F401
from tests.e2e.web.test_shop_helpers import by_testid, hidden
from tests.factories import member, staff
from tests.integration.marketing.support import template

pytestmark = pytest.mark.django_db


@pytest.fixture
def holder():
    m, _ = member("李雷")
    member_set_phone(member=m, phone="13987654321")
    return m


def grouped(code: str) -> str:
    return " ".join(code[i:i + 4] for i in range(0, 16, 4))


def lookup(client, loc, code: str):  # noqa: ANN001, ANN201
    return client.post(f"/console/s/{loc.pk}/counter/coupon", {"coupon_code": code})


def test_the_card_is_on_the_counter_with_a_labelled_input(client, w, clerk_a):  # noqa: F811
    signed_in(client, clerk_a)
    html = client.get(f"/console/s/{w.a.pk}/counter").content.decode()
    assert 'data-testid="coupon-card"' in html and "核销优惠券" in html
    assert '<label for="id_coupon_code">优惠券券码</label>' in html and 'id="id_coupon_code"' in html
    assert 'data-testid="coupon-lookup"' in html


def test_look_up_then_redeem_once(client, w, clerk_a, holder):  # noqa: F811
    t = template(name="满50减10", amount_fen=1000, threshold_fen=5000)
    c = coupon_issue(template_id=t.pk, member=holder, source="claim")
    signed_in(client, clerk_a)
    r = lookup(client, w.a, grouped(c.code))  # typed with spaces, as the wallet shows it
    html = r.content.decode()
    assert r.status_code == 200
    view = html[html.index('data-testid="coupon-view"'):]
    assert 'data-state="available"' in view and 'data-usable="yes"' in view
    assert by_testid(view, "coupon-offer") == "满 ¥50 减 ¥10" and by_testid(view, "coupon-state") == "可用"
    assert "139****4321" in by_testid(view, "coupon-member") and "13987654321" not in html
    assert 'data-testid="coupon-redeem"' in view
    form = {"coupon_code": hidden(view, "coupon_code"), "idem": hidden(view, "idem")}
    assert form["coupon_code"] == c.code

    ok = client.post(f"/console/s/{w.a.pk}/counter/coupon/redeem", form)
    done = ok.content.decode()
    assert ok.status_code == 200 and 'data-testid="coupon-result" data-result="ok"' in done and "核销成功" in done
    c.refresh_from_db()
    assert (c.status, c.used_store_id, c.used_by_id, c.used_channel) == ("used", w.a.pk, clerk_a.pk, "counter")
    again = client.post(f"/console/s/{w.a.pk}/counter/coupon/redeem", form)  # the same form sent twice
    assert again.status_code == 200 and "重复提交" in again.content.decode()
    assert CouponEvent.objects.filter(coupon=c, kind="used").count() == 1

    # Typed again: the counter sees it is used, where and when, and offers no button.
    seen = lookup(client, w.a, c.code).content.decode()
    view = seen[seen.index('data-testid="coupon-view"'):]
    assert 'data-state="used"' in view and by_testid(view, "coupon-state") == "已使用"
    assert "徐汇店" in by_testid(view, "coupon-used") and 'data-testid="coupon-redeem"' not in view
    assert "已经使用过" in by_testid(view, "coupon-refusal")
    later = client.post(f"/console/s/{w.a.pk}/counter/coupon/redeem", {**form, "idem": "another"})
    assert later.status_code == 409 and "已经使用过" in later.content.decode()
    assert 'data-state="used"' in later.content.decode()


def test_a_store_scoped_coupon_is_refused_at_another_store_with_the_reason(client, w, clerk_c, holder):  # noqa: F811
    c = coupon_issue(template_id=template(stores=[w.a]).pk, member=holder, source="claim")
    signed_in(client, clerk_c)
    html = lookup(client, w.c, c.code).content.decode()
    view = html[html.index('data-testid="coupon-view"'):]
    assert 'data-usable="no"' in view and 'data-testid="coupon-redeem"' not in view
    assert "不适用于本店" in by_testid(view, "coupon-refusal")
    r = client.post(f"/console/s/{w.c.pk}/counter/coupon/redeem", {"coupon_code": c.code, "idem": "c1"})
    assert r.status_code == 403 and "不适用于本店" in r.content.decode()
    c.refresh_from_db()
    assert c.status == "available"


def test_another_stores_clerk_cannot_use_this_stores_counter(client, w, clerk_c, holder):  # noqa: F811
    c = coupon_issue(template_id=template().pk, member=holder, source="claim")
    signed_in(client, clerk_c)
    for url, data in ((f"/console/s/{w.a.pk}/counter/coupon", {"coupon_code": c.code}),
                      (f"/console/s/{w.a.pk}/counter/coupon/redeem", {"coupon_code": c.code, "idem": "x"})):
        r = client.post(url, data)
        assert r.status_code == 403 and c.code not in r.content.decode()
    c.refresh_from_db()
    assert c.status == "available"


def test_staff_without_the_permission_see_no_form(client, w, holder):  # noqa: F811
    service, _ = staff("customer_service")
    c = coupon_issue(template_id=template().pk, member=holder, source="claim")
    signed_in(client, service)
    page = client.get(f"/console/s/{w.a.pk}/counter")  # customer service may look at a counter, never redeem
    assert page.status_code == 200 and "你没有核销优惠券的权限" in page.content.decode()
    assert 'data-testid="coupon-code-input"' not in page.content.decode()
    for url in ("/coupon", "/coupon/redeem"):
        r = client.post(f"/console/s/{w.a.pk}/counter{url}", {"coupon_code": c.code, "idem": "s1"})
        assert r.status_code == 403
    c.refresh_from_db()
    assert c.status == "available"


@pytest.mark.parametrize(("typed", "status", "text"), [
    ("", 400, "请输入券码"),
    ("1234", 400, "券码格式不正确"),
    ("1234567890123456", 400, "券码格式不正确"),  # 16 digits, wrong check digit
    ("x" * 80, 400, "内容过长"),
    ("１２３４", 400, "券码格式不正确"),
])
def test_bad_codes_are_explained(client, w, clerk_a, typed, status, text):  # noqa: F811
    if typed == "1234567890123456" and damm_check_digit(typed[:-1]) == typed[-1]:
        typed = typed[:-1] + str((int(typed[-1]) + 1) % 10)
    signed_in(client, clerk_a)
    r = lookup(client, w.a, typed)
    assert r.status_code == status and text in r.content.decode()
    r = client.post(f"/console/s/{w.a.pk}/counter/coupon/redeem", {"coupon_code": typed, "idem": "b1"})
    assert r.status_code == status and text in r.content.decode()


def test_an_unknown_code_is_404_on_the_page(client, w, clerk_a):  # noqa: F811
    body = "123456789012345"
    code = body + damm_check_digit(body)
    signed_in(client, clerk_a)
    r = lookup(client, w.a, code)
    assert r.status_code == 404 and "没有这张券" in r.content.decode()
    r = client.post(f"/console/s/{w.a.pk}/counter/coupon/redeem", {"coupon_code": code, "idem": "u1"})
    assert r.status_code == 404 and "没有这张券" in r.content.decode()
    assert not Coupon.objects.exists()


def test_an_expired_coupon_is_refused(client, w, clerk_a, holder):  # noqa: F811
    from datetime import timedelta

    from django.utils import timezone

    c = coupon_issue(template_id=template().pk, member=holder, source="claim")
    Coupon.objects.filter(pk=c.pk).update(valid_from=timezone.now() - timedelta(days=5),
                                          valid_until=timezone.now() - timedelta(minutes=1))
    signed_in(client, clerk_a)
    html = lookup(client, w.a, c.code).content.decode()
    assert re.search(r'data-testid="coupon-view"[^>]*data-state="expired"', html)
    assert "已过期" in by_testid(html[html.index('data-testid="coupon-view"'):], "coupon-refusal")
    r = client.post(f"/console/s/{w.a.pk}/counter/coupon/redeem", {"coupon_code": c.code, "idem": "e1"})
    assert r.status_code == 409 and "已过期" in r.content.decode()


def test_wrong_methods_and_stores_are_pages_not_errors(client, w, clerk_a):  # noqa: F811
    signed_in(client, clerk_a)
    for url in (f"/console/s/{w.a.pk}/counter/coupon", f"/console/s/{w.a.pk}/counter/coupon/redeem"):
        assert client.get(url).status_code == 405
    assert client.post("/console/s/987654321/counter/coupon", {"coupon_code": "1"}).status_code == 404
    assert client.post(f"/console/s/{2**63}/counter/coupon/redeem", {"coupon_code": "1"}).status_code in (403, 404)
    client.logout()
    r = client.post(f"/console/s/{w.a.pk}/counter/coupon", {"coupon_code": "1"})
    assert r.status_code == 302 and r["Location"].startswith("/console/login")
