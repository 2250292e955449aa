"""My details on the storefront (/shop/me/profile): the birthday for the birthday coupons, set once from a
form linked from the member center; afterwards shown and locked (customer service changes it)."""

from __future__ import annotations

from datetime import date, timedelta

import pytest
from django.test import Client
from django.utils import timezone

from o2o.core.loyalty import CHINA_TZ
from o2o.marketing.birthday import birthday_change
from o2o.marketing.models import MemberReach
from tests.e2e.web.test_shop_helpers import by_testid, fresh_cache, sign_in
from tests.factories import member, staff

pytestmark = pytest.mark.django_db
__all__ = ["fresh_cache"]  # the autouse fixture
URL = "/shop/me/profile"


def stored(m) -> date | None:  # noqa: ANN001
    return MemberReach.objects.filter(member=m).values_list("birthday", flat=True).first()


def test_the_profile_page_needs_sign_in(client):
    r = client.get(URL)
    assert r.status_code == 302 and r["Location"] == "/shop/login?next=%2Fshop%2Fme%2Fprofile"
    assert client.post(URL, {"birthday": "1990-05-17"}).status_code == 302
    assert not MemberReach.objects.exists()


def test_a_member_sets_the_birthday_from_the_member_center_once(client):
    m, _ = member()
    sign_in(client, m)
    me = client.get("/shop/me").content.decode()
    assert 'href="/shop/me/profile"' in me and "生日" in by_testid(me, "profile-link")
    html = client.get(URL).content.decode()
    assert 'data-testid="birthday-form"' in html and 'type="date"' in html and 'name="birthday"' in html
    assert f'max="{timezone.now().astimezone(CHINA_TZ).date().isoformat()}"' in html
    r = client.post(URL, {"birthday": "1990-05-17"})
    assert r.status_code == 302 and r["Location"] == URL
    assert stored(m) == date(1990, 5, 17)
    html = client.get(URL).content.decode()
    assert by_testid(html, "birthday-value") == "1990-05-17" and "生日已保存" in html
    assert 'data-testid="birthday-form"' not in html and "联系客服" in by_testid(html, "birthday-locked")
    # A crafted second post (the form is gone) cannot move it.
    r = client.post(URL, {"birthday": "1990-06-17"})
    assert r.status_code == 409 and "联系客服" in by_testid(r.content.decode(), "birthday-error")
    assert stored(m) == date(1990, 5, 17)


@pytest.mark.parametrize("bad", ["", "1990-02-30", "17/05/1990", "１９９０-05-17", "9999-12-31", "1899-12-31",
                                 "1990-05-17' OR 1=1", "x" * 5000])
def test_bad_dates_are_field_errors_never_500(client, bad):
    m, _ = member()
    sign_in(client, m)
    r = client.post(URL, {"birthday": bad})
    assert r.status_code in (400, 422), r.status_code
    html = r.content.decode()
    assert by_testid(html, "birthday-error") and 'aria-invalid="true"' in html
    assert stored(m) is None


def test_a_future_date_is_refused_with_the_range(client):
    m, _ = member()
    sign_in(client, m)
    tomorrow = timezone.now().astimezone(CHINA_TZ).date() + timedelta(days=1)
    r = client.post(URL, {"birthday": tomorrow.isoformat()})
    assert r.status_code == 422 and "1900-01-01" in by_testid(r.content.decode(), "birthday-error")
    assert stored(m) is None


def test_a_birthday_changed_by_customer_service_shows_locked(client):
    m, _ = member()
    cs, _ = staff("customer_service")
    birthday_change(m.pk, date(1985, 12, 1), by_user_id=cs.pk, reason="会员来电更正")
    sign_in(client, m)
    html = client.get(URL).content.decode()
    assert by_testid(html, "birthday-value") == "1985-12-01" and 'data-testid="birthday-form"' not in html


def test_the_form_needs_its_csrf_token():
    m, _ = member()
    strict = Client(enforce_csrf_checks=True)
    sign_in(strict, m)
    assert strict.post(URL, {"birthday": "1990-05-17"}).status_code == 403
    assert stored(m) is None


def test_the_page_in_english(client):
    m, _ = member()
    sign_in(client, m)
    r = client.get(URL, HTTP_ACCEPT_LANGUAGE="en")
    assert r.status_code == 200 and 'name="birthday"' in r.content.decode()
