"""Local providers for tests and the demo: no network, deterministic, and they remember what they were asked.

Each simulator is a :class:`~o2o.adapters.notify.base.Transport` that checks a request the way its
provider does and answers in the provider's shape:

* :class:`SmsSimulator` (Dysms ``SendSms``): the AccessKeyId, the RPC signature, a fresh nonce, the
  timestamp (15 minutes either way), the sign name, the template code (when it was given a list),
  the phone numbers and the ``TemplateParam`` JSON.
* :class:`WeChatSimulator`: ``/cgi-bin/token`` (appid and secret) and ``subscribe/send`` (the token,
  the openid and template when it was given lists, every data value by its type's rule, 47003).
* :class:`JPushSimulator` (``/v3/push``): Basic auth, the body's shape, the registration ids (when it
  was given a list: unknown ones are 1011).

What they accepted is in ``sent`` (one record per message), every request they parsed in ``requests``.
Ids are counters, so a run is reproducible. Tell one to fail with :meth:`fail` (``"network"``: the
transport raises ``OSError``; ``"server"``: HTTP 5xx; ``"throttle"``: the provider's rate-limit answer;
``"reject"``: a refusal no retry cures), for the next ``times`` requests or until :meth:`recover`.
"""

from __future__ import annotations

import json
import threading
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from typing import Any, Literal
from urllib.parse import parse_qsl, urlsplit

from . import aliyun_sms, jpush, wechat_subscribe
from .aliyun_sms import AliyunSms
from .base import dumps, header, shanghai_now
from .jpush import JPush
from .wechat_subscribe import WeChatSubscribe

__all__ = ["FAIL_MODES", "SIM_JPUSH_APP_KEY", "SIM_SIGN_NAME", "SIM_SMS_KEY_ID", "SIM_WECHAT_APPID",
           "JPushSimulator", "SimPush", "SimSms", "SimWeChat", "SimulatedProviders", "SmsSimulator",
           "WeChatSimulator", "simulated_providers"]

FailMode = Literal["network", "server", "throttle", "reject"]
FAIL_MODES: tuple[str, ...] = ("network", "server", "throttle", "reject")

SIM_SMS_KEY_ID = "LTAI5tO2oSimulator"
SIM_SMS_SECRET = "o2o-simulator-sms-secret"  # noqa: S105 - a simulator's, never a real one
SIM_SIGN_NAME = "o2o零售"
SIM_WECHAT_APPID = "wx0o2osimulator00"
SIM_WECHAT_SECRET = "o2o-simulator-wechat-secret"  # noqa: S105
SIM_JPUSH_APP_KEY = "o2osimulatorappkey000000"
SIM_JPUSH_SECRET = "o2o-simulator-master-secret"  # noqa: S105

JsonAnswer = tuple[int, dict[str, str], bytes]


def _json(status: int, payload: Mapping[str, Any]) -> JsonAnswer:
    return status, {"Content-Type": "application/json;charset=UTF-8"}, dumps(payload).encode("utf-8")


class _Simulator:
    """Failure switch, counters and the request log shared by the three simulators."""

    def __init__(self, clock: Callable[[], datetime]) -> None:
        self._clock = clock
        self._lock = threading.Lock()
        self._mode: str | None = None
        self._left: int | None = None
        self._seq = 0
        self.requests: list[dict[str, Any]] = []

    def fail(self, mode: FailMode, times: int | None = None) -> None:
        """Fail the next ``times`` requests (all of them when None) in this way."""
        if mode not in FAIL_MODES:
            raise ValueError(f"未知的失败方式 unknown failure mode {mode!r}")
        with self._lock:
            self._mode, self._left = mode, times

    def recover(self) -> None:
        with self._lock:
            self._mode, self._left = None, None

    def _failure(self) -> str | None:
        """The failure this request meets (consumes one of ``times``), or None."""
        with self._lock:
            if self._mode is None:
                return None
            mode = self._mode
            if self._left is not None:
                self._left -= 1
                if self._left <= 0:
                    self._mode, self._left = None, None
            return mode

    def _next(self) -> int:
        with self._lock:
            self._seq += 1
            return self._seq

    def _log(self, entry: dict[str, Any]) -> None:
        with self._lock:
            self.requests.append(entry)


# --- SMS --------------------------------------------------------------------------------------

@dataclass(frozen=True)
class SimSms:
    phone_numbers: tuple[str, ...]
    sign_name: str
    template_code: str
    params: dict[str, str]
    out_id: str
    biz_id: str


class SmsSimulator(_Simulator):
    def __init__(self, *, access_key_id: str = SIM_SMS_KEY_ID, access_key_secret: str = SIM_SMS_SECRET,
                 sign_names: frozenset[str] = frozenset({SIM_SIGN_NAME}), templates: frozenset[str] | None = None,
                 clock: Callable[[], datetime] = shanghai_now) -> None:
        super().__init__(clock)
        self._keys = {access_key_id: access_key_secret}
        self.sign_names = sign_names
        self.templates = templates
        self._nonces: set[str] = set()
        self.sent: list[SimSms] = []

    def _refuse(self, code: str, message: str, status: int = 200) -> JsonAnswer:
        return _json(status, {"Code": code, "Message": message, "RequestId": f"sim-sms-{self._next()}"})

    def send(self, method: str, url: str, headers: Mapping[str, str], body: bytes) -> JsonAnswer:
        failure = self._failure()
        if failure == "network":
            raise OSError("simulated network failure")
        if failure == "server":
            return 503, {"Content-Type": "text/html"}, b"<html>503 Service Unavailable</html>"
        parts = urlsplit(url)
        if parts.path not in ("", "/"):
            return self._refuse("InvalidAction.NotFound", "Specified api is not found", 404)
        try:
            params = aliyun_sms.parse_form(body if method.upper() == "POST" else parts.query.encode())
        except (ValueError, UnicodeDecodeError):
            return self._refuse("MissingParameter", "malformed parameters", 400)
        self._log({"method": method.upper(), "params": {k: v for k, v in params.items() if k != "Signature"}})
        secret = self._keys.get(params.get("AccessKeyId", ""))
        if secret is None:
            return self._refuse("InvalidAccessKeyId.NotFound", "Specified access key is not found.", 404)
        if not aliyun_sms.signature_ok(params, secret, method):
            return self._refuse("SignatureDoesNotMatch", "Specified signature is not matched with our calculation.",
                                400)
        if params.get("Action") != "SendSms" or params.get("Version") != aliyun_sms.API_VERSION:
            return self._refuse("InvalidAction.NotFound", "Specified api is not found", 404)
        refusal = self._check(params)
        if refusal is not None:
            return self._refuse(*refusal)
        if failure == "throttle":
            return self._refuse("isv.BUSINESS_LIMIT_CONTROL", "触发分钟级流控Permits:1")
        if failure == "reject":
            return self._refuse("isv.MOBILE_NUMBER_ILLEGAL", "非法手机号")
        seq = self._next()
        biz_id = f"{900_000_000_000_000 + seq}^0"
        with self._lock:
            self.sent.append(SimSms(tuple(params["PhoneNumbers"].split(",")), params["SignName"],
                                    params["TemplateCode"], aliyun_sms.loads_template_param(params["TemplateParam"]),
                                    params.get("OutId", ""), biz_id))
        return _json(200, {"Code": "OK", "Message": "OK", "BizId": biz_id, "RequestId": f"sim-sms-{seq}"})

    def _check(self, params: dict[str, str]) -> tuple[str, str] | None:
        nonce = params.get("SignatureNonce", "")
        with self._lock:
            reused = not nonce or nonce in self._nonces
            self._nonces.add(nonce)
        if reused:
            return "SignatureNonceUsed", "Specified signature nonce was used already."
        try:
            at = datetime.strptime(params.get("Timestamp", ""), "%Y-%m-%dT%H:%M:%SZ").replace(tzinfo=UTC)
        except ValueError:
            return "InvalidTimeStamp.Format", "Specified time stamp does not meet the format."
        if abs(at - self._clock()) > timedelta(minutes=15):
            return "InvalidTimeStamp.Expired", "Specified time stamp or date value is expired."
        try:
            aliyun_sms.phone_list(params.get("PhoneNumbers", "").split(","))
        except ValueError:
            return "isv.MOBILE_NUMBER_ILLEGAL", "非法手机号"
        if params.get("SignName") not in self.sign_names:
            return "isv.SMS_SIGNATURE_ILLEGAL", "签名不合法"
        if self.templates is not None and params.get("TemplateCode") not in self.templates:
            return "isv.SMS_TEMPLATE_ILLEGAL", "模板不合法"
        try:
            aliyun_sms.loads_template_param(params.get("TemplateParam", ""))
        except ValueError:
            return "isv.INVALID_JSON_PARAM", "JSON参数不合法"
        return None


# --- WeChat -----------------------------------------------------------------------------------

@dataclass(frozen=True)
class SimWeChat:
    touser: str
    template_id: str
    page: str
    data: dict[str, str]
    msgid: int


class WeChatSimulator(_Simulator):
    def __init__(self, *, appid: str = SIM_WECHAT_APPID, secret: str = SIM_WECHAT_SECRET,
                 openids: set[str] | None = None, templates: frozenset[str] | None = None,
                 clock: Callable[[], datetime] = shanghai_now) -> None:
        super().__init__(clock)
        self.appid, self._secret = appid, secret
        self.openids = openids
        self.templates = templates
        self.refused: set[str] = set()  # openids that cancelled their subscription (43101)
        self._tokens: dict[str, datetime] = {}
        self.sent: list[SimWeChat] = []

    def expire_tokens(self) -> None:
        """Every token issued so far stops working (as when the secret is reset elsewhere)."""
        with self._lock:
            self._tokens.clear()

    def send(self, method: str, url: str, headers: Mapping[str, str], body: bytes) -> JsonAnswer:
        failure = self._failure()
        if failure == "network":
            raise OSError("simulated network failure")
        if failure == "server":
            return _json(200, {"errcode": -1, "errmsg": "system error"})
        parts = urlsplit(url)
        query = dict(parse_qsl(parts.query))
        if parts.path == wechat_subscribe.PATH_TOKEN and method.upper() == "GET":
            return self._token(query)
        if parts.path != wechat_subscribe.PATH_SEND or method.upper() != "POST":
            return _json(404, {"errcode": 40066, "errmsg": "invalid url"})
        token = query.get("access_token", "")
        with self._lock:
            expiry = self._tokens.get(token)
        if expiry is None or self._clock() >= expiry:
            return _json(200, {"errcode": 40001, "errmsg": "invalid credential, access_token is invalid"})
        try:
            payload = json.loads(body.decode("utf-8"))
            if not isinstance(payload, dict):
                raise ValueError
        except (ValueError, UnicodeDecodeError):
            return _json(200, {"errcode": 47001, "errmsg": "data format error"})
        self._log({"path": parts.path, "body": payload})
        refusal = self._check(payload)
        if refusal is None and failure == "throttle":
            refusal = (45009, "reach max api daily quota limit")
        if refusal is None and (failure == "reject" or payload["touser"] in self.refused):
            refusal = (43101, "user refuse to accept the msg")
        if refusal is not None:
            return _json(200, {"errcode": refusal[0], "errmsg": refusal[1]})
        msgid = 3_000_000_000 + self._next()
        with self._lock:
            self.sent.append(SimWeChat(payload["touser"], payload["template_id"], payload.get("page", ""),
                                       {k: v["value"] for k, v in payload["data"].items()}, msgid))
        return _json(200, {"errcode": 0, "errmsg": "ok", "msgid": msgid})

    def _token(self, query: dict[str, str]) -> JsonAnswer:
        if query.get("grant_type") != "client_credential":
            return _json(200, {"errcode": 40002, "errmsg": "invalid grant_type"})
        if query.get("appid") != self.appid:
            return _json(200, {"errcode": 40013, "errmsg": "invalid appid"})
        if query.get("secret") != self._secret:
            return _json(200, {"errcode": 40125, "errmsg": "invalid appsecret"})
        token = f"sim-token-{self._next()}"
        with self._lock:
            self._tokens[token] = self._clock() + timedelta(seconds=7200)
        return _json(200, {"access_token": token, "expires_in": 7200})

    def _check(self, payload: dict[str, Any]) -> tuple[int, str] | None:
        touser, template_id, data = payload.get("touser"), payload.get("template_id"), payload.get("data")
        if not isinstance(touser, str) or not touser or (self.openids is not None and touser not in self.openids):
            return 40003, "invalid openid"
        if not isinstance(template_id, str) or (self.templates is not None and template_id not in self.templates):
            return 40037, "invalid template_id"
        if not isinstance(data, dict) or not data:
            return 47003, "argument invalid! data is empty"
        for key, value in data.items():
            text = value.get("value") if isinstance(value, dict) else None
            try:
                wechat_subscribe.check_value(key, text)  # type: ignore[arg-type]
            except ValueError:
                return 47003, f"argument invalid! data.{key}.value invalid"
        if payload.get("miniprogram_state", "formal") not in wechat_subscribe.STATES:
            return 47003, "argument invalid! miniprogram_state invalid"
        return None


# --- push -------------------------------------------------------------------------------------

@dataclass(frozen=True)
class SimPush:
    registration_ids: tuple[str, ...]
    alert: str
    title: str
    extras: dict[str, str]
    msg_id: str


class JPushSimulator(_Simulator):
    def __init__(self, *, app_key: str = SIM_JPUSH_APP_KEY, master_secret: str = SIM_JPUSH_SECRET,
                 devices: set[str] | None = None, clock: Callable[[], datetime] = shanghai_now) -> None:
        super().__init__(clock)
        self._auth = jpush.basic_auth(app_key, master_secret)
        self.devices = devices
        self.sent: list[SimPush] = []

    def _error(self, status: int, code: int, message: str) -> JsonAnswer:
        return _json(status, {"error": {"code": code, "message": message}, "msg_id": str(self._next())})

    def send(self, method: str, url: str, headers: Mapping[str, str], body: bytes) -> JsonAnswer:
        failure = self._failure()
        if failure == "network":
            raise OSError("simulated network failure")
        if failure == "server":
            return 502, {"Content-Type": "text/html"}, b"<html>502 Bad Gateway</html>"
        if urlsplit(url).path != jpush.PATH_PUSH or method.upper() != "POST":
            return self._error(404, 1000, "not found")
        if header(headers, "Authorization") != self._auth:
            return self._error(401, 1004, "Authen failed")
        try:
            payload = json.loads(body.decode("utf-8"))
            ids = payload["audience"]["registration_id"]
            alert = payload["notification"]["alert"]
            android = payload["notification"].get("android", {})
            if not isinstance(ids, list) or not ids or not isinstance(alert, str) or not alert:
                raise ValueError
        except (ValueError, UnicodeDecodeError, KeyError, TypeError, AttributeError):
            return self._error(400, 1003, "Missing parameter")
        self._log({"body": payload})
        if failure == "throttle":
            return self._error(429, 2002, "Rate limit exceeded")
        found = [i for i in ids if self.devices is None or i in self.devices]
        if failure == "reject" or not found:
            return self._error(400, 1011, "cannot find user by this audience")
        msg_id = str(54_043_195_528_000_000 + self._next())
        with self._lock:
            self.sent.append(SimPush(tuple(found), alert, str(android.get("title", "")),
                                     dict(android.get("extras", {})), msg_id))
        return _json(200, {"sendno": "0", "msg_id": msg_id})


# --- all three, wired ---------------------------------------------------------------------------

@dataclass
class SimulatedProviders:
    sms: AliyunSms
    wechat: WeChatSubscribe
    push: JPush
    sms_sim: SmsSimulator
    wechat_sim: WeChatSimulator
    push_sim: JPushSimulator
    extra: dict[str, Any] = field(default_factory=dict)

    def recover(self) -> None:
        for sim in (self.sms_sim, self.wechat_sim, self.push_sim):
            sim.recover()


def simulated_providers(clock: Callable[[], datetime] = shanghai_now) -> SimulatedProviders:
    """The three adapters, each talking to its own fresh simulator (which accepts any number, openid, device)."""
    sms_sim, wechat_sim, push_sim = SmsSimulator(clock=clock), WeChatSimulator(clock=clock), JPushSimulator(clock=clock)
    return SimulatedProviders(
        sms=AliyunSms(access_key_id=SIM_SMS_KEY_ID, access_key_secret=SIM_SMS_SECRET, sign_name=SIM_SIGN_NAME,
                      transport=sms_sim, endpoint="https://dysmsapi.simulator/", clock=clock),
        wechat=WeChatSubscribe(appid=SIM_WECHAT_APPID, secret=SIM_WECHAT_SECRET, transport=wechat_sim,
                               base_url="https://wechat.simulator", clock=clock),
        push=JPush(app_key=SIM_JPUSH_APP_KEY, master_secret=SIM_JPUSH_SECRET, transport=push_sim,
                   base_url="https://jpush.simulator"),
        sms_sim=sms_sim, wechat_sim=wechat_sim, push_sim=push_sim)
