"""Payments (being written)."""

from __future__ import annotations


def install() -> None:
    """Wire the refund hook into ``lifecycle`` (called by ``OrdersConfig.ready``)."""
