"""Identities of a member (OneID), as pure rules: kinds, channels, normalising, the blind-index input, masking.

No database and no keys here (``accounts.identities`` encrypts and indexes what these rules produce).

* A **kind** says what the value is: a phone number, a WeChat openid (one per mini-program/app id,
  so ``app_id`` is part of it), a WeChat unionid, an app login, a POS member card, a Douyin openid
  (per Douyin app id, too).
* **Normalising** makes equal identifiers equal: phones as 11 digits (``+86 138-1234-5678`` ->
  ``13812345678``), app logins lower-case, card numbers upper-case without spaces, openids as given.
  Anything else is a 422 ``invalid_identity``.
* The **blind-index input** of a phone is the bare 11 digits, the same as ``Member.phone_index`` (a
  member's phone and its phone identity share one index); every other kind is prefixed by the kind
  and its app id, so the same string under two kinds or two apps indexes differently.
* **Masking** keeps enough to recognise one's own identifier and nothing more: ``138****5678``,
  ``oAbC****wxyz``, ``****1234`` (cards), ``ab****yz`` (app logins).
* **Channel backends** (:data:`BACKEND_KINDS`, :func:`backend_refusal`) vouch only for their channel's kinds and,
  for the per-app kinds (openids), their own app ids. A WeChat unionid is NOT tied to an app id here: it is
  per WeChat open-platform account (every mini-program / app under that account sees the same unionid), so
  any mini-program backend may vouch for any unionid. Binding backends to an open-platform id (and keying
  unionids by it) is future work; until then a mini-program backend is trusted across the open platform.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from enum import StrEnum

from o2o.accounts.pii import mask_phone, normalize_phone
from o2o.common.errors import InvalidInput


class IdentityKind(StrEnum):
    PHONE = "phone"
    WECHAT_OPENID = "wechat_openid"
    WECHAT_UNIONID = "wechat_unionid"
    APP_ACCOUNT = "app_account"
    POS_CARD = "pos_card"
    DOUYIN_OPENID = "douyin_openid"

    @property
    def label(self) -> str:
        return _LABELS[self]


_LABELS = {
    IdentityKind.PHONE: "手机号 phone",
    IdentityKind.WECHAT_OPENID: "微信 openid WeChat openid",
    IdentityKind.WECHAT_UNIONID: "微信 unionid WeChat unionid",
    IdentityKind.APP_ACCOUNT: "App 账号 app account",
    IdentityKind.POS_CARD: "门店会员卡 POS member card",
    IdentityKind.DOUYIN_OPENID: "抖音 openid Douyin openid",
}

# Kinds whose value only means something within one app (the app id is part of the identifier).
PER_APP = frozenset({IdentityKind.WECHAT_OPENID, IdentityKind.DOUYIN_OPENID})

# The sales channels (the same values as ``catalog.Channel``; accounts sits below catalog).
CHANNELS = ("mini_program", "app", "h5", "pc", "douyin", "pos")

_OPAQUE = re.compile(r"[A-Za-z0-9_\-]{6,64}")
_APP_ID = re.compile(r"[A-Za-z0-9_\-]{2,64}")
_ACCOUNT = re.compile(r"[a-z0-9_.@\-]{3,64}")
_CARD = re.compile(r"[A-Z0-9]{4,32}")


@dataclass(frozen=True)
class IdentityKey:
    """A normalised identifier: what is encrypted (``value``), indexed (``index_input``) and shown (``masked``)."""

    kind: IdentityKind
    app_id: str
    value: str

    @property
    def index_input(self) -> str:
        if self.kind is IdentityKind.PHONE:
            return self.value
        return f"{self.kind.value}\x1f{self.app_id}\x1f{self.value}"

    @property
    def masked(self) -> str:
        return mask(self.kind, self.value)


def _bad(message: str, **details: object) -> InvalidInput:
    return InvalidInput(message, code="invalid_identity", details=details)


def parse_kind(kind: str) -> IdentityKind:
    try:
        return IdentityKind(kind)
    except ValueError:
        raise _bad("未知的身份类型 Unknown identity kind", kind=str(kind)[:32],
                   allowed=[k.value for k in IdentityKind]) from None


def check_channel(channel: str) -> str:
    if channel not in CHANNELS:
        raise InvalidInput("未知渠道 Unknown channel", code="invalid_channel",
                           details={"channel": str(channel)[:32], "allowed": list(CHANNELS)})
    return channel


def normalize(kind: str, value: str, app_id: str = "") -> IdentityKey:
    """The identifier in its one canonical form, or 422 ``invalid_identity`` (the value never echoed in clear)."""
    k = parse_kind(kind)
    raw = (value or "").strip()
    app = (app_id or "").strip()
    if k in PER_APP:
        if not _APP_ID.fullmatch(app):
            raise _bad("缺少或无效的应用 ID An app id is required for this kind", kind=k.value)
    elif app:
        raise _bad("此类身份不带应用 ID This kind takes no app id", kind=k.value)
    if k is IdentityKind.PHONE:
        try:
            return IdentityKey(k, "", normalize_phone(raw))
        except InvalidInput:
            raise _bad("手机号格式不正确 Not a mainland mobile number", kind=k.value, value=mask(k, raw)) from None
    if k is IdentityKind.APP_ACCOUNT:
        norm = raw.lower()
        ok = bool(_ACCOUNT.fullmatch(norm))
    elif k is IdentityKind.POS_CARD:
        norm = re.sub(r"[\s\-]", "", raw).upper()
        ok = bool(_CARD.fullmatch(norm))
    else:
        norm = raw
        ok = bool(_OPAQUE.fullmatch(norm))
    if not ok:
        raise _bad("身份标识格式不正确 Malformed identifier", kind=k.value, value=mask(k, raw))
    return IdentityKey(k, app, norm)


def mask(kind: IdentityKind, value: str) -> str:
    """What a screen shows of an identifier (never more than 4 + 4 characters of it)."""
    v = value or ""
    if kind is IdentityKind.PHONE:
        return mask_phone(v)
    if kind is IdentityKind.POS_CARD:
        return "****" + v[-4:] if len(v) >= 8 else "*" * len(v)
    if kind is IdentityKind.APP_ACCOUNT:
        return f"{v[:2]}****{v[-2:]}" if len(v) >= 6 else "*" * len(v)
    return f"{v[:4]}****{v[-4:]}" if len(v) >= 12 else "*" * len(v)


# -- what a channel backend may vouch for ------------------------------------------------------------------------

#: The identity kinds a channel's backend has verified itself and may vouch for (``POST /members/identify`` and
#: ``POST /members/{id}/identities`` by a ``channel_backend`` account): the mini-program's WeChat ids and the
#: phone WeChat verified, Douyin's openid and verified phone, the app's login and phone, the till's card, the
#: H5 site's SMS-verified phone. Anything else it cannot have checked.
BACKEND_KINDS: dict[str, frozenset[IdentityKind]] = {
    "mini_program": frozenset({IdentityKind.WECHAT_OPENID, IdentityKind.WECHAT_UNIONID, IdentityKind.PHONE}),
    "douyin": frozenset({IdentityKind.DOUYIN_OPENID, IdentityKind.PHONE}),
    "app": frozenset({IdentityKind.APP_ACCOUNT, IdentityKind.PHONE}),
    "pos": frozenset({IdentityKind.POS_CARD}),
    "h5": frozenset({IdentityKind.PHONE}),
}
BACKEND_CHANNELS = tuple(BACKEND_KINDS)


def backend_refusal(*, bound_channel: str, app_ids: list[str] | tuple[str, ...], channel: str, kind: str,
                    app_id: str = "") -> tuple[str, str, dict] | None:
    """Why a channel backend bound to ``bound_channel`` (and, for per-app kinds, ``app_ids``) may not vouch
    for this identifier, as ``(code, bilingual message, details)``; None when it may."""
    if bound_channel not in BACKEND_KINDS or channel != bound_channel:
        return ("channel_not_allowed", "该渠道后端不能代表此渠道 This channel backend may not act for this channel",
                {"channel": str(channel)[:32], "allowed": [bound_channel] if bound_channel in BACKEND_KINDS else []})
    allowed = BACKEND_KINDS[bound_channel]
    try:
        k = IdentityKind(kind)
    except ValueError:
        k = None
    if k not in allowed:
        return ("identity_kind_not_allowed", "该渠道不能验证此类身份 This channel cannot vouch for this identity kind",
                {"kind": str(kind)[:32], "channel": bound_channel, "allowed": sorted(x.value for x in allowed)})
    if k in PER_APP and (app_id or "").strip() not in set(app_ids):
        return ("app_not_allowed", "该渠道后端不能代表此应用 This channel backend may not act for this app id",
                {"app_id": str(app_id)[:64], "allowed": sorted(app_ids)})
    return None
