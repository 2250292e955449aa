"""Form errors are tied to their input for assistive technology: the input says it is invalid and points at
its error text (``aria-describedby``), which sits beside it in Chinese (web/field.html)."""

from __future__ import annotations

import re

import pytest

from tests.factories import location, staff

pytestmark = pytest.mark.django_db


def _tag(html: str, name: str) -> str:
    return re.search(rf'<input[^>]*\bname="{name}"[^>]*>', html).group(0)


def _by_id(html: str, element_id: str) -> str:
    m = re.search(rf'<(\w+)[^>]*\bid="{re.escape(element_id)}"[^>]*>(.*?)</\1>', html, re.S)
    assert m, f"no element with id {element_id}"
    return m.group(0)


def test_a_field_error_is_described_by_and_marks_the_input_invalid(client):
    r = client.post("/shop/login", {"phone": "12345", "action": "send"})
    html = r.content.decode()
    assert r.status_code == 400
    phone = _tag(html, "phone")
    assert 'aria-invalid="true"' in phone
    described = re.search(r'aria-describedby="([^"]+)"', phone).group(1).split()
    errors = [i for i in described if i.endswith("_error")]
    assert errors == ["id_phone_error"]
    error = _by_id(html, "id_phone_error")
    assert 'class="field-error"' in error and 'role="alert"' in error and "请输入正确的 11 位手机号" in error
    assert html.count('id="id_phone_error"') == 1  # one element per id, however many messages
    assert "{#" not in html and "One form field" not in html  # the partial's own comment stays out of the page
    for other in described:  # every id it points at exists on the page
        _by_id(html, other)


def test_a_valid_form_has_no_invalid_marks(client):
    html = client.get("/shop/login").content.decode()
    phone = _tag(html, "phone")
    assert "aria-invalid" not in phone and "_error" not in phone
    assert 'class="field-error"' not in html


def test_console_sign_in_errors_point_at_their_text(client):
    user = staff("clerk", loc=location())[0]
    r = client.post("/console/login", {"username": user.username, "password": ""})
    html = r.content.decode()
    assert r.status_code == 400
    password = re.search(r'<input[^>]*\bname="password"[^>]*>', html).group(0)
    assert 'aria-invalid="true"' in password and 'aria-describedby="id_password_error"' in password
    assert "field-error" in _by_id(html, "id_password_error")
    username = _tag(html, "username")
    assert "aria-invalid" not in username  # only the field in error is marked


def test_help_text_and_error_are_both_described(client):
    loc = location()
    client.force_login(staff("clerk", loc=loc)[0])
    html = client.get(f"/console/s/{loc.pk}/counter").content.decode()
    code = _tag(html, "code")
    assert 'aria-describedby="id_code_helptext"' in code and "aria-invalid" not in code
    assert "扫码枪" in _by_id(html, "id_code_helptext")
    r = client.post(f"/console/s/{loc.pk}/counter/verify", {"code": "", "idem": "a11y-1"})
    html = r.content.decode()
    assert r.status_code == 400
    code = _tag(html, "code")
    assert 'aria-invalid="true"' in code and 'aria-describedby="id_code_helptext id_code_error"' in code
    assert "请输入取货码" in _by_id(html, "id_code_error")
