"""Notifications to members: one row per cause and channel, the member's channel choices, push devices,
and the per-member-day counter of the marketing cap.

Invariants held by the database:

* **Once per cause**: ``UNIQUE (cause_key, channel)``. Every cause has an ``outbox`` row (the member's
  in-app inbox), inserted first: of two triggers racing on one cause, one inserts it and the other
  finds the cause taken and adds nothing.
* **The marketing cap**: a cause takes a slot of ``FrequencyCounter(member, day)`` with a conditional
  UPDATE (``sent = sent + 1 WHERE sent < cap``): ten senders at once for one member never send more
  than the cap.
* A sent row has its ``sent_at`` (CHECK); statuses, channels and categories are CHECKed.
"""

from __future__ import annotations

from django.db import models
from django.db.models import Q
from django.utils import timezone


class Channel(models.TextChoices):
    SMS = "sms", "短信 SMS"
    WECHAT = "wechat", "微信订阅消息 WeChat"
    PUSH = "push", "App 推送 app push"
    OUTBOX = "outbox", "站内信 in-app inbox"


PROVIDER_CHANNELS = (Channel.SMS, Channel.WECHAT, Channel.PUSH)


class Category(models.TextChoices):
    SERVICE = "service", "服务通知 service"
    MARKETING = "marketing", "营销消息 marketing"


class Status(models.TextChoices):
    QUEUED = "queued", "待发送 queued"
    SENT = "sent", "已发送 sent"
    DEFERRED = "deferred", "已推迟 deferred"
    SUPPRESSED = "suppressed", "未发送 suppressed"
    FAILED = "failed", "发送失败 failed"


PENDING = (Status.QUEUED, Status.DEFERRED)


class Notification(models.Model):
    member = models.ForeignKey("accounts.Member", on_delete=models.PROTECT, related_name="+")
    channel = models.CharField(max_length=8, choices=Channel.choices)
    kind = models.CharField(max_length=32, help_text="pickup_ready, abandoned_cart, coupon_expiring...")
    category = models.CharField(max_length=10, choices=Category.choices)
    cause_key = models.CharField(max_length=160, help_text="what caused it; one notification per cause and channel")
    title = models.CharField(max_length=100)
    body = models.CharField(max_length=500)
    payload = models.JSONField(default=dict, blank=True, help_text="the template's fields (never a secret)")
    status = models.CharField(max_length=10, choices=Status.choices, default=Status.QUEUED)
    reason = models.CharField(max_length=200, blank=True, help_text="why suppressed, deferred or failed")
    created_at = models.DateTimeField(default=timezone.now)
    scheduled_for = models.DateTimeField(help_text="not sent before this")
    expires_at = models.DateTimeField(null=True, blank=True, help_text="not sent after this (the cause is over)")
    attempts = models.PositiveSmallIntegerField(default=0)
    sent_at = models.DateTimeField(null=True, blank=True)
    provider = models.CharField(max_length=24, blank=True)
    provider_message_id = models.CharField(max_length=64, blank=True)
    cap_day = models.DateField(null=True, blank=True, help_text="the China day whose marketing cap the cause counted on")
    updated_at = models.DateTimeField(default=timezone.now)

    class Meta:
        verbose_name = "消息通知 notification"
        verbose_name_plural = "消息通知 notifications"
        constraints = [
            models.UniqueConstraint(fields=["cause_key", "channel"], name="notification_once_per_cause"),
            models.CheckConstraint(condition=Q(channel__in=Channel.values), name="notification_channel_valid"),
            models.CheckConstraint(condition=Q(category__in=Category.values), name="notification_category_valid"),
            models.CheckConstraint(condition=Q(status__in=Status.values), name="notification_status_valid"),
            models.CheckConstraint(condition=(Q(status=Status.SENT) & Q(sent_at__isnull=False))
                                   | (~Q(status=Status.SENT) & Q(sent_at__isnull=True)),
                                   name="notification_sent_has_time"),
        ]
        indexes = [
            models.Index(fields=["scheduled_for", "id"], condition=Q(status__in=["queued", "deferred"]),
                         name="notification_due"),
            models.Index(fields=["member", "-created_at"], name="notification_member"),
            models.Index(fields=["-created_at", "-id"], name="notification_recent"),
        ]

    def __str__(self) -> str:
        return f"{self.kind} {self.channel} member#{self.member_id} ({self.status})"


class ChannelPreference(models.Model):
    """A member's choice for one channel; no row means subscribed. An unsubscribed channel gets nothing."""

    member = models.ForeignKey("accounts.Member", on_delete=models.CASCADE, related_name="+")
    channel = models.CharField(max_length=8, choices=Channel.choices)
    subscribed = models.BooleanField(default=True)
    updated_at = models.DateTimeField(default=timezone.now)

    class Meta:
        verbose_name = "通知偏好 channel preference"
        verbose_name_plural = "通知偏好 channel preferences"
        constraints = [
            models.UniqueConstraint(fields=["member", "channel"], name="channel_preference_once"),
            models.CheckConstraint(condition=Q(channel__in=Channel.values), name="channel_preference_valid"),
        ]


class PushDevice(models.Model):
    """An app install that can receive push (a JPush registration id); it belongs to one member at a time."""

    member = models.ForeignKey("accounts.Member", on_delete=models.CASCADE, related_name="+")
    registration_id = models.CharField(max_length=64, unique=True)
    platform = models.CharField(max_length=8, choices=[("android", "Android"), ("ios", "iOS")])
    created_at = models.DateTimeField(default=timezone.now)
    last_seen_at = models.DateTimeField(default=timezone.now)

    class Meta:
        verbose_name = "推送设备 push device"
        verbose_name_plural = "推送设备 push devices"
        constraints = [models.CheckConstraint(condition=Q(platform__in=["android", "ios"]),
                                              name="push_device_platform_valid")]
        indexes = [models.Index(fields=["member", "-last_seen_at"], name="push_device_member")]


class FrequencyCounter(models.Model):
    """Marketing causes sent to a member on one China calendar day (the cap's counter row)."""

    member = models.ForeignKey("accounts.Member", on_delete=models.CASCADE, related_name="+")
    day = models.DateField()
    sent = models.PositiveIntegerField(default=0)

    class Meta:
        verbose_name = "营销频次 marketing frequency"
        verbose_name_plural = "营销频次 marketing frequency"
        constraints = [models.UniqueConstraint(fields=["member", "day"], name="frequency_counter_once")]
