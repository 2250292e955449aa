"""Member tags (the engine's latest value per member and tag) and saved segments.

One row per (member, tag name): a recomputation replaces the value, its version, its
explanation and ``computed_at`` (the latest is what marketing and staff act on; the version
says which rule produced it and ``as_of`` which data). Segments are rules over tag names,
checked by the core (``o2o.core.profile.segments``) before they are saved.
"""

from __future__ import annotations

from django.conf import settings
from django.db import models
from django.db.models import Q
from django.utils import timezone


class MemberTag(models.Model):
    member = models.ForeignKey("accounts.Member", on_delete=models.CASCADE, related_name="tags")
    name = models.CharField(max_length=64)
    value = models.JSONField(null=True, blank=True, help_text="null: the tag does not apply (see explanation)")
    version = models.PositiveIntegerField()
    explanation = models.TextField()
    visible = models.BooleanField(default=True, help_text="shown to the member themself")
    as_of = models.DateTimeField(help_text="the data cut-off the engine used")
    computed_at = models.DateTimeField(default=timezone.now)

    class Meta:
        verbose_name = "会员标签 member tag"
        verbose_name_plural = "会员标签 member tags"
        constraints = [
            models.UniqueConstraint(fields=["member", "name"], name="member_tag_one_per_name"),
            models.CheckConstraint(condition=Q(version__gte=1), name="member_tag_version_positive"),
        ]
        indexes = [models.Index(fields=["name", "member"], name="member_tag_name")]

    def __str__(self) -> str:
        return f"member#{self.member_id} {self.name}={self.value!r}"


class Segment(models.Model):
    name = models.CharField(max_length=100, unique=True)
    description = models.CharField(max_length=500, blank=True)
    rule = models.JSONField(help_text='e.g. {"all": [{"tag": "tier", "eq": "gold"}, ...]}')
    created_by = models.ForeignKey(settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.PROTECT,
                                   related_name="+")
    created_at = models.DateTimeField(default=timezone.now)
    updated_at = models.DateTimeField(default=timezone.now)

    class Meta:
        verbose_name = "人群 segment"
        verbose_name_plural = "人群 segments"
        constraints = [models.CheckConstraint(condition=~Q(name=""), name="segment_name_not_empty")]

    def __str__(self) -> str:
        return self.name


# Behaviour events (views, cart adds, searches) live in their own module; imported here so Django finds the model.
from o2o.profiles.models_events import BehaviourEvent, EventKind  # noqa: E402,F401
