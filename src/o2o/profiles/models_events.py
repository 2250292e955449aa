"""Behaviour events (浏览 / 加购 / 搜索) for the clickstream tags: a bounded, deduplicated table.

One row per (member, kind, SKU, China day): a member viewing the same product twenty times a day is one row
(the first view's time is ``at``), so the table grows with members x products looked at per day, not with
page loads, and a write is one ``INSERT ... ON CONFLICT DO NOTHING`` (``profiles.events.record``). A
search has no SKU: one row per member and day (a second partial UNIQUE; NULLs are distinct in the first).
Sign-ins are not stored here: the points lots of ``members.actions`` already hold them (one per China day),
and ``profiles.history.member_events`` reads them from there.

Decisions:

* ``member``: CASCADE. Events are profiling, not bookkeeping: erasure deletes them explicitly
  (``profiles.privacy``), and if a member row were ever deleted its events should go too.
* ``sku``: a foreign key without a database constraint (``db_constraint=False``, DO_NOTHING). The ORM can
  join the SKU (category of what was viewed) but recording never checks or locks the SKU row, and a SKU
  deleted from the catalogue neither fails on old events nor takes them with it (its events read as an
  unknown SKU until the retention purge, ``o2o purge-behaviour-events``, drops them).
* ``day`` (China date of ``at``) is stored, not computed, so the UNIQUE can use it on both databases.
"""

from __future__ import annotations

from django.db import models
from django.db.models import Q


class EventKind(models.TextChoices):
    VIEW = "view", "浏览商品 product view"
    CART_ADD = "cart_add", "加入购物车 cart add"
    SEARCH = "search", "搜索 search"


class BehaviourEvent(models.Model):
    member = models.ForeignKey("accounts.Member", on_delete=models.CASCADE, related_name="+", db_index=False)
    kind = models.CharField(max_length=16, choices=EventKind.choices)
    sku = models.ForeignKey("catalog.Sku", on_delete=models.DO_NOTHING, db_constraint=False, null=True, blank=True,
                            related_name="+", db_index=False, help_text="the product viewed or added; none for a search")
    channel = models.CharField(max_length=20, help_text="catalog.Channel: h5, mini_program, app...")
    day = models.DateField(help_text="China calendar day of at (one row per member, kind, SKU and day)")
    at = models.DateTimeField(help_text="the first such event of the day")

    class Meta:
        verbose_name = "行为事件 behaviour event"
        verbose_name_plural = "行为事件 behaviour events"
        constraints = [
            models.CheckConstraint(condition=Q(kind__in=[k.value for k in EventKind]), name="behaviour_event_kind"),
            models.CheckConstraint(
                condition=(Q(kind=EventKind.SEARCH, sku__isnull=True)
                           | (Q(kind__in=[EventKind.VIEW, EventKind.CART_ADD]) & Q(sku__isnull=False))),
                name="behaviour_event_sku_by_kind"),
            models.UniqueConstraint(fields=["member", "kind", "sku", "day"], condition=Q(sku__isnull=False),
                                    name="behaviour_event_one_per_sku_day"),
            models.UniqueConstraint(fields=["member", "kind", "day"], condition=Q(sku__isnull=True),
                                    name="behaviour_event_one_per_day"),
        ]
        indexes = [
            models.Index(fields=["member", "at"], name="behaviour_event_member_at"),
            models.Index(fields=["day"], name="behaviour_event_day"),
        ]

    def __str__(self) -> str:
        return f"member#{self.member_id} {self.kind} sku#{self.sku_id} {self.day}"
