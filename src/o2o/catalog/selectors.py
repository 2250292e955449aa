"""Catalog reads: SKU search, the category tree and resolved prices."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Any

from django.db.models import Q, QuerySet

from o2o.catalog.models import Category, PriceOverride, Sku
from o2o.common.errors import NotFound
from o2o.core.pricing import PriceOverride as CoreOverride
from o2o.core.pricing import ResolvedPrice, resolve_price


def category_descendant_ids(*, category_id: int) -> list[int]:
    """``category_id`` and every category below it (404 if it does not exist)."""
    pairs = list(Category.objects.values_list("pk", "parent_id"))
    if not any(pk == category_id for pk, _ in pairs):
        raise NotFound("品类不存在 Unknown category", code="unknown_category", details={"category_id": category_id})
    children: dict[int | None, list[int]] = {}
    for pk, parent_id in pairs:
        children.setdefault(parent_id, []).append(pk)
    found, todo = [], [category_id]
    while todo:
        current = todo.pop()
        found.append(current)
        todo.extend(children.get(current, []))
    return found


def sku_list(*, q: str | None = None, category_id: int | None = None, active: bool | None = None) -> QuerySet[Sku]:
    """SKUs matching a search text (name, code or barcode), under a category, by id."""
    qs = Sku.objects.select_related("product__category", "product__brand").order_by("pk")
    if active is not None:
        qs = qs.filter(active=active, product__active=active) if active else qs.filter(
            Q(active=False) | Q(product__active=False))
    if category_id is not None:
        qs = qs.filter(product__category_id__in=category_descendant_ids(category_id=category_id))
    text = (q or "").strip()
    if text:
        qs = qs.filter(Q(name__icontains=text) | Q(code__iexact=text) | Q(code__istartswith=text)
                       | Q(barcode__startswith=text) | Q(product__code__iexact=text))
    return qs


def sku_get(*, sku_id: int, active_only: bool = False) -> Sku:
    qs = Sku.objects.select_related("product__category", "product__brand")
    if active_only:
        qs = qs.filter(active=True, product__active=True)
    sku = qs.filter(pk=sku_id).first()
    if sku is None:
        raise NotFound("商品不存在 Unknown SKU", code="unknown_sku", details={"sku_id": sku_id})
    return sku


def category_tree() -> list[dict[str, Any]]:
    """Every category as nested ``{id, code, name, children}`` nodes, roots first, by code."""
    nodes: dict[int, dict[str, Any]] = {}
    parents: dict[int, int | None] = {}
    for pk, code, name, parent_id in Category.objects.order_by("code").values_list("pk", "code", "name", "parent_id"):
        nodes[pk] = {"id": pk, "code": code, "name": name, "children": []}
        parents[pk] = parent_id
    roots = []
    for pk, node in nodes.items():
        parent_id = parents[pk]
        if parent_id is not None and parent_id in nodes:
            nodes[parent_id]["children"].append(node)
        else:
            roots.append(node)
    return roots


@dataclass(frozen=True, slots=True)
class SkuPrice:
    resolved: ResolvedPrice
    override_id: int | None


def sku_price(*, sku: Sku, location_id: int | None, channel: str | None, at: datetime) -> SkuPrice:
    """The price of ``sku`` at a location and channel at ``at`` (see ``o2o.core.pricing``)."""
    rows = PriceOverride.objects.filter(sku=sku)
    rows = rows.filter(Q(location__isnull=True) | Q(location_id=location_id)) if location_id else rows.filter(
        location__isnull=True)
    ids: list[int] = []
    overrides: list[CoreOverride] = []
    for row in rows:
        ids.append(row.pk)
        overrides.append(CoreOverride(location_id=row.location_id, channel=row.channel, price_fen=row.price_fen,
                                      starts_at=row.starts_at, ends_at=row.ends_at))
    resolved = resolve_price(sku.list_price_fen, overrides, location_id=location_id, channel=channel, at=at)
    override_id = next((ids[i] for i, o in enumerate(overrides) if o is resolved.override), None)
    return SkuPrice(resolved=resolved, override_id=override_id)
