"""Template helpers shared by every page: money in fen, local times, status labels."""

from __future__ import annotations

from datetime import datetime

from django import template
from django.utils import timezone

from o2o.core.orders.checkout import format_fen

register = template.Library()


@register.filter
def yuan(fen: int | None) -> str:
    """12345 -> "¥123.45" (money is integer fen everywhere; this is the one place it becomes yuan)."""
    if fen is None or fen == "":
        return ""
    return format_fen(int(fen))


@register.filter
def local(value: datetime | None, fmt: str = "%m-%d %H:%M") -> str:
    """An aware datetime shown in Asia/Shanghai (the display zone)."""
    if not value:
        return ""
    return timezone.localtime(value).strftime(fmt)


@register.filter
def km(metres: float | int | None) -> str:
    if metres is None:
        return ""
    return f"{metres / 1000:.1f} km" if metres >= 1000 else f"{int(metres)} m"
