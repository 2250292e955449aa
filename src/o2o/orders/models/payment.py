"""Payments through a gateway (WeChat Pay, Alipay), their notifications and refunds.

``Payment.refunded_fen`` only grows through a conditional ``UPDATE`` and a CHECK keeps it
within the amount, so concurrent refunds can never return more than was paid.
"""

from __future__ import annotations

from django.conf import settings
from django.db import models
from django.db.models import F, Q
from django.utils import timezone


class Provider(models.TextChoices):
    WECHAT = "wechat", "微信支付 WeChat Pay"
    ALIPAY = "alipay", "支付宝 Alipay"
    CASH = "cash", "现金/门店 cash or store terminal"


class PaymentStatus(models.TextChoices):
    CREATED = "created", "待支付 created"
    PAID = "paid", "已支付 paid"
    CLOSED = "closed", "已关闭 closed"


class Payment(models.Model):
    order = models.ForeignKey("orders.Order", on_delete=models.PROTECT, related_name="payments")
    provider = models.CharField(max_length=16, choices=Provider.choices)
    out_trade_no = models.CharField(max_length=32, unique=True)
    amount_fen = models.BigIntegerField()
    status = models.CharField(max_length=16, choices=PaymentStatus.choices, default=PaymentStatus.CREATED)
    transaction_id = models.CharField(max_length=64, blank=True)
    refunded_fen = models.BigIntegerField(default=0)
    client_params = models.JSONField(default=dict, blank=True)
    created_at = models.DateTimeField(default=timezone.now)
    expires_at = models.DateTimeField()
    paid_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        verbose_name = "支付 payment"
        verbose_name_plural = "支付 payments"
        constraints = [
            models.CheckConstraint(condition=Q(amount_fen__gte=0), name="payment_amount_not_negative"),
            models.CheckConstraint(condition=Q(refunded_fen__gte=0, refunded_fen__lte=F("amount_fen")),
                                   name="payment_refund_within_amount"),
            models.CheckConstraint(condition=Q(status__in=["created", "paid", "closed"]), name="payment_status_valid"),
            models.UniqueConstraint(fields=["provider", "transaction_id"], condition=~Q(transaction_id=""),
                                    name="payment_one_per_transaction"),
        ]


class NoticeOutcome(models.TextChoices):
    APPLIED = "applied", "已入账 applied"
    DUPLICATE = "duplicate", "重复通知 duplicate"
    LATE_REFUNDED = "late_refunded", "迟到付款已退款 late payment refunded"
    AMOUNT_MISMATCH = "amount_mismatch", "金额不符 amount mismatch"
    UNKNOWN_PAYMENT = "unknown_payment", "无此支付 unknown payment"
    REJECTED = "rejected", "验签失败 rejected"
    CLOSED = "closed", "已关闭 closed"
    IGNORED = "ignored", "无需处理 nothing to do"


class PaymentNotice(models.Model):
    """Every payment notification received, verified or not; a provider's notify id counts once."""

    provider = models.CharField(max_length=16, choices=Provider.choices)
    notify_id = models.CharField(max_length=64, blank=True)
    out_trade_no = models.CharField(max_length=32, blank=True)
    outcome = models.CharField(max_length=16, choices=NoticeOutcome.choices)
    detail = models.CharField(max_length=200, blank=True)
    raw = models.JSONField(default=dict, blank=True)
    received_at = models.DateTimeField(default=timezone.now)

    class Meta:
        verbose_name = "支付通知 payment notice"
        verbose_name_plural = "支付通知 payment notices"
        constraints = [
            models.UniqueConstraint(fields=["provider", "notify_id"],
                                    condition=~Q(notify_id="") & Q(outcome__in=["applied", "late_refunded", "closed"]),
                                    name="payment_notice_applied_once"),
        ]


class RefundStatus(models.TextChoices):
    PROCESSING = "processing", "处理中 processing"
    SUCCEEDED = "succeeded", "已退款 succeeded"
    FAILED = "failed", "失败 failed"


class Refund(models.Model):
    payment = models.ForeignKey(Payment, on_delete=models.PROTECT, related_name="refunds")
    order = models.ForeignKey("orders.Order", on_delete=models.PROTECT, related_name="refunds")
    out_refund_no = models.CharField(max_length=40, unique=True)
    amount_fen = models.BigIntegerField()
    status = models.CharField(max_length=16, choices=RefundStatus.choices, default=RefundStatus.PROCESSING)
    refund_id = models.CharField(max_length=64, blank=True)
    reason = models.CharField(max_length=200, blank=True)
    order_return = models.ForeignKey("orders.Return", null=True, blank=True, on_delete=models.PROTECT,
                                     related_name="refunds")
    created_at = models.DateTimeField(default=timezone.now)
    created_by = models.ForeignKey(settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.PROTECT,
                                   related_name="+")
    raw = models.JSONField(default=dict, blank=True)

    class Meta:
        verbose_name = "退款 refund"
        verbose_name_plural = "退款 refunds"
        constraints = [
            models.CheckConstraint(condition=Q(amount_fen__gt=0), name="refund_amount_positive"),
            models.CheckConstraint(condition=Q(status__in=["processing", "succeeded", "failed"]),
                                   name="refund_status_valid"),
        ]
