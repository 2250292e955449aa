"""App push through JPush (极光推送) REST API v3: ``POST https://api.jpush.cn/v3/push``.

Authentication is HTTP Basic with ``base64(appKey:masterSecret)``. The body we send::

    {"platform": "all",
     "audience": {"registration_id": ["1a0018970a8b0f7d2d1"]},
     "notification": {"alert": "...",
                      "android": {"alert": "...", "title": "...", "extras": {...}},
                      "ios": {"alert": "...", "sound": "default", "badge": "+1", "extras": {...}}},
     "options": {"time_to_live": 86400, "apns_production": false}}

Success is HTTP 200 ``{"sendno": "0", "msg_id": "..."}``; a refusal is ``{"error": {"code": 1011,
"message": "cannot find user by this audience"}}`` with HTTP 400 (1003 bad parameter, 1004 /
HTTP 401 wrong credentials, 1011 unknown registration id: none retryable), 2002 / HTTP 429 is the
rate limit and HTTP 5xx the service's own trouble (both worth another try).
"""

from __future__ import annotations

import base64
import re
from collections.abc import Mapping, Sequence
from typing import Any

from .base import ProviderError, SendResult, Transport, call_json, dumps

PROVIDER = "jpush"
BASE_URL = "https://api.jpush.cn"
PATH_PUSH = "/v3/push"
MAX_AUDIENCE = 1000
RETRYABLE = frozenset({2002, 1030})
PLATFORMS = ("android", "ios")
_REG_ID = re.compile(r"[A-Za-z0-9_\-]{6,64}")


def basic_auth(app_key: str, master_secret: str) -> str:
    return "Basic " + base64.b64encode(f"{app_key}:{master_secret}".encode()).decode("ascii")


def check_registration_ids(ids: Sequence[str]) -> list[str]:
    ids = list(dict.fromkeys(ids))  # once each, in order
    if not 1 <= len(ids) <= MAX_AUDIENCE:
        raise ValueError(f"推送目标数量应为 1-{MAX_AUDIENCE} audience takes 1..{MAX_AUDIENCE} registration ids")
    for rid in ids:
        if not isinstance(rid, str) or not _REG_ID.fullmatch(rid):
            raise ValueError("registration_id 格式不正确 bad registration_id")
    return ids


class JPush:
    """Notifications to devices of one JPush app (``app_key`` / ``master_secret``)."""

    provider = PROVIDER

    def __init__(self, *, app_key: str, master_secret: str, transport: Transport, base_url: str = BASE_URL,
                 apns_production: bool = False, time_to_live_s: int = 86400) -> None:
        if not app_key or not master_secret:
            raise ValueError("极光推送需要 appKey 和 masterSecret app_key and master_secret are required")
        if not 0 <= time_to_live_s <= 10 * 86400:
            raise ValueError("time_to_live 应为 0-864000 秒 time_to_live must be 0..864000 seconds")
        self.app_key = app_key
        self._master_secret = master_secret
        self.base_url = base_url.rstrip("/")
        self.apns_production = apns_production
        self.time_to_live_s = time_to_live_s
        self._transport = transport

    def request_body(self, *, registration_ids: Sequence[str], alert: str, title: str | None = None,
                     extras: Mapping[str, object] | None = None,
                     platform: str | Sequence[str] = "all") -> dict[str, Any]:
        if not isinstance(alert, str) or not alert.strip():
            raise ValueError("推送内容不能为空 alert must not be empty")
        if platform != "all":
            platform = list(platform)
            if not platform or any(p not in PLATFORMS for p in platform):
                raise ValueError("platform 只能是 all、android、ios platform must be all, android or ios")
        extra = {str(k): str(v) for k, v in (extras or {}).items()}
        android: dict[str, Any] = {"alert": alert, "extras": extra}
        if title:
            android["title"] = title
        ios = {"alert": alert, "sound": "default", "badge": "+1", "extras": extra}
        return {"platform": platform, "audience": {"registration_id": check_registration_ids(registration_ids)},
                "notification": {"alert": alert, "android": android, "ios": ios},
                "options": {"time_to_live": self.time_to_live_s, "apns_production": self.apns_production}}

    def push(self, *, registration_ids: Sequence[str], alert: str, title: str | None = None,
             extras: Mapping[str, object] | None = None, platform: str | Sequence[str] = "all") -> SendResult:
        body = dumps(self.request_body(registration_ids=registration_ids, alert=alert, title=title, extras=extras,
                                       platform=platform)).encode("utf-8")
        headers = {"Authorization": basic_auth(self.app_key, self._master_secret),
                   "Content-Type": "application/json", "Accept": "application/json"}
        status, data = call_json(self._transport, "POST", f"{self.base_url}{PATH_PUSH}", headers, body,
                                 provider=PROVIDER)
        error = data.get("error") if isinstance(data.get("error"), dict) else None
        if status == 200 and error is None and data.get("msg_id") not in (None, ""):
            return SendResult(PROVIDER, str(data["msg_id"]), data)
        code = error.get("code") if error else None
        raise ProviderError(f"推送失败 push refused: {(error or {}).get('message') or status}",
                            code=str(code if code is not None else f"http_{status}"), provider=PROVIDER,
                            status=status, retryable=code in RETRYABLE or status == 429 or status >= 500, raw=data)
