"""Catalog API: SKU search, one SKU, the category tree and a SKU's price at a store and channel.

Reading the catalog is open to every signed-in staff user and member (``catalog.view``);
a price at a given store is checked against that store (a clerk sees their own store's
prices only). Price overrides are edited in the Django admin for now.
"""

from datetime import datetime

from django.http import HttpRequest
from django.utils import timezone
from ninja import Field, Query, Router, Schema
from ninja.pagination import PageNumberPagination, paginate

from o2o.accounts.permissions import require
from o2o.catalog import selectors
from o2o.catalog.models import Channel, Sku
from o2o.common.errors import NotFound
from o2o.core.access import ActorKind, Perm
from o2o.stores.models import Location

router = Router(tags=["catalog"])


class SkuOut(Schema):
    id: int
    code: str
    barcode: str | None
    name: str
    spec: str
    weight_g: int
    list_price_fen: int = Field(description="标价 list price, fen")
    active: bool
    product_id: int
    product_code: str
    unit: str
    category_id: int
    category_name: str
    brand: str | None

    @staticmethod
    def resolve_active(sku: Sku) -> bool:
        return sku.active and sku.product.active

    @staticmethod
    def resolve_product_code(sku: Sku) -> str:
        return sku.product.code

    @staticmethod
    def resolve_unit(sku: Sku) -> str:
        return sku.product.unit

    @staticmethod
    def resolve_category_id(sku: Sku) -> int:
        return sku.product.category_id

    @staticmethod
    def resolve_category_name(sku: Sku) -> str:
        return sku.product.category.name

    @staticmethod
    def resolve_brand(sku: Sku) -> str | None:
        return sku.product.brand.name if sku.product.brand_id else None


class SkuFilters(Schema):
    q: str | None = Field(None, max_length=100, description="名称、编码或条码 name, code or barcode")
    category_id: int | None = Field(None, description="品类及其下级 this category and below")
    active: bool | None = Field(None, description="staff only; members always see active SKUs")


class CategoryNodeOut(Schema):
    id: int
    code: str
    name: str
    children: list["CategoryNodeOut"]


CategoryNodeOut.model_rebuild()


class PriceQuery(Schema):
    location_id: int | None = Field(None, description="门店 store; empty: no store price applies")
    channel: Channel | None = Field(None, description="渠道 channel; empty: no channel price applies")
    at: datetime | None = Field(None, description="time to price at (default now)")


class PriceOut(Schema):
    sku_id: int
    location_id: int | None
    channel: str | None
    at: datetime
    price_fen: int = Field(description="应付价 resolved price, fen")
    list_price_fen: int
    source: str = Field(description="store_channel | store | channel | list")
    override_id: int | None
    starts_at: datetime | None
    ends_at: datetime | None


def _is_member(request: HttpRequest) -> bool:
    return require(request, Perm.CATALOG_VIEW).kind is ActorKind.MEMBER


@router.get("/skus", response=list[SkuOut], summary="商品列表 List and search SKUs")
@paginate(PageNumberPagination, page_size=20, max_page_size=100)
def list_skus(request: HttpRequest, filters: Query[SkuFilters]):
    active = True if _is_member(request) else filters.active
    return selectors.sku_list(q=filters.q, category_id=filters.category_id, active=active)


@router.get("/skus/{sku_id}", response=SkuOut, summary="商品详情 One SKU")
def get_sku(request: HttpRequest, sku_id: int):
    return selectors.sku_get(sku_id=sku_id, active_only=_is_member(request))


@router.get("/categories", response=list[CategoryNodeOut], summary="品类树 Category tree")
def categories(request: HttpRequest):
    require(request, Perm.CATALOG_VIEW)
    return selectors.category_tree()


@router.get("/skus/{sku_id}/price", response=PriceOut, summary="价格 Resolved price at a store and channel")
def sku_price(request: HttpRequest, sku_id: int, query: Query[PriceQuery]) -> PriceOut:
    if query.location_id is not None:
        actor = require(request, Perm.CATALOG_VIEW, location=query.location_id)
        if actor.kind is ActorKind.MEMBER and not Location.objects.filter(pk=query.location_id, active=True).exists():
            raise NotFound("网点不存在 Unknown location", code="unknown_location",
                           details={"location_id": query.location_id})
    else:
        actor = require(request, Perm.CATALOG_VIEW)
    sku = selectors.sku_get(sku_id=sku_id, active_only=actor.kind is ActorKind.MEMBER)
    at = query.at or timezone.now()
    if timezone.is_naive(at):
        at = timezone.make_aware(at)
    channel = query.channel.value if query.channel else None
    got = selectors.sku_price(sku=sku, location_id=query.location_id, channel=channel, at=at)
    o = got.resolved.override
    return PriceOut(sku_id=sku.pk, location_id=query.location_id, channel=channel, at=at,
                    price_fen=got.resolved.price_fen, list_price_fen=sku.list_price_fen,
                    source=got.resolved.source.value, override_id=got.override_id,
                    starts_at=o.starts_at if o else None, ends_at=o.ends_at if o else None)
