"""Checks on what a client sends, before anything is written."""

from __future__ import annotations

from dataclasses import dataclass

from django.conf import settings

from o2o.catalog.models import Sku
from o2o.common.errors import InvalidInput, NotFound
from o2o.stores.models import Location


@dataclass(frozen=True)
class Line:
    sku_id: int
    qty: int


MAX_QTY = 1_000_000


def check_location(location_id: int) -> None:
    if not Location.objects.filter(pk=location_id, active=True).exists():
        raise NotFound("网点不存在 Unknown location", code="unknown_location", details={"location_id": location_id})


def check_lines(lines: list[Line]) -> list[Line]:
    """Positive quantities, known active SKUs, no SKU twice, not too many; sorted by SKU."""
    if not lines:
        raise InvalidInput("至少需要一行 At least one line is needed", details={"lines": []})
    if len(lines) > settings.O2O["MAX_BASKET_LINES"]:
        raise InvalidInput("行数过多 Too many lines", code="too_many_lines",
                           details={"max": settings.O2O["MAX_BASKET_LINES"], "got": len(lines)})
    bad = [{"sku_id": ln.sku_id, "qty": ln.qty} for ln in lines if not 0 < ln.qty <= MAX_QTY]
    if bad:
        raise InvalidInput("数量必须为正整数 Quantities must be positive", code="invalid_quantity", details={"lines": bad})
    ids = [ln.sku_id for ln in lines]
    if len(set(ids)) != len(ids):
        raise InvalidInput("同一 SKU 出现多次 A SKU appears twice", code="duplicate_sku",
                           details={"sku_ids": sorted({i for i in ids if ids.count(i) > 1})})
    known = set(Sku.objects.filter(pk__in=ids, active=True).values_list("pk", flat=True))
    unknown = [i for i in ids if i not in known]
    if unknown:
        raise NotFound("SKU 不存在 Unknown SKU", code="unknown_sku", details={"sku_ids": unknown})
    return sorted(lines, key=lambda ln: ln.sku_id)
