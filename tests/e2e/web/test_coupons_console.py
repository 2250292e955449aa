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
    sale = till_sale(w.a, "R-77", [(w.s1.pk, 2, 3000)])  # ¥60 at the till
    signed_in(client, clerk_a)
    r = lookup(client, w.a, grouped(c.code))  # typed with spaces, as the wallet shows it
    html = r.content.decode()
    assert r.status_code == 200
    view = html[html.index('data-testid="coupon-view"'):]
    assert 'data-state="available"' in view and 'data-usable="yes"' in view
    assert by_testid(view, "coupon-offer") == "满 ¥50 减 ¥10" and by_testid(view, "coupon-state") == "可用"
    assert "139****4321" in by_testid(view, "coupon-member") and "13987654321" not in html
    assert 'data-testid="coupon-redeem"' in view and 'data-testid="coupon-receipt-needed"' in view
    assert '<label for="id_receipt_no">收银小票号（选填）</label>' in view
    form = {"coupon_code": hidden(view, "coupon_code"), "idem": hidden(view, "idem"), "receipt_no": "R-77"}
    assert form["coupon_code"] == c.code

    ok = client.post(f"/console/s/{w.a.pk}/counter/coupon/redeem", form)
    done = ok.content.decode()
    assert ok.status_code == 200 and 'data-testid="coupon-result" data-result="ok"' in done and "核销成功" in done
    assert "小票 R-77" in done and 'data-testid="coupon-reverse"' in done
    c.refresh_from_db()
    assert (c.status, c.used_store_id, c.used_by_id, c.used_channel) == ("used", w.a.pk, clerk_a.pk, "counter")
    assert c.used_order_id == sale.pk
    again = client.post(f"/console/s/{w.a.pk}/counter/coupon/redeem", form)  # the same form sent twice
    assert again.status_code == 200 and "重复提交" in again.content.decode()
    assert CouponEvent.objects.filter(coupon=c, kind="used").count() == 1

    # Typed again: the counter sees it is used, where and when, and offers no button.
    seen = lookup(client, w.a, c.code).content.decode()
    view = seen[seen.index('data-testid="coupon-view"'):]
    assert 'data-state="used"' in view and by_testid(view, "coupon-state") == "已使用"
    assert "徐汇店" in by_testid(view, "coupon-used") and "小票 R-77" in by_testid(view, "coupon-used")
    assert 'data-testid="coupon-redeem"' not in view
    assert "已经使用过" in by_testid(view, "coupon-refusal")
    later = client.post(f"/console/s/{w.a.pk}/counter/coupon/redeem", {**form, "idem": "another"})
    assert later.status_code == 409 and "已经使用过" in later.content.decode()
    assert 'data-state="used"' in later.content.decode()


def till_sale(store, receipt: str, lines: list[tuple], m=None):  # noqa: ANN001, ANN201
    from django.utils import timezone

    from o2o.orders.actors import By
    from o2o.orders.pos_orders import pos_order_record

    order, _ = pos_order_record(location_id=store.pk, receipt_no=receipt, lines=lines,
                                paid_fen=sum(q * p for _, q, p in lines), payment_method="cash",
                                member_id=m.pk if m else None, occurred_at=timezone.now(), by=By(label="till"))
    return order


def redeemed(client, w, code: str, receipt: str = "") -> str:  # noqa: ANN001, F811
    html = lookup(client, w.a, code).content.decode()
    view = html[html.index('data-testid="coupon-view"'):]
    r = client.post(f"/console/s/{w.a.pk}/counter/coupon/redeem",
                    {"coupon_code": code, "idem": hidden(view, "idem"), "receipt_no": receipt})
    assert r.status_code == 200, r.content.decode()[-2000:]
    return r.content.decode()


def test_a_just_redeemed_coupon_is_reversed_once_with_htmx(client, w, clerk_a, clerk_c, holder):  # noqa: F811
    c = coupon_issue(template_id=template(threshold_fen=0).pk, member=holder, source="claim")
    signed_in(client, clerk_a)
    done = redeemed(client, w, c.code)
    key = hidden(done[done.index('data-testid="coupon-result"'):], "idem")
    url = f"/console/s/{w.a.pk}/counter/coupon/redeem"
    assert f'hx-post="{url}"' in done and 'hx-target="#coupon"' in done
    body = {"action": "reverse", "coupon_id": str(c.pk), "idem": key}
    # Another store's clerk: this store's counter is a 403 page; their own counter does not see the coupon.
    signed_in(client, clerk_c)
    assert client.post(url, body, HTTP_HX_REQUEST="true").status_code == 403
    r = client.post(f"/console/s/{w.c.pk}/counter/coupon/redeem", {**body, "idem": "c-1"})
    assert r.status_code == 404 and "没有这张券" in r.content.decode() and "不能撤销" in r.content.decode()
    c.refresh_from_db()
    assert c.status == "used"

    signed_in(client, clerk_a)
    r = client.post(url, body, HTTP_HX_REQUEST="true")
    html = r.content.decode()
    assert r.status_code == 200 and 'data-testid="coupon-reversed" data-returned="yes"' in html and "已撤销核销" in html
    assert "券已退回会员账户" in html
    c.refresh_from_db()
    assert c.status == "available" and c.used_store_id is None
    assert "重复提交" in client.post(url, body, HTTP_HX_REQUEST="true").content.decode()  # a double click
    again = client.post(url, {**body, "idem": "other"})
    assert again.status_code == 409 and "已经撤销过" in again.content.decode()
    swapped = client.post(url, {**body, "idem": "other-2"}, HTTP_HX_REQUEST="true")  # htmx swaps only a 2xx
    assert swapped.status_code == 200 and 'data-result="coupon_already_reversed"' in swapped.content.decode()
    assert CouponEvent.objects.filter(coupon=c, kind="returned").count() == 1
    bad = client.post(url, {**body, "coupon_id": "x1", "idem": "bad"})
    assert bad.status_code == 400 and "要撤销的券不正确" in bad.content.decode()


def test_the_receipt_field_explains_what_is_wrong(client, w, clerk_a, holder):  # noqa: F811
    c = coupon_issue(template_id=template(threshold_fen=5000).pk, member=holder, source="claim")
    till_sale(w.a, "R-LOW", [(w.s1.pk, 1, 2000)])  # ¥20
    signed_in(client, clerk_a)
    url = f"/console/s/{w.a.pk}/counter/coupon/redeem"
    for receipt, status, text in (("", 422, "请填写本单的收银小票号"), ("小票1", 400, "不能有空格或中文"),
                                  ("R-NONE", 404, "本店没有这张小票"), ("R-LOW", 409, "不满足该券的使用条件"),
                                  ("x" * 41, 400, "最多 40 位")):
        r = client.post(url, {"coupon_code": c.code, "idem": f"k-{status}", "receipt_no": receipt})
        html = r.content.decode()
        assert r.status_code == status, (receipt, html[-1500:])
        field = html[html.index('<div class="field has-error">'):]
        assert field.index('for="id_receipt_no"') < 100 and text in field[:field.index("</p>")]
        assert 'id="id_receipt_no_error"' in html and 'aria-invalid="true"' in html
        assert 'data-testid="coupon-redeem"' in html  # the form is there again, to fix and send
    c.refresh_from_db()
    assert c.status == "available"
    till_sale(w.a, "R-OK", [(w.s1.pk, 3, 2000)])  # ¥60
    assert "核销成功" in redeemed(client, w, c.code, receipt=" R-OK ")
    c.refresh_from_db()
    assert c.status == "used" and c.used_order.external_ref == "R-OK"


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


def test_a_refused_receipt_is_corrected_and_sent_again_from_the_same_page(client, w, clerk_a, holder):  # noqa: F811
    """The refusal is stored under the first request's key, so the page hands out a new key with the form:
    the clerk types the receipt and sends it again, and it is redeemed (not 'form expired')."""
    c = coupon_issue(template_id=template(threshold_fen=5000).pk, member=holder, source="claim")
    till_sale(w.a, "R-FIX", [(w.s1.pk, 3, 2000)])  # ¥60
    signed_in(client, clerk_a)
    url = f"/console/s/{w.a.pk}/counter/coupon/redeem"
    r = client.post(url, {"coupon_code": c.code, "idem": "first-try", "receipt_no": ""})
    assert r.status_code == 422
    key = re.search(r'name="idem" value="([^"]+)"', r.content.decode()).group(1)
    assert key != "first-try"
    r = client.post(url, {"coupon_code": c.code, "idem": key, "receipt_no": "R-FIX"})
    assert r.status_code == 200 and "核销成功" in r.content.decode()
    c.refresh_from_db()
    assert c.status == "used" and c.used_order.external_ref == "R-FIX"


def test_an_unknown_code_with_a_malformed_receipt_is_a_404_not_a_500(client, w, clerk_a):  # noqa: F811
    from o2o.marketing.codes import new_code
    signed_in(client, clerk_a)
    r = client.post(f"/console/s/{w.a.pk}/counter/coupon/redeem",
                    {"coupon_code": new_code(), "idem": "k", "receipt_no": "小票1"})  # a well-formed code nobody has
    assert r.status_code == 404 and 'data-testid="coupon-redeem"' not in r.content.decode()
