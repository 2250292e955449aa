"""What every storefront page shares: the header's context (current store, point, member, cart
badge), rendering with a status, opening hours as text, and a safe local ``next`` path."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from django.http import HttpRequest, HttpResponse
from django.shortcuts import render
from django.utils.http import url_has_allowed_host_and_scheme
from django.utils.translation import gettext as _

from o2o.fulfilment import clock
from o2o.stores.models import Location
from o2o.web.auth import current_member
from o2o.web.shop.basket import cart_count
from o2o.web.shop.state import current_point, current_store

DAYS = ("mon", "tue", "wed", "thu", "fri", "sat", "sun")


def header(request: HttpRequest) -> dict[str, Any]:
    return {"shop_store": current_store(request), "shop_point": current_point(request),
            "shop_member": current_member(request), "cart_count": cart_count(request)}


def page(request: HttpRequest, template: str, context: dict[str, Any] | None = None,
         status: int = 200) -> HttpResponse:
    return render(request, template, {**header(request), **(context or {})}, status=status)


def hours_today(location: Location, now: datetime | None = None) -> tuple[str, bool | None]:
    """(today's opening hours as text, open now?) from ``Location.opening_hours``; None: not given.

    ``now``: the routing clock's (``fulfilment.clock``), so "已打烊" and the availability's "明天可自提"
    read the same time."""
    now = clock.local(now)
    hours = location.opening_hours if isinstance(location.opening_hours, dict) else {}
    spans = hours.get(DAYS[now.weekday()])
    if spans is None:
        return _("营业时间未提供"), None
    if not spans:
        return _("今日休息"), False
    hhmm = now.strftime("%H:%M")
    try:
        text = "、".join(f"{a}-{b}" for a, b in spans)
        is_open = any(a <= hhmm < b for a, b in spans)
    except (TypeError, ValueError):
        return _("营业时间未提供"), None
    return text, is_open


def text(value: str | None, limit: int) -> str:
    """Free text from a query string or a hand-built form: NUL removed (PostgreSQL refuses it), trimmed, capped."""
    return (value or "").replace("\x00", "").strip()[:limit]


def safe_next(request: HttpRequest, default: str = "/shop/") -> str:
    """``next`` if it is a path on this site (never another host), else ``default``."""
    target = request.POST.get("next") or request.GET.get("next") or ""
    if "\x00" in target or len(target) > 2000:
        return default
    if target.startswith("/") and not target.startswith("//") and url_has_allowed_host_and_scheme(
            target, allowed_hosts={request.get_host()}, require_https=request.is_secure()):
        return target
    return default
