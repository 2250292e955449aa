"""Small builders for integration and e2e tests (plain functions, no factory library)."""

from __future__ import annotations

import itertools

from o2o.accounts.models import ApiToken, Member, User
from o2o.catalog.models import Category, PriceOverride, Product, Sku
from o2o.stores.models import Location, LocationKind, Region

_seq = itertools.count(1)


def region(name: str = "华东", parent: Region | None = None) -> Region:
    if parent is None:
        parent = Region.objects.filter(parent=None).first() or Region.objects.create(code="HQ", name="总部")
    n = next(_seq)
    return Region.objects.create(code=f"R{n}", name=f"{name}{n}", parent=parent)


def location(reg: Region | None = None, *, kind: str = LocationKind.STORE, lat: float = 31.2304,
             lng: float = 121.4737, **kw) -> Location:
    n = next(_seq)
    return Location.objects.create(code=kw.pop("code", f"L{n}"), name=kw.pop("name", f"门店{n}"), kind=kind,
                                   region=reg or region(), lat=lat, lng=lng, **kw)


def sku(*, price_fen: int = 1000, weight_g: int = 500, **kw) -> Sku:
    n = next(_seq)
    cat, _ = Category.objects.get_or_create(code="TEST", defaults={"name": "测试"})
    product = Product.objects.create(code=f"P{n}", name=kw.pop("name", f"商品{n}"), category=cat)
    return Sku.objects.create(product=product, code=f"S{n}", barcode=f"69{n:011d}", name=product.name,
                              list_price_fen=price_fen, weight_g=weight_g, **kw)


def staff(role: str = "clerk", *, loc: Location | None = None, reg: Region | None = None) -> tuple[User, str]:
    """A staff user and a bearer token for it. Scope follows from what is given."""
    n = next(_seq)
    if loc is not None:
        user = User.objects.create_user(f"staff{n}", password="x-secret-9", role=role, scope="store", location=loc)
    elif reg is not None:
        user = User.objects.create_user(f"staff{n}", password="x-secret-9", role=role, scope="region", region=reg)
    else:
        user = User.objects.create_user(f"staff{n}", password="x-secret-9", role=role, scope="hq")
    _, raw = ApiToken.issue(user=user)
    return user, raw


def member(name: str = "会员") -> tuple[Member, str]:
    m = Member.objects.create(display_name=name)
    _, raw = ApiToken.issue(member=m)
    return m, raw


def auth(token: str) -> dict[str, str]:
    return {"HTTP_AUTHORIZATION": f"Bearer {token}"}


def category(code: str, name: str | None = None, parent: Category | None = None) -> Category:
    cat, _ = Category.objects.get_or_create(code=code, defaults={"name": name or code, "parent": parent})
    return cat


def sku_in(cat: Category, *, price_fen: int = 1000, **kw) -> Sku:
    """A SKU (with its product) in a given category."""
    n = next(_seq)
    product = Product.objects.create(code=f"P{n}", name=kw.pop("name", f"商品{n}"), category=cat)
    return Sku.objects.create(product=product, code=kw.pop("code", f"S{n}"), barcode=kw.pop("barcode", f"69{n:011d}"),
                              name=product.name, list_price_fen=price_fen, **kw)


def price_override(s: Sku, *, price_fen: int, location: Location | None = None, channel: str = "",
                   starts_at=None, ends_at=None) -> PriceOverride:
    return PriceOverride.objects.create(sku=s, location=location, channel=channel, price_fen=price_fen,
                                        starts_at=starts_at, ends_at=ends_at)


# --- inventory helpers (added by the inventory work) ---------------------------------------

def stock_in(loc: Location, sku_obj: Sku, qty: int, *, at=None) -> None:  # noqa: ANN001 - at: datetime
    """Receive ``qty`` of ``sku_obj`` at ``loc`` through the inventory service (ledger included)."""
    from django.db import transaction

    from o2o.inventory.ledger import Who
    from o2o.inventory.stock import stock_receive
    from o2o.inventory.validation import Line

    with transaction.atomic():
        stock_receive(location_id=loc.pk, lines=[Line(sku_obj.pk, qty)], who=Who(label="test"), now=at)


def reserve(loc: Location, lines: dict[Sku, int], *, ttl_s: int = 900, at=None):  # noqa: ANN001, ANN201
    """Reserve ``{sku: qty}`` at ``loc``; returns the reservation view."""
    from django.db import transaction

    from o2o.inventory.ledger import Who
    from o2o.inventory.reservations import reservation_create
    from o2o.inventory.validation import Line

    with transaction.atomic():
        return reservation_create(location_id=loc.pk, lines=[Line(s.pk, q) for s, q in lines.items()],
                                  who=Who(label="test"), ttl_s=ttl_s, now=at)


def figures(loc: Location, sku_obj: Sku) -> tuple[int, int]:
    """(on_hand, reserved) of an item, summed over its buckets."""
    from o2o.inventory.buckets import totals

    t = totals(loc.pk, sku_obj.pk)
    return t.on_hand, t.reserved


def assert_error(r, status: int, code: str | None = None) -> dict:
    """The API's one error shape, with the expected status (and code, when given)."""
    assert r.status_code == status, r.content
    body = r.json()
    assert set(body) == {"code", "message", "details"}, body
    if code is not None:
        assert body["code"] == code, body
    return body
