"""SMS through Alibaba Cloud's Dysms ``SendSms`` (RPC style, signature version 1.0, HMAC-SHA1).

A request is the common parameters (``AccessKeyId``, ``Action``, ``Format``, ``RegionId``,
``SignatureMethod``, ``SignatureNonce``, ``SignatureVersion``, ``Timestamp`` in UTC, ``Version``
``2017-05-25``) plus ``PhoneNumbers`` (comma-separated, up to 1000), ``SignName`` (the approved
【签名】), ``TemplateCode`` (an approved template, ``SMS_...``), ``TemplateParam`` (a JSON object of the
template's variables) and an optional ``OutId`` (our reference, echoed in delivery receipts).

Signing (the documented RPC algorithm): percent-encode every name and value per RFC 3986 (UTF-8;
only ``A-Z a-z 0-9 - _ . ~`` stay as they are, so a space is ``%20``, ``*`` is ``%2A`` and ``~`` is
kept), sort by name, join as ``name=value`` with ``&`` (the canonicalised query); the string to
sign is ``METHOD&%2F&`` + percent-encode(canonicalised query); ``Signature`` is
base64(HMAC-SHA1(key = AccessKeySecret + "&", string to sign)). The test vector of Aliyun's SMS
signature page (``testId`` / ``testSecret``, ``SMS_71390007``) gives ``zJDF+Lrzhj/ThnlvIToysFRq6t4=``.

We POST the signed parameters form-encoded to ``https://dysmsapi.aliyuncs.com/``. The answer is
JSON ``{"Code": "OK", "Message": "OK", "BizId": "...", "RequestId": "..."}``; any other ``Code`` is a
refusal (``isv.MOBILE_NUMBER_ILLEGAL``, ``isv.BUSINESS_LIMIT_CONTROL``...).
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import json
import re
import uuid
from collections.abc import Callable, Mapping, Sequence
from datetime import UTC, datetime
from urllib.parse import parse_qsl, quote, urlencode

from .base import ProviderError, SendResult, Transport, call_json, dumps, shanghai_now

PROVIDER = "aliyun_sms"
ENDPOINT = "https://dysmsapi.aliyuncs.com/"
API_VERSION = "2017-05-25"
MAX_NUMBERS = 1000
# Refusals worth another try later: flow control (per number or per account) and the service's own trouble.
RETRYABLE = frozenset({"isv.BUSINESS_LIMIT_CONTROL", "Throttling.User", "Throttling", "ServiceUnavailable",
                       "InternalError", "isp.SYSTEM_ERROR"})
_PHONE = re.compile(r"1[3-9]\d{9}")
_TEMPLATE = re.compile(r"SMS_[0-9A-Za-z_]{1,40}")


def percent_encode(value: object) -> str:
    """RFC 3986 percent-encoding of the UTF-8 text: only ``A-Z a-z 0-9 - _ . ~`` are left as they are."""
    return quote(str(value), safe="~")


def canonical_query(params: Mapping[str, object]) -> str:
    """``name=value&...`` sorted by name, both percent-encoded; ``Signature`` itself is left out."""
    return "&".join(f"{percent_encode(k)}={percent_encode(v)}" for k, v in sorted(params.items())
                    if k != "Signature")


def string_to_sign(method: str, params: Mapping[str, object]) -> str:
    return f"{method.upper()}&{percent_encode('/')}&{percent_encode(canonical_query(params))}"


def rpc_signature(params: Mapping[str, object], access_key_secret: str, method: str = "POST") -> str:
    """base64(HMAC-SHA1(AccessKeySecret + "&", string to sign))."""
    digest = hmac.new(f"{access_key_secret}&".encode(), string_to_sign(method, params).encode(), hashlib.sha1)
    return base64.b64encode(digest.digest()).decode("ascii")


def signature_ok(params: Mapping[str, str], access_key_secret: str, method: str) -> bool:
    """What the provider checks: the ``Signature`` given matches the parameters (constant time)."""
    given = params.get("Signature") or ""
    return hmac.compare_digest(given.encode(), rpc_signature(params, access_key_secret, method).encode())


def utc_timestamp(at: datetime) -> str:
    """ISO 8601 in UTC, ``2017-07-12T02:42:19Z``."""
    if at.tzinfo is None or at.utcoffset() is None:
        raise ValueError("时间必须带时区 timestamp must be timezone-aware")
    return at.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%SZ")


def phone_list(phone_numbers: str | Sequence[str]) -> str:
    """``PhoneNumbers``: mainland mobile numbers, comma-separated (1..1000), else ValueError."""
    numbers = [phone_numbers] if isinstance(phone_numbers, str) else list(phone_numbers)
    if not 1 <= len(numbers) <= MAX_NUMBERS:
        raise ValueError(f"手机号数量应为 1-{MAX_NUMBERS} PhoneNumbers takes 1..{MAX_NUMBERS} numbers")
    for n in numbers:
        if not isinstance(n, str) or not _PHONE.fullmatch(n):
            raise ValueError("手机号格式不正确 not a mainland mobile number")
    return ",".join(numbers)


def template_param(values: Mapping[str, object]) -> str:
    """``TemplateParam``: a JSON object of string values (the template's ``${name}`` variables)."""
    out: dict[str, str] = {}
    for key, value in values.items():
        if not isinstance(key, str) or not re.fullmatch(r"[A-Za-z_][A-Za-z0-9_]{0,39}", key):
            raise ValueError(f"模板变量名无效 bad template variable name {key!r}")
        if value is None or isinstance(value, dict | list):
            raise ValueError(f"模板变量 {key} 必须是文本 template variable {key} must be text")
        out[key] = str(value)
    return dumps(out)


class AliyunSms:
    """``SendSms`` for one signature (``SignName``) with one AccessKey pair."""

    provider = PROVIDER

    def __init__(self, *, access_key_id: str, access_key_secret: str, sign_name: str, transport: Transport,
                 endpoint: str = ENDPOINT, region_id: str = "cn-hangzhou",
                 clock: Callable[[], datetime] = shanghai_now,
                 nonce: Callable[[], str] = lambda: str(uuid.uuid4())) -> None:
        if not access_key_id or not access_key_secret or not sign_name:
            raise ValueError("阿里云短信需要 AccessKey 和签名 AccessKey pair and SignName are required")
        self.access_key_id = access_key_id
        self._secret = access_key_secret
        self.sign_name = sign_name
        self.endpoint = endpoint
        self.region_id = region_id
        self._transport = transport
        self._clock = clock
        self._nonce = nonce

    def request_params(self, *, phone_numbers: str | Sequence[str], template_code: str,
                       template_params: Mapping[str, object], out_id: str | None = None,
                       method: str = "POST") -> dict[str, str]:
        """Every parameter of one ``SendSms`` request, ``Signature`` included."""
        if not isinstance(template_code, str) or not _TEMPLATE.fullmatch(template_code):
            raise ValueError(f"短信模板编号无效 bad TemplateCode {template_code!r}")
        params = {
            "AccessKeyId": self.access_key_id, "Action": "SendSms", "Format": "JSON", "RegionId": self.region_id,
            "SignatureMethod": "HMAC-SHA1", "SignatureNonce": self._nonce(), "SignatureVersion": "1.0",
            "Timestamp": utc_timestamp(self._clock()), "Version": API_VERSION,
            "PhoneNumbers": phone_list(phone_numbers), "SignName": self.sign_name, "TemplateCode": template_code,
            "TemplateParam": template_param(template_params),
        }
        if out_id:
            if len(out_id) > 256:
                raise ValueError("OutId 过长 OutId is longer than 256 characters")
            params["OutId"] = out_id
        params["Signature"] = rpc_signature(params, self._secret, method)
        return params

    def send_sms(self, *, phone_numbers: str | Sequence[str], template_code: str,
                 template_params: Mapping[str, object], out_id: str | None = None) -> SendResult:
        params = self.request_params(phone_numbers=phone_numbers, template_code=template_code,
                                     template_params=template_params, out_id=out_id)
        body = urlencode(params, quote_via=quote, safe="~").encode("ascii")
        headers = {"Content-Type": "application/x-www-form-urlencoded; charset=utf-8", "Accept": "application/json"}
        status, data = call_json(self._transport, "POST", self.endpoint, headers, body, provider=PROVIDER)
        code = str(data.get("Code") or "")
        if status == 200 and code == "OK":
            return SendResult(PROVIDER, str(data.get("BizId") or ""), data)
        raise ProviderError(f"短信发送失败 SMS refused: {data.get('Message') or code or status}",
                            code=code or f"http_{status}", provider=PROVIDER, status=status,
                            retryable=code in RETRYABLE or status >= 500, raw=data)


def parse_form(body: bytes) -> dict[str, str]:
    """The parameters of a form-encoded request body (what the provider reads); ValueError when malformed."""
    pairs = parse_qsl(body.decode("utf-8"), keep_blank_values=True, strict_parsing=bool(body))
    params = dict(pairs)
    if len(params) != len(pairs):
        raise ValueError("重复参数 duplicate parameters")
    return params


def loads_template_param(raw: str) -> dict[str, str]:
    data = json.loads(raw)
    if not isinstance(data, dict):
        raise ValueError("TemplateParam 不是 JSON 对象 TemplateParam is not a JSON object")
    return {str(k): str(v) for k, v in data.items()}
