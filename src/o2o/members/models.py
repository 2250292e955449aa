"""Points (积分): one account per member, its lots and the append-only ledger of entries.

The pure core (``o2o.core.loyalty``) decides every change; these tables store its state
(lots, debt) and the entries that explain it. The database keeps the invariants a bug or a
manual fix could break: a lot never holds more than it earned nor less than nothing, the
account's ``balance`` (points in lots) and ``debt`` never go negative, and an operation's
entries are written once (``UNIQUE (account, op, seq)``: ``op`` is the operation's
idempotency key, e.g. ``earn:order:12``), so a retried earn or spend never applies twice.

The member's net points are ``balance - debt`` and always equal the sum of the entries
(``o2o check-points`` proves it).
"""

from __future__ import annotations

from django.db import models
from django.db.models import F, Q
from django.utils import timezone

from o2o.core.loyalty import EntryKind


class PointsAccount(models.Model):
    member = models.OneToOneField("accounts.Member", on_delete=models.PROTECT, related_name="points_account")
    balance = models.BigIntegerField(default=0, help_text="points left in the lots (expired-but-unswept included)")
    debt = models.BigIntegerField(default=0, help_text="points taken back by a refund after they were spent")
    updated_at = models.DateTimeField(default=timezone.now)

    class Meta:
        verbose_name = "积分账户 points account"
        verbose_name_plural = "积分账户 points accounts"
        constraints = [
            models.CheckConstraint(condition=Q(balance__gte=0), name="points_account_balance_not_negative"),
            models.CheckConstraint(condition=Q(debt__gte=0), name="points_account_debt_not_negative"),
        ]

    def __str__(self) -> str:
        return f"points of member#{self.member_id}: {self.balance - self.debt}"

    @property
    def net(self) -> int:
        return self.balance - self.debt


class PointsLot(models.Model):
    """Points earned at once (积分批次): spent soonest expiry first, expired as a whole."""

    account = models.ForeignKey(PointsAccount, on_delete=models.PROTECT, related_name="lots")
    no = models.PositiveIntegerField(help_text="the lot's number within the account (the core's lot id)")
    ref = models.CharField(max_length=120, help_text="what earned it, e.g. order:12; unique per account")
    points = models.BigIntegerField()
    remaining = models.BigIntegerField()
    reversed = models.BigIntegerField(default=0, help_text="points of this earning taken back by refunds")
    earned_at = models.DateTimeField()
    expires_at = models.DateTimeField(help_text="exclusive: usable while now < expires_at")
    basis_fen = models.BigIntegerField(null=True, blank=True, help_text="for an order: the fen it earned on")
    basis_refunded_fen = models.BigIntegerField(default=0, help_text="the order's refunded fen when it earned")
    campaign = models.CharField(max_length=40, blank=True, help_text="the points campaign that multiplied it")

    class Meta:
        verbose_name = "积分批次 points lot"
        verbose_name_plural = "积分批次 points lots"
        constraints = [
            models.UniqueConstraint(fields=["account", "ref"], name="points_lot_ref_unique"),
            models.UniqueConstraint(fields=["account", "no"], name="points_lot_no_unique"),
            models.CheckConstraint(condition=Q(points__gte=1), name="points_lot_points_positive"),
            models.CheckConstraint(condition=Q(remaining__gte=0, remaining__lte=F("points")),
                                   name="points_lot_remaining_within"),
            models.CheckConstraint(condition=Q(reversed__gte=0, reversed__lte=F("points")),
                                   name="points_lot_reversed_within"),
        ]
        indexes = [models.Index(fields=["expires_at"], condition=Q(remaining__gt=0), name="points_lot_expiring")]

    def __str__(self) -> str:
        return f"{self.ref}: {self.remaining}/{self.points}"


class PointsEntry(models.Model):
    """One ledger row (never edited): ``points`` signed, into or out of ``lot`` (None: the debt account)."""

    account = models.ForeignKey(PointsAccount, on_delete=models.PROTECT, related_name="entries")
    kind = models.CharField(max_length=16, choices=[(k.value, k.value) for k in EntryKind])
    points = models.BigIntegerField()
    lot = models.ForeignKey(PointsLot, null=True, blank=True, on_delete=models.PROTECT, related_name="entries")
    ref = models.CharField(max_length=120, help_text="the core's reference (order:12, the spend's ref, expiry)")
    op = models.CharField(max_length=160, help_text="the operation's idempotency key (earn:order:12, spend:...)")
    seq = models.PositiveIntegerField(help_text="the entry's position within its operation")
    at = models.DateTimeField()

    class Meta:
        verbose_name = "积分流水 points entry"
        verbose_name_plural = "积分流水 points entries"
        constraints = [
            models.UniqueConstraint(fields=["account", "op", "seq"], name="points_entry_once_per_op"),
            models.CheckConstraint(condition=~Q(points=0), name="points_entry_not_zero"),
            models.CheckConstraint(condition=Q(kind__in=[k.value for k in EntryKind]), name="points_entry_kind_valid"),
        ]
        indexes = [models.Index(fields=["account", "-id"], name="points_entry_recent")]

    def __str__(self) -> str:
        return f"{self.kind} {self.points:+d} {self.ref}"


# Tiers (会员等级) and member codes (会员码) live in their own modules; imported here so Django finds the models.
from o2o.members.models_campaigns import PointsCampaign  # noqa: E402,F401
from o2o.members.models_codes import LookupAttempt, MemberCode  # noqa: E402,F401
from o2o.members.models_tiers import TierHistory, TierReason, TierRule, TierState  # noqa: E402,F401
