"""Inventory errors a client can cause."""

from __future__ import annotations

from typing import Any

from o2o.common.errors import ApiError


class InsufficientStock(ApiError):
    status = 409
    code = "insufficient_stock"

    def __init__(self, shortages: list[dict[str, Any]]) -> None:
        super().__init__("库存不足 Not enough stock", details={"lines": shortages})
        self.shortages = shortages


def shortage(location_id: int, sku_id: int, requested: int, available: int, why: str = "insufficient") -> dict:
    return {"location_id": location_id, "sku_id": sku_id, "requested": requested, "available": available,
            "reason": why}
