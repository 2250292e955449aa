"""Inventory: how much of each SKU is where, and every change that made it so.

``Stock`` holds on-hand and reserved per (location, SKU) and bucket. Most items have one
bucket; a hot item may be split into several bucket rows so that concurrent reservations
lock different rows (see ``o2o.inventory.buckets``). The item's figures are the sums over
its buckets, and the CHECK constraints hold on every bucket, so they hold for the sum.

``Movement`` is the append-only ledger: every change of on-hand or reserved is one row,
and for every (location, SKU) the stock equals the sum of its movements
(``o2o check-inventory`` verifies it). Database triggers refuse UPDATE and DELETE on it.
"""

from __future__ import annotations

from django.conf import settings
from django.db import models
from django.db.models import F, Q


class Stock(models.Model):
    location = models.ForeignKey("stores.Location", on_delete=models.PROTECT, related_name="stock")
    sku = models.ForeignKey("catalog.Sku", on_delete=models.PROTECT, related_name="stock")
    bucket = models.PositiveSmallIntegerField(default=0)
    on_hand = models.IntegerField(default=0)
    reserved = models.IntegerField(default=0)

    class Meta:
        verbose_name = "库存 stock"
        verbose_name_plural = "库存 stock"
        constraints = [
            models.UniqueConstraint(fields=["location", "sku", "bucket"], name="stock_one_row_per_bucket"),
            models.CheckConstraint(condition=Q(on_hand__gte=0), name="stock_on_hand_not_negative"),
            models.CheckConstraint(condition=Q(reserved__gte=0), name="stock_reserved_not_negative"),
            models.CheckConstraint(condition=Q(reserved__lte=F("on_hand")), name="stock_reserved_within_on_hand"),
        ]
        indexes = [models.Index(fields=["sku", "location"], name="stock_sku_location")]

    @property
    def available(self) -> int:
        return self.on_hand - self.reserved


class MovementKind(models.TextChoices):
    RECEIVE = "receive", "入库 receive"
    SALE = "sale", "销售 sale"
    ADJUST = "adjust", "调整 adjust"
    COUNT = "count", "盘点 count"
    TRANSFER_OUT = "transfer_out", "调出 transfer out"
    TRANSFER_IN = "transfer_in", "调入 transfer in"
    RESERVE = "reserve", "预占 reserve"
    RELEASE = "release", "释放 release"
    FULFIL = "fulfil", "出库 fulfil reservation"
    RETURN = "return", "退货 return"


class Movement(models.Model):
    """One change of stock; never updated or deleted."""

    location = models.ForeignKey("stores.Location", on_delete=models.PROTECT, related_name="+")
    sku = models.ForeignKey("catalog.Sku", on_delete=models.PROTECT, related_name="+")
    kind = models.CharField(max_length=16, choices=MovementKind.choices)
    qty = models.IntegerField(help_text="the quantity the event named (a count's counted quantity)")
    delta_on_hand = models.IntegerField(default=0)
    delta_reserved = models.IntegerField(default=0)
    reason = models.CharField(max_length=200, blank=True)
    reference = models.CharField(max_length=100, blank=True)
    idempotency_key = models.CharField(max_length=200, unique=True)
    actor = models.ForeignKey(settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.PROTECT, related_name="+")
    actor_label = models.CharField(max_length=100, blank=True)
    reservation = models.ForeignKey("Reservation", null=True, blank=True, on_delete=models.PROTECT, related_name="+")
    transfer = models.ForeignKey("Transfer", null=True, blank=True, on_delete=models.PROTECT, related_name="+")
    details = models.JSONField(default=dict, blank=True)
    occurred_at = models.DateTimeField()
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        verbose_name = "库存流水 movement"
        verbose_name_plural = "库存流水 movements"
        indexes = [models.Index(fields=["location", "sku", "occurred_at"], name="movement_item_time")]


class ReservationStatus(models.TextChoices):
    ACTIVE = "active", "预占中 active"
    RELEASED = "released", "已释放 released"
    EXPIRED = "expired", "已过期 expired"
    FULFILLED = "fulfilled", "已出库 fulfilled"
    SHORTED = "shorted", "缺货释放 shorted"


class Reservation(models.Model):
    """A hold on stock at one location (a cart hold or an unpaid order), until it expires."""

    location = models.ForeignKey("stores.Location", on_delete=models.PROTECT, related_name="reservations")
    status = models.CharField(max_length=16, choices=ReservationStatus.choices, default=ReservationStatus.ACTIVE)
    reference = models.CharField(max_length=100, blank=True)
    expires_at = models.DateTimeField()
    created_at = models.DateTimeField(auto_now_add=True)
    closed_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        verbose_name = "预占 reservation"
        verbose_name_plural = "预占 reservations"
        indexes = [models.Index(fields=["status", "expires_at"], name="reservation_due")]


class ReservationLine(models.Model):
    reservation = models.ForeignKey(Reservation, on_delete=models.CASCADE, related_name="lines")
    sku = models.ForeignKey("catalog.Sku", on_delete=models.PROTECT, related_name="+")
    qty = models.PositiveIntegerField()

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["reservation", "sku"], name="reservation_line_unique_sku"),
            models.CheckConstraint(condition=Q(qty__gt=0), name="reservation_line_qty_positive"),
        ]


class TransferStatus(models.TextChoices):
    SHIPPED = "shipped", "在途 shipped"
    RECEIVED = "received", "已收货 received"


class Transfer(models.Model):
    """Stock moved between two locations in two steps: shipped (leaves the source), received."""

    source = models.ForeignKey("stores.Location", on_delete=models.PROTECT, related_name="transfers_out")
    destination = models.ForeignKey("stores.Location", on_delete=models.PROTECT, related_name="transfers_in")
    status = models.CharField(max_length=16, choices=TransferStatus.choices, default=TransferStatus.SHIPPED)
    reference = models.CharField(max_length=100, blank=True)
    shipped_at = models.DateTimeField()
    received_at = models.DateTimeField(null=True, blank=True)
    shipped_by = models.ForeignKey(settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.PROTECT, related_name="+")
    received_by = models.ForeignKey(settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.PROTECT, related_name="+")

    class Meta:
        verbose_name = "调拨 transfer"
        verbose_name_plural = "调拨 transfers"
        constraints = [models.CheckConstraint(condition=~Q(source=F("destination")), name="transfer_distinct_ends")]


class TransferLine(models.Model):
    transfer = models.ForeignKey(Transfer, on_delete=models.CASCADE, related_name="lines")
    sku = models.ForeignKey("catalog.Sku", on_delete=models.PROTECT, related_name="+")
    qty = models.PositiveIntegerField()
    received_qty = models.PositiveIntegerField(null=True, blank=True)

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["transfer", "sku"], name="transfer_line_unique_sku"),
            models.CheckConstraint(condition=Q(qty__gt=0), name="transfer_line_qty_positive"),
            models.CheckConstraint(condition=Q(received_qty__isnull=True) | Q(received_qty__lte=F("qty")),
                                   name="transfer_line_received_within_shipped"),
        ]


class PosDevice(models.Model):
    """A POS terminal of a store; keeps the highest sequence number seen and the gaps below it."""

    location = models.ForeignKey("stores.Location", on_delete=models.PROTECT, related_name="pos_devices")
    device_id = models.CharField(max_length=64)
    last_seq = models.BigIntegerField(default=0)
    missing_seqs = models.JSONField(default=list, blank=True)
    last_seen_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        constraints = [models.UniqueConstraint(fields=["location", "device_id"], name="pos_device_unique")]


class CountMark(models.Model):
    """When (location, SKU) was last counted: POS sales older than the count are already in it."""

    location = models.ForeignKey("stores.Location", on_delete=models.PROTECT, related_name="+")
    sku = models.ForeignKey("catalog.Sku", on_delete=models.PROTECT, related_name="+")
    counted_at = models.DateTimeField()

    class Meta:
        constraints = [models.UniqueConstraint(fields=["location", "sku"], name="count_mark_unique")]


class IdempotencyRecord(models.Model):
    """The first response to a request sent with an ``Idempotency-Key`` (kept at least 24 h)."""

    key = models.CharField(max_length=200)
    operation = models.CharField(max_length=64)
    request_hash = models.CharField(max_length=64)
    status_code = models.PositiveSmallIntegerField()
    response = models.JSONField()
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        constraints = [models.UniqueConstraint(fields=["operation", "key"], name="idempotency_unique_key")]
        indexes = [models.Index(fields=["created_at"], name="idempotency_age")]
