"""The member code (会员码) in a real browser: a member opens it in the storefront (QR + 18 digits that
renew by themselves); a clerk of a store the member never shopped at cannot find them by phone, but
finds them by scanning the code (a scanner types the digits into the counter's one look-up field) and
sees the masked phone, the tier, points and the tags that help serve them."""

from __future__ import annotations

import re

import pytest
from playwright.sync_api import expect

from tests.browser.flows import clerk_signs_in, customer_signs_in
from tests.browser.world import make_clerk, xuhui_spot

pytestmark = pytest.mark.browser
TABLET = {"width": 1280, "height": 800}
PHONE = "13912340046"


def test_a_member_shows_the_code_and_the_counter_scans_it(site, pages, shots):
    from django.utils import timezone

    from o2o.accounts.models import Member
    from o2o.profiles.models import MemberTag

    spot = xuhui_spot()
    clerk = make_clerk(spot.location_id, f"clerk-code-{spot.location_id}")

    phone = pages.new()
    customer_signs_in(phone, PHONE, shots)
    member = Member.objects.filter(phone_masked="139****0046", is_active=True).latest("pk")
    MemberTag.objects.update_or_create(member=member, name="lifecycle_stage", defaults={
        "value": "active", "version": 1, "explanation": "浏览器测试 browser test", "as_of": timezone.now()})
    phone.get_by_test_id("member-code-link").click()
    phone.wait_for_url(re.compile(r"/shop/me/code"))
    card = phone.get_by_test_id("member-code-card")
    expect(card.get_by_test_id("member-code-qr").locator("svg")).to_be_visible()
    shown = card.get_by_test_id("member-code-digits").inner_text().strip()
    assert re.fullmatch(r"88\d{2} \d{4} \d{4} \d{4} \d{2}", shown), shown
    expect(card.get_by_test_id("member-code-expiry")).to_be_visible()
    shots(phone, "customer-member-code")

    tablet = pages.new(viewport=TABLET)
    clerk_signs_in(tablet, clerk.username)
    tablet.goto("/console/counter")
    tablet.locator("#id_phone").fill(PHONE)  # by phone: the member never shopped at this store
    tablet.get_by_test_id("member-search").click()
    result = tablet.get_by_test_id("member-result")
    expect(result).to_contain_text("没有找到该会员")
    expect(result.get_by_test_id(f"member-{member.pk}")).to_have_count(0)
    shots(tablet, "clerk-member-not-found-by-phone")

    tablet.locator("#id_phone").fill(shown.replace(" ", ""))  # the scanner types the digits
    tablet.get_by_test_id("member-search").click()
    found = tablet.get_by_test_id(f"member-{member.pk}")
    expect(found).to_contain_text("139****0046")
    expect(found).not_to_contain_text(PHONE)
    expect(found.get_by_test_id("member-tier")).to_be_visible()
    expect(found.locator("[data-tag=lifecycle_stage]")).to_be_visible()
    shots(tablet, "clerk-member-found-by-code")
