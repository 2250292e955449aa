"""The storefront's coupons: the coupon center (claim, wallet tabs with code and QR) and coupons and points
at checkout, priced exactly as ``orders.checkout.checkout_quote`` prices them and placed with the order."""

from __future__ import annotations

import re
from datetime import timedelta

import pytest
from django.utils import timezone

from o2o.catalog.models import Channel
from o2o.marketing.claims import coupon_issue
from o2o.marketing.models import Coupon, CouponTemplate
from o2o.marketing.redemption import coupon_redeem_at_counter
from o2o.members import points as pts
from o2o.members.selectors import available_points
from o2o.orders.checkout import checkout_quote
from o2o.orders.models import Order
from tests.e2e.web.test_shop_checkout import option
from tests.e2e.web.test_shop_helpers import at_point, by_testid, fresh_cache, hidden, sign_in
from tests.factories import member, staff
from tests.integration.fulfilment.world import P, build
from tests.integration.marketing.support import template

pytestmark = pytest.mark.django_db
__all__ = ["fresh_cache"]  # the autouse fixture


@pytest.fixture
def w(monkeypatch):
    return build(monkeypatch)


@pytest.fixture
def shopper(client, w):
    """A signed-in member at P, store A current, with 2 × s1 (¥10 each) in the cart."""
    m, _ = member()
    at_point(client, w.a)
    sign_in(client, m)
    client.post("/shop/cart/add", {"sku_id": w.s1.pk, "qty": 2})
    return m


def campaign_key(html: str, template_id: int) -> str:
    m = re.search(rf'name="template_id" value="{template_id}"><input type="hidden" name="idem" value="([^"]+)"', html)
    assert m, f"no claim form for {template_id}"
    return m.group(1)


def claim(client, t: CouponTemplate, key: str | None = None):  # noqa: ANN001, ANN201
    if key is None:
        key = campaign_key(client.get("/shop/coupons").content.decode(), t.pk)
    return client.post("/shop/coupons/claim", {"template_id": t.pk, "idem": key})


# --- the coupon center --------------------------------------------------------------------------------------

def test_visitors_see_the_campaigns_and_a_sign_in_link(client, w):
    t = template(name="新客立减", amount_fen=500, threshold_fen=0, stores=[w.a])
    r = client.get("/shop/coupons")
    html = r.content.decode()
    assert r.status_code == 200 and f'data-testid="campaign-{t.pk}"' in html
    assert "新客立减" in html and "立减 ¥5" in html and "徐汇店" in html and "领取后 30 天内有效" in html
    assert 'data-testid="claim"' not in html and "/shop/login?next=/shop/coupons" in html
    r = client.post("/shop/coupons/claim", {"template_id": t.pk, "idem": "k"})
    assert r.status_code == 302 and r["Location"].startswith("/shop/login?next=")
    assert not Coupon.objects.exists()


def test_a_member_claims_once_and_sees_the_coupon_with_its_code_and_qr(client, w, shopper):
    t = template(name="满15减5", amount_fen=500, threshold_fen=1500)
    html = client.get("/shop/coupons").content.decode()
    key = campaign_key(html, t.pk)
    first = claim(client, t, key)
    again = claim(client, t, key)  # a double submit: the first answer, not "limit reached"
    assert first.status_code == again.status_code == 302
    assert first["Location"] == "/shop/coupons?tab=available#wallet"
    [c] = Coupon.objects.filter(member=shopper)
    assert c.template_id == t.pk and c.source == "claim"
    page = client.get(first["Location"]).content.decode()
    assert "领取成功" in page
    item = page[page.index(f'data-testid="coupon-{c.pk}"'):]
    grouped = " ".join(c.code[i:i + 4] for i in range(0, 16, 4))
    assert by_testid(item, "coupon-code") == grouped and re.fullmatch(r"\d{4}( \d{4}){3}", grouped)
    assert 'data-testid="coupon-qr"' in item and "<svg" in item and 'aria-label="券码二维码"' in item
    assert by_testid(item, "coupon-state") == "可用"
    assert 'data-testid="claimed"' in page  # the campaign's card: already claimed, no button

    # A fresh form after the limit: refused beside the card, in Chinese.
    r = claim(client, t, "another-key")
    body = r.content.decode()
    assert r.status_code == 409
    card = body[body.index(f'data-testid="campaign-{t.pk}"'):]
    assert "已达领取上限" in by_testid(card, "claim-error")
    assert Coupon.objects.filter(member=shopper).count() == 1


def test_sold_out_is_shown_beside_the_card(client, w, shopper):
    t = template(budget=1)
    key = campaign_key(client.get("/shop/coupons").content.decode(), t.pk)
    other, _ = member()
    coupon_issue(template_id=t.pk, member=other, source="claim")  # the last one goes meanwhile
    r = claim(client, t, key)
    html = r.content.decode()
    assert r.status_code == 409 and "已经领完" in html
    assert 'data-testid="claim-error"' in html and not Coupon.objects.filter(member=shopper).exists()
    page = client.get("/shop/coupons").content.decode()
    assert 'data-testid="sold-out"' in page


@pytest.mark.parametrize("template_id", ["", "abc", "-1", "0", "9" * 30, "1 2"])
def test_bad_claims_are_pages_not_errors(client, w, shopper, template_id):
    r = client.post("/shop/coupons/claim", {"template_id": template_id, "idem": "k1"})
    assert r.status_code == 400 and "表单已失效" in r.content.decode()
    r = client.post("/shop/coupons/claim", {"template_id": "987654", "idem": "k2"})  # no such campaign
    assert r.status_code == 404 and "活动不存在" in r.content.decode()
    assert client.get("/shop/coupons/claim").status_code == 405
    assert client.get("/shop/coupons?tab=bogus").status_code == 200
    assert client.get("/shop/coupons?tab=%00").status_code == 400  # the site's NUL guard, not a traceback


def test_wallet_tabs_available_used_expired(client, w, shopper):
    usable = coupon_issue(template_id=template(name="可用券").pk, member=shopper, source="claim")
    at_store = coupon_issue(template_id=template(name="门店券", threshold_fen=0).pk, member=shopper, source="claim")
    clerk, _ = staff("clerk", loc=w.a)
    coupon_redeem_at_counter(code=at_store.code, store_id=w.a.pk, user_id=clerk.pk)
    old = coupon_issue(template_id=template(name="过期券").pk, member=shopper, source="claim")
    Coupon.objects.filter(pk=old.pk).update(valid_from=timezone.now() - timedelta(days=9),
                                            valid_until=timezone.now() - timedelta(days=1))

    def tab(name: str) -> str:
        r = client.get(f"/shop/coupons?tab={name}")
        assert r.status_code == 200
        html = r.content.decode()
        return html[html.index('data-testid="wallet"'):]

    available = tab("available")
    assert f'data-testid="coupon-{usable.pk}"' in available and f"coupon-{at_store.pk}" not in available
    assert f"coupon-{old.pk}" not in available
    assert 'aria-current="page"' in available.split('data-testid="wallet-tab-used"')[0]
    used = tab("used")
    assert f'data-testid="coupon-{at_store.pk}"' in used and f"coupon-{usable.pk}" not in used
    assert by_testid(used, "coupon-state") == "已使用" and "徐汇店" in by_testid(used, "coupon-used")
    assert 'data-testid="coupon-qr"' not in used  # nothing to show at a counter any more
    expired = tab("expired")
    assert f'data-testid="coupon-{old.pk}"' in expired and by_testid(expired, "coupon-state") == "已过期"
    counts = re.findall(r'data-testid="wallet-tab-(\w+)"[^>]*>[^<]*<span class="muted small">(\d+)</span>', expired)
    assert dict(counts) == {"available": "1", "used": "1", "expired": "1"}


def test_the_member_center_and_the_nav_lead_to_the_coupon_center(client, w, shopper):
    coupon_issue(template_id=template().pk, member=shopper, source="claim")
    html = client.get("/shop/me").content.decode()
    assert "你有 1 张可用的优惠券" in by_testid(html, "coupon-wallet")
    assert 'href="/shop/coupons" data-testid="coupon-center"' in html
    assert 'data-testid="nav-coupons"' in client.get("/shop/").content.decode()


# --- checkout ----------------------------------------------------------------------------------------------

def quoted(w, m, **kw) -> dict[str, int]:  # noqa: ANN001, ANN003
    """What ``checkout_quote`` charges for each option (as the page's radio values name them)."""
    q = checkout_quote(lines=[(w.s1.pk, 2)], channel=Channel.H5, lat=P.lat, lng=P.lng, price_location_id=w.a.pk,
                       pickup_location_id=w.a.pk, member_id=m.pk, now=timezone.localtime(), **kw)
    return {f"{o['kind']}:{o['detail'].get('location_id') or ''}" if o["kind"] == "pickup" else o["kind"]:
            o["total_fen"] for o in q["options"]}


def totals(html: str) -> dict[str, int]:
    out = {}
    for kind, loc, total in re.findall(r'name="option" value="(\w+):(\d*):(\d+)"', html):
        out[f"{kind}:{loc}" if kind == "pickup" else kind] = int(total)
    return out


def adjustments(html: str) -> str:
    """The text of the first option's adjustments line."""
    part = html[html.index('data-testid="option-adjustments"'):]
    return re.sub(r"<[^>]+>", "", part[:part.index('data-testid="total-of-option"')])


def requote(client, w, html: str, **fields):  # noqa: ANN001, ANN003, ANN201
    form = {"option": option(html, "pickup", w.a.pk), "idem": hidden(html, "idem"), "requote": "1", **fields}
    r = client.post("/shop/checkout", form)
    assert r.status_code == 200, r.content.decode()[:500]
    return r.content.decode()


def test_checkout_lists_usable_coupons_and_selects_none(client, w, shopper):
    c = coupon_issue(template_id=template(name="满15减5", amount_fen=500, threshold_fen=1500).pk, member=shopper,
                     source="claim")
    offline = coupon_issue(template_id=template(name="到店券", redeem_online=False).pk, member=shopper, source="claim")
    html = client.get("/shop/checkout").content.decode()
    assert '<label for="id_coupon">优惠券</label>' in html
    select = html[html.index('<select name="coupon"'):html.index("</select>")]
    assert f'value="{c.pk}"' in select and "满 ¥15 减 ¥5" in select and f'value="{offline.pk}"' not in select
    assert '<option value="" selected>不使用优惠券</option>' in select
    assert '<label for="id_use_points">' in html and 'data-testid="requote"' in html
    assert totals(html) == quoted(w, shopper)


def test_a_coupon_changes_the_totals_exactly_and_placing_uses_it(client, w, shopper):
    c = coupon_issue(template_id=template(amount_fen=500, threshold_fen=1500).pk, member=shopper, source="claim")
    html = requote(client, w, client.get("/shop/checkout").content.decode(), coupon=str(c.pk))
    with_coupon = quoted(w, shopper, coupon_ids=(c.pk,))
    assert totals(html) == with_coupon and with_coupon != quoted(w, shopper)
    assert with_coupon[f"pickup:{w.a.pk}"] == 2 * w.s1.list_price_fen - 500
    assert f'<option value="{c.pk}" selected>' in html
    assert f"优惠券：{c.template.name} -¥5.00" in adjustments(html)
    assert 'data-testid="coupon-refusal"' not in html
    r = client.post("/shop/checkout", {"option": option(html, "pickup", w.a.pk), "idem": hidden(html, "idem"),
                                       "coupon": str(c.pk)})
    assert r.status_code == 302, r.content.decode()[:800]
    order = Order.objects.get(member=shopper)
    assert order.total_fen == with_coupon[f"pickup:{w.a.pk}"] and order.discount_fen == 500
    c.refresh_from_db()
    assert c.status == "used" and c.used_order_id == order.pk
    # The coupon is gone from the checkout's choices.
    client.post("/shop/cart/add", {"sku_id": w.s1.pk, "qty": 1})
    page = client.get("/shop/checkout").content.decode()
    assert 'data-testid="no-coupons"' in page and '<select name="coupon"' not in page


def test_points_change_the_totals_exactly_and_are_spent(client, w, shopper):
    pts.points_earn(shopper.pk, 1000, "gift:web", timezone.now())
    html = client.get("/shop/checkout").content.decode()
    info = by_testid(html, "points-info")
    assert "可用积分 1000" in info and "¥10.00" in info  # 50 % of ¥20: 1000 points
    html = requote(client, w, html, use_points="on")
    with_points = quoted(w, shopper, points=-1)
    assert totals(html) == with_points and with_points[f"pickup:{w.a.pk}"] == 2 * w.s1.list_price_fen - 1000
    assert 'id="id_use_points" data-testid="use-points" checked' in html
    assert "使用 1000 积分" in by_testid(html, "points-info")
    assert "积分抵扣（1000 积分） -¥10.00" in adjustments(html)
    r = client.post("/shop/checkout", {"option": option(html, "pickup", w.a.pk), "idem": hidden(html, "idem"),
                                       "use_points": "on"})
    assert r.status_code == 302, r.content.decode()[:800]
    order = Order.objects.get(member=shopper)
    assert order.pricing["points_used"] == 1000 and order.total_fen == with_points[f"pickup:{w.a.pk}"]
    assert available_points(shopper.pk) == 0


def test_a_coupon_and_points_together(client, w, shopper):
    pts.points_earn(shopper.pk, 5000, "gift:web2", timezone.now())
    c = coupon_issue(template_id=template(amount_fen=400, threshold_fen=1000).pk, member=shopper, source="claim")
    html = requote(client, w, client.get("/shop/checkout").content.decode(), coupon=str(c.pk), use_points="on")
    both = quoted(w, shopper, coupon_ids=(c.pk,), points=-1)
    assert totals(html) == both
    assert both[f"pickup:{w.a.pk}"] == 2000 - 400 - (2000 - 400) // 2


def test_a_rejected_coupon_shows_its_reason_and_cannot_be_placed(client, w, shopper):
    c = coupon_issue(template_id=template(amount_fen=500, threshold_fen=100_000).pk, member=shopper,
                     source="claim")
    html = requote(client, w, client.get("/shop/checkout").content.decode(), coupon=str(c.pk))
    assert totals(html) == quoted(w, shopper)  # nothing off
    assert "这张券不能用于本单" in by_testid(html, "coupon-refusal")
    r = client.post("/shop/checkout", {"option": option(html, "pickup", w.a.pk), "idem": hidden(html, "idem"),
                                       "coupon": str(c.pk)})
    assert r.status_code == 409 and "优惠券不可用于本单" in by_testid(r.content.decode(), "checkout-error")
    assert not Order.objects.filter(member=shopper).exists()
    c.refresh_from_db()
    assert c.status == "available"


@pytest.mark.parametrize("value", ["abc", "99999999", "-1", "1.5"])
def test_a_coupon_that_is_not_the_members_is_refused_beside_the_select(client, w, shopper, value):
    other, _ = member()
    theirs = coupon_issue(template_id=template().pk, member=other, source="claim")
    html = client.get("/shop/checkout").content.decode()
    for bad in (value, str(theirs.pk)):
        r = client.post("/shop/checkout", {"option": option(html, "pickup", w.a.pk), "idem": hidden(html, "idem"),
                                           "coupon": bad})
        assert r.status_code == 400 and "这张优惠券已不可用" in r.content.decode()
        r = client.post("/shop/checkout", {"option": option(html, "pickup", w.a.pk), "idem": "x", "coupon": bad,
                                           "requote": "1"})
        assert r.status_code == 200
    assert not Order.objects.exists()
    theirs.refresh_from_db()
    assert theirs.status == "available"


def test_the_coupon_center_in_english(client, w, shopper):
    from django.conf import settings

    t = template(name="满15减5", name_en="¥5 off over ¥15", amount_fen=500, threshold_fen=1500, valid_days=7)
    coupon_issue(template_id=t.pk, member=shopper, source="claim")
    client.cookies[settings.LANGUAGE_COOKIE_NAME] = "en"
    html = client.get("/shop/coupons").content.decode()
    assert "Coupon center" in html and "My coupons" in html and "¥5 off over ¥15" in html
    assert "Valid for 7 days after claiming" in html and "领券中心" not in html and "满 ¥15 减 ¥5" not in html
    assert 'aria-label="Coupon QR code"' in html


def test_an_exchange_campaign_shows_its_points_and_says_when_they_are_short(client):
    m, _ = member()
    t = template(kind="service_voucher", service="洗车 car wash", amount_fen=3000, threshold_fen=0, points_price=800,
                 redeem_online=False, budget=5)
    sign_in(client, m)
    page = client.get("/shop/coupons").content.decode()
    assert "800 积分兑换" in page
    r = client.post("/shop/coupons/claim", {"template_id": t.pk, "idem": "x1"})
    assert r.status_code == 409 and "积分不足，无法兑换。" in r.content.decode()
    assert not Coupon.objects.filter(member=m).exists()
    pts.points_earn(m.pk, 900, "gift:1", timezone.now())
    assert client.post("/shop/coupons/claim", {"template_id": t.pk, "idem": "x2"}).status_code == 302
    assert Coupon.objects.filter(member=m, template=t).count() == 1 and available_points(m.pk) == 100
