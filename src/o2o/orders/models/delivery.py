"""Same-city courier dispatch: one task per attempt, its tracking events, and exception alerts."""

from __future__ import annotations

from django.conf import settings
from django.db import models
from django.db.models import Q
from django.utils import timezone

ACTIVE_TASK = ["created", "accepted", "arrived", "picked_up"]


class TaskStatus(models.TextChoices):
    CREATED = "created", "已下单 created"
    ACCEPTED = "accepted", "骑手已接单 accepted"
    ARRIVED = "arrived", "骑手到店 arrived"
    PICKED_UP = "picked_up", "已取货 picked up"
    DELIVERED = "delivered", "已送达 delivered"
    CANCELLED = "cancelled", "已取消 cancelled"
    FAILED = "failed", "失败 failed"


class CourierTask(models.Model):
    shipment = models.ForeignKey("orders.Shipment", on_delete=models.PROTECT, related_name="courier_tasks")
    provider = models.CharField(max_length=16, help_text="dada | sf | own")
    attempt = models.PositiveIntegerField(default=1)
    shipment_ref = models.CharField(max_length=40, unique=True, help_text="our id at the provider, one per attempt")
    external_id = models.CharField(max_length=64, blank=True)
    status = models.CharField(max_length=16, choices=TaskStatus.choices, default=TaskStatus.CREATED)
    fee_fen = models.BigIntegerField(default=0)
    rider_name = models.CharField(max_length=64, blank=True)
    rider_phone = models.CharField(max_length=32, blank=True)
    failed_reason = models.CharField(max_length=200, blank=True)
    created_at = models.DateTimeField(default=timezone.now)
    updated_at = models.DateTimeField(default=timezone.now)

    class Meta:
        verbose_name = "配送任务 courier task"
        verbose_name_plural = "配送任务 courier tasks"
        constraints = [
            models.UniqueConstraint(fields=["shipment"], condition=Q(status__in=ACTIVE_TASK),
                                    name="courier_task_one_active_per_shipment"),
            models.UniqueConstraint(fields=["shipment", "attempt"], name="courier_task_attempt_unique"),
            models.CheckConstraint(condition=Q(fee_fen__gte=0), name="courier_task_fee_not_negative"),
            models.CheckConstraint(condition=Q(status__in=[s.value for s in TaskStatus]),
                                   name="courier_task_status_valid"),
        ]


class TrackingEvent(models.Model):
    task = models.ForeignKey(CourierTask, on_delete=models.PROTECT, related_name="events")
    provider = models.CharField(max_length=16)
    event_id = models.CharField(max_length=120)
    status = models.CharField(max_length=16, choices=TaskStatus.choices)
    at = models.DateTimeField()
    reason = models.CharField(max_length=200, blank=True)
    raw = models.JSONField(default=dict, blank=True)
    received_at = models.DateTimeField(default=timezone.now)

    class Meta:
        verbose_name = "配送轨迹 tracking event"
        verbose_name_plural = "配送轨迹 tracking events"
        constraints = [models.UniqueConstraint(fields=["provider", "event_id"], name="tracking_event_once")]


class AlertKind(models.TextChoices):
    COURIER_FAILED = "courier_failed", "配送异常 courier failed"
    NO_COURIER = "no_courier", "无可用运力 no courier left"
    LATE = "late", "超时 late"
    PICKUP_EXPIRED = "pickup_expired", "自提超时 pickup deadline passed"
    HOLD_LOST = "hold_lost", "已打包商品被售出 packed goods sold at the till"


class DeliveryAlert(models.Model):
    """An exception the store must see (courier failure, late shipment), until someone resolves it."""

    shipment = models.ForeignKey("orders.Shipment", on_delete=models.PROTECT, related_name="alerts")
    location = models.ForeignKey("stores.Location", on_delete=models.PROTECT, related_name="+")
    kind = models.CharField(max_length=20, choices=AlertKind.choices)
    message = models.CharField(max_length=300)
    key = models.CharField(max_length=120, unique=True, help_text="the cause; one alert per cause")
    created_at = models.DateTimeField(default=timezone.now)
    resolved_at = models.DateTimeField(null=True, blank=True)
    resolved_by = models.ForeignKey(settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.PROTECT,
                                    related_name="+")

    class Meta:
        verbose_name = "履约异常 delivery alert"
        verbose_name_plural = "履约异常 delivery alerts"
        indexes = [models.Index(fields=["location", "resolved_at"], name="alert_loc_open")]
