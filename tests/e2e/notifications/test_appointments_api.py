"""Store appointments over HTTP: book (with a voucher of one's own), list, cancel; someone else's voucher
or appointment is not found; one voucher backs one live booking."""

from __future__ import annotations

import json
import secrets
from datetime import timedelta

import pytest
from django.utils import timezone

from o2o.marketing.models import Coupon
from o2o.marketing.models_appointments import Appointment
from o2o.stores.models import LocationKind
from tests.factories import assert_error, auth, location, member, staff
from tests.integration.marketing.support import template

pytestmark = pytest.mark.django_db

URL = "/api/v1/appointments"


def post(client, url, body, token, key=None):  # noqa: ANN001, ANN201
    headers = auth(token) if token else {}
    if key:
        headers["HTTP_IDEMPOTENCY_KEY"] = key
    return client.post(url, data=json.dumps(body), content_type="application/json", **headers)


def voucher(m, **kw) -> Coupon:  # noqa: ANN001, ANN003
    now = timezone.now()
    fields = {"template": template(), "member": m, "slot": 1, "member_limit": 1, "status": "available",
              "code": f"{secrets.randbelow(10**16):016d}", "source": "claim", "issued_at": now,
              "valid_from": now - timedelta(days=1), "valid_until": now + timedelta(days=30), **kw}
    return Coupon.objects.create(**fields)


def later(hours: int = 48) -> str:
    return (timezone.now() + timedelta(hours=hours)).isoformat()


def test_book_with_my_voucher_list_and_cancel(client):
    store = location(name="徐汇店")
    m, token = member()
    v = voucher(m)
    body = {"location_id": store.pk, "service": "皮肤检测", "starts_at": later(), "coupon_id": v.pk}
    r = post(client, URL, body, token, key="a1")
    assert r.status_code == 201, r.content
    got = r.json()
    assert got["status"] == "booked" and got["coupon_id"] == v.pk and got["location_name"] == "徐汇店"
    assert post(client, URL, body, token, key="a1").json()["id"] == got["id"]  # same key: same answer
    assert Appointment.objects.filter(member=m).count() == 1
    assert_error(post(client, URL, body, token, key="a2"), 409, "coupon_reserved")  # one voucher, one booking
    listed = client.get(f"{URL}/mine", **auth(token)).json()
    assert [a["id"] for a in listed] == [got["id"]]
    r = post(client, f"{URL}/{got['id']}/cancel", {}, token)
    assert r.status_code == 200 and r.json()["status"] == "cancelled"
    assert_error(post(client, f"{URL}/{got['id']}/cancel", {}, token), 409, "appointment_not_booked")
    assert post(client, URL, body, token, key="a3").status_code == 201  # the voucher is free again


def test_someone_elses_voucher_and_appointment_are_not_found(client):
    store = location()
    me, token = member()
    other, other_token = member()
    theirs = voucher(other)
    body = {"location_id": store.pk, "service": "修眉", "starts_at": later(), "coupon_id": theirs.pk}
    assert_error(post(client, URL, body, token), 404, "unknown_coupon")
    a = post(client, URL, {**body, "coupon_id": None}, other_token).json()
    assert_error(post(client, f"{URL}/{a['id']}/cancel", {}, token), 404, "unknown_appointment")
    assert client.get(f"{URL}/mine", **auth(token)).json() == []
    assert Appointment.objects.get(pk=a["id"]).status == "booked"


def test_vouchers_that_cannot_serve_are_refused(client):
    store, elsewhere = location(), location()
    m, token = member()
    used = voucher(m, status="used", used_at=timezone.now(), used_channel="counter")
    short = voucher(m, valid_until=timezone.now() + timedelta(hours=5))
    scoped = voucher(m, template=template(stores=[elsewhere]))
    base = {"location_id": store.pk, "service": "修眉", "starts_at": later()}
    assert_error(post(client, URL, {**base, "coupon_id": used.pk}, token), 409, "coupon_used")
    assert_error(post(client, URL, {**base, "coupon_id": short.pk}, token), 409, "coupon_expires_before")
    assert_error(post(client, URL, {**base, "coupon_id": scoped.pk}, token), 403, "coupon_not_valid_here")
    assert not Appointment.objects.exists()


def test_bad_bookings_get_the_error_shape(client):
    store = location()
    warehouse = location(kind=LocationKind.WAREHOUSE)
    _, token = member()
    base = {"location_id": store.pk, "service": "修眉", "starts_at": later()}
    assert_error(post(client, URL, {**base, "starts_at": later(0)}, token), 422, "appointment_too_soon")
    assert_error(post(client, URL, {**base, "starts_at": later(24 * 100)}, token), 422, "appointment_too_far")
    assert_error(post(client, URL, {**base, "location_id": warehouse.pk}, token), 404, "unknown_location")
    assert_error(post(client, URL, {**base, "location_id": 999_999}, token), 404, "unknown_location")
    assert_error(post(client, URL, {**base, "service": "   "}, token), 422, "invalid_service")
    assert_error(post(client, URL, {**base, "service": ""}, token), 422, "invalid")
    assert_error(post(client, URL, {**base, "starts_at": "soon"}, token), 422, "invalid")
    assert_error(post(client, URL, base, None), 401)
    clerk = staff("clerk", loc=store)[1]
    assert_error(post(client, URL, base, clerk), 403, "members_only")
    assert not Appointment.objects.exists()


def test_a_time_without_offset_is_china_time(client):
    store = location()
    _, token = member()
    naive = (timezone.localtime() + timedelta(days=2)).replace(hour=10, minute=0, second=0, microsecond=0)
    r = post(client, URL, {"location_id": store.pk, "service": "修眉",
                           "starts_at": naive.strftime("%Y-%m-%dT%H:%M:%S")}, token)
    assert r.status_code == 201, r.content
    assert r.json()["starts_at"].startswith(naive.strftime("%Y-%m-%dT10:00:00")) and r.json()["starts_at"].endswith(
        "+08:00")
