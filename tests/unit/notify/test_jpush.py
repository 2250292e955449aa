"""JPush v3: Basic auth, the push body, and errors mapped to retryable or not."""

from __future__ import annotations

import base64
import json

import pytest

from o2o.adapters.notify.base import ProviderError
from o2o.adapters.notify.jpush import JPush
from o2o.adapters.notify.simulator import SIM_JPUSH_APP_KEY, SIM_JPUSH_SECRET, JPushSimulator

REG = "1a0018970a8b0f7d2d1"


class Spy:
    def __init__(self, inner) -> None:  # noqa: ANN001
        self.inner, self.calls = inner, []

    def send(self, method, url, headers, body):  # noqa: ANN001, ANN201
        self.calls.append((method, url, dict(headers), body))
        return self.inner.send(method, url, headers, body)


def _adapter(transport, secret: str = SIM_JPUSH_SECRET) -> JPush:  # noqa: ANN001
    return JPush(app_key=SIM_JPUSH_APP_KEY, master_secret=secret, transport=transport)


def test_push_sends_the_v3_body_with_basic_auth():
    sim = JPushSimulator()
    spy = Spy(sim)
    result = _adapter(spy).push(registration_ids=[REG, REG, "160a3797c80c18a4a0a"], alert="您的订单已备好",
                                title="到店自提", extras={"kind": "pickup_ready", "order_id": 7})
    assert result.provider == "jpush" and result.message_id == sim.sent[0].msg_id
    ((method, url, headers, body),) = spy.calls
    assert method == "POST" and url == "https://api.jpush.cn/v3/push"
    scheme, token = headers["Authorization"].split(" ")
    assert scheme == "Basic" and base64.b64decode(token).decode() == f"{SIM_JPUSH_APP_KEY}:{SIM_JPUSH_SECRET}"
    payload = json.loads(body)
    assert payload["platform"] == "all"
    assert payload["audience"] == {"registration_id": [REG, "160a3797c80c18a4a0a"]}  # once each
    note = payload["notification"]
    assert note["alert"] == "您的订单已备好"
    assert note["android"] == {"alert": "您的订单已备好", "title": "到店自提",
                               "extras": {"kind": "pickup_ready", "order_id": "7"}}
    assert note["ios"]["alert"] == "您的订单已备好" and note["ios"]["extras"]["order_id"] == "7"
    assert payload["options"] == {"time_to_live": 86400, "apns_production": False}


def test_wrong_credentials_and_unknown_devices_are_not_retried():
    sim = JPushSimulator(devices={REG})
    with pytest.raises(ProviderError) as exc:
        _adapter(sim, secret="wrong").push(registration_ids=[REG], alert="hi")
    assert exc.value.code == "1004" and exc.value.status == 401 and not exc.value.retryable
    with pytest.raises(ProviderError) as exc:
        _adapter(sim).push(registration_ids=["unknown0000000"], alert="hi")
    assert exc.value.code == "1011" and not exc.value.retryable
    assert sim.sent == []


@pytest.mark.parametrize(("mode", "code", "retryable"), [
    ("network", "network_error", True), ("server", "http_502", True), ("throttle", "2002", True),
    ("reject", "1011", False)])
def test_failures(mode, code, retryable):
    sim = JPushSimulator()
    sim.fail(mode)
    with pytest.raises(ProviderError) as exc:
        _adapter(sim).push(registration_ids=[REG], alert="hi")
    assert exc.value.code == code and exc.value.retryable is retryable
    sim.recover()
    _adapter(sim).push(registration_ids=[REG], alert="hi")
    assert len(sim.sent) == 1


@pytest.mark.parametrize("bad", [{"registration_ids": []}, {"registration_ids": ["x"]}, {"alert": " "},
                                 {"platform": ["windows"]}])
def test_bad_input_is_refused_before_sending(bad):
    spy = Spy(JPushSimulator())
    with pytest.raises(ValueError):
        _adapter(spy).push(**{"registration_ids": [REG], "alert": "hi", **bad})
    assert spy.calls == []
