"""An order's shipments (a pickup, a courier delivery, an express parcel, a counter sale) and pickup codes.

A shipment of an online order is the order-facing side of a routed shipment
(``fulfilment.RoutedShipment``, which holds the stock reservation); a re-route marks it
``rerouted`` and adds the new shipments to the same order.
"""

from __future__ import annotations

from django.conf import settings
from django.db import models
from django.db.models import F, Q
from django.utils import timezone

from o2o.core.orders import ShipmentMode as CoreMode
from o2o.core.orders import ShipmentStatus as CoreStatus


class ShipmentMode(models.TextChoices):
    PICKUP = CoreMode.PICKUP.value, "门店自提 pickup"
    SAME_CITY = CoreMode.SAME_CITY.value, "同城配送 same city"
    EXPRESS = CoreMode.EXPRESS.value, "快递 express"
    COUNTER = CoreMode.COUNTER.value, "门店现场 counter"


class ShipmentStatus(models.TextChoices):
    PENDING = CoreStatus.PENDING.value, "待支付 pending"
    ALLOCATED = CoreStatus.ALLOCATED.value, "待拣货 allocated"
    PICKING = CoreStatus.PICKING.value, "拣货中 picking"
    READY_FOR_PICKUP = CoreStatus.READY_FOR_PICKUP.value, "待自提 ready for pickup"
    AWAITING_COURIER = CoreStatus.AWAITING_COURIER.value, "待骑手取货 awaiting courier"
    OUT_FOR_DELIVERY = CoreStatus.OUT_FOR_DELIVERY.value, "配送中 out for delivery"
    SHIPPED = CoreStatus.SHIPPED.value, "已发快递 shipped"
    COMPLETED = CoreStatus.COMPLETED.value, "已完成 completed"
    CANCELLED = CoreStatus.CANCELLED.value, "已取消 cancelled"
    REROUTED = CoreStatus.REROUTED.value, "已改派 rerouted"


class Shipment(models.Model):
    order = models.ForeignKey("orders.Order", on_delete=models.PROTECT, related_name="shipments")
    routed = models.OneToOneField("fulfilment.RoutedShipment", null=True, blank=True, on_delete=models.PROTECT,
                                  related_name="order_shipment")
    location = models.ForeignKey("stores.Location", on_delete=models.PROTECT, related_name="order_shipments")
    mode = models.CharField(max_length=16, choices=ShipmentMode.choices)
    status = models.CharField(max_length=20, choices=ShipmentStatus.choices, default=ShipmentStatus.PENDING)
    lines = models.JSONField(default=list, help_text='[{"sku_id", "qty"}]')
    courier = models.CharField(max_length=32, blank=True, help_text="courier provider (same city) or carrier")
    tracking_no = models.CharField(max_length=64, blank=True)
    eta_earliest = models.DateTimeField(null=True, blank=True)
    eta_latest = models.DateTimeField(null=True, blank=True)
    pickup_deadline = models.DateTimeField(null=True, blank=True)
    created_at = models.DateTimeField(default=timezone.now)
    ready_at = models.DateTimeField(null=True, blank=True)
    handed_over_at = models.DateTimeField(null=True, blank=True)
    completed_at = models.DateTimeField(null=True, blank=True)
    status_changed_at = models.DateTimeField(default=timezone.now)

    class Meta:
        verbose_name = "订单发货 order shipment"
        verbose_name_plural = "订单发货 order shipments"
        constraints = [
            models.CheckConstraint(condition=Q(status__in=[s.value for s in ShipmentStatus]),
                                   name="shipment_status_valid"),
            models.CheckConstraint(condition=Q(mode__in=[m.value for m in ShipmentMode]), name="shipment_mode_valid"),
            models.CheckConstraint(condition=Q(eta_latest__isnull=True) | Q(eta_latest__gte=F("eta_earliest")),
                                   name="shipment_eta_ordered"),
        ]
        indexes = [
            models.Index(fields=["location", "status"], name="shipment_loc_status"),
            models.Index(fields=["status", "pickup_deadline"], name="shipment_status_deadline"),
        ]

    def __str__(self) -> str:
        return f"shipment #{self.pk} {self.mode} ({self.status})"


class ShipmentLine(models.Model):
    """One line of a shipment as the store picks it: how many units were confirmed, by whom, when.

    Made from ``Shipment.lines`` (one per SKU) the first time the store picks or marks it ready
    (``store_work``), under the order's row lock. ``picked_qty`` is set by a conditional UPDATE and
    the CHECK keeps it within ``0..qty`` whatever code writes it.
    """

    shipment = models.ForeignKey(Shipment, on_delete=models.PROTECT, related_name="pick_lines")
    sku = models.ForeignKey("catalog.Sku", on_delete=models.PROTECT, related_name="+")
    qty = models.PositiveIntegerField()
    picked_qty = models.PositiveIntegerField(default=0)
    picked_at = models.DateTimeField(null=True, blank=True)
    picked_by = models.ForeignKey(settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.PROTECT,
                                  related_name="+")

    class Meta:
        verbose_name = "发货单拣货行 shipment pick line"
        verbose_name_plural = "发货单拣货行 shipment pick lines"
        constraints = [
            models.UniqueConstraint(fields=["shipment", "sku"], name="shipment_line_one_per_sku"),
            models.CheckConstraint(condition=Q(qty__gte=1), name="shipment_line_qty_positive"),
            models.CheckConstraint(condition=Q(picked_qty__gte=0) & Q(picked_qty__lte=F("qty")),
                                   name="shipment_line_picked_within_qty"),
        ]

    def __str__(self) -> str:
        return f"shipment #{self.shipment_id} sku {self.sku_id}: {self.picked_qty}/{self.qty}"


class CodeStatus(models.TextChoices):
    LIVE = "live", "有效 live"
    USED = "used", "已核销 used"
    VOID = "void", "已作废 void"


class PickupCode(models.Model):
    """The code a customer shows at the counter. Unique among live codes (a partial UNIQUE index)."""

    shipment = models.ForeignKey(Shipment, on_delete=models.PROTECT, related_name="pickup_codes")
    code = models.CharField(max_length=10)
    status = models.CharField(max_length=8, choices=CodeStatus.choices, default=CodeStatus.LIVE)
    issued_at = models.DateTimeField(default=timezone.now)
    expires_at = models.DateTimeField()
    used_at = models.DateTimeField(null=True, blank=True)
    used_by = models.ForeignKey(settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.PROTECT,
                                related_name="+")

    class Meta:
        verbose_name = "自提码 pickup code"
        verbose_name_plural = "自提码 pickup codes"
        constraints = [
            models.UniqueConstraint(fields=["code"], condition=Q(status="live"), name="pickup_code_unique_live"),
            models.UniqueConstraint(fields=["shipment"], condition=Q(status="live"),
                                    name="pickup_code_one_live_per_shipment"),
            models.CheckConstraint(condition=Q(status__in=["live", "used", "void"]), name="pickup_code_status_valid"),
            models.CheckConstraint(condition=~Q(status="used") | Q(used_at__isnull=False),
                                   name="pickup_code_used_has_time"),
        ]


class VerifyResult(models.TextChoices):
    OK = "ok", "核销成功 verified"
    UNKNOWN = "unknown", "无此码 unknown code"
    MALFORMED = "malformed", "格式错误 malformed"
    WRONG_STORE = "wrong_store", "非本店订单 another store's order"
    NOT_READY = "not_ready", "未备好 not ready"
    USED = "used", "已核销 already used"
    EXPIRED = "expired", "已过期 expired"
    BAD_SIGNATURE = "bad_signature", "二维码签名无效 bad QR signature"
    THROTTLED = "throttled", "失败过多被限制 throttled"
    FORBIDDEN = "forbidden", "非本店员工 staff of another store"


class PickupVerification(models.Model):
    """Every attempt to verify a pickup code at a counter, successful or not, with the staff member."""

    location = models.ForeignKey("stores.Location", null=True, blank=True, on_delete=models.PROTECT, related_name="+")
    shipment = models.ForeignKey(Shipment, null=True, blank=True, on_delete=models.PROTECT, related_name="+")
    code_tail = models.CharField(max_length=4, blank=True, help_text="last digits only; the code itself is a secret")
    method = models.CharField(max_length=8, default="code", help_text="code | qr")
    result = models.CharField(max_length=16, choices=VerifyResult.choices)
    user = models.ForeignKey(settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.PROTECT, related_name="+")
    at = models.DateTimeField(default=timezone.now)

    class Meta:
        verbose_name = "自提核销记录 pickup verification"
        verbose_name_plural = "自提核销记录 pickup verifications"
        indexes = [models.Index(fields=["location", "at"], name="pickup_verify_loc_time")]
