"""WeChat mini-program subscribe messages (订阅消息): ``subscribeMessage.send``.

``POST https://api.weixin.qq.com/cgi-bin/message/subscribe/send?access_token=ACCESS_TOKEN`` with
``{"touser": openid, "template_id": ..., "page": ..., "miniprogram_state": "formal", "lang": "zh_CN",
"data": {"thing1": {"value": "..."}, "time2": {"value": "..."}}}``; the answer is
``{"errcode": 0, "errmsg": "ok", "msgid": ...}``. The access token comes from
``GET /cgi-bin/token?grant_type=client_credential&appid=&secret=`` (``{"access_token", "expires_in"}``),
is kept until five minutes before it expires, and is fetched again once when WeChat answers that it
is invalid or expired (40001, 40014, 42001).

Each data key's type is its name without the trailing digits, and WeChat refuses (47003) a value
that breaks the type's rule (:data:`LIMITS`): ``thing`` at most 20 characters, ``number`` up to 32
digits (a decimal point allowed), ``letter`` 32 letters, ``symbol`` 5 symbols, ``character_string``
32 letters/digits/symbols, ``phone_number`` 17, ``car_number`` 8, ``name`` 10 Chinese characters or 20
letters, ``phrase`` up to 5 Chinese characters, ``time`` / ``date`` / ``amount`` in their formats.
:func:`fit_value` shortens free text (``thing`` with "…", ``name`` cut) to fit and checks the rest;
:func:`check_data` is what the adapter enforces before sending.

Errors: 43101 the member refused or cancelled the subscription, 40003 bad openid, 40037 bad
template, 47003 bad data, 41030 bad page (none retryable); -1 (system busy) and 45009 (rate limit)
are worth another try.
"""

from __future__ import annotations

import re
import threading
from collections.abc import Callable, Mapping
from datetime import datetime, timedelta
from typing import Any
from urllib.parse import urlencode

from .base import ProviderError, SendResult, Transport, call_json, dumps, shanghai_now

PROVIDER = "wechat_subscribe"
BASE_URL = "https://api.weixin.qq.com"
PATH_TOKEN = "/cgi-bin/token"  # noqa: S105 - a URL path, not a secret
PATH_SEND = "/cgi-bin/message/subscribe/send"
TOKEN_ERRORS = frozenset({40001, 40014, 42001})
RETRYABLE = frozenset({-1, 45009})
STATES = ("formal", "trial", "developer")
LANGS = ("zh_CN", "en_US", "zh_HK", "zh_TW")

_HAN = r"\u3400-\u4dbf\u4e00-\u9fff"
_TIME = r"(?:\d{4}年\d{1,2}月\d{1,2}日\s*)?\d{1,2}:\d{2}(?::\d{2})?"
_DATE = r"\d{4}年\d{1,2}月\d{1,2}日(?:\s*\d{1,2}:\d{2}(?::\d{2})?)?"
# type -> (maximum length, the pattern the whole value must match)
LIMITS: dict[str, tuple[int, re.Pattern[str]]] = {
    "thing": (20, re.compile(r"[^\n\r]+")),
    "number": (32, re.compile(r"\d+(?:\.\d+)?")),
    "letter": (32, re.compile(r"[A-Za-z]+")),
    "symbol": (5, re.compile(r"[^\w\s" + _HAN + r"]+")),
    "character_string": (32, re.compile(r"[\x21-\x7e]+")),
    "phone_number": (17, re.compile(r"[0-9+\-() ]+")),
    "car_number": (8, re.compile(r"[" + _HAN + r"A-Z0-9][A-Z0-9]{0,6}[" + _HAN + r"A-Z0-9]?")),
    "name": (20, re.compile(r"[" + _HAN + r"A-Za-z·.\- ]+")),
    "phrase": (5, re.compile(r"[" + _HAN + r"]+")),
    "time": (40, re.compile(_TIME + r"(?:\s*~\s*" + _TIME + r")?")),
    "date": (40, re.compile(_DATE + r"(?:\s*~\s*" + _DATE + r")?")),
    "amount": (16, re.compile(r"[¥$€£]?\d{1,10}(?:\.\d{1,2})?元?")),
}
_KEY = re.compile(r"([a-z_]+?)(\d+)")


def key_type(key: str) -> str:
    """``thing1`` -> ``thing``; ValueError for a key of no known type."""
    m = _KEY.fullmatch(key) if isinstance(key, str) else None
    if m is None or m.group(1) not in LIMITS:
        raise ValueError(f"未知的模板字段 unknown template field {key!r}")
    return m.group(1)


def _has_han(value: str) -> bool:
    return re.search(f"[{_HAN}]", value) is not None


def check_value(key: str, value: str) -> None:
    """ValueError (bilingual) when WeChat would refuse ``value`` for ``key`` (47003)."""
    kind = key_type(key)
    limit, pattern = LIMITS[kind]
    if not isinstance(value, str) or not value.strip():
        raise ValueError(f"{key} 不能为空 {key} must not be empty")
    if kind == "name" and _has_han(value):
        limit = 10  # a Chinese (or mixed) name: 10 characters; letters only: 20
    if len(value) > limit:
        raise ValueError(f"{key} 超过 {limit} 个字符 {key} is longer than {limit} characters")
    if not pattern.fullmatch(value):
        raise ValueError(f"{key} 的内容不符合 {kind} 类型 {key} is not a valid {kind} value")


def fit_value(key: str, value: object) -> str:
    """``value`` as WeChat takes it for ``key``: free text shortened (thing with "…", name cut); others checked."""
    kind = key_type(key)
    text = " ".join(str(value).split())
    if kind == "thing" and len(text) > LIMITS["thing"][0]:
        text = text[:LIMITS["thing"][0] - 1] + "…"
    elif kind == "name":
        text = text[:10 if _has_han(text) else LIMITS["name"][0]]
    check_value(key, text)
    return text


def check_data(data: Mapping[str, str]) -> dict[str, dict[str, str]]:
    """``{"thing1": "..."}`` as the request's ``data`` (``{"thing1": {"value": "..."}}``), every value checked."""
    if not data:
        raise ValueError("模板数据为空 the template data is empty")
    out = {}
    for key, value in data.items():
        check_value(key, value)
        out[key] = {"value": value}
    return out


class WeChatSubscribe:
    """Subscribe messages of one mini-program (``appid`` / ``secret``); the access token is cached per instance."""

    provider = PROVIDER

    def __init__(self, *, appid: str, secret: str, transport: Transport, base_url: str = BASE_URL,
                 clock: Callable[[], datetime] = shanghai_now, miniprogram_state: str = "formal",
                 lang: str = "zh_CN") -> None:
        if not appid or not secret:
            raise ValueError("微信小程序需要 appid 和 secret appid and secret are required")
        if miniprogram_state not in STATES or lang not in LANGS:
            raise ValueError("miniprogram_state / lang 取值无效 bad miniprogram_state or lang")
        self.appid = appid
        self._secret = secret
        self.base_url = base_url.rstrip("/")
        self.miniprogram_state = miniprogram_state
        self.lang = lang
        self._transport = transport
        self._clock = clock
        self._lock = threading.Lock()
        self._token: tuple[str, datetime] | None = None

    # --- access token -------------------------------------------------------------------------

    def access_token(self, *, force: bool = False) -> str:
        with self._lock:
            now = self._clock()
            if not force and self._token is not None and now < self._token[1]:
                return self._token[0]
            query = urlencode({"grant_type": "client_credential", "appid": self.appid, "secret": self._secret})
            _, data = call_json(self._transport, "GET", f"{self.base_url}{PATH_TOKEN}?{query}",
                                {"Accept": "application/json"}, b"", provider=PROVIDER)
            token, expires_in = data.get("access_token"), data.get("expires_in")
            if not isinstance(token, str) or not token or not isinstance(expires_in, int):
                errcode = data.get("errcode")
                raise ProviderError(f"获取 access_token 失败 access token refused: {data.get('errmsg', '')}",
                                    code=str(errcode if errcode is not None else "bad_response"),
                                    provider=PROVIDER, retryable=errcode in RETRYABLE, raw=data)
            self._token = (token, now + timedelta(seconds=max(expires_in - 300, 60)))
            return token

    # --- sending ------------------------------------------------------------------------------

    def request_body(self, *, touser: str, template_id: str, data: Mapping[str, str],
                     page: str | None = None) -> dict[str, Any]:
        if not isinstance(touser, str) or not re.fullmatch(r"[A-Za-z0-9_\-]{6,64}", touser):
            raise ValueError("openid 格式不正确 touser is not an openid")
        if not isinstance(template_id, str) or not re.fullmatch(r"[A-Za-z0-9_\-]{1,64}", template_id):
            raise ValueError("模板 id 格式不正确 bad template_id")
        body: dict[str, Any] = {"touser": touser, "template_id": template_id, "data": check_data(data),
                                "miniprogram_state": self.miniprogram_state, "lang": self.lang}
        if page:
            if len(page) > 1024 or page.startswith("/"):
                raise ValueError("page 应为小程序内的页面路径 page must be a mini-program page path")
            body["page"] = page
        return body

    def send(self, *, touser: str, template_id: str, data: Mapping[str, str], page: str | None = None) -> SendResult:
        payload = dumps(self.request_body(touser=touser, template_id=template_id, data=data, page=page))
        headers = {"Content-Type": "application/json; charset=utf-8", "Accept": "application/json"}
        for attempt in (1, 2):
            url = f"{self.base_url}{PATH_SEND}?{urlencode({'access_token': self.access_token(force=attempt == 2)})}"
            status, answer = call_json(self._transport, "POST", url, headers, payload.encode("utf-8"),
                                       provider=PROVIDER)
            errcode = answer.get("errcode", 0)
            if errcode in TOKEN_ERRORS and attempt == 1:
                continue  # the token was revoked or expired early: fetch a fresh one, once
            if status == 200 and errcode == 0:
                return SendResult(PROVIDER, str(answer.get("msgid") or ""), answer)
            raise ProviderError(f"订阅消息发送失败 subscribe message refused: {answer.get('errmsg', '')}",
                                code=str(errcode), provider=PROVIDER, status=status,
                                retryable=errcode in RETRYABLE or status >= 500, raw=answer)
        raise AssertionError("unreachable")  # pragma: no cover
