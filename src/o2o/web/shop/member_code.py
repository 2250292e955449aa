"""The member code page (会员码, ``/shop/me/code``): a fresh code to show at the counter, as a QR code and
as digits grouped 4-4-4-4-2, with a countdown to its expiry. htmx fetches a new code every 60 s (and
when the countdown runs out), so the one on screen is always live; the counter's scanner reads the
QR (it carries just the digits) or the clerk types them. Never cached: the code is a credential."""

from __future__ import annotations

from django.http import HttpRequest, HttpResponse
from django.shortcuts import render
from django.utils import timezone
from django.utils.html import escape
from django.utils.safestring import mark_safe
from django.utils.translation import gettext as _
from django.views.decorators.cache import never_cache
from django.views.decorators.http import require_GET

from o2o.common.errors import ApiError
from o2o.members import codes
from o2o.web.auth import current_member, member_required
from o2o.web.shop.pages import page

REFRESH_S = 60


def code_qr(code: str) -> str:
    label = _("会员码二维码")
    svg = codes.qr_svg(code, title=label)
    return mark_safe(svg.replace("<svg ", f'<svg role="img" aria-label="{escape(label)}" ', 1))  # noqa: S308


def _context(member_id: int) -> tuple[dict, int]:
    try:
        row = codes.code_issue(member_id=member_id)
    except ApiError as exc:
        return {"code_error": exc.message, "refresh_s": REFRESH_S}, exc.status
    now = timezone.now()
    return {"code": row.code, "code_display": codes.format_code(row.code), "qr": code_qr(row.code),
            "expires_at": row.expires_at, "expires_ms": int(row.expires_at.timestamp() * 1000),
            "seconds_left": max(int((row.expires_at - now).total_seconds()), 0), "refresh_s": REFRESH_S}, 200


@member_required
@require_GET
@never_cache
def member_code(request: HttpRequest) -> HttpResponse:
    member = current_member(request)
    assert member is not None
    ctx, status = _context(member.pk)
    if request.htmx:  # type: ignore[attr-defined]
        return render(request, "web/shop/_member_code.html", ctx, status=status)
    return page(request, "web/shop/member_code.html", ctx, status=status)
