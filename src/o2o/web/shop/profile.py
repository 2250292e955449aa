"""My details (``/shop/me/profile``): the member's birthday, for the birthday coupons (生日礼券).

A member enters it once (``marketing.birthday.birthday_set``); afterwards the page shows it and says that
customer service changes it (409 ``birthday_locked`` from the service; the same date again is fine).
The form posts a plain ``YYYY-MM-DD`` (an ``<input type="date">``); anything else is a field error, never a 500.
"""

from __future__ import annotations

from datetime import date

from django.contrib import messages
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect
from django.utils import timezone
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy
from django.views.decorators.http import require_http_methods

from o2o.common.errors import ApiError
from o2o.core.loyalty import CHINA_TZ
from o2o.marketing import birthday
from o2o.web.auth import current_member, member_required
from o2o.web.shop.labels import zh
from o2o.web.shop.pages import page

ERRORS = {
    "invalid_birthday": gettext_lazy("请选择 1900-01-01 至今天之间的日期。"),
    "birthday_locked": gettext_lazy("生日已设置，如需修改请联系客服。"),
}


def _parse(raw: str) -> date | None:
    raw = (raw or "").strip()
    if not (raw.isascii() and len(raw) == 10):
        return None
    try:
        return date.fromisoformat(raw)
    except ValueError:
        return None


def _render(request: HttpRequest, member_id: int, *, error: str = "", value: str = "",
            status: int = 200) -> HttpResponse:
    day = birthday.birthday_get(member_id)
    today = timezone.now().astimezone(CHINA_TZ).date()
    return page(request, "web/shop/profile.html", {"birthday": day, "error": error, "value": value,
                                                   "min_date": birthday.EARLIEST.isoformat(),
                                                   "max_date": today.isoformat()}, status=status)


@member_required
@require_http_methods(["GET", "POST"])
def profile(request: HttpRequest) -> HttpResponse:
    member = current_member(request)
    assert member is not None
    if request.method == "GET":
        return _render(request, member.pk)
    raw = (request.POST.get("birthday") or "")[:40]
    day = _parse(raw)
    if day is None:
        return _render(request, member.pk, error=_("请输入有效的日期，例如 1990-05-17。"), value=raw, status=400)
    try:
        birthday.birthday_set(member.pk, day)
    except ApiError as exc:
        known = ERRORS.get(exc.code)
        status = exc.status if 400 <= exc.status < 500 else 409
        return _render(request, member.pk, error=str(known) if known is not None else zh(exc.message), value=raw,
                       status=status)
    messages.success(request, _("生日已保存，生日当天会收到生日礼券。"))
    return redirect("/shop/me/profile")
