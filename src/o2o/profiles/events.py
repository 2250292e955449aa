"""Recording behaviour events (浏览 / 加购 / 搜索) for the clickstream tags, cheaply.

:func:`record` is one ``INSERT ... ON CONFLICT DO NOTHING`` (SQLite: ``INSERT OR IGNORE``): the first event of
a (member, kind, SKU, China day) makes the row, the rest of the day's are the same row and cost one statement
that writes nothing. No read first, no lock, no transaction of its own. It catches nothing: the only conflict
it ignores is the duplicate of the day, and it checks the kind and the SKU itself first (SQLite's OR IGNORE
would skip a CHECK failure silently too). Callers: the storefront's product and search pages
(``web.shop.catalog``) and the cart's ``orders.signals.cart_line_added`` (:func:`on_cart_line_added`,
connected in ``ProfilesConfig.ready``). Sign-ins are not recorded here (their points lots are the record).
"""

from __future__ import annotations

from datetime import datetime, timedelta
from typing import Any

from django.dispatch import receiver
from django.utils import timezone

from o2o.core.loyalty import CHINA_TZ
from o2o.orders.signals import cart_line_added
from o2o.profiles.models_events import BehaviourEvent, EventKind

__all__ = ["KEEP_DAYS", "MIN_KEEP_DAYS", "on_cart_line_added", "purge", "record"]

KEEP_DAYS = 90  # the retention of ``o2o purge-behaviour-events`` by default
MIN_KEEP_DAYS = 31  # the tags read the last 30 days (and the day as_of falls in)
_WITH_SKU = frozenset({EventKind.VIEW, EventKind.CART_ADD})


def record(member_id: int, kind: str, sku_id: int | None, channel: str, now: datetime | None = None) -> None:
    """Record that ``member_id`` did ``kind`` (on ``sku_id``; None for a search) on ``channel`` at ``now``.

    ValueError for an unknown kind, a view / cart add without a SKU or a search with one (a bug of the caller,
    not bad input from a customer)."""
    if kind not in EventKind.values:
        raise ValueError(f"未知的行为类型 Unknown behaviour event kind {kind!r}")
    if (kind in _WITH_SKU) != (sku_id is not None):
        raise ValueError(f"{kind} 事件{'需要' if kind in _WITH_SKU else '不能有'} SKU: a {kind} event "
                         f"{'needs' if kind in _WITH_SKU else 'has no'} sku_id")
    now = now or timezone.now()
    if timezone.is_naive(now):
        raise ValueError("时间必须带时区 now must be aware")
    BehaviourEvent.objects.bulk_create(
        [BehaviourEvent(member_id=member_id, kind=kind, sku_id=sku_id, channel=channel[:20],
                        day=now.astimezone(CHINA_TZ).date(), at=now)],
        ignore_conflicts=True)


@receiver(cart_line_added, dispatch_uid="profiles.events.cart_add")
def on_cart_line_added(sender: type, member_id: int, sku_id: int, channel: str, at: datetime, **_: Any) -> None:
    """A member's cart gained a SKU (or units of it): one ``cart_add`` event of the day."""
    record(member_id, EventKind.CART_ADD, sku_id, channel, at)


def purge(*, days: int = KEEP_DAYS, now: datetime | None = None) -> int:
    """Delete the events of China days more than ``days`` days before today; how many rows went."""
    if days < MIN_KEEP_DAYS:
        raise ValueError(f"至少保留 {MIN_KEEP_DAYS} 天 Keep at least {MIN_KEEP_DAYS} days: the tags read the last 30")
    today = (now or timezone.now()).astimezone(CHINA_TZ).date()
    return BehaviourEvent.objects.filter(day__lt=today - timedelta(days=days)).delete()[0]
