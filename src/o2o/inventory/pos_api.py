"""POS sync API (filled in by the POS work)."""

from ninja import Router

router = Router(tags=["pos"])
