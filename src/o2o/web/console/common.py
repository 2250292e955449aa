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
# A plain English word after a space: letters (with ' or -), then a space, punctuation or the end.
_EN_START = re.compile(r"(?:^|\s)([A-Za-z][A-Za-z'-]*)(?=[\s,.;:!?()]|$)")
# ": " before a nested value that has Chinese in it (the reason of a courier failure...).
_NESTED = re.compile(r":\s+(?=\S*[\u3400-\u9fff])")


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


def split_bilingual(message: str) -> tuple[str, str]:
    """A service message written "中文 English" as its (Chinese, English) halves; "" for a half it lacks.

    The English half starts at the first plain English word that follows Chinese text after a space
    (not a code such as ``out_for_delivery`` or an order number) and is followed by no Chinese up to
    the end or up to a nested value: ``"... English: 中文2 English2"`` (a courier's reason, say) is split
    the same way and joined to each half ("中文：中文2", "English: English2"); a nested value that has
    one language only is kept as is in both.
    """
    message = message.strip()
    if not _CJK.search(message):
        return "", message
    for m in _EN_START.finditer(message):
        start = m.start(1)
        before = message[:start].rstrip()
        if not before or not _CJK.fullmatch(before[-1]):
            continue
        rest = message[start:]
        nested = _NESTED.search(rest)
        en_head = rest[:nested.start()] if nested else rest
        if _CJK.search(en_head):
            continue  # a Latin word inside the Chinese text ("请在 App 中查看"): not the English half
        zh = before.rstrip("：:").rstrip()
        if nested is None:
            return zh, rest.strip()
        zh2, en2 = split_bilingual(rest[nested.end():])
        return f"{zh}：{zh2 or en2}", f"{en_head.rstrip()}: {en2 or zh2}"
    return message, ""


def message_text(message: str) -> str:
    """A bilingual "中文 English" service message in the current language (:func:`split_bilingual`); a message
    with one language only is shown as it is."""
    zh, en = split_bilingual(message)
    if (get_language() or "").startswith("en"):
        return en or message
    return zh or message


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
