"""Orders of every channel (online and POS), their lines and their history.

Money is integer fen; the CHECK constraints keep the sums true whatever code writes them:
``total = goods - discount + delivery_fee``, a line pays ``subtotal - discount``, nothing is
refunded beyond what was paid and no line is returned beyond its quantity.
"""

from __future__ import annotations

from django.conf import settings
from django.db import models
from django.db.models import F, Q
from django.utils import timezone

from o2o.catalog.models import Channel
from o2o.core.orders import OrderStatus as CoreOrderStatus


class OrderStatus(models.TextChoices):
    PENDING_PAYMENT = CoreOrderStatus.PENDING_PAYMENT.value, "待支付 pending payment"
    PAID = CoreOrderStatus.PAID.value, "已支付 paid"
    ALLOCATED = CoreOrderStatus.ALLOCATED.value, "已分配 allocated"
    PICKING = CoreOrderStatus.PICKING.value, "拣货中 picking"
    READY_FOR_PICKUP = CoreOrderStatus.READY_FOR_PICKUP.value, "待自提 ready for pickup"
    OUT_FOR_DELIVERY = CoreOrderStatus.OUT_FOR_DELIVERY.value, "配送中 out for delivery"
    SHIPPED = CoreOrderStatus.SHIPPED.value, "已发货 shipped"
    COMPLETED = CoreOrderStatus.COMPLETED.value, "已完成 completed"
    CANCELLED = CoreOrderStatus.CANCELLED.value, "已取消 cancelled"
    EXPIRED = CoreOrderStatus.EXPIRED.value, "已过期 expired"
    REFUNDED = CoreOrderStatus.REFUNDED.value, "已退款 refunded"


class FulfilmentChoice(models.TextChoices):
    """The routing's choices (``fulfilment.models.ChoiceKind``) and ``counter`` for POS sales."""

    PICKUP = "pickup", "门店自提 pickup"
    FASTEST = "fastest", "最快送达 fastest"
    CHEAPEST = "cheapest", "最省 cheapest"
    ANY = "any", "均衡 any"
    SAME_CITY = "same_city", "同城配送 same city"
    EXPRESS = "express", "快递 express"
    COUNTER = "counter", "门店现场 at the counter"


class Order(models.Model):
    number = models.CharField(max_length=32, unique=True)
    member = models.ForeignKey("accounts.Member", null=True, blank=True, on_delete=models.PROTECT,
                               related_name="orders")
    channel = models.CharField(max_length=16, choices=Channel.choices)
    utm_source = models.CharField(max_length=64, blank=True)
    utm_medium = models.CharField(max_length=64, blank=True)
    utm_campaign = models.CharField(max_length=64, blank=True)
    status = models.CharField(max_length=20, choices=OrderStatus.choices, default=OrderStatus.PENDING_PAYMENT)
    choice = models.CharField(max_length=16, choices=FulfilmentChoice.choices)
    store = models.ForeignKey("stores.Location", null=True, blank=True, on_delete=models.PROTECT,
                              related_name="orders", help_text="the POS store, or the pickup store")
    dest_lat = models.FloatField(null=True, blank=True, help_text="GCJ-02")
    dest_lng = models.FloatField(null=True, blank=True, help_text="GCJ-02")
    address = models.CharField(max_length=200, blank=True)
    contact_name = models.CharField(max_length=64, blank=True)
    contact_phone_enc = models.TextField(blank=True, help_text="AES-256-GCM (accounts.pii), field order.contact_phone")
    contact_phone_masked = models.CharField(max_length=32, blank=True)
    goods_fen = models.BigIntegerField(default=0)
    discount_fen = models.BigIntegerField(default=0)
    delivery_fee_fen = models.BigIntegerField(default=0)
    total_fen = models.BigIntegerField(default=0)
    paid_fen = models.BigIntegerField(default=0)
    refunded_fen = models.BigIntegerField(default=0)
    pricing = models.JSONField(default=dict, blank=True, help_text="adjustments and explanation of the totals")
    routing_decision = models.ForeignKey("fulfilment.RoutingDecision", null=True, blank=True,
                                         on_delete=models.PROTECT, related_name="+")
    external_ref = models.CharField(max_length=64, blank=True, help_text="POS receipt number")
    payment_deadline = models.DateTimeField(null=True, blank=True)
    created_at = models.DateTimeField(default=timezone.now, db_index=True)
    paid_at = models.DateTimeField(null=True, blank=True)
    completed_at = models.DateTimeField(null=True, blank=True)
    cancelled_at = models.DateTimeField(null=True, blank=True)
    cancel_reason = models.CharField(max_length=200, blank=True)
    updated_at = models.DateTimeField(default=timezone.now)
    placed_by = models.ForeignKey(settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.PROTECT,
                                  related_name="+", help_text="the clerk, for POS and staff-placed orders")
    # Set by an app that places the order on a condition (``o2o.groupbuy``: "group" until the 拼团 is full):
    # the stores neither see nor pick a held order; its paid hold lasts at least until ``hold_until``.
    hold = models.CharField(max_length=16, blank=True, default="",
                            help_text="why the stores must wait before picking ('group': a group deal not yet full)")
    hold_until = models.DateTimeField(null=True, blank=True,
                                      help_text="while on hold, keep the paid order's stock held at least until then")

    class Meta:
        verbose_name = "订单 order"
        verbose_name_plural = "订单 orders"
        constraints = [
            models.CheckConstraint(condition=Q(status__in=[s.value for s in OrderStatus]), name="order_status_valid"),
            models.CheckConstraint(condition=Q(channel__in=[c.value for c in Channel]), name="order_channel_valid"),
            models.CheckConstraint(condition=Q(choice__in=[c.value for c in FulfilmentChoice]),
                                   name="order_choice_valid"),
            models.CheckConstraint(
                condition=Q(goods_fen__gte=0, discount_fen__gte=0, delivery_fee_fen__gte=0, total_fen__gte=0,
                            paid_fen__gte=0, refunded_fen__gte=0),
                name="order_money_not_negative"),
            models.CheckConstraint(condition=Q(total_fen=F("goods_fen") - F("discount_fen") + F("delivery_fee_fen")),
                                   name="order_total_adds_up"),
            models.CheckConstraint(condition=Q(refunded_fen__lte=F("paid_fen")), name="order_refund_within_paid"),
            models.UniqueConstraint(fields=["store", "external_ref"], condition=~Q(external_ref=""),
                                    name="order_one_per_pos_receipt"),
        ]
        indexes = [
            models.Index(fields=["member", "-created_at"], name="order_member_recent"),
            models.Index(fields=["status", "payment_deadline"], name="order_status_deadline"),
            models.Index(fields=["channel", "created_at"], name="order_channel_time"),
        ]

    def __str__(self) -> str:
        return self.number


class OrderLine(models.Model):
    order = models.ForeignKey(Order, on_delete=models.PROTECT, related_name="lines")
    sku = models.ForeignKey("catalog.Sku", on_delete=models.PROTECT, related_name="+")
    name = models.CharField(max_length=200, help_text="the SKU's name when ordered")
    qty = models.PositiveIntegerField()
    unit_price_fen = models.BigIntegerField()
    list_price_fen = models.BigIntegerField()
    subtotal_fen = models.BigIntegerField()
    discount_fen = models.BigIntegerField(default=0)
    payable_fen = models.BigIntegerField()
    returned_qty = models.PositiveIntegerField(default=0)
    refunded_fen = models.BigIntegerField(default=0)

    class Meta:
        verbose_name = "订单行 order line"
        constraints = [
            models.UniqueConstraint(fields=["order", "sku"], name="order_line_one_per_sku"),
            models.CheckConstraint(condition=Q(qty__gte=1), name="order_line_qty_positive"),
            models.CheckConstraint(
                condition=Q(unit_price_fen__gte=0, list_price_fen__gte=0, discount_fen__gte=0, payable_fen__gte=0,
                            refunded_fen__gte=0),
                name="order_line_money_not_negative"),
            models.CheckConstraint(condition=Q(subtotal_fen=F("unit_price_fen") * F("qty")),
                                   name="order_line_subtotal"),
            models.CheckConstraint(condition=Q(payable_fen=F("subtotal_fen") - F("discount_fen")),
                                   name="order_line_payable"),
            models.CheckConstraint(condition=Q(returned_qty__lte=F("qty")), name="order_line_return_within_qty"),
            models.CheckConstraint(condition=Q(refunded_fen__lte=F("payable_fen")),
                                   name="order_line_refund_within_paid"),
        ]


class EventKind(models.TextChoices):
    ORDER = "order", "订单状态 order status"
    SHIPMENT = "shipment", "发货状态 shipment status"
    NOTE = "note", "备注 note"


class OrderEvent(models.Model):
    """One row per change: who, when, from, to, why."""

    order = models.ForeignKey(Order, on_delete=models.PROTECT, related_name="history")
    shipment = models.ForeignKey("orders.Shipment", null=True, blank=True, on_delete=models.PROTECT, related_name="+")
    kind = models.CharField(max_length=16, choices=EventKind.choices)
    from_status = models.CharField(max_length=20, blank=True)
    to_status = models.CharField(max_length=20, blank=True)
    reason = models.CharField(max_length=200, blank=True)
    actor_label = models.CharField(max_length=100, blank=True)
    user = models.ForeignKey(settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.PROTECT, related_name="+")
    member = models.ForeignKey("accounts.Member", null=True, blank=True, on_delete=models.PROTECT, related_name="+")
    at = models.DateTimeField(default=timezone.now)

    class Meta:
        verbose_name = "订单历史 order history"
        verbose_name_plural = "订单历史 order history"
        indexes = [models.Index(fields=["order", "at"], name="order_event_order_time")]
