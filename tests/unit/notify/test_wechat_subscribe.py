"""WeChat subscribe messages: the request WeChat expects, each data type's limits, the access token's
cache and refresh, and which refusals a retry may cure."""

from __future__ import annotations

import json
from urllib.parse import parse_qs, urlsplit

import pytest

from o2o.adapters.notify.base import ProviderError
from o2o.adapters.notify.simulator import SIM_WECHAT_APPID, SIM_WECHAT_SECRET, WeChatSimulator
from o2o.adapters.notify.wechat_subscribe import WeChatSubscribe, check_value, fit_value, key_type

OPENID = "oAbCd1234567890xyz"


def _adapter(sim: WeChatSimulator, **kw) -> WeChatSubscribe:  # noqa: ANN003
    return WeChatSubscribe(appid=SIM_WECHAT_APPID, secret=SIM_WECHAT_SECRET, transport=sim,
                           base_url="https://api.weixin.qq.com", **kw)


class Spy:
    """A transport that records and passes on to the simulator."""

    def __init__(self, sim: WeChatSimulator) -> None:
        self.sim, self.calls = sim, []

    def send(self, method, url, headers, body):  # noqa: ANN001, ANN201
        self.calls.append((method, url, dict(headers), body))
        return self.sim.send(method, url, headers, body)


def test_send_posts_the_subscribe_message_body_with_the_access_token():
    sim = WeChatSimulator()
    spy = Spy(sim)
    adapter = WeChatSubscribe(appid=SIM_WECHAT_APPID, secret=SIM_WECHAT_SECRET, transport=spy)
    result = adapter.send(touser=OPENID, template_id="o2o-pickup-ready", page="pages/order/detail?id=7",
                          data={"character_string1": "O2O20240315001", "thing2": "徐汇店",
                                "time3": "2024年03月15日 18:00"})
    assert result.provider == "wechat_subscribe" and result.message_id.isdigit()
    (token_call, send_call) = spy.calls
    assert token_call[0] == "GET" and urlsplit(token_call[1]).path == "/cgi-bin/token"
    assert parse_qs(urlsplit(token_call[1]).query) == {"grant_type": ["client_credential"],
                                                       "appid": [SIM_WECHAT_APPID], "secret": [SIM_WECHAT_SECRET]}
    method, url, headers, body = send_call
    parts = urlsplit(url)
    assert method == "POST" and parts.netloc == "api.weixin.qq.com"
    assert parts.path == "/cgi-bin/message/subscribe/send" and parse_qs(parts.query)["access_token"][0].startswith("sim")
    assert headers["Content-Type"].startswith("application/json")
    assert json.loads(body) == {
        "touser": OPENID, "template_id": "o2o-pickup-ready", "page": "pages/order/detail?id=7",
        "miniprogram_state": "formal", "lang": "zh_CN",
        "data": {"character_string1": {"value": "O2O20240315001"}, "thing2": {"value": "徐汇店"},
                 "time3": {"value": "2024年03月15日 18:00"}}}
    assert sim.sent[0].data["thing2"] == "徐汇店"


def test_the_token_is_cached_and_fetched_again_once_when_wechat_says_it_is_invalid():
    sim = WeChatSimulator()
    spy = Spy(sim)
    adapter = WeChatSubscribe(appid=SIM_WECHAT_APPID, secret=SIM_WECHAT_SECRET, transport=spy)
    for _ in range(3):
        adapter.send(touser=OPENID, template_id="t1", data={"thing1": "到店提醒"})
    assert [urlsplit(c[1]).path for c in spy.calls].count("/cgi-bin/token") == 1
    sim.expire_tokens()
    adapter.send(touser=OPENID, template_id="t1", data={"thing1": "到店提醒"})
    assert [urlsplit(c[1]).path for c in spy.calls].count("/cgi-bin/token") == 2 and len(sim.sent) == 4


def test_a_wrong_secret_is_a_refusal_with_wechats_code():
    adapter = WeChatSubscribe(appid=SIM_WECHAT_APPID, secret="nope", transport=WeChatSimulator())
    with pytest.raises(ProviderError) as exc:
        adapter.send(touser=OPENID, template_id="t1", data={"thing1": "x"})
    assert exc.value.code == "40125" and not exc.value.retryable


@pytest.mark.parametrize(("key", "value", "ok"), [
    ("thing1", "一" * 20, True), ("thing1", "一" * 21, False), ("thing2", "", False),
    ("number3", "12.5", True), ("number3", "12a", False), ("letter1", "abc", True), ("letter1", "ab1", False),
    ("character_string4", "O2O-2024_001", True), ("character_string4", "订单1", False),
    ("character_string4", "A" * 33, False), ("phrase5", "配送中", True), ("phrase5", "配送中ab", False),
    ("phrase5", "一二三四五六", False), ("time6", "15:01", True), ("time6", "2019年10月1日 15:01", True),
    ("time6", "tomorrow", False), ("date7", "2019年10月1日", True), ("amount8", "¥12.50", True),
    ("amount8", "12.345", False), ("name9", "张三", True), ("name9", "张" * 11, False), ("name9", "A" * 20, True),
    ("phone_number1", "+86-0766-66888866", True), ("symbol1", "%", True), ("symbol1", "%%%%%%", False),
])
def test_value_limits_per_type(key, value, ok):
    if ok:
        check_value(key, value)
    else:
        with pytest.raises(ValueError):
            check_value(key, value)


def test_fit_shortens_free_text_and_checks_the_rest():
    assert fit_value("thing1", "上海市徐汇区漕溪北路旗舰店（地铁站旁）请走北门") == "上海市徐汇区漕溪北路旗舰店（地铁站旁）…"
    assert len(fit_value("thing1", "x" * 40)) == 20
    assert fit_value("name2", "欧阳" * 8) == "欧阳" * 5
    assert fit_value("thing3", "  两个   空格 ") == "两个 空格"
    with pytest.raises(ValueError):
        fit_value("phrase1", "太长的短语啊")
    with pytest.raises(ValueError):
        key_type("keyword1")  # the old template message keys are not subscribe message types


def test_the_adapter_refuses_bad_data_before_sending():
    sim = WeChatSimulator()
    with pytest.raises(ValueError):
        _adapter(sim).send(touser=OPENID, template_id="t1", data={"thing1": "x" * 21})
    with pytest.raises(ValueError):
        _adapter(sim).send(touser="bad openid!", template_id="t1", data={"thing1": "x"})
    assert sim.requests == [] and sim.sent == []


@pytest.mark.parametrize(("mode", "code", "retryable"), [
    ("network", "network_error", True), ("server", "-1", True), ("throttle", "45009", True),
    ("reject", "43101", False)])
def test_refusals_say_whether_a_retry_may_help(mode, code, retryable):
    sim = WeChatSimulator()
    adapter = _adapter(sim)
    adapter.access_token()
    sim.fail(mode, times=1)
    with pytest.raises(ProviderError) as exc:
        adapter.send(touser=OPENID, template_id="t1", data={"thing1": "x"})
    assert exc.value.code == code and exc.value.retryable is retryable and sim.sent == []


def test_unknown_openids_and_templates_are_refused_like_wechat_does():
    sim = WeChatSimulator(openids={OPENID}, templates=frozenset({"t1"}))
    adapter = _adapter(sim)
    with pytest.raises(ProviderError) as exc:
        adapter.send(touser="oSomeoneElse000", template_id="t1", data={"thing1": "x"})
    assert exc.value.code == "40003"
    with pytest.raises(ProviderError) as exc:
        adapter.send(touser=OPENID, template_id="t2", data={"thing1": "x"})
    assert exc.value.code == "40037"
    sim.refused.add(OPENID)
    with pytest.raises(ProviderError) as exc:
        adapter.send(touser=OPENID, template_id="t1", data={"thing1": "x"})
    assert exc.value.code == "43101" and sim.sent == []
