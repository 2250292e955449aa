"""Store network API (filled in by the store network work)."""

from ninja import Router

router = Router(tags=["locations"])
