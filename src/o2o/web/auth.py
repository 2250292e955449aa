"""Who is using a web page: a member of the storefront (session) or a staff user of the console.

The storefront keeps the signed-in member's id in the session (``SESSION_MEMBER``); the console
uses Django's own staff session. Both end up as the same core ``Actor`` the API checks, so a page
and an endpoint answer the same question the same way (``o2o.accounts.permissions.require``).
"""

from __future__ import annotations

from collections.abc import Callable
from functools import wraps
from urllib.parse import urlencode

from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect

from o2o.accounts.models import Member
from o2o.accounts.permissions import actor_for_member, actor_for_user

SESSION_MEMBER = "o2o_member_id"
SESSION_CART = "o2o_cart_token"


def current_member(request: HttpRequest) -> Member | None:
    """The storefront's signed-in member, or None (a visitor). Cached on the request."""
    if hasattr(request, "_o2o_member"):
        return request._o2o_member  # type: ignore[attr-defined]
    member_id = request.session.get(SESSION_MEMBER)
    member = Member.objects.filter(pk=member_id, is_active=True).first() if member_id else None
    request._o2o_member = member  # type: ignore[attr-defined]
    if member is not None:
        request.actor = actor_for_member(member)  # type: ignore[attr-defined]
    return member


def member_sign_in(request: HttpRequest, member: Member) -> None:
    """Start a member session (a new session key: no fixation)."""
    request.session.cycle_key()
    request.session[SESSION_MEMBER] = member.pk
    request._o2o_member = member  # type: ignore[attr-defined]
    request.actor = actor_for_member(member)  # type: ignore[attr-defined]


def member_sign_out(request: HttpRequest) -> None:
    request.session.pop(SESSION_MEMBER, None)
    request.session.cycle_key()


def member_required(view: Callable[..., HttpResponse]) -> Callable[..., HttpResponse]:
    """Send a visitor to the storefront sign-in page and back here afterwards."""

    @wraps(view)
    def wrapped(request: HttpRequest, *args, **kwargs) -> HttpResponse:
        if current_member(request) is None:
            return redirect("/shop/login?" + urlencode({"next": request.get_full_path()}))
        return view(request, *args, **kwargs)

    return wrapped


def staff_required(view: Callable[..., HttpResponse]) -> Callable[..., HttpResponse]:
    """Send anyone without a staff session to the console sign-in page; set ``request.actor``."""

    @wraps(view)
    def wrapped(request: HttpRequest, *args, **kwargs) -> HttpResponse:
        user = getattr(request, "user", None)
        if user is None or not user.is_authenticated or not user.is_active:
            return redirect("/console/login?" + urlencode({"next": request.get_full_path()}))
        request.actor = actor_for_user(user)  # type: ignore[attr-defined]
        return view(request, *args, **kwargs)

    return wrapped
