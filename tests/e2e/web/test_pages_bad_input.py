"""Bad input on the web pages is refused with a page and a 4xx status, never a 500 (found in review)."""

from __future__ import annotations

import pytest
from django.core.exceptions import ValidationError

from o2o.stores.hours import validate_opening_hours
from o2o.web.shop import sms
from tests.e2e.web.test_shop_helpers import fresh_cache
from tests.factories import staff
from tests.integration.fulfilment.world import build

pytestmark = pytest.mark.django_db
__all__ = ["fresh_cache"]  # the autouse fixture


@pytest.fixture
def w(monkeypatch):
    return build(monkeypatch)


@pytest.mark.parametrize("hours", [[1, 2], "x", 7, {"mon": [["22:00", "07:00"]]}, {"xx": []},
                                   {"mon": [["7:00", "22:00"]]}, {"mon": "07:00-22:00"}])
def test_opening_hours_of_the_wrong_shape_are_refused(hours):
    with pytest.raises(ValidationError):
        validate_opening_hours(hours)


def test_opening_hours_import_row_error(w):
    from tablib import Dataset

    from o2o.stores.resources import LocationResource

    data = Dataset(headers=["code", "opening_hours"])
    data.append([w.a.code, "[1, 2]"])
    result = LocationResource().import_data(data, dry_run=True)
    assert result.has_errors() or result.has_validation_errors()
    w.a.refresh_from_db()
    assert isinstance(w.a.opening_hours, dict)


@pytest.mark.parametrize("value", ["²", "٣", "1²"])
def test_non_ascii_digits_in_store_choice_are_not_a_500(client, w, value):
    r = client.post("/shop/location/store", {"location_id": value})
    assert r.status_code < 500


@pytest.mark.parametrize("day", ["9999-12-31", "0001-01-01", "1999-12-31"])
def test_dashboard_dates_out_of_range_are_a_field_error(client, w, day):
    admin, _ = staff("hq_admin")
    client.force_login(admin)
    r = client.get(f"/hq/?start={day}&end={day}")
    assert r.status_code == 400
    assert "2000-01-01" in r.content.decode()


def test_nul_in_a_multipart_form_field_is_refused(client, w):
    manager, _ = staff("store_manager", loc=w.a)
    client.force_login(manager)
    before = list(w.a.stock_set.values_list("on_hand", flat=True)) if hasattr(w.a, "stock_set") else None
    r = client.post(f"/console/s/{w.a.pk}/stock/adjust",
                    {"sku_id": w.s1.pk, "delta": "1", "reason": "damaged", "idem": "a\x00b"})  # multipart
    assert r.status_code == 400
    if before is not None:
        assert list(w.a.stock_set.values_list("on_hand", flat=True)) == before


def test_wrong_codes_are_limited_per_phone_not_per_session(client):
    phone = "13900001111"
    from django.contrib.sessions.backends.db import SessionStore

    verdicts = []
    for _ in range(sms.PHONE_FAILS_PER_HOUR + 2):
        session = SessionStore()  # a fresh cookie every time
        code, _wait = sms.issue(session, phone)
        if code is None:
            verdicts.append("no_code")
            continue
        wrong = f"{(int(code) + 1) % 10**6:06d}"
        verdicts.append(sms.verify(session, phone, wrong))
    assert sms.Check.TOO_MANY in verdicts or "no_code" in verdicts
    # Once the phone is locked, even the right code is refused in a new session.
    session = SessionStore()
    code, _wait = sms.issue(session, phone)
    assert code is None or sms.verify(session, phone, code) is sms.Check.TOO_MANY


def test_another_stores_alert_looks_like_no_alert(client, w):
    from o2o.orders.models import DeliveryAlert

    clerk_c, _ = staff("clerk", loc=w.c)
    client.force_login(clerk_c)
    unknown = client.post("/console/alerts/999999/resolve")
    alert = DeliveryAlert.objects.order_by("pk").first()
    if alert is not None and alert.location_id != w.c.pk:
        theirs = client.post(f"/console/alerts/{alert.pk}/resolve")
        assert theirs.status_code == unknown.status_code == 404
    else:
        assert unknown.status_code == 404
