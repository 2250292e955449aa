"""Delivering one notification row through its channel: the one place that wires the provider adapters.

Per provider channel, ``O2O["NOTIFY"]["backends"]`` says ``simulator`` (default), ``production`` or ``off``
(:mod:`o2o.notifications.config`):

* ``simulator``: the real adapters talking to one process-wide set of local simulators
  (:func:`simulated`; tests read what they were asked and make them fail, the demo shows the result).
* ``production``: credentials from the environment, HTTP through ``UrllibTransport``
  (``O2O_NOTIFY_HTTP_TIMEOUT_S``, default 10 s). A channel whose variables are missing is unavailable
  (nothing is queued on it):

  - SMS (Aliyun Dysms): ``O2O_ALIYUN_SMS_ACCESS_KEY_ID``, ``O2O_ALIYUN_SMS_ACCESS_KEY_SECRET``,
    ``O2O_ALIYUN_SMS_SIGN_NAME`` (optional ``O2O_ALIYUN_SMS_ENDPOINT``);
  - WeChat subscribe messages: ``O2O_WECHAT_MP_APPID``, ``O2O_WECHAT_MP_SECRET`` (optional
    ``O2O_WECHAT_MP_STATE``: formal / trial / developer);
  - JPush: ``O2O_JPUSH_APP_KEY``, ``O2O_JPUSH_MASTER_SECRET`` (``O2O_JPUSH_APNS_PRODUCTION=1`` for App Store builds).

Addresses are read when a row is sent, not when it is queued: the phone is decrypted here and nowhere
else in this app, the openid likewise; a member who has none any more is :class:`Unreachable`.
The ``outbox`` channel has no provider: "sent" means the member's in-app inbox shows it.
"""

from __future__ import annotations

import os
import threading
from collections.abc import Mapping
from typing import Any

from o2o.accounts import pii
from o2o.accounts.identities import value_field
from o2o.accounts.identity_rules import IdentityKind
from o2o.accounts.models import Member, MemberIdentity
from o2o.accounts.pii_services import PHONE
from o2o.adapters.couriers.base import UrllibTransport
from o2o.adapters.notify import AliyunSms, JPush, SendResult, WeChatSubscribe
from o2o.adapters.notify.simulator import SimulatedProviders, simulated_providers
from o2o.adapters.notify.wechat_subscribe import fit_value
from o2o.notifications import config
from o2o.notifications.models import Channel, Notification, PushDevice

SMS_ENV = ("O2O_ALIYUN_SMS_ACCESS_KEY_ID", "O2O_ALIYUN_SMS_ACCESS_KEY_SECRET", "O2O_ALIYUN_SMS_SIGN_NAME")
WECHAT_ENV = ("O2O_WECHAT_MP_APPID", "O2O_WECHAT_MP_SECRET")
PUSH_ENV = ("O2O_JPUSH_APP_KEY", "O2O_JPUSH_MASTER_SECRET")
_ENV = {Channel.SMS: SMS_ENV, Channel.WECHAT: WECHAT_ENV, Channel.PUSH: PUSH_ENV}

_lock = threading.Lock()
_simulated: SimulatedProviders | None = None
_production: dict[tuple[str, tuple[str, ...]], Any] = {}


class Unreachable(Exception):
    """The member has no address on this channel (any more)."""


# --- wiring -----------------------------------------------------------------------------------

def simulated() -> SimulatedProviders:
    """The process-wide simulators (made on first use)."""
    global _simulated
    with _lock:
        if _simulated is None:
            _simulated = simulated_providers()
        return _simulated


def reset_simulated() -> SimulatedProviders:
    """Fresh simulators (tests start from an empty record)."""
    global _simulated
    with _lock:
        _simulated = simulated_providers()
        return _simulated


def available(channel: str, env: Mapping[str, str] | None = None) -> bool:
    """May anything be sent on ``channel`` now?"""
    if channel == Channel.OUTBOX:
        return True
    wiring = config.mode(channel)
    if wiring == "off":
        return False
    if wiring == "simulator":
        return True
    env = os.environ if env is None else env
    return all(env.get(name) for name in _ENV[Channel(channel)])


def production_adapter(channel: str, env: Mapping[str, str] | None = None) -> Any:
    """The real adapter of ``channel`` from the environment (cached per process and credentials)."""
    env = os.environ if env is None else env
    names = _ENV[Channel(channel)]
    if not all(env.get(n) for n in names):
        raise Unreachable(f"{channel} 未配置 not configured: {', '.join(n for n in names if not env.get(n))}")
    key = (channel, tuple(env[n] for n in names))
    with _lock:
        if key in _production:
            return _production[key]
        transport = UrllibTransport(float(env.get("O2O_NOTIFY_HTTP_TIMEOUT_S") or 10))
        if channel == Channel.SMS:
            adapter: Any = AliyunSms(access_key_id=env[SMS_ENV[0]], access_key_secret=env[SMS_ENV[1]],
                                     sign_name=env[SMS_ENV[2]], transport=transport,
                                     endpoint=env.get("O2O_ALIYUN_SMS_ENDPOINT") or "https://dysmsapi.aliyuncs.com/")
        elif channel == Channel.WECHAT:
            adapter = WeChatSubscribe(appid=env[WECHAT_ENV[0]], secret=env[WECHAT_ENV[1]], transport=transport,
                                      miniprogram_state=env.get("O2O_WECHAT_MP_STATE") or "formal")
        else:
            adapter = JPush(app_key=env[PUSH_ENV[0]], master_secret=env[PUSH_ENV[1]], transport=transport,
                            apns_production=env.get("O2O_JPUSH_APNS_PRODUCTION") == "1")
        _production[key] = adapter
        return adapter


def adapter(channel: str) -> Any:
    if config.mode(channel) == "production":
        return production_adapter(channel)
    sims = simulated()
    return {Channel.SMS: sims.sms, Channel.WECHAT: sims.wechat, Channel.PUSH: sims.push}[Channel(channel)]


def wechat_app_id() -> str:
    configured = config.notify_settings().get("wechat_app_id") or ""
    if not configured and config.mode(Channel.WECHAT) == "production":
        configured = os.environ.get("O2O_WECHAT_MP_APPID", "")
    return configured


# --- addresses --------------------------------------------------------------------------------

def openid_identity(member_id: int) -> MemberIdentity | None:
    qs = MemberIdentity.objects.filter(member_id=member_id, kind=IdentityKind.WECHAT_OPENID.value)
    app_id = wechat_app_id()
    if app_id:
        qs = qs.filter(app_id=app_id)
    return qs.order_by("-last_seen_at", "-pk").first()


def reachable(member: Member, channel: str) -> bool:
    """Has the member an address on ``channel`` (nothing decrypted)?"""
    if channel == Channel.OUTBOX:
        return True
    if channel == Channel.SMS:
        return bool(member.phone_enc)
    if channel == Channel.WECHAT:
        return openid_identity(member.pk) is not None
    return PushDevice.objects.filter(member_id=member.pk).exists()


def _phone(member: Member) -> str:
    if not member.phone_enc:
        raise Unreachable("会员没有手机号 no phone")
    return pii.decrypt(member.phone_enc, field=PHONE)


def _openid(member: Member) -> str:
    identity = openid_identity(member.pk)
    if identity is None:
        raise Unreachable("会员没有微信 openid no WeChat openid")
    return pii.decrypt(identity.value_enc, field=value_field(IdentityKind.WECHAT_OPENID))


def _devices(member: Member) -> list[str]:
    ids = list(PushDevice.objects.filter(member_id=member.pk).order_by("-last_seen_at")
               .values_list("registration_id", flat=True)[:20])
    if not ids:
        raise Unreachable("会员没有推送设备 no push device")
    return ids


# --- delivery ---------------------------------------------------------------------------------

def field_value(row: Notification, name: str) -> str:
    if name == "title":
        return row.title
    if name == "body":
        return row.body
    value = (row.payload or {}).get(name)
    if value is None or value == "":
        raise ValueError(f"通知缺少模板字段 {name} the notification lacks the template field {name!r}")
    return str(value)


class _Blank(dict):
    def __missing__(self, key: str) -> str:
        return ""


def page_of(row: Notification, page: str) -> str:
    return page.format_map(_Blank({k: str(v) for k, v in (row.payload or {}).items()})) if page else ""


def deliver(row: Notification, member: Member) -> SendResult:
    """Send ``row`` now. Raises :class:`Unreachable`, ``ProviderError`` (see ``retryable``) or ValueError
    (the template and the notification do not fit)."""
    if row.channel == Channel.OUTBOX:
        return SendResult("outbox", f"outbox:{row.pk}")
    tpl = config.template(row.kind)
    if row.channel == Channel.SMS:
        if not tpl.sms_code:
            raise Unreachable(f"{row.kind} 没有短信模板 no SMS template")
        return adapter(Channel.SMS).send_sms(
            phone_numbers=_phone(member), template_code=tpl.sms_code,
            template_params={p: field_value(row, p) for p in tpl.sms_params}, out_id=f"n{row.pk}")
    if row.channel == Channel.WECHAT:
        if not tpl.wechat_id:
            raise Unreachable(f"{row.kind} 没有微信模板 no WeChat template")
        data = {key: fit_value(key, field_value(row, name)) for key, name in tpl.wechat_data.items()}
        return adapter(Channel.WECHAT).send(touser=_openid(member), template_id=tpl.wechat_id, data=data,
                                            page=page_of(row, tpl.page) or None)
    return adapter(Channel.PUSH).push(registration_ids=_devices(member), alert=row.body, title=row.title,
                                      extras={"kind": row.kind, "page": page_of(row, tpl.page)})


def has_template(kind: str, channel: str) -> bool:
    tpl = config.template(kind)
    return {Channel.SMS: bool(tpl.sms_code), Channel.WECHAT: bool(tpl.wechat_id)}.get(Channel(channel), True)
