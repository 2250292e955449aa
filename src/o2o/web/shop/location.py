"""The customer's point (geolocation, a district, or typed lat/lng) and their current store."""

from __future__ import annotations

from urllib.parse import urlencode

from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect
from django.utils.translation import gettext as _
from django.utils.translation import gettext_noop
from django.views.decorators.http import require_http_methods, require_POST

from o2o.common.errors import ApiError
from o2o.inventory.selectors import to_gcj02
from o2o.stores.selectors import location_get
from o2o.web.shop.basket import get_cart
from o2o.web.shop.districts import BY_CODE
from o2o.web.shop.forms import LocationForm
from o2o.web.shop.pages import hours_today, page, safe_next
from o2o.web.shop.state import Point, current_point, current_store, nearby_stores, set_point, set_store


def _render(request: HttpRequest, form: LocationForm, *, status: int = 200, error: str = "") -> HttpResponse:
    point = current_point(request)
    store = current_store(request)
    stores = []
    for loc, dist in nearby_stores(point.latlng, limit=8):
        hours, is_open = hours_today(loc)
        stores.append({"id": loc.pk, "name": loc.name, "address": loc.address, "distance_m": dist,
                       "hours": hours, "open": is_open, "current": store is not None and store.id == loc.pk})
    return page(request, "web/shop/location.html", {"form": form, "stores": stores, "point": point,
                                                    "error": error, "next": safe_next(request, "")}, status=status)


@require_http_methods(["GET", "POST"])
def location(request: HttpRequest) -> HttpResponse:
    if request.method == "GET":
        return _render(request, LocationForm())
    form = LocationForm(request.POST)
    if not form.is_valid():
        return _render(request, form, status=400)
    data = form.cleaned_data
    if data.get("lat") is not None:
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
