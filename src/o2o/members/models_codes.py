"""Member codes (会员码): the short-lived code a member shows at the counter, like a WeChat/Alipay member code.

A code is 18 digits: the prefix ``88`` (so a scanner's input is told apart from a phone number,
which starts with ``1``), 15 random digits (``secrets``) and a Damm check digit (a typo is caught
before any look-up). It lives ``O2O["MEMBER_CODE_TTL_S"]`` seconds (120 by default); asking again
gives a fresh code and deletes the member's older ones: one live code per member (``members.codes``).

The database keeps: every code is unique (``UNIQUE (code)``: a random collision is retried), has the
prefix, and expires after it was issued (``CHECK expires_at > issued_at``).
"""

from __future__ import annotations

from django.db import models
from django.db.models import F, Q

CODE_PREFIX = "88"
CODE_DIGITS = 18


class MemberCode(models.Model):
    code = models.CharField(max_length=CODE_DIGITS, unique=True, help_text="18 digits: 88 + 15 random + check digit")
    member = models.ForeignKey("accounts.Member", on_delete=models.CASCADE, related_name="member_codes")
    issued_at = models.DateTimeField()
    expires_at = models.DateTimeField(help_text="exclusive: valid while now < expires_at")

    class Meta:
        verbose_name = "会员码 member code"
        verbose_name_plural = "会员码 member codes"
        constraints = [
            models.CheckConstraint(condition=Q(expires_at__gt=F("issued_at")), name="member_code_expires_after_issue"),
            models.CheckConstraint(condition=Q(code__startswith=CODE_PREFIX), name="member_code_prefix"),
        ]
        indexes = [
            models.Index(fields=["expires_at"], name="member_code_expiry"),
            models.Index(fields=["member", "-issued_at"], name="member_code_member_recent"),
        ]

    def __str__(self) -> str:
        return f"member code of member#{self.member_id} until {self.expires_at:%H:%M:%S}"


class LookupAttempt(models.Model):
    """Every staff look-up of a member (phone, member code, card), found or not: the audit of misses (a clerk
    guessing phone numbers leaves a trail; hits are also in the PII access log) and the base of the per-user
    limit. The value looked up is never stored."""

    user = models.ForeignKey("accounts.User", on_delete=models.PROTECT, related_name="+")
    way = models.CharField(max_length=8)
    found = models.PositiveSmallIntegerField(help_text="members found")
    at = models.DateTimeField()

    class Meta:
        verbose_name = "会员查询记录 member look-up"
        verbose_name_plural = "会员查询记录 member look-ups"
        constraints = [models.CheckConstraint(condition=Q(way__in=["phone", "code", "card"]),
                                              name="lookup_attempt_way_valid")]
        indexes = [models.Index(fields=["user", "at"], name="lookup_attempt_user_time")]
