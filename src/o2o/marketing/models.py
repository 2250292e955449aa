"""Promotions, coupon templates, issued coupons and their history, and where members can be reached.

Invariants held by the database, never by check-then-act Python:

* A template's budget: ``issued <= budget`` (CHECK); a claim adds one with a conditional UPDATE
  (``issued = issued + 1 WHERE issued < budget``), so 64 claimers of the last 10 coupons get 10.
* A member's limit: every coupon of a template for a member takes a numbered ``slot`` with
  ``UNIQUE (template, member, slot)`` and ``CHECK slot <= member_limit`` (the template's limit,
  copied on the row): two parallel claims by one member race for the same slot and one loses.
* One use: a coupon moves ``available -> used`` with a conditional UPDATE (``WHERE status =
  'available'``); CHECKs tie ``used_at`` and the redemption fields to the status.
"""

from __future__ import annotations

from django.conf import settings
from django.db import models
from django.db.models import F, Q
from django.utils import timezone

from o2o.marketing.offers import OfferFields, offer_checks


class Promotion(OfferFields):
    """An automatic promotion (满减, 折扣, 买赠, 一口价...): applies at checkout whenever in scope and in time."""

    name = models.CharField(max_length=100)
    name_en = models.CharField(max_length=100, blank=True)
    priority = models.IntegerField(default=0, help_text="higher first within the promotion stage")
    exclusive = models.BooleanField(default=False, help_text="its lines take no other promotion")
    starts_at = models.DateTimeField()
    ends_at = models.DateTimeField()
    active = models.BooleanField(default=True)
    created_at = models.DateTimeField(default=timezone.now)

    class Meta:
        verbose_name = "促销活动 promotion"
        verbose_name_plural = "促销活动 promotions"
        constraints = [
            *offer_checks("promotion"),
            models.CheckConstraint(condition=Q(ends_at__gt=F("starts_at")), name="promotion_window"),
            # Gifts are handed over at a counter (a free_gift coupon, 核销): online orders do not carry gift lines
            # (no stock is reserved for them), so an automatic gift promotion is refused for now.
            models.CheckConstraint(condition=~Q(kind="free_gift"), name="promotion_no_gift"),
        ]
        indexes = [models.Index(fields=["active", "ends_at"], name="promotion_live")]

    def __str__(self) -> str:
        return self.name


class TemplateStatus(models.TextChoices):
    DRAFT = "draft", "草稿 draft"
    ACTIVE = "active", "进行中 active"
    PAUSED = "paused", "已暂停 paused"
    ENDED = "ended", "已结束 ended"


class CouponTemplate(OfferFields):
    """A coupon campaign: what each coupon gives, where it applies, how long it lasts, how many exist."""

    code = models.SlugField(max_length=40, unique=True, help_text="campaign code, e.g. near-sh027-20261201")
    name = models.CharField(max_length=100)
    name_en = models.CharField(max_length=100, blank=True)
    status = models.CharField(max_length=8, choices=TemplateStatus.choices, default=TemplateStatus.DRAFT)
    claimable = models.BooleanField(default=True, help_text="members may claim it online (领券)")
    staff_issuable = models.BooleanField(default=False, help_text="store staff may hand it to a member")
    auto_on = models.CharField(max_length=16, blank=True, choices=[
        ("", "—"), ("new_member", "新会员 new member"), ("birthday", "生日 birthday"), ("tier", "等级权益 tier")],
        help_text="issued automatically on this occasion")
    redeem_online = models.BooleanField(default=True, help_text="usable at online checkout")
    redeem_offline = models.BooleanField(default=True, help_text="usable at the store counter (核销)")
    claim_starts_at = models.DateTimeField(null=True, blank=True)
    claim_ends_at = models.DateTimeField(null=True, blank=True)
    valid_from = models.DateTimeField(null=True, blank=True, help_text="fixed validity (with valid_until)")
    valid_until = models.DateTimeField(null=True, blank=True)
    valid_days = models.PositiveSmallIntegerField(null=True, blank=True, help_text="or: valid N days from the claim")
    budget = models.PositiveIntegerField(null=True, blank=True, help_text="coupons in all; empty: no limit")
    issued = models.PositiveIntegerField(default=0)
    member_limit = models.PositiveSmallIntegerField(default=1, help_text="coupons per member")
    points_price = models.PositiveIntegerField(null=True, blank=True, help_text=(
        "积分兑换: the points a member pays to claim it (goods or a service voucher for points); empty: free"))
    created_by = models.ForeignKey(settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.PROTECT,
                                   related_name="+")
    created_at = models.DateTimeField(default=timezone.now)

    class Meta:
        verbose_name = "优惠券模板 coupon template"
        verbose_name_plural = "优惠券模板 coupon templates"
        constraints = [
            *offer_checks("coupon_template"),
            models.CheckConstraint(condition=Q(budget__isnull=True) | Q(issued__lte=F("budget")),
                                   name="coupon_template_within_budget"),
            models.CheckConstraint(condition=Q(member_limit__gte=1), name="coupon_template_member_limit"),
            models.CheckConstraint(condition=Q(points_price__isnull=True) | Q(points_price__gte=1),
                                   name="coupon_template_points_price"),
            models.CheckConstraint(
                condition=(Q(valid_days__isnull=False, valid_days__gte=1)
                           | Q(valid_from__isnull=False, valid_until__isnull=False, valid_until__gt=F("valid_from"))),
                name="coupon_template_validity"),
            models.CheckConstraint(condition=Q(redeem_online=True) | Q(redeem_offline=True),
                                   name="coupon_template_redeemable"),
            # A gift is handed over at the counter (核销): online orders carry no gift lines or reservations.
            models.CheckConstraint(condition=~Q(kind="free_gift") | Q(redeem_online=False),
                                   name="coupon_template_gift_in_store"),
            # Automatic coupons (new member, birthday, tier) are not for everyone to claim.
            models.CheckConstraint(condition=Q(auto_on="") | Q(claimable=False), name="coupon_template_auto_not_claimable"),
        ]

    def __str__(self) -> str:
        return f"{self.name} ({self.code})"


class CouponStatus(models.TextChoices):
    AVAILABLE = "available", "可用 available"
    USED = "used", "已使用 used"
    VOID = "void", "已作废 void"


class CouponSource(models.TextChoices):
    CLAIM = "claim", "领取 claimed"
    STAFF = "staff", "门店发放 staff"
    NEARBY = "nearby", "3公里定向 nearby"
    NEW_MEMBER = "new_member", "新会员 new member"
    BIRTHDAY = "birthday", "生日 birthday"
    TIER = "tier", "等级权益 tier"
    CAMPAIGN = "campaign", "活动 campaign"


class Coupon(models.Model):
    template = models.ForeignKey(CouponTemplate, on_delete=models.PROTECT, related_name="coupons")
    member = models.ForeignKey("accounts.Member", on_delete=models.PROTECT, related_name="coupons")
    slot = models.PositiveSmallIntegerField(help_text="1..member_limit: the member's n-th coupon of the template")
    member_limit = models.PositiveSmallIntegerField(help_text="the template's limit when issued")
    code = models.CharField(max_length=16, unique=True, help_text="the code the counter types or scans")
    status = models.CharField(max_length=10, choices=CouponStatus.choices, default=CouponStatus.AVAILABLE)
    source = models.CharField(max_length=12, choices=CouponSource.choices)
    issued_at = models.DateTimeField()
    valid_from = models.DateTimeField()
    valid_until = models.DateTimeField()
    issued_by = models.ForeignKey(settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.PROTECT,
                                  related_name="+")
    issued_at_store = models.ForeignKey("stores.Location", null=True, blank=True, on_delete=models.PROTECT,
                                        related_name="+")
    used_at = models.DateTimeField(null=True, blank=True)
    used_order = models.ForeignKey("orders.Order", null=True, blank=True, on_delete=models.PROTECT,
                                   related_name="coupons")
    used_store = models.ForeignKey("stores.Location", null=True, blank=True, on_delete=models.PROTECT,
                                   related_name="+")
    used_by = models.ForeignKey(settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.PROTECT,
                                related_name="+")
    used_channel = models.CharField(max_length=16, blank=True, help_text="online channel, or counter")

    class Meta:
        verbose_name = "优惠券 coupon"
        verbose_name_plural = "优惠券 coupons"
        constraints = [
            models.UniqueConstraint(fields=["template", "member", "slot"], name="coupon_member_slot_unique"),
            models.CheckConstraint(condition=Q(slot__gte=1, slot__lte=F("member_limit")),
                                   name="coupon_within_member_limit"),
            models.CheckConstraint(condition=Q(status__in=CouponStatus.values), name="coupon_status_valid"),
            models.CheckConstraint(condition=Q(valid_until__gt=F("valid_from")), name="coupon_validity"),
            models.CheckConstraint(
                condition=(Q(status=CouponStatus.USED, used_at__isnull=False) & ~Q(used_channel=""))
                | (~Q(status=CouponStatus.USED) & Q(used_at__isnull=True, used_order__isnull=True,
                                                   used_store__isnull=True, used_by__isnull=True, used_channel="")),
                name="coupon_used_fields"),
        ]
        indexes = [models.Index(fields=["member", "status", "valid_until"], name="coupon_wallet")]

    def __str__(self) -> str:
        return f"{self.template.name} {self.code}"


class CouponEventKind(models.TextChoices):
    ISSUED = "issued", "发放 issued"
    USED = "used", "核销 used"
    RETURNED = "returned", "退回 returned"
    VOIDED = "voided", "作废 voided"


class CouponEvent(models.Model):
    """Append-only history of every coupon: issued, used (online or at the counter), returned, voided."""

    coupon = models.ForeignKey(Coupon, on_delete=models.PROTECT, related_name="events")
    kind = models.CharField(max_length=10, choices=CouponEventKind.choices)
    at = models.DateTimeField()
    user = models.ForeignKey(settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.PROTECT,
                             related_name="+")
    store = models.ForeignKey("stores.Location", null=True, blank=True, on_delete=models.PROTECT, related_name="+")
    order = models.ForeignKey("orders.Order", null=True, blank=True, on_delete=models.PROTECT, related_name="+")
    note = models.CharField(max_length=200, blank=True)

    class Meta:
        verbose_name = "优惠券记录 coupon event"
        verbose_name_plural = "优惠券记录 coupon events"
        constraints = [models.CheckConstraint(condition=Q(kind__in=CouponEventKind.values),
                                              name="coupon_event_kind_valid")]


class MemberReach(models.Model):
    """Where a member can be reached: a home set by the member, and the latest place seen (GCJ-02)."""

    member = models.OneToOneField("accounts.Member", on_delete=models.CASCADE, related_name="reach")
    home_lat = models.FloatField(null=True, blank=True)
    home_lng = models.FloatField(null=True, blank=True)
    home_at = models.DateTimeField(null=True, blank=True)
    recent_lat = models.FloatField(null=True, blank=True)
    recent_lng = models.FloatField(null=True, blank=True)
    recent_at = models.DateTimeField(null=True, blank=True)
    birthday = models.DateField(null=True, blank=True)
    birthday_set_at = models.DateTimeField(
        null=True, blank=True, help_text="when the member or staff set the birthday; None: imported or seeded "
                                         "(birthday coupons wait O2O['BIRTHDAY_COUPON_MIN_DAYS'] after it)")

    class Meta:
        verbose_name = "会员触达 member reach"
        verbose_name_plural = "会员触达 member reach"
        constraints = [
            models.CheckConstraint(condition=Q(home_lat__isnull=True) | Q(home_lat__gte=-90, home_lat__lte=90,
                                                                          home_lng__gte=-180, home_lng__lte=180),
                                   name="member_reach_home_range"),
            models.CheckConstraint(condition=Q(recent_lat__isnull=True) | Q(
                recent_lat__gte=-90, recent_lat__lte=90, recent_lng__gte=-180, recent_lng__lte=180),
                name="member_reach_recent_range"),
        ]
from o2o.marketing.models_appointments import Appointment  # noqa: E402,F401
