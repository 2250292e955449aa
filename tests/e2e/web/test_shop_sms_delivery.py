"""Sign-in codes outside the sandbox: sent at once by SMS (the Aliyun adapter, here against its local
simulator), never shown on the page; a provider refusal is said beside the phone and forgets the code."""

from __future__ import annotations

import re

import pytest

from o2o.accounts.pii_services import members_by_phone
from o2o.notifications.backends import reset_simulated
from o2o.web.auth import SESSION_MEMBER
from tests.e2e.web.test_shop_helpers import fresh_cache

pytestmark = pytest.mark.django_db
__all__ = ["fresh_cache"]  # the autouse fixture
PHONE = "13912345678"


@pytest.fixture
def sent(settings):
    settings.O2O = {**settings.O2O, "SMS": {"mode": "sms"},
                    "NOTIFY": {**settings.O2O.get("NOTIFY", {}), "backends": {"sms": "simulator"}}}
    return reset_simulated().sms_sim


def test_the_code_goes_out_by_sms_and_signs_the_member_in(client, sent):
    r = client.post("/shop/login", {"phone": PHONE, "action": "send"})
    assert r.status_code == 200, r.content
    html = r.content.decode()
    assert 'data-testid="sandbox-sms-code"' not in html
    (message,) = sent.sent
    assert message.phone_numbers == (PHONE,) and message.template_code == "SMS_480001"
    code = message.params["code"]
    assert re.fullmatch(r"\d{6}", code) and code not in html
    r = client.post("/shop/login", {"phone": PHONE, "code": code, "action": "login"})
    assert r.status_code == 302
    [member] = members_by_phone(PHONE)
    assert client.session[SESSION_MEMBER] == member.pk


def test_a_refused_sms_is_said_beside_the_phone_and_no_code_is_kept(client, sent):
    sent.fail("reject")
    r = client.post("/shop/login", {"phone": PHONE, "action": "send"})
    assert r.status_code == 503
    field = re.search(r'<div class="field has-error">(.*?)</div>', r.content.decode(), re.S).group(1)
    assert 'name="phone"' in field and "短信发送失败" in field
    assert sent.sent == []
    r = client.post("/shop/login", {"phone": PHONE, "code": "123456", "action": "login"})
    assert r.status_code == 400 and "请先获取验证码" in r.content.decode()
    sent.recover()  # the visitor may ask again at once: the refused code did not start the resend wait
    assert client.post("/shop/login", {"phone": PHONE, "action": "send"}).status_code == 200
    assert len(sent.sent) == 1


def test_one_address_gets_a_few_codes_an_hour_whatever_the_phones_and_cookies(client, sent, monkeypatch):
    from django.test import Client

    from o2o.web.shop import sms

    monkeypatch.setattr(sms, "IP_SENDS_PER_HOUR", 3)
    for i in range(5):  # a fresh session each time, another phone each time: SMS pumping from one address
        Client().post("/shop/login", {"phone": f"1391234{i:04d}", "action": "send"}, REMOTE_ADDR="10.0.0.9")
    assert len(sent.sent) == 3
    Client().post("/shop/login", {"phone": "13900000001", "action": "send"}, REMOTE_ADDR="10.0.0.10")
    assert len(sent.sent) == 4  # another address is not held up


def test_a_refused_sms_does_not_count_against_the_address(client, sent, monkeypatch):
    from o2o.web.shop import sms

    monkeypatch.setattr(sms, "IP_SENDS_PER_HOUR", 1)
    sent.fail("reject")
    assert client.post("/shop/login", {"phone": PHONE, "action": "send"}).status_code == 503
    sent.recover()
    assert client.post("/shop/login", {"phone": PHONE, "action": "send"}).status_code == 200
    assert len(sent.sent) == 1
