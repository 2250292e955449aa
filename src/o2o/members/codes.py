"""Member codes (会员码): issue a fresh code to a member, find the member behind a live code.

* :func:`code_issue` — a new random code for an active member, valid ``O2O["MEMBER_CODE_TTL_S"]``
  seconds (default 120). Only the newest code of a member is live: issuing one deletes the member's
  older codes in the same transaction, so a photographed or screenshotted code dies as soon as the
  member's page renews it (every 60 s on the storefront); a bounded batch of expired rows
  is deleted on the way (a cheap purge, no cron needed). A merged member gets 409 ``member_merged``,
  a deleted (注销) one 409 ``member_deleted``, another inactive one 403 ``member_inactive``.
* :func:`code_member` — the active member whose unexpired code this is; 422 ``invalid_member_code``
  when the text is not a member code at all (wrong length, prefix or check digit), 404
  ``unknown_member_code`` when it is unknown, expired, or its member is no longer active.
* :func:`normalize` / :func:`looks_like_code` — what a scanner or a clerk typed ("8812 3456 ...",
  full-width digits), as the canonical 18 digits.
* :func:`qr_svg` — the code as an inline SVG QR code (``segno``; the QR carries just the digits, so
  the counter's scanner types them like a keyboard).
"""

from __future__ import annotations

import secrets
from datetime import datetime, timedelta

import segno
from django.conf import settings
from django.db import IntegrityError, transaction
from django.utils import timezone

from o2o.accounts.models import Member
from o2o.common.errors import Conflict, Forbidden, InvalidInput, NotFound
from o2o.core.orders.pickup_code import damm_check_digit
from o2o.members.models_codes import CODE_DIGITS, CODE_PREFIX, MemberCode

DEFAULT_TTL_S = 120
PURGE_BATCH = 200
_RANDOM_DIGITS = CODE_DIGITS - len(CODE_PREFIX) - 1
_SEPARATORS = frozenset(" -\t\u3000\uff0d")
_FULL_WIDTH = {chr(0xFF10 + d): str(d) for d in range(10)}

__all__ = ["code_issue", "code_member", "code_ttl_s", "format_code", "looks_like_code", "normalize", "qr_svg"]


def code_ttl_s() -> int:
    ttl = settings.O2O.get("MEMBER_CODE_TTL_S", DEFAULT_TTL_S)
    if isinstance(ttl, bool) or not isinstance(ttl, int) or not 10 <= ttl <= 3600:
        raise ValueError(f"O2O['MEMBER_CODE_TTL_S'] must be whole seconds in 10..3600, not {ttl!r}")
    return ttl


def new_code() -> str:
    body = CODE_PREFIX + f"{secrets.randbelow(10 ** _RANDOM_DIGITS):0{_RANDOM_DIGITS}d}"
    return body + damm_check_digit(body)


def _digits(text: object) -> str | None:
    if not isinstance(text, str) or len(text) > 64:
        return None
    kept = "".join(_FULL_WIDTH.get(c, c) for c in text.strip() if c not in _SEPARATORS)
    return kept if kept.isascii() and kept.isdigit() else None


def looks_like_code(text: object) -> bool:
    """18 digits with the member-code prefix (check digit not checked): a phone number never does."""
    kept = _digits(text)
    return kept is not None and len(kept) == CODE_DIGITS and kept.startswith(CODE_PREFIX)


def normalize(text: object) -> str | None:
    """The canonical 18 digits of a member code, or None when it is not one (the check digit included)."""
    kept = _digits(text)
    if kept is None or len(kept) != CODE_DIGITS or not kept.startswith(CODE_PREFIX):
        return None
    return kept if damm_check_digit(kept[:-1]) == kept[-1] else None


def format_code(code: str) -> str:
    """Grouped 4-4-4-4-2 for the eye: ``8812 3456 7890 1234 56``."""
    return " ".join(code[i:i + 4] for i in range(0, len(code), 4))


def qr_svg(code: str, *, title: str = "会员码 Member code") -> str:
    """The code's digits as an inline SVG QR code (no image file, no network)."""
    return segno.make(code, error="m").svg_inline(scale=5, border=2, title=title)


def _refuse_inactive(member: Member) -> None:
    if member.is_active:
        return
    details = {"member_id": member.pk}
    if member.merged_into_id is not None:
        raise Conflict("该会员已合并到另一会员 This member was merged into another one", code="member_merged",
                       details={**details, "merged_into": member.merged_into_id})
    if member.deleted_at is not None:
        raise Conflict("该会员已注销 This member has been deleted", code="member_deleted", details=details)
    raise Forbidden("该会员已停用 This member is deactivated", code="member_inactive", details=details)


def _purge_expired(now: datetime) -> None:
    """Delete up to ``PURGE_BATCH`` expired codes (each issue removes more than it adds)."""
    stale = list(MemberCode.objects.filter(expires_at__lte=now).order_by("expires_at")
                 .values_list("pk", flat=True)[:PURGE_BATCH])
    if stale:
        MemberCode.objects.filter(pk__in=stale, expires_at__lte=now).delete()


def code_issue(*, member_id: int, now: datetime | None = None, attempts: int = 5) -> MemberCode:
    """A fresh code for an active member (404 ``unknown_member``; inactive: see the module doc)."""
    now = now or timezone.now()
    member = Member.objects.filter(pk=member_id).first()
    if member is None:
        raise NotFound("会员不存在 Unknown member", code="unknown_member", details={"member_id": member_id})
    _refuse_inactive(member)
    expires = now + timedelta(seconds=code_ttl_s())
    _purge_expired(now)
    for _ in range(attempts):
        try:
            with transaction.atomic():
                MemberCode.objects.filter(member=member).delete()  # one live code per member
                return MemberCode.objects.create(code=new_code(), member=member, issued_at=now, expires_at=expires)
        except IntegrityError:  # 1 in 10^15 per live code: another member's code; draw again
            continue
    raise Conflict("会员码生成失败，请重试 Could not issue a member code; try again", code="retry")


def code_member(text: object, *, now: datetime | None = None) -> Member:
    """The active member whose live code ``text`` is (see the module doc for 422 / 404)."""
    code = normalize(text)
    if code is None:
        raise InvalidInput("会员码格式不正确（应为 88 开头的 18 位数字） Not a member code (18 digits starting 88)",
                           code="invalid_member_code")
    now = now or timezone.now()
    row = (MemberCode.objects.select_related("member")
           .filter(code=code, expires_at__gt=now, member__is_active=True).first())
    if row is None:
        raise NotFound("会员码无效或已过期，请让顾客刷新会员码 Unknown or expired member code; ask for a fresh one",
                       code="unknown_member_code")
    return row.member
