"""Accounts: staff users (role + scope) and members (customers), kept apart.

Staff sign in to the admin and the store console; members are customers of any channel.
Both may call the API with a bearer token.
"""

from __future__ import annotations

import hashlib
import secrets

from django.contrib.auth.models import AbstractUser
from django.db import models
from django.db.models import F, Q

from o2o.accounts.identity_rules import BACKEND_CHANNELS, CHANNELS, PER_APP, IdentityKind
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


class ChannelBackend(models.Model):
    """What a ``channel_backend`` account may vouch for: ONE channel (``identity_rules.BACKEND_KINDS`` says which
    identity kinds that channel verifies) and, for the per-app kinds (openids), the app ids it serves. Set by
    ``o2o channel-backend-token --channel ... --app-id ...``; an account without a row may vouch for nothing."""

    user = models.OneToOneField(User, primary_key=True, on_delete=models.CASCADE, related_name="channel_backend")
    channel = models.CharField(max_length=16, choices=[(c, c) for c in BACKEND_CHANNELS])
    app_ids = models.JSONField(default=list, blank=True, help_text="WeChat / Douyin app ids (per-app kinds only)")
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        verbose_name = "渠道后端 channel backend"
        verbose_name_plural = "渠道后端 channel backends"
        constraints = [
            models.CheckConstraint(condition=Q(channel__in=BACKEND_CHANNELS), name="channel_backend_channel_valid"),
        ]

    def __str__(self) -> str:
        return f"{self.user_id}: {self.channel} {self.app_ids}"


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
    registered_channel = models.CharField(max_length=16, blank=True, help_text="the channel of the first sign-in")
    merged_into = models.ForeignKey("self", null=True, blank=True, on_delete=models.PROTECT, related_name="+",
                                    help_text="the member this one was merged into (then inactive)")
    deleted_at = models.DateTimeField(null=True, blank=True,
                                      help_text="注销 when the member's personal data was erased (then inactive)")

    class Meta:
        verbose_name = "会员 member"
        verbose_name_plural = "会员 members"
        constraints = [
            models.CheckConstraint(condition=Q(merged_into__isnull=True) | Q(is_active=False),
                                   name="member_merged_is_inactive"),
            models.CheckConstraint(condition=~Q(merged_into=F("id")), name="member_not_merged_into_itself"),
            models.CheckConstraint(condition=Q(deleted_at__isnull=True) | Q(is_active=False),
                                   name="member_deleted_is_inactive"),
        ]

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
    action = models.CharField(max_length=16, default="reveal", help_text="reveal | export | deletion")
    reason = models.CharField(max_length=200)
    at = models.DateTimeField(auto_now_add=True)

    class Meta:
        verbose_name = "个人信息访问记录 personal data access"
        verbose_name_plural = "个人信息访问记录 personal data access"
        indexes = [models.Index(fields=["member", "at"], name="pii_access_member_time")]


_CHANNEL_OK = Q(channel__in=list(CHANNELS))


class MemberIdentity(models.Model):
    """One identifier of a member (OneID): a phone, an openid, a card... It belongs to one member at a time
    (``UNIQUE (kind, value_index)``). The value is encrypted (``accounts.pii``), found by its blind index
    and shown masked; a phone identity shares ``Member.phone_index``'s index and ciphertext format."""

    member = models.ForeignKey(Member, on_delete=models.PROTECT, related_name="identities")
    kind = models.CharField(max_length=24, choices=[(k.value, k.label) for k in IdentityKind])
    app_id = models.CharField(max_length=64, blank=True, help_text="the WeChat / Douyin app the openid belongs to")
    value_enc = models.TextField(help_text="AES-256-GCM, v1.<key id>.<data>")
    value_index = models.CharField(max_length=64, help_text="HMAC-SHA256 blind index")
    value_masked = models.CharField(max_length=40)
    channel = models.CharField(max_length=16, help_text="the channel it was first seen on")
    first_seen_at = models.DateTimeField()
    last_seen_at = models.DateTimeField()

    class Meta:
        verbose_name = "会员身份 member identity"
        verbose_name_plural = "会员身份 member identities"
        constraints = [
            models.UniqueConstraint(fields=["kind", "value_index"], name="member_identity_one_owner"),
            models.CheckConstraint(condition=Q(kind__in=[k.value for k in IdentityKind]),
                                   name="member_identity_kind_valid"),
            models.CheckConstraint(condition=Q(kind__in=sorted(PER_APP), app_id__gt="")
                                   | (~Q(kind__in=sorted(PER_APP)) & Q(app_id="")),
                                   name="member_identity_app_id_per_kind"),
            models.CheckConstraint(condition=_CHANNEL_OK, name="member_identity_channel_valid"),
            models.CheckConstraint(condition=Q(last_seen_at__gte=F("first_seen_at")),
                                   name="member_identity_seen_in_order"),
        ]
        indexes = [models.Index(fields=["member", "kind"], name="member_identity_member")]

    def __str__(self) -> str:
        return f"{self.kind} {self.value_masked} -> member#{self.member_id}"


class MemberChannel(models.Model):
    """When a member was first and last seen on a channel (one row per member and channel)."""

    member = models.ForeignKey(Member, on_delete=models.PROTECT, related_name="channels")
    channel = models.CharField(max_length=16)
    first_seen_at = models.DateTimeField()
    last_seen_at = models.DateTimeField()

    class Meta:
        verbose_name = "会员渠道 member channel"
        verbose_name_plural = "会员渠道 member channels"
        constraints = [
            models.UniqueConstraint(fields=["member", "channel"], name="member_channel_once"),
            models.CheckConstraint(condition=_CHANNEL_OK, name="member_channel_valid"),
            models.CheckConstraint(condition=Q(last_seen_at__gte=F("first_seen_at")),
                                   name="member_channel_seen_in_order"),
        ]


class MemberMerge(models.Model):
    """Two members made one (``members.merge``): ``merged`` moved into ``survivor``. ``moved`` lists the id of
    every row that moved (and what changed on it), so HQ staff can undo exactly that."""

    survivor = models.ForeignKey(Member, on_delete=models.PROTECT, related_name="+")
    merged = models.ForeignKey(Member, on_delete=models.PROTECT, related_name="+")
    identity = models.ForeignKey(MemberIdentity, null=True, blank=True, on_delete=models.SET_NULL, related_name="+",
                                 help_text="the identity whose link caused the merge")
    reason = models.CharField(max_length=200, blank=True)
    by_user = models.ForeignKey(User, null=True, blank=True, on_delete=models.PROTECT, related_name="+")
    by_member = models.ForeignKey(Member, null=True, blank=True, on_delete=models.PROTECT, related_name="+")
    at = models.DateTimeField()
    moved = models.JSONField(default=dict)
    undone_at = models.DateTimeField(null=True, blank=True)
    undone_by = models.ForeignKey(User, null=True, blank=True, on_delete=models.PROTECT, related_name="+")

    class Meta:
        verbose_name = "会员合并 member merge"
        verbose_name_plural = "会员合并 member merges"
        constraints = [
            models.CheckConstraint(condition=~Q(survivor=F("merged")), name="member_merge_two_members"),
            models.UniqueConstraint(fields=["merged"], condition=Q(undone_at__isnull=True),
                                    name="member_merge_once_at_a_time"),
        ]
        indexes = [models.Index(fields=["survivor", "-at"], name="member_merge_survivor")]

    def __str__(self) -> str:
        return f"merge #{self.pk}: member#{self.merged_id} -> member#{self.survivor_id}"
