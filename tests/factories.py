"""Small builders for integration and e2e tests (plain functions, no factory library)."""

from __future__ import annotations

import itertools

from o2o.accounts.models import ApiToken, Member, User
from o2o.catalog.models import Category, Product, Sku
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
