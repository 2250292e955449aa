"""Returns across channels: an online order returned at any store or by courier, a store purchase online."""

from __future__ import annotations

from django.conf import settings
from django.db import models
from django.db.models import Q
from django.utils import timezone


class ReturnMethod(models.TextChoices):
    STORE = "store", "到店退货 at a store"
    COURIER = "courier", "快递寄回 by courier"


class ReturnStatus(models.TextChoices):
    REQUESTED = "requested", "已申请 requested"
    RECEIVED = "received", "已收货 received"
    REFUNDED = "refunded", "已退款 refunded"
    REJECTED = "rejected", "已拒绝 rejected"
    CANCELLED = "cancelled", "已撤销 cancelled"


class Return(models.Model):
    number = models.CharField(max_length=32, unique=True)
    order = models.ForeignKey("orders.Order", on_delete=models.PROTECT, related_name="returns")
    method = models.CharField(max_length=16, choices=ReturnMethod.choices)
    location = models.ForeignKey("stores.Location", on_delete=models.PROTECT, related_name="+",
                                 help_text="where the goods come back and are restocked")
    status = models.CharField(max_length=16, choices=ReturnStatus.choices, default=ReturnStatus.REQUESTED)
    reason = models.CharField(max_length=200, blank=True)
    refund_fen = models.BigIntegerField(default=0)
    created_at = models.DateTimeField(default=timezone.now)
    created_by = models.ForeignKey(settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.PROTECT,
                                   related_name="+")
    requested_by_member = models.ForeignKey("accounts.Member", null=True, blank=True, on_delete=models.PROTECT,
                                            related_name="+")
    received_at = models.DateTimeField(null=True, blank=True)
    received_by = models.ForeignKey(settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.PROTECT,
                                    related_name="+")

    class Meta:
        verbose_name = "退货 return"
        verbose_name_plural = "退货 returns"
        constraints = [
            models.CheckConstraint(condition=Q(refund_fen__gte=0), name="return_refund_not_negative"),
            models.CheckConstraint(condition=Q(status__in=[s.value for s in ReturnStatus]), name="return_status_valid"),
            models.CheckConstraint(condition=Q(method__in=[m.value for m in ReturnMethod]), name="return_method_valid"),
        ]


class ReturnLine(models.Model):
    order_return = models.ForeignKey(Return, on_delete=models.PROTECT, related_name="lines")
    order_line = models.ForeignKey("orders.OrderLine", on_delete=models.PROTECT, related_name="return_lines")
    qty = models.PositiveIntegerField()
    refund_fen = models.BigIntegerField(default=0)

    class Meta:
        verbose_name = "退货行 return line"
        constraints = [
            models.UniqueConstraint(fields=["order_return", "order_line"], name="return_line_one_per_line"),
            models.CheckConstraint(condition=Q(qty__gte=1, refund_fen__gte=0), name="return_line_positive"),
        ]
