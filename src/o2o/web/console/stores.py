"""Which store the console works on: a clerk's own store; HQ and region staff pick one they may see.

``/console/``, ``/console/counter``, ``/console/stock`` and ``/console/figures`` lead to the current
store's page; without a current store, HQ and region staff get the store picker first.
"""

from __future__ import annotations

from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect
from django.urls import reverse

from o2o.accounts.permissions import visible_location_ids
from o2o.common.errors import Forbidden
from o2o.core.access import Perm, ScopeKind
from o2o.stores.selectors import location_list
from o2o.web import views as web_views
from o2o.web.auth import staff_required
from o2o.web.console.common import SESSION_LOCATION, allowed, page

PICKER_LIMIT = 60


def current_location_id(request: HttpRequest) -> int | None:
    """The store this user works on now: their own, else the one they last picked (if still allowed)."""
    actor = request.actor  # type: ignore[attr-defined]
    if actor.scope is ScopeKind.STORE:
        return actor.location_id
    chosen = request.session.get(SESSION_LOCATION)
    if isinstance(chosen, int) and allowed(request, Perm.ORDER_VIEW, chosen):
        return chosen
    return None


def _to(name: str):  # noqa: ANN202
    @staff_required
    def view(request: HttpRequest) -> HttpResponse:
        loc = current_location_id(request)
        if loc is None:
            if request.actor.scope is ScopeKind.STORE:  # type: ignore[attr-defined]
                return web_views.forbidden(request)  # a store user without a store: nothing to show
            return redirect(reverse("console:stores") + "?next=" + name)
        return redirect(reverse(f"console:{name}", args=[loc]))

    view.__name__ = f"to_{name}"
    return view


home = _to("queue")
counter = _to("counter")
stock = _to("stock")
figures = _to("figures")

_NEXT = {"queue", "counter", "stock", "figures"}


@staff_required
def stores(request: HttpRequest) -> HttpResponse:
    """The store picker: only the locations this user may see (``order.view``), searchable by name or code."""
    try:
        ids = visible_location_ids(request, Perm.ORDER_VIEW)
    except Forbidden:
        return web_views.forbidden(request)
    q = (request.GET.get("q") or "").strip()[:50]
    nxt = request.GET.get("next") if request.GET.get("next") in _NEXT else "queue"
    qs = location_list(ids=ids, public=False, q=q or None).filter(active=True)
    total = qs.count()
    return page(request, "web/console/stores.html", None, "stores",
                {"locations": [(loc, reverse(f"console:{nxt}", args=[loc.pk])) for loc in qs[:PICKER_LIMIT]],
                 "total": total, "q": q, "next": nxt,
                 "limit": PICKER_LIMIT})
