"""Store appointments (到店预约): a member books a service at a store, optionally with a service voucher.

A voucher (one of the member's coupons) backs at most one live booking: ``UNIQUE (coupon) WHERE status =
'booked'``, so two bookings racing for one voucher cannot both hold it. The reminder 24 hours before is
a trigger (``o2o.marketing.triggers``); the voucher itself is used at the counter (核销) as any coupon.
"""

from __future__ import annotations

from django.db import models
from django.db.models import Q
from django.utils import timezone


class AppointmentStatus(models.TextChoices):
    BOOKED = "booked", "已预约 booked"
    DONE = "done", "已完成 done"
    CANCELLED = "cancelled", "已取消 cancelled"


class Appointment(models.Model):
    member = models.ForeignKey("accounts.Member", on_delete=models.PROTECT, related_name="appointments")
    location = models.ForeignKey("stores.Location", on_delete=models.PROTECT, related_name="+")
    service = models.CharField(max_length=100, help_text="what the member booked, e.g. 皮肤检测 skin check")
    starts_at = models.DateTimeField()
    coupon = models.ForeignKey("marketing.Coupon", null=True, blank=True, on_delete=models.PROTECT,
                               related_name="appointments", help_text="the member's service voucher, if any")
    status = models.CharField(max_length=10, choices=AppointmentStatus.choices, default=AppointmentStatus.BOOKED)
    note = models.CharField(max_length=200, blank=True)
    created_at = models.DateTimeField(default=timezone.now)
    cancelled_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        verbose_name = "到店预约 appointment"
        verbose_name_plural = "到店预约 appointments"
        constraints = [
            models.CheckConstraint(condition=Q(status__in=AppointmentStatus.values), name="appointment_status_valid"),
            models.UniqueConstraint(fields=["coupon"], condition=Q(status="booked", coupon__isnull=False),
                                    name="appointment_voucher_once"),
        ]
        indexes = [models.Index(fields=["status", "starts_at"], name="appointment_due"),
                   models.Index(fields=["member", "-starts_at"], name="appointment_member")]

    def __str__(self) -> str:
        return f"{self.service} @ {self.location_id} {self.starts_at:%Y-%m-%d %H:%M} ({self.status})"
