"""Member tiers (会员等级): each member's current tier and the append-only history of changes.

The pure core (``o2o.core.loyalty.tiers``) decides every change; these tables store its state
and the explanation. The database keeps what a bug or a manual fix could break:

* a tier is one of ``normal / silver / gold / diamond`` (CHECK), the basis figures are never
  negative, one state row per member;
* a history row changes the tier (``from_tier != to_tier``), has a known reason
  (``upgrade`` at once on an order, ``review`` monthly, ``manual`` by HQ, ``merge`` when two
  members merge (OneID) or that merge is undone), and is written once per cause: ``UNIQUE (member,
  ref)`` with ``ref`` = ``order:<id>`` (one upgrade per completed order, however often its event is
  delivered), ``review:<YYYY-MM>`` (one review per month), ``manual:<key>``, ``merge:<id>`` and
  ``merge:<id>:undo``;
* a monthly review is claimed by a conditional UPDATE of ``reviewed_month`` (``WHERE
  reviewed_month < 'YYYY-MM'``), so a second run in the same month changes nothing even for
  the members the first run left as they were.

A member without a state row is ``normal`` with no figures (rows are created on first need).
"""

from __future__ import annotations

from django.conf import settings
from django.db import models
from django.db.models import Q
from django.utils import timezone

from o2o.core.loyalty import TIER_ORDER

TIER_VALUES = [t.value for t in TIER_ORDER]
TIER_CHOICES = [(t.value, f"{t.label} {t.value}") for t in TIER_ORDER]


class TierReason(models.TextChoices):
    UPGRADE = "upgrade", "订单升级 upgrade on an order"
    REVIEW = "review", "月度评定 monthly review"
    MANUAL = "manual", "总部调整 set by HQ"
    MERGE = "merge", "会员合并 member merge"


class TierState(models.Model):
    """A member's tier now, when it began, until when it is protected, and the figures it rests on."""

    member = models.OneToOneField("accounts.Member", on_delete=models.PROTECT, related_name="tier_state")
    tier = models.CharField(max_length=16, choices=TIER_CHOICES, default=TIER_ORDER[0].value)
    since = models.DateTimeField(default=timezone.now, help_text="when the member got this tier")
    achieved_at = models.DateTimeField(null=True, blank=True,
                                       help_text="the upgrade that gave this tier (the core's achieved_at); "
                                                 "null after a downgrade, a manual set or for normal")
    protected_until = models.DateTimeField(null=True, blank=True,
                                           help_text="the tier cannot be lowered by a review before this")
    growth = models.BigIntegerField(default=0, help_text="成长值 growth value, at basis_at")
    spend_12m_fen = models.BigIntegerField(default=0, help_text="近12个月消费 net paid spend of the trailing "
                                                                 "12 months, every channel, in fen, at basis_at")
    basis_at = models.DateTimeField(null=True, blank=True, help_text="when the figures were computed")
    reviewed_month = models.CharField(max_length=7, blank=True, default="",
                                      help_text="YYYY-MM of the last monthly review (China time)")
    updated_at = models.DateTimeField(default=timezone.now)

    class Meta:
        verbose_name = "会员等级 member tier"
        verbose_name_plural = "会员等级 member tiers"
        constraints = [
            models.CheckConstraint(condition=Q(tier__in=TIER_VALUES), name="tier_state_tier_valid"),
            models.CheckConstraint(condition=Q(growth__gte=0, spend_12m_fen__gte=0),
                                   name="tier_state_figures_not_negative"),
            models.CheckConstraint(condition=Q(protected_until__isnull=True) | Q(achieved_at__isnull=False),
                                   name="tier_state_protection_needs_upgrade"),
        ]
        indexes = [models.Index(fields=["tier"], name="tier_state_by_tier")]

    def __str__(self) -> str:
        return f"member#{self.member_id}: {self.tier}"


class TierHistory(models.Model):
    """One tier change (never edited): from, to, why, when, and the figures at that moment."""

    member = models.ForeignKey("accounts.Member", on_delete=models.PROTECT, related_name="tier_history")
    from_tier = models.CharField(max_length=16, choices=TIER_CHOICES)
    to_tier = models.CharField(max_length=16, choices=TIER_CHOICES)
    reason = models.CharField(max_length=16, choices=TierReason.choices)
    ref = models.CharField(max_length=120, help_text="the cause, once per member: order:<id>, review:<YYYY-MM>, "
                                                     "manual:<key>, merge:<id>[:undo]")
    note = models.CharField(max_length=400, blank=True, help_text="why, bilingual (the core's note or HQ's reason)")
    at = models.DateTimeField()
    growth = models.BigIntegerField(default=0)
    spend_12m_fen = models.BigIntegerField(default=0)
    by_user = models.ForeignKey(settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.PROTECT,
                                related_name="+", help_text="the HQ user, for a manual change")

    class Meta:
        verbose_name = "等级变动 tier change"
        verbose_name_plural = "等级变动 tier history"
        constraints = [
            models.UniqueConstraint(fields=["member", "ref"], name="tier_history_once_per_cause"),
            models.CheckConstraint(condition=Q(from_tier__in=TIER_VALUES, to_tier__in=TIER_VALUES),
                                   name="tier_history_tiers_valid"),
            models.CheckConstraint(condition=~Q(from_tier=models.F("to_tier")), name="tier_history_changes_tier"),
            models.CheckConstraint(condition=Q(reason__in=TierReason.values), name="tier_history_reason_valid"),
            models.CheckConstraint(condition=Q(growth__gte=0, spend_12m_fen__gte=0),
                                   name="tier_history_figures_not_negative"),
        ]
        indexes = [models.Index(fields=["member", "-at"], name="tier_history_recent")]

    def __str__(self) -> str:
        return f"member#{self.member_id}: {self.from_tier} -> {self.to_tier} ({self.reason})"


class TierRule(models.Model):
    """HQ's rule for one tier, edited in the admin: the threshold and the benefits. A tier without a row keeps
    ``O2O["TIERS"]`` (settings); a row overrides it (``tiers.tier_policy``). The admin checks the whole
    policy (thresholds rising from normal = 0) before a row is saved."""

    tier = models.CharField(max_length=10, choices=TIER_CHOICES, unique=True)
    threshold = models.BigIntegerField(help_text="fen of 12-month spend (or growth value) to reach the tier")
    discount_percent = models.PositiveSmallIntegerField(default=0, help_text="% off goods (5 = 95折)")
    free_delivery = models.BooleanField(default=False)
    free_installation = models.BooleanField(default=False, help_text="免费安装 / 上门服务")
    dedicated_service = models.BooleanField(default=False, help_text="专属客服")
    updated_by = models.ForeignKey(settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.PROTECT,
                                   related_name="+")
    updated_at = models.DateTimeField(default=timezone.now)

    class Meta:
        verbose_name = "会员等级规则 tier rule"
        verbose_name_plural = "会员等级规则 tier rules"
        constraints = [
            models.CheckConstraint(condition=Q(tier__in=TIER_VALUES), name="tier_rule_tier_valid"),
            models.CheckConstraint(condition=Q(threshold__gte=0), name="tier_rule_threshold_not_negative"),
            models.CheckConstraint(condition=Q(discount_percent__lte=100), name="tier_rule_percent_range"),
            models.CheckConstraint(condition=~Q(tier="normal") | Q(threshold=0), name="tier_rule_normal_from_zero"),
        ]

    def __str__(self) -> str:
        return self.get_tier_display()
