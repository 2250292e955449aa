"""What every console page shares: the store it works on, the access check, errors in Chinese, repeat-safe keys.

A page of one store (``/console/s/<location_id>/...``) is wrapped in :func:`store_page`, which
asks the same permission helper the API asks (``require(request, perm, location=...)``): another
store's id is a 403 page, an unknown one a 404 page, never a traceback.
"""

from __future__ import annotations

import re
import uuid
from collections.abc import Callable
from functools import wraps
from typing import Any

from django.http import HttpRequest, HttpResponse
from django.shortcuts import render
from django.utils.translation import get_language

from o2o.accounts.permissions import require
from o2o.common.errors import ApiError, Forbidden, NotFound
from o2o.core.access import Perm, Role, ScopeKind
from o2o.stores.models import Location
from o2o.stores.selectors import location_get
from o2o.web import views as web_views
from o2o.web.auth import staff_required
from o2o.web.console import labels

SESSION_LOCATION = "o2o_console_location"  # the store an HQ / region user last worked on
# Who sees a store's figures for today (the core has no permission of its own for it).
MANAGER_ROLES = frozenset({Role.STORE_MANAGER, Role.REGION_MANAGER, Role.HQ_ADMIN})

_CJK = re.compile(r"[\u3000-\u303f\u3400-\u9fff\uff00-\uffef]")


def new_key() -> str:
    """A fresh idempotency key for a form being rendered (a double submit sends the same one)."""
    return uuid.uuid4().hex


def form_key(request: HttpRequest) -> str | None:
    key = (request.POST.get("idem") or "").strip()
    return key[:120] or None


def error_text(exc: ApiError) -> str:
    """A service error as the person should read it: the console's wording, else the message's Chinese half."""
    known = labels.ERRORS.get(exc.code)
    if known is not None:
        return str(known)
    return message_text(exc.message)


def message_text(message: str) -> str:
    """A bilingual "中文 English" service message in the current language: its Chinese half (up to the last
    Chinese character), or in English the whole message (it carries both; nothing is lost)."""
    last = max((m.end() for m in _CJK.finditer(message)), default=0)
    if not last or (get_language() or "").startswith("en"):
        return message
    return message[:last].strip()


def allowed(request: HttpRequest, perm: Perm, location: Location | int) -> bool:
    try:
        require(request, perm, location=location)
    except (Forbidden, NotFound):
        return False
    return True


def refuse(request: HttpRequest, exc: ApiError) -> HttpResponse:
    """Another store's object or an unknown one: the site's 403 / 404 page."""
    if isinstance(exc, NotFound):
        return web_views.not_found(request)
    return web_views.forbidden(request)


def is_manager(request: HttpRequest) -> bool:
    return request.actor.role in MANAGER_ROLES  # type: ignore[attr-defined]


def store_page(perm: Perm) -> Callable[[Callable[..., HttpResponse]], Callable[..., HttpResponse]]:
    """A page of one store: signed-in staff with ``perm`` at ``location_id``; the view gets the Location."""

    def decorate(view: Callable[..., HttpResponse]) -> Callable[..., HttpResponse]:
        @wraps(view)
        def wrapped(request: HttpRequest, location_id: int, *args: Any, **kwargs: Any) -> HttpResponse:
            try:
                loc = location_get(location_id=location_id)
                require(request, perm, location=loc)
            except (Forbidden, NotFound) as exc:
                return refuse(request, exc)
            if request.actor.scope is not ScopeKind.STORE:  # type: ignore[attr-defined]
                request.session[SESSION_LOCATION] = loc.pk
            return view(request, loc, *args, **kwargs)

        return staff_required(wrapped)

    return decorate


def page(request: HttpRequest, template: str, loc: Location | None, tab: str, context: dict[str, Any] | None = None,
         *, status: int = 200) -> HttpResponse:
    """Render a console page with the layout's context: the store, the user, the tabs they may open."""
    actor = request.actor  # type: ignore[attr-defined]
    user = request.user
    ctx = {
        "store": loc, "tab": tab, "staff_name": user.get_full_name() or user.get_username(),
        "role_label": labels.ROLE.get(actor.role.value if actor.role else "", ""),
        "can_switch": actor.scope is not ScopeKind.STORE,
        "show_figures": loc is not None and actor.role in MANAGER_ROLES,
        **(context or {}),
    }
    return render(request, template, ctx, status=status)
