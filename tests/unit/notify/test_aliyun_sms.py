"""Aliyun Dysms SendSms: the documented RPC signature (two published vectors), the request's shape, and
how answers map to results and (retryable or not) errors, against the local simulator."""

from __future__ import annotations

import json
from datetime import UTC, datetime
from urllib.parse import parse_qsl

import pytest

from o2o.adapters.notify import aliyun_sms
from o2o.adapters.notify.aliyun_sms import AliyunSms, percent_encode, rpc_signature, string_to_sign
from o2o.adapters.notify.base import ProviderError
from o2o.adapters.notify.simulator import SIM_SIGN_NAME, SIM_SMS_KEY_ID, SIM_SMS_SECRET, SmsSimulator

# The example of Aliyun's SMS signature page (help.aliyun.com/document_detail/101343).
SMS_DOC = {
    "AccessKeyId": "testId", "Action": "SendSms", "Format": "XML", "OutId": "123", "PhoneNumbers": "15300000001",
    "RegionId": "cn-hangzhou", "SignName": "阿里云短信测试专用", "SignatureMethod": "HMAC-SHA1",
    "SignatureNonce": "45e25e9b-0a6f-4070-8c85-2956eda1b466", "SignatureVersion": "1.0",
    "TemplateCode": "SMS_71390007", "TemplateParam": '{"customer":"test"}', "Timestamp": "2017-07-12T02:42:19Z",
    "Version": "2017-05-25",
}
# The example of Aliyun's RPC signature page (ECS DescribeRegions).
RPC_DOC = {"Format": "XML", "AccessKeyId": "testid", "Action": "DescribeRegions", "SignatureMethod": "HMAC-SHA1",
           "SignatureNonce": "3ee8c1b8-83d3-44af-a94f-4e0ad82fd6cf", "SignatureVersion": "1.0",
           "Version": "2014-05-26", "Timestamp": "2016-02-23T12:46:24Z"}
NOW = datetime(2024, 3, 15, 2, 0, tzinfo=UTC)


def test_the_sms_documentation_vector():
    expected_prefix = ("GET&%2F&AccessKeyId%3DtestId%26Action%3DSendSms%26Format%3DXML%26OutId%3D123"
                       "%26PhoneNumbers%3D15300000001%26RegionId%3Dcn-hangzhou%26SignName%3D%25E9%2598%25BF")
    assert string_to_sign("GET", SMS_DOC).startswith(expected_prefix)
    assert "TemplateParam%3D%257B%2522customer%2522%253A%2522test%2522%257D" in string_to_sign("GET", SMS_DOC)
    assert rpc_signature(SMS_DOC, "testSecret", "GET") == "zJDF+Lrzhj/ThnlvIToysFRq6t4="


def test_the_rpc_documentation_vector_and_signature_ignores_itself():
    assert rpc_signature(RPC_DOC, "testsecret", "GET") == "OLeaidS1JvxuMvnyHOwuJ+uX5qY="
    signed = {**RPC_DOC, "Signature": "OLeaidS1JvxuMvnyHOwuJ+uX5qY="}
    assert rpc_signature(signed, "testsecret", "GET") == "OLeaidS1JvxuMvnyHOwuJ+uX5qY="
    assert aliyun_sms.signature_ok(signed, "testsecret", "GET")
    assert not aliyun_sms.signature_ok(signed, "testsecret", "POST")  # the method is signed
    assert not aliyun_sms.signature_ok({**signed, "Format": "JSON"}, "testsecret", "GET")


@pytest.mark.parametrize(("raw", "encoded"), [
    ("a b", "a%20b"), ("*", "%2A"), ("~-_.", "~-_."), ("/=&+", "%2F%3D%26%2B"), ("派", "%E6%B4%BE"),
    ("{\"k\":1}", "%7B%22k%22%3A1%7D"),
])
def test_percent_encoding_follows_rfc3986(raw, encoded):
    assert percent_encode(raw) == encoded


def _adapter(transport, **kw) -> AliyunSms:  # noqa: ANN001
    return AliyunSms(access_key_id=SIM_SMS_KEY_ID, access_key_secret=SIM_SMS_SECRET, sign_name=SIM_SIGN_NAME,
                     transport=transport, clock=lambda: NOW, nonce=iter(f"nonce-{i}" for i in range(99)).__next__,
                     **kw)


class Recorder:
    def __init__(self, answer: bytes = b'{"Code":"OK","Message":"OK","BizId":"1^0","RequestId":"r"}',
                 status: int = 200) -> None:
        self.calls: list[tuple] = []
        self.answer, self.status = answer, status

    def send(self, method, url, headers, body):  # noqa: ANN001, ANN201
        self.calls.append((method, url, dict(headers), body))
        return self.status, {}, self.answer


def test_send_sms_posts_the_signed_form_aliyun_expects():
    rec = Recorder()
    result = _adapter(rec).send_sms(phone_numbers=["13800001111", "13900002222"], template_code="SMS_480101",
                                    template_params={"store": "徐汇 店", "order": "O2O001"}, out_id="n7")
    assert result.provider == "aliyun_sms" and result.message_id == "1^0"
    ((method, url, headers, body),) = rec.calls
    assert method == "POST" and url == "https://dysmsapi.aliyuncs.com/"
    assert headers["Content-Type"].startswith("application/x-www-form-urlencoded")
    params = dict(parse_qsl(body.decode()))
    assert params["Action"] == "SendSms" and params["Version"] == "2017-05-25" and params["Format"] == "JSON"
    assert params["PhoneNumbers"] == "13800001111,13900002222" and params["SignName"] == SIM_SIGN_NAME
    assert params["TemplateCode"] == "SMS_480101" and params["OutId"] == "n7"
    assert json.loads(params["TemplateParam"]) == {"store": "徐汇 店", "order": "O2O001"}
    assert params["Timestamp"] == "2024-03-15T02:00:00Z" and params["SignatureNonce"] == "nonce-0"
    assert params["SignatureMethod"] == "HMAC-SHA1" and params["SignatureVersion"] == "1.0"
    assert params["Signature"] == rpc_signature(params, SIM_SMS_SECRET, "POST")
    assert b"%20" in body and b"+" not in body  # a space travels as %20 (RFC 3986), never "+"


@pytest.mark.parametrize("bad", [{"phone_numbers": "1380000111"}, {"phone_numbers": []},
                                 {"phone_numbers": "23800001111"}, {"template_code": "71390007"},
                                 {"template_params": {"a b": "x"}}, {"template_params": {"x": {"nested": 1}}}])
def test_bad_input_is_refused_before_anything_is_sent(bad):
    rec = Recorder()
    args = {"phone_numbers": "13800001111", "template_code": "SMS_1", "template_params": {"x": "1"}, **bad}
    with pytest.raises(ValueError):
        _adapter(rec).send_sms(**args)
    assert rec.calls == []


def test_the_simulator_checks_the_signature_and_records_what_it_accepted():
    sim = SmsSimulator(clock=lambda: NOW)
    adapter = _adapter(sim)
    adapter.send_sms(phone_numbers="13800001111", template_code="SMS_480101", template_params={"store": "徐汇店"})
    assert [(s.phone_numbers, s.template_code, s.params) for s in sim.sent] == [
        (("13800001111",), "SMS_480101", {"store": "徐汇店"})]
    forged = AliyunSms(access_key_id=SIM_SMS_KEY_ID, access_key_secret="wrong", sign_name=SIM_SIGN_NAME,
                       transport=sim, clock=lambda: NOW)
    with pytest.raises(ProviderError) as exc:
        forged.send_sms(phone_numbers="13800001111", template_code="SMS_480101", template_params={})
    assert exc.value.code == "SignatureDoesNotMatch" and not exc.value.retryable and len(sim.sent) == 1


def test_a_replayed_nonce_a_stale_timestamp_and_an_unknown_sign_name_are_refused():
    sim = SmsSimulator(clock=lambda: NOW)
    same_nonce = AliyunSms(access_key_id=SIM_SMS_KEY_ID, access_key_secret=SIM_SMS_SECRET, sign_name=SIM_SIGN_NAME,
                           transport=sim, clock=lambda: NOW, nonce=lambda: "fixed")
    same_nonce.send_sms(phone_numbers="13800001111", template_code="SMS_1", template_params={})
    with pytest.raises(ProviderError) as exc:
        same_nonce.send_sms(phone_numbers="13800001111", template_code="SMS_1", template_params={})
    assert exc.value.code == "SignatureNonceUsed"
    stale = AliyunSms(access_key_id=SIM_SMS_KEY_ID, access_key_secret=SIM_SMS_SECRET, sign_name=SIM_SIGN_NAME,
                      transport=sim, clock=lambda: datetime(2024, 3, 15, 1, 0, tzinfo=UTC))
    with pytest.raises(ProviderError) as exc:
        stale.send_sms(phone_numbers="13800001111", template_code="SMS_1", template_params={})
    assert exc.value.code == "InvalidTimeStamp.Expired"
    other = AliyunSms(access_key_id=SIM_SMS_KEY_ID, access_key_secret=SIM_SMS_SECRET, sign_name="别家",
                      transport=sim, clock=lambda: NOW)
    with pytest.raises(ProviderError) as exc:
        other.send_sms(phone_numbers="13800001111", template_code="SMS_1", template_params={})
    assert exc.value.code == "isv.SMS_SIGNATURE_ILLEGAL"
    assert len(sim.sent) == 1


@pytest.mark.parametrize(("mode", "code", "retryable"), [
    ("network", "network_error", True), ("server", "http_503", True),
    ("throttle", "isv.BUSINESS_LIMIT_CONTROL", True), ("reject", "isv.MOBILE_NUMBER_ILLEGAL", False)])
def test_failures_say_whether_a_retry_may_help(mode, code, retryable):
    sim = SmsSimulator(clock=lambda: NOW)
    sim.fail(mode, times=1)
    adapter = _adapter(sim)
    with pytest.raises(ProviderError) as exc:
        adapter.send_sms(phone_numbers="13800001111", template_code="SMS_1", template_params={})
    assert exc.value.code == code and exc.value.retryable is retryable and sim.sent == []
    adapter.send_sms(phone_numbers="13800001111", template_code="SMS_1", template_params={})  # times=1: recovered
    assert len(sim.sent) == 1
