"""Group buying (拼团) and community group buying (社区团购).

* :class:`GroupDeal` -- a SKU at a deal price when ``group_size`` members buy it within ``window_hours``.
* :class:`Group` -- one group of a deal: ``joined`` of ``size`` places taken, open until ``expires_at``;
  the CHECK keeps ``0 <= joined <= size`` whatever code writes it.
* :class:`GroupMember` -- a member's place in a group and the order it placed.
* :class:`CommunityLeader` -- a neighbourhood's pickup point (团长自提点), run by a member.
* :class:`CommunityOrder` -- an order delivered to a leader's point, and when the leader handed it over.
"""

from __future__ import annotations

from django.db import models
from django.db.models import F, Q


class GroupStatus(models.TextChoices):
    OPEN = "open", "拼团中 open"
    FULL = "full", "已成团 full"
    EXPIRED = "expired", "未成团 expired"


MAX_WINDOW_HOURS = 168  # a week: a paid order's stock is held that long at most while it waits


class GroupDeal(models.Model):
    name = models.CharField(max_length=100)
    name_en = models.CharField(max_length=100, blank=True)
    sku = models.ForeignKey("catalog.Sku", on_delete=models.PROTECT, related_name="+")
    deal_price_fen = models.BigIntegerField(help_text="each unit's price in a group (fen)")
    group_size = models.PositiveIntegerField(help_text="members needed (N >= 2)")
    window_hours = models.PositiveIntegerField(help_text="hours a group stays open once opened (T)")
    starts_at = models.DateTimeField()
    ends_at = models.DateTimeField(help_text="no new group opens after this; open groups run to their expiry")
    active = models.BooleanField(default=True)
    store = models.ForeignKey("stores.Location", null=True, blank=True, on_delete=models.PROTECT, related_name="+",
                              help_text="only as a pickup at this store; empty: any store or delivery")
    member_limit = models.PositiveIntegerField(default=1, help_text="units one member may buy in this deal")
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        verbose_name = "拼团活动 group deal"
        verbose_name_plural = "拼团活动 group deals"
        constraints = [
            models.CheckConstraint(condition=Q(deal_price_fen__gte=0), name="groupbuy_deal_price_not_negative"),
            models.CheckConstraint(condition=Q(group_size__gte=2, group_size__lte=100), name="groupbuy_deal_size"),
            models.CheckConstraint(condition=Q(window_hours__gte=1, window_hours__lte=MAX_WINDOW_HOURS),
                                   name="groupbuy_deal_window"),
            models.CheckConstraint(condition=Q(ends_at__gt=F("starts_at")), name="groupbuy_deal_ends_after_start"),
            models.CheckConstraint(condition=Q(member_limit__gte=1, member_limit__lte=999),
                                   name="groupbuy_deal_member_limit"),
        ]

    def __str__(self) -> str:
        return self.name


class Group(models.Model):
    deal = models.ForeignKey(GroupDeal, on_delete=models.PROTECT, related_name="groups")
    opened_by = models.ForeignKey("accounts.Member", on_delete=models.PROTECT, related_name="+")
    size = models.PositiveIntegerField(help_text="the deal's group size when the group opened")
    joined = models.PositiveIntegerField(default=0)
    status = models.CharField(max_length=8, choices=GroupStatus.choices, default=GroupStatus.OPEN)
    opened_at = models.DateTimeField()
    expires_at = models.DateTimeField()
    full_at = models.DateTimeField(null=True, blank=True)
    expired_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        verbose_name = "拼团 group"
        verbose_name_plural = "拼团 groups"
        constraints = [
            models.CheckConstraint(condition=Q(joined__gte=0, joined__lte=F("size")), name="groupbuy_group_not_overfull"),
            models.CheckConstraint(condition=Q(size__gte=2), name="groupbuy_group_size"),
            models.CheckConstraint(condition=Q(status__in=[s.value for s in GroupStatus]),
                                   name="groupbuy_group_status_valid"),
            models.CheckConstraint(condition=~Q(status=GroupStatus.FULL) | Q(joined=F("size")),
                                   name="groupbuy_group_full_is_full"),
            models.CheckConstraint(condition=Q(expires_at__gt=F("opened_at")), name="groupbuy_group_expires_after_open"),
        ]
        indexes = [models.Index(fields=["status", "expires_at"], name="groupbuy_group_status_expiry"),
                   models.Index(fields=["deal", "status"], name="groupbuy_group_deal_status")]

    def __str__(self) -> str:
        return f"#{self.pk} {self.joined}/{self.size} {self.status}"


class GroupMember(models.Model):
    group = models.ForeignKey(Group, on_delete=models.PROTECT, related_name="members")
    member = models.ForeignKey("accounts.Member", on_delete=models.PROTECT, related_name="+")
    order = models.OneToOneField("orders.Order", on_delete=models.PROTECT, related_name="+")
    qty = models.PositiveIntegerField(default=1)
    joined_at = models.DateTimeField()
    dropped_at = models.DateTimeField(null=True, blank=True,
                                      help_text="the order ended (unpaid, cancelled) while the group was open: "
                                                "the place was given back")

    class Meta:
        verbose_name = "拼团成员 group member"
        verbose_name_plural = "拼团成员 group members"
        constraints = [
            # One live place per member and group (a member whose place lapsed may join again).
            models.UniqueConstraint(fields=["group", "member"], condition=Q(dropped_at__isnull=True),
                                    name="groupbuy_member_once_per_group"),
            models.CheckConstraint(condition=Q(qty__gte=1), name="groupbuy_member_qty_positive"),
        ]
        indexes = [models.Index(fields=["member", "-joined_at"], name="groupbuy_member_recent")]


class CommunityLeader(models.Model):
    member = models.ForeignKey("accounts.Member", on_delete=models.PROTECT, related_name="+")
    name = models.CharField(max_length=64, help_text="the point's name as neighbours know it")
    address = models.CharField(max_length=200)
    lat = models.FloatField(help_text="GCJ-02")
    lng = models.FloatField(help_text="GCJ-02")
    location = models.ForeignKey("stores.Location", on_delete=models.PROTECT, related_name="+",
                                 help_text="the store serving this point (its prices)")
    active = models.BooleanField(default=True)
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        verbose_name = "社区团长 community leader"
        verbose_name_plural = "社区团长 community leaders"
        constraints = [models.CheckConstraint(condition=Q(lat__gte=-90, lat__lte=90, lng__gte=-180, lng__lte=180),
                                              name="groupbuy_leader_coords")]

    def __str__(self) -> str:
        return self.name


class CommunityOrder(models.Model):
    order = models.OneToOneField("orders.Order", on_delete=models.PROTECT, related_name="+")
    leader = models.ForeignKey(CommunityLeader, on_delete=models.PROTECT, related_name="orders")
    member = models.ForeignKey("accounts.Member", on_delete=models.PROTECT, related_name="+")
    created_at = models.DateTimeField()
    handed_over_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        verbose_name = "社区团购订单 community order"
        verbose_name_plural = "社区团购订单 community orders"
        indexes = [models.Index(fields=["leader", "-created_at"], name="groupbuy_community_leader"),
                   models.Index(fields=["member", "-created_at"], name="groupbuy_community_member")]


class CommunityRun(models.Model):
    """One trip from a store to a leader's point for a delivery slot (社区团购 consolidated delivery).

    The first of its shipments the store marks ready books the courier (``lead_shipment``: its courier task is
    the run's one booking, its cost recorded once); the others ready before the pick-up travel on it
    (``CommunityRunShipment.boarded_at``) and follow it (picked up, delivered). UNIQUE (leader, store, slot):
    concurrent orders of one point and store end in one run.
    """

    leader = models.ForeignKey(CommunityLeader, on_delete=models.PROTECT, related_name="runs")
    location = models.ForeignKey("stores.Location", on_delete=models.PROTECT, related_name="+",
                                 help_text="the store the goods leave from")
    slot_date = models.DateField(help_text="the delivery day (Shanghai): orders before the cut-off go next morning")
    lead_shipment = models.ForeignKey("orders.Shipment", null=True, blank=True, on_delete=models.PROTECT,
                                      related_name="+", help_text="the shipment whose courier task is the booking")
    picked_up_at = models.DateTimeField(null=True, blank=True)
    delivered_at = models.DateTimeField(null=True, blank=True)
    created_at = models.DateTimeField()

    class Meta:
        verbose_name = "社区团购配送批次 community delivery run"
        verbose_name_plural = "社区团购配送批次 community delivery runs"
        constraints = [models.UniqueConstraint(fields=["leader", "location", "slot_date"],
                                               name="groupbuy_run_one_per_point_store_slot")]

    def __str__(self) -> str:
        return f"#{self.pk} {self.slot_date} leader {self.leader_id} from {self.location_id}"


class CommunityRunShipment(models.Model):
    """A same-city shipment of a community order and the run it travels on."""

    run = models.ForeignKey(CommunityRun, on_delete=models.PROTECT, related_name="shipments")
    shipment = models.OneToOneField("orders.Shipment", on_delete=models.PROTECT, related_name="+")
    boarded_at = models.DateTimeField(null=True, blank=True,
                                      help_text="ready and handed to the run's courier booking (before its pick-up)")

    class Meta:
        verbose_name = "社区团购批次发货单 community run shipment"
        verbose_name_plural = "社区团购批次发货单 community run shipments"
