"""Inventory API (filled in by the inventory work)."""

from ninja import Router

router = Router(tags=["inventory"])
