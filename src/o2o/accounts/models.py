"""Accounts: staff users (role + scope) and members (customers), kept apart.

Staff sign in to the admin and the store console; members are customers of any channel.
Both may call the API with a bearer token.
"""

from __future__ import annotations

import hashlib
import secrets

from django.contrib.auth.models import AbstractUser
from django.db import models
from django.db.models import Q

from o2o.core.access import Role, ScopeKind


class User(AbstractUser):
    """A staff account. ``role`` says what it may do, the scope where."""

    role = models.CharField(max_length=32, choices=[(r.value, r.label) for r in Role], default=Role.CLERK.value)
    scope = models.CharField(max_length=16, choices=[(s.value, s.value) for s in ScopeKind], default=ScopeKind.STORE.value)
    region = models.ForeignKey("stores.Region", null=True, blank=True, on_delete=models.PROTECT, related_name="+")
    location = models.ForeignKey("stores.Location", null=True, blank=True, on_delete=models.PROTECT, related_name="staff")

    class Meta:
        verbose_name = "员工 staff user"
        verbose_name_plural = "员工 staff users"
        constraints = [
            models.CheckConstraint(
                name="user_scope_matches_target",
                condition=(
                    Q(scope="hq", region__isnull=True, location__isnull=True)
                    | Q(scope="region", region__isnull=False, location__isnull=True)
                    | Q(scope="store", location__isnull=False, region__isnull=True)
                ),
            ),
        ]


class Member(models.Model):
    """A customer account, separate from staff.

    The phone number is stored encrypted (``phone_enc``, AES-256-GCM, ``accounts.pii``), found
    through its keyed blind index (``phone_index``) and shown masked (``phone_masked``).
    """

    display_name = models.CharField(max_length=64, blank=True)
    phone_masked = models.CharField(max_length=16, blank=True)
    phone_enc = models.TextField(blank=True, help_text="AES-256-GCM, v1.<key id>.<data>")
    phone_index = models.CharField(max_length=64, blank=True, db_index=True, help_text="HMAC-SHA256 blind index")
    created_at = models.DateTimeField(auto_now_add=True)
    is_active = models.BooleanField(default=True)

    class Meta:
        verbose_name = "会员 member"
        verbose_name_plural = "会员 members"

    def __str__(self) -> str:
        return self.display_name or f"member#{self.pk}"


def hash_token(raw: str) -> str:
    return hashlib.sha256(raw.encode()).hexdigest()


class ApiToken(models.Model):
    """A bearer token for a staff user or a member; only its SHA-256 is stored."""

    key_hash = models.CharField(max_length=64, unique=True)
    label = models.CharField(max_length=64, blank=True)
    user = models.ForeignKey(User, null=True, blank=True, on_delete=models.CASCADE, related_name="api_tokens")
    member = models.ForeignKey(Member, null=True, blank=True, on_delete=models.CASCADE, related_name="api_tokens")
    created_at = models.DateTimeField(auto_now_add=True)
    revoked = models.BooleanField(default=False)

    class Meta:
        constraints = [
            models.CheckConstraint(
                name="token_has_exactly_one_owner",
                condition=Q(user__isnull=False, member__isnull=True) | Q(user__isnull=True, member__isnull=False),
            ),
        ]

    @classmethod
    def issue(cls, *, user: User | None = None, member: Member | None = None, label: str = "",
              raw: str | None = None) -> tuple[ApiToken, str]:
        raw = raw or secrets.token_urlsafe(32)
        token = cls.objects.create(key_hash=hash_token(raw), user=user, member=member, label=label)
        return token, raw


class PiiAccessLog(models.Model):
    """Every reveal or export of personal data: who, whose, what, why, when."""

    user = models.ForeignKey(User, null=True, blank=True, on_delete=models.PROTECT, related_name="+")
    member = models.ForeignKey(Member, on_delete=models.PROTECT, related_name="pii_access")
    field = models.CharField(max_length=32)
    action = models.CharField(max_length=16, default="reveal", help_text="reveal | export")
    reason = models.CharField(max_length=200)
    at = models.DateTimeField(auto_now_add=True)

    class Meta:
        verbose_name = "个人信息访问记录 personal data access"
        verbose_name_plural = "个人信息访问记录 personal data access"
        indexes = [models.Index(fields=["member", "at"], name="pii_access_member_time")]
