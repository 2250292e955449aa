"""The notifications settings (``settings.O2O["NOTIFY"]``) and the message templates of each kind.

``O2O["NOTIFY"]``:

* ``backends``: per provider channel (``sms``, ``wechat``, ``push``): ``"simulator"`` (the default: the
  real adapters talking to the local simulators of :mod:`o2o.adapters.notify.simulator`, for tests and
  the demo), ``"production"`` (credentials from the environment, see :mod:`o2o.notifications.backends`)
  or ``"off"``. The ``outbox`` channel (the member's in-app inbox, 站内信) needs no provider and is
  always on.
* ``daily_cap``: marketing causes per member per China calendar day (default 2; service messages are
  never capped). ``quiet_hours``: ``["21:00", "09:00"]`` China time; a marketing message due inside waits
  until the window ends. ``max_attempts``: deliveries tried per row before it is failed (default 5).
* ``wechat_app_id``: the mini-program whose openids receive subscribe messages (empty: the member's most
  recently seen WeChat openid of any app; production defaults to ``O2O_WECHAT_MP_APPID``).
* ``templates``: per kind, overrides of :data:`TEMPLATES` (the approved SMS template code and its
  variables, the WeChat template id, its fields and the mini-program page).

Template fields name keys of the notification's ``payload`` (what the trigger filled in), or
``title`` / ``body``.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import time
from typing import Any

from django.conf import settings

from o2o.notifications.rules import parse_hhmm

DEFAULT_CAP = 2
DEFAULT_QUIET = ("21:00", "09:00")
DEFAULT_MAX_ATTEMPTS = 5
MODES = ("simulator", "production", "off")

# The kinds the triggers send, with placeholder codes (production sets the approved ones in ``templates``).
TEMPLATES: dict[str, dict[str, Any]] = {
    # The storefront's sign-in code (sent at once by ``o2o.web.shop.sms.deliver``, never queued or capped).
    "login_code": {"sms": "SMS_480001", "sms_params": ["code"]},
    "pickup_ready": {
        "sms": "SMS_480101", "sms_params": ["order", "store", "deadline"],
        "wechat": "o2o-pickup-ready", "page": "pages/order/detail?id={order_id}",
        "wechat_data": {"character_string1": "order", "thing2": "store", "time3": "deadline"}},
    "pickup_deadline": {
        "sms": "SMS_480102", "sms_params": ["order", "store", "deadline"],
        "wechat": "o2o-pickup-deadline", "page": "pages/order/detail?id={order_id}",
        "wechat_data": {"character_string1": "order", "thing2": "store", "time3": "deadline"}},
    "appointment": {
        "sms": "SMS_480103", "sms_params": ["service", "store", "time"],
        "wechat": "o2o-appointment", "page": "pages/appointment/list",
        "wechat_data": {"thing1": "service", "thing2": "store", "time3": "time"}},
    "abandoned_cart": {
        "sms": "SMS_480201", "sms_params": ["items"],
        "wechat": "o2o-cart-reminder", "page": "pages/cart/index",
        "wechat_data": {"thing1": "items", "thing2": "title"}},
    "repurchase": {
        "sms": "SMS_480202", "sms_params": ["items"],
        "wechat": "o2o-repurchase", "page": "pages/index/index",
        "wechat_data": {"thing1": "items", "number2": "days"}},
    "coupon_expiring": {
        "sms": "SMS_480203", "sms_params": ["coupon", "until"],
        "wechat": "o2o-coupon-expiring", "page": "pages/coupons/mine",
        "wechat_data": {"thing1": "coupon", "time2": "until"}},
}


@dataclass(frozen=True)
class Template:
    sms_code: str = ""
    sms_params: tuple[str, ...] = ()
    wechat_id: str = ""
    wechat_data: dict[str, str] = field(default_factory=dict)
    page: str = ""


def notify_settings() -> dict[str, Any]:
    return dict(settings.O2O.get("NOTIFY") or {})


def mode(channel: str) -> str:
    """``simulator`` / ``production`` / ``off`` for a provider channel."""
    value = (notify_settings().get("backends") or {}).get(channel, "simulator")
    if value not in MODES:
        raise ValueError(f"O2O['NOTIFY']['backends'][{channel!r}] must be one of {MODES}, not {value!r}")
    return value


def daily_cap() -> int:
    return int(notify_settings().get("daily_cap", DEFAULT_CAP))


def quiet_hours() -> tuple[time, time]:
    start, end = notify_settings().get("quiet_hours") or DEFAULT_QUIET
    return parse_hhmm(start), parse_hhmm(end)


def max_attempts() -> int:
    return max(1, int(notify_settings().get("max_attempts", DEFAULT_MAX_ATTEMPTS)))


def template(kind: str) -> Template:
    spec = {**TEMPLATES.get(kind, {}), **((notify_settings().get("templates") or {}).get(kind) or {})}
    return Template(sms_code=spec.get("sms") or "", sms_params=tuple(spec.get("sms_params") or ()),
                    wechat_id=spec.get("wechat") or "", wechat_data=dict(spec.get("wechat_data") or {}),
                    page=spec.get("page") or "")
