"""Catalog writes. Keyword-only, typed functions named ``<noun>_<verb>``.

Price overrides are edited in the Django admin for now; the API only reads the catalog.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

from django.db import transaction

from o2o.catalog.models import Brand, Category, Product, Sku


@dataclass(frozen=True, slots=True)
class CategoryNode:
    code: str
    name: str


@dataclass(frozen=True, slots=True)
class CatalogRow:
    """One SPU with its one SKU, as an importer delivers it.

    ``category_path`` runs from the root down to the product's own (leaf) category.
    """

    product_code: str
    sku_code: str
    name: str
    category_path: tuple[CategoryNode, ...]
    brand_name: str | None
    spec: str
    weight_g: int
    list_price_fen: int
    barcode: str | None
    unit: str = "件"


@dataclass(frozen=True, slots=True)
class UpsertStats:
    categories_created: int
    brands_created: int
    products_created: int
    products_updated: int
    skus_created: int
    skus_updated: int

    @property
    def changed(self) -> bool:
        return any((self.categories_created, self.brands_created, self.products_created, self.products_updated,
                    self.skus_created, self.skus_updated))


def _categories_ensure(rows: Sequence[CatalogRow]) -> tuple[dict[str, Category], int]:
    """Create or fix every category on the rows' paths; returns them by code."""
    wanted: dict[str, tuple[str, str | None, int]] = {}  # code -> (name, parent code, depth)
    for row in rows:
        parent: str | None = None
        for depth, node in enumerate(row.category_path):
            wanted.setdefault(node.code, (node.name, parent, depth))
            parent = node.code
    by_code = {c.code: c for c in Category.objects.filter(code__in=list(wanted))}
    created = 0
    for depth in sorted({d for _, _, d in wanted.values()}):
        level = [code for code, (_, _, d) in wanted.items() if d == depth]
        new = [Category(code=code, name=wanted[code][0],
                        parent=by_code[wanted[code][1]] if wanted[code][1] else None)
               for code in level if code not in by_code]
        Category.objects.bulk_create(new, batch_size=1000)
        created += len(new)
        by_code.update({c.code: c for c in Category.objects.filter(code__in=level)})
        stale = []
        for code in level:
            cat, (name, parent_code, _) = by_code[code], wanted[code]
            parent_id = by_code[parent_code].pk if parent_code else None
            if cat.name != name or cat.parent_id != parent_id:
                cat.name, cat.parent_id = name, parent_id
                stale.append(cat)
        Category.objects.bulk_update(stale, ["name", "parent"], batch_size=1000)
    return by_code, created


def _brands_ensure(rows: Sequence[CatalogRow]) -> tuple[dict[str, Brand], int]:
    names = sorted({r.brand_name for r in rows if r.brand_name})
    existing = {b.name: b for b in Brand.objects.filter(name__in=names)}
    new = [Brand(name=n) for n in names if n not in existing]
    Brand.objects.bulk_create(new, batch_size=1000)
    return {b.name: b for b in Brand.objects.filter(name__in=names)}, len(new)


@transaction.atomic
def catalog_upsert_rows(*, rows: Sequence[CatalogRow]) -> UpsertStats:
    """Create or update categories, brands, products and SKUs; idempotent by code.

    A second run with the same rows writes nothing.
    """
    categories, cats_created = _categories_ensure(rows)
    brands, brands_created = _brands_ensure(rows)

    products = {p.code: p for p in Product.objects.filter(code__in=[r.product_code for r in rows])}
    new_products: list[Product] = []
    stale_products: list[Product] = []
    for r in rows:
        fields = {"name": r.name, "category_id": categories[r.category_path[-1].code].pk,
                  "brand_id": brands[r.brand_name].pk if r.brand_name else None, "unit": r.unit}
        p = products.get(r.product_code)
        if p is None:
            new_products.append(Product(code=r.product_code, **fields))
        elif any(getattr(p, k) != v for k, v in fields.items()):
            for k, v in fields.items():
                setattr(p, k, v)
            stale_products.append(p)
    Product.objects.bulk_create(new_products, batch_size=1000)
    Product.objects.bulk_update(stale_products, ["name", "category", "brand", "unit"], batch_size=1000)
    product_ids = dict(Product.objects.filter(code__in=[r.product_code for r in rows]).values_list("code", "pk"))

    skus = {s.code: s for s in Sku.objects.filter(code__in=[r.sku_code for r in rows])}
    new_skus: list[Sku] = []
    stale_skus: list[Sku] = []
    sku_fields = ["product", "barcode", "name", "spec", "weight_g", "list_price_fen"]
    for r in rows:
        fields = {"product_id": product_ids[r.product_code], "barcode": r.barcode, "name": r.name, "spec": r.spec,
                  "weight_g": r.weight_g, "list_price_fen": r.list_price_fen}
        s = skus.get(r.sku_code)
        if s is None:
            new_skus.append(Sku(code=r.sku_code, **fields))
        elif any(getattr(s, k) != v for k, v in fields.items()):
            for k, v in fields.items():
                setattr(s, k, v)
            stale_skus.append(s)
    Sku.objects.bulk_create(new_skus, batch_size=1000)
    Sku.objects.bulk_update(stale_skus, sku_fields, batch_size=1000)

    return UpsertStats(categories_created=cats_created, brands_created=brands_created,
                       products_created=len(new_products), products_updated=len(stale_products),
                       skus_created=len(new_skus), skus_updated=len(stale_skus))
