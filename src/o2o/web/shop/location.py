"""The customer's point (geolocation, a district, a searched place or typed lat/lng) and their current store.

The place search (``GET /shop/location?q=...``) looks names up in ``districts.search`` (public data, module
cache): htmx asks for the suggestions alone (``_place_results.html``) as the customer types; without
JavaScript the same query renders the whole page with them. Choosing one posts its key (``place``); the
point becomes the place and the page lists the nearest stores with their distances.
"""

from __future__ import annotations

from urllib.parse import urlencode

from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.utils.translation import gettext as _
from django.utils.translation import gettext_noop
from django.views.decorators.http import require_http_methods, require_POST

from o2o.common.errors import ApiError
from o2o.inventory.selectors import to_gcj02
from o2o.stores.selectors import location_get
from o2o.web.shop import districts
from o2o.web.shop.basket import get_cart
from o2o.web.shop.districts import BY_CODE
from o2o.web.shop.forms import LocationForm, PlaceSearchForm
from o2o.web.shop.pages import hours_today, page, safe_next, text
from o2o.web.shop.state import Point, current_point, current_store, nearby_stores, set_point, set_store


def _search(request: HttpRequest) -> tuple[PlaceSearchForm, list[districts.Place] | None, int]:
    """The place search of this request: (its form, the matches or None before a search, the status)."""
    if "q" not in request.GET or not districts.places():
        return PlaceSearchForm(), None, 200
    form = PlaceSearchForm({"q": text(request.GET.get("q"), 200)})
    if not form.is_valid():
        return form, None, 400
    found = districts.search(form.cleaned_data["q"])
    if not found:
        form.add_error("q", _("没有找到“%(q)s”，换个关键词试试（小区、商圈、道路或商场），或者选择所在的区。")
                       % {"q": form.cleaned_data["q"]})
        return form, [], 200
    return form, found, 200


def _render(request: HttpRequest, form: LocationForm, *, status: int = 200, error: str = "",
            search: tuple[PlaceSearchForm, list[districts.Place] | None, int] | None = None) -> HttpResponse:
    search_form, results, _status = search or (PlaceSearchForm(), None, 200)
    point = current_point(request)
    store = current_store(request)
    stores = []
    for loc, dist in nearby_stores(point.latlng, limit=8):
        hours, is_open = hours_today(loc)
        stores.append({"id": loc.pk, "name": loc.name, "address": loc.address, "distance_m": dist,
                       "hours": hours, "open": is_open, "current": store is not None and store.id == loc.pk})
    return page(request, "web/shop/location.html", {
        "form": form, "stores": stores, "point": point, "error": error, "next": safe_next(request, ""),
        "places_on": bool(districts.places()), "search_form": search_form, "results": results}, status=status)


@require_http_methods(["GET", "POST"])
def location(request: HttpRequest) -> HttpResponse:
    if request.method == "GET":
        search = _search(request)
        if request.htmx and "q" in request.GET:  # type: ignore[attr-defined]
            search_form, results, status = search
            return render(request, "web/shop/_place_results.html", {
                "search_form": search_form, "results": results, "next": safe_next(request, "")}, status=status)
        return _render(request, LocationForm(), status=search[2], search=search)
    form = LocationForm(request.POST)
    if not form.is_valid():
        return _render(request, form, status=400)
    data = form.cleaned_data
    if data.get("place") is not None:
        found: districts.Place = data["place"]
        point = Point(found.lat, found.lng, found.name, "place")
    elif data.get("lat") is not None:
        coord = data.get("coord") or "gcj02"
        try:
            p = to_gcj02(data["lat"], data["lng"], coord)
        except ApiError:
            form.add_error("lat", _("这个位置不在中国境内。"))
            return _render(request, form, status=400)
        # Kept as the Chinese msgid in the session; shown translated (state.current_point).
        label = gettext_noop("我的位置") if coord == "wgs84" else gettext_noop("指定坐标")
        point = Point(p.lat, p.lng, label, "gps" if coord == "wgs84" else "manual")
    else:
        d = BY_CODE[data["district"]]
        point = Point(d.lat, d.lng, d.name, "district")
    set_point(request, point)
    _sync_cart(request)
    nxt = safe_next(request, "")
    return redirect("/shop/location?" + urlencode({"next": nxt}) if nxt else "/shop/location")


@require_POST
def choose_store(request: HttpRequest) -> HttpResponse:
    raw = request.POST.get("location_id", "")
    try:
        loc = location_get(location_id=int(raw), public=True) if raw.isascii() and raw.isdigit() and len(raw) < 19 else None
    except ApiError:
        loc = None
    if loc is None:
        return _render(request, LocationForm(), status=400, error=_("请选择列表中的一家门店。"))
    set_store(request, loc)
    _sync_cart(request)
    return redirect(safe_next(request, "/shop/"))


def _sync_cart(request: HttpRequest) -> None:
    """The cart's prices follow the current store (``carts.cart_set_location`` via ``get_cart``)."""
    if hasattr(request, "_shop_cart"):
        del request._shop_cart  # type: ignore[attr-defined]
    get_cart(request)
