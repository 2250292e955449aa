"""Coupons in a real browser (test 4): a member claims a coupon in the storefront's coupon center and sees
it in the wallet with its code and QR; a clerk of a store the coupon is valid at types the code at the
counter, sees the offer and redeems it; the member's wallet then shows it used at that store; the same
code typed again shows it is already used.

Also at checkout: choosing the coupon and ticking "use points" re-prices the options in place (htmx), and
the order placed and paid carries exactly the total shown, the coupon and the points.

The campaign is made here (not taken from the demo's campaigns), valid only at the store the clerk works at.
"""

from __future__ import annotations

import re
import time

import pytest
from playwright.sync_api import expect

from tests.browser.flows import (
    clerk_looks_up_coupon,
    clerk_signs_in,
    customer_finds_and_adds,
    customer_places_and_pays,
    customer_signs_in,
    customer_signs_in_at_checkout,
    customer_uses_gps,
)
from tests.browser.world import coupon_campaign, make_clerk, sku_on_shelf, xuhui_spot

pytestmark = pytest.mark.browser
TABLET = {"width": 1280, "height": 800}


def test_claim_then_redeem_at_the_counter(site, pages, shots):
    from o2o.marketing.models import Coupon

    spot = xuhui_spot()
    campaign = coupon_campaign(f"browser-{int(time.time())}", store_ids=[spot.location_id], amount_fen=1000,
                               name="到店立减10元")
    clerk = make_clerk(spot.location_id, f"clerk-{spot.location_id}")

    # The member claims the coupon in the coupon center.
    phone = pages.new()
    phone.goto("/shop/coupons")
    card = phone.get_by_test_id(f"campaign-{campaign.pk}")
    expect(card).to_contain_text("到店立减10元")
    expect(card).to_contain_text("立减 ¥10")
    expect(card).to_contain_text(spot.location_name)
    expect(phone.get_by_test_id("coupon-sign-in")).to_be_visible()  # a visitor: sign in to claim
    shots(phone, "visitor-coupon-center")
    customer_signs_in(phone, "13912340044", shots, next_path="/shop/coupons")
    phone.get_by_test_id(f"campaign-{campaign.pk}").get_by_test_id("claim").click()
    phone.wait_for_url(re.compile(r"/shop/coupons\?tab=available"))
    expect(phone.get_by_test_id(f"campaign-{campaign.pk}").get_by_test_id("claimed")).to_be_visible()
    [coupon] = Coupon.objects.filter(template=campaign)
    item = phone.get_by_test_id(f"coupon-{coupon.pk}")
    expect(item).to_have_attribute("data-state", "available")
    shown = item.get_by_test_id("coupon-code").inner_text().strip()
    assert re.fullmatch(r"\d{4} \d{4} \d{4} \d{4}", shown) and shown.replace(" ", "") == coupon.code
    expect(item.get_by_test_id("coupon-qr").locator("svg")).to_be_visible()
    shots(phone, "customer-wallet-available")

    # The clerk types the code at the counter, sees the offer and the masked member, redeems.
    tablet = pages.new(viewport=TABLET)
    clerk_signs_in(tablet, clerk.username)
    clerk_looks_up_coupon(tablet, shown)
    view = tablet.get_by_test_id("coupon-view")
    expect(view).to_have_attribute("data-usable", "yes")
    expect(view.get_by_test_id("coupon-offer")).to_have_text("立减 ¥10")
    expect(view.get_by_test_id("coupon-member")).to_contain_text("139****0044")
    shots(tablet, "clerk-coupon-looked-up")
    tablet.get_by_test_id("coupon-redeem").click()
    expect(tablet.get_by_test_id("coupon-result")).to_have_attribute("data-result", "ok")
    shots(tablet, "clerk-coupon-redeemed")
    coupon.refresh_from_db()
    assert (coupon.status, coupon.used_store_id, coupon.used_by_id) == ("used", spot.location_id, clerk.pk)

    # The member's wallet: used, at that store.
    phone.goto("/shop/coupons?tab=used")
    item = phone.get_by_test_id(f"coupon-{coupon.pk}")
    expect(item).to_have_attribute("data-state", "used")
    expect(item.get_by_test_id("coupon-state")).to_have_text("已使用")
    expect(item.get_by_test_id("coupon-used")).to_contain_text(spot.location_name)
    phone.goto("/shop/coupons?tab=available")
    expect(phone.get_by_test_id(f"coupon-{coupon.pk}")).to_have_count(0)
    phone.goto("/shop/coupons?tab=used")
    shots(phone, "customer-wallet-used")

    # The same code typed again: already used, nothing to confirm.
    clerk_looks_up_coupon(tablet, coupon.code)
    view = tablet.get_by_test_id("coupon-view")
    expect(view).to_have_attribute("data-state", "used")
    expect(view.get_by_test_id("coupon-state")).to_have_text("已使用")
    expect(tablet.get_by_test_id("coupon-refusal")).to_contain_text("已经使用过")
    expect(tablet.get_by_test_id("coupon-redeem")).to_have_count(0)
    shots(tablet, "clerk-coupon-already-used")
    assert Coupon.objects.get(pk=coupon.pk).events.filter(kind="used").count() == 1


def _fen(text: str) -> int:
    yuan, _, cents = text.strip().lstrip("¥").replace(",", "").partition(".")
    return int(yuan) * 100 + int(cents or 0)


def test_a_coupon_and_points_at_checkout(site, pages, shots):
    from django.utils import timezone

    from o2o.marketing.models import Coupon
    from o2o.members.points import points_earn
    from o2o.members.selectors import available_points
    from o2o.orders.models import Order

    spot = xuhui_spot()
    sku = sku_on_shelf(spot.location_id, at_least=5, skip=3)
    campaign = coupon_campaign(f"browser-checkout-{int(time.time())}", amount_fen=300, name="线上立减3元")
    phone = pages.new(geolocation={"latitude": spot.wgs.lat, "longitude": spot.wgs.lng})
    customer_uses_gps(phone, spot)
    customer_finds_and_adds(phone, sku, 2, spot, shots)
    customer_signs_in_at_checkout(phone, "13912340045", shots)
    phone.goto("/shop/coupons")
    phone.get_by_test_id(f"campaign-{campaign.pk}").get_by_test_id("claim").click()
    phone.wait_for_url(re.compile(r"/shop/coupons\?tab=available"))
    coupon = Coupon.objects.get(template=campaign)
    points_earn(coupon.member_id, 500, f"browser:{coupon.pk}", timezone.now())

    phone.goto("/shop/checkout")
    pickup = phone.locator(f"[data-testid=option-pickup][data-location-id='{spot.location_id}']")
    before = _fen(pickup.get_by_test_id("total-of-option").inner_text())
    expect(phone.locator("#id_coupon")).to_have_value("")  # nothing pre-selected
    phone.locator("#id_coupon").select_option(str(coupon.pk))  # htmx re-quotes and swaps #checkout
    expect(pickup.get_by_test_id("option-adjustments")).to_contain_text("优惠券")
    with_coupon = _fen(pickup.get_by_test_id("total-of-option").inner_text())
    assert with_coupon == before - 300
    expect(phone.get_by_test_id("points-info")).to_contain_text("可用积分 500")
    phone.get_by_test_id("use-points").check()
    expect(phone.get_by_test_id("points-info")).to_contain_text("使用 500 积分")
    total = _fen(pickup.get_by_test_id("total-of-option").inner_text())
    assert total == with_coupon - 500  # 500 points = ¥5, well under half of the goods
    expect(phone.locator("#id_coupon")).to_have_value(str(coupon.pk))
    shots(phone, "customer-checkout-coupon-points")

    order_id = customer_places_and_pays(phone, pickup, shots)
    order = Order.objects.get(pk=order_id)
    assert order.total_fen == total and order.pricing["coupon_ids"] == [coupon.pk]
    assert order.pricing["points_used"] == 500 and available_points(coupon.member_id) == 0
    coupon.refresh_from_db()
    assert coupon.status == "used" and coupon.used_order_id == order.pk
