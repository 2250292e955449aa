"""Browsing: home (categories and a few products), a category, search, a product page.

A signed-in member's product view and search are behaviour events (``profiles.events.record``: one INSERT that
ignores the day's duplicate; visitors record nothing)."""

from __future__ import annotations

from urllib.parse import urlencode

from django.conf import settings
from django.core.cache import cache
from django.core.paginator import Paginator
from django.http import Http404, HttpRequest, HttpResponse
from django.utils import timezone
from django.views.decorators.http import require_GET

from o2o.catalog.models import Channel, Sku
from o2o.catalog.selectors import category_tree, sku_get, sku_list, sku_price
from o2o.common.errors import ApiError
from o2o.experiments.services import expose
from o2o.orders.pricing import unit_prices
from o2o.profiles import events
from o2o.profiles.models import EventKind
from o2o.reviews import selectors as review_selectors
from o2o.web.auth import current_member
from o2o.web.shop import availability
from o2o.web.shop.pages import page, text
from o2o.web.shop.state import current_point, current_store

PAGE_SIZE = 20
MAX_ID = 2**63 - 1
TREE_KEY = "o2o.shop.category-tree"
TREE_CACHE_S = 60
HOME_PRODUCTS = 8


def _cards(request: HttpRequest, skus: list[Sku]) -> list[dict]:
    """Each SKU with its price at the current store (one query) and a cheap availability badge."""
    store = current_store(request)
    prices = unit_prices(skus, location_id=store.id if store else None, channel=Channel.H5, at=timezone.now())
    badges = availability.badges([s.pk for s in skus], current_point(request), store)
    return [{"sku": s, "price_fen": prices[s.pk][0], "badge": badges.get(s.pk)} for s in skus]


def _page_of(request: HttpRequest, qs) -> tuple:  # noqa: ANN001
    paginator = Paginator(qs, PAGE_SIZE)
    number = request.GET.get("page", "1")
    return paginator.get_page(number if number.isascii() and number.isdigit() and len(number) < 8 else 1)


def categories() -> list[dict]:
    """The category tree (``catalog.selectors.category_tree``), kept a minute: ~20 ms to build for 900 nodes."""
    tree = cache.get(TREE_KEY)
    if tree is None:
        tree = category_tree()
        cache.set(TREE_KEY, tree, TREE_CACHE_S)
    return tree


def _find(tree: list[dict], category_id: int, trail: list[dict]) -> list[dict] | None:
    for node in tree:
        if node["id"] == category_id:
            return [*trail, node]
        found = _find(node["children"], category_id, [*trail, node])
        if found:
            return found
    return None


@require_GET
def hero(request: HttpRequest) -> dict | None:
    """The home page's hero under test (``O2O["HOME_HERO_EXPERIMENT"]``, a page-element A/B experiment): a signed-in
    member's variant config ({title, text, link}); None (the default hero) for visitors, a variant without a
    title, or when no such experiment is running. Showing it logs the member's exposure (once)."""
    key = settings.O2O.get("HOME_HERO_EXPERIMENT")
    member = current_member(request)
    if not key or member is None:
        return None
    try:
        _exp, _variant, config = expose(key=key, member=member, channel=Channel.H5)
    except ApiError:
        return None
    title = config.get("title")
    if not isinstance(title, str) or not title:
        return None
    link = config.get("link")
    return {"title": title[:60], "text": str(config.get("text", ""))[:200],
            "link": link if isinstance(link, str) and link.startswith("/shop/") else None}


def home(request: HttpRequest) -> HttpResponse:
    skus = list(sku_list(active=True)[:HOME_PRODUCTS])
    return page(request, "web/shop/home.html", {"categories": categories(), "cards": _cards(request, skus),
                                                "hero": hero(request)})


@require_GET
def category(request: HttpRequest, category_id: int) -> HttpResponse:
    trail = _find(categories(), category_id, [])
    if trail is None:
        raise Http404
    page_obj = _page_of(request, sku_list(category_id=category_id, active=True))
    return page(request, "web/shop/list.html", {
        "title": trail[-1]["name"], "trail": trail, "children": trail[-1]["children"], "page_obj": page_obj,
        "cards": _cards(request, list(page_obj.object_list)), "base_url": f"/shop/c/{category_id}?"})


@require_GET
def search(request: HttpRequest) -> HttpResponse:
    q = text(request.GET.get("q"), 100)
    member = current_member(request) if q else None
    if member is not None:
        events.record(member.pk, EventKind.SEARCH, None, Channel.H5)
    page_obj = _page_of(request, sku_list(q=q, active=True)) if q else None
    return page(request, "web/shop/list.html", {
        "title": q, "q": q, "searching": True, "page_obj": page_obj,
        "cards": _cards(request, list(page_obj.object_list)) if page_obj else [],
        "base_url": "/shop/search?" + urlencode({"q": q}) + "&"})


@require_GET
def product(request: HttpRequest, sku_id: int) -> HttpResponse:
    if sku_id > MAX_ID:
        raise Http404
    try:
        sku = sku_get(sku_id=sku_id, active_only=True)
    except ApiError:
        raise Http404 from None
    member = current_member(request)
    if member is not None:
        events.record(member.pk, EventKind.VIEW, sku.pk, Channel.H5)
    store = current_store(request)
    price = sku_price(sku=sku, location_id=store.id if store else None, channel=Channel.H5, at=timezone.now())
    avail = availability.for_product(sku.pk, current_point(request), store)
    # reviews (评价): one aggregate query (count, average of the visible ones) + one list query (the 3 newest)
    reviews = {**review_selectors.summary(sku.pk), "items": review_selectors.newest(sku.pk, limit=3)}
    return page(request, "web/shop/product.html", {"sku": sku, "price": price.resolved, "avail": avail,
                                                   "reviews": reviews})
