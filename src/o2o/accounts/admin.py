"""Admin for accounts: staff users with their role and scope, groups, members, and API tokens.

Tokens are shown by label and owner only; the stored SHA-256 is read-only and the raw
token is never stored, so tokens are issued in code (``ApiToken.issue``), not here. A member's
phone number is personal data kept encrypted: it changes through ``o2o.accounts.pii_services``
(never typed into the admin), so its columns are read-only here.
"""

from __future__ import annotations

from django.contrib import admin
from django.contrib.auth.admin import GroupAdmin as DjangoGroupAdmin
from django.contrib.auth.admin import UserAdmin as DjangoUserAdmin
from django.contrib.auth.models import Group
from unfold.admin import ModelAdmin
from unfold.forms import AdminPasswordChangeForm, UserChangeForm, UserCreationForm

from o2o.accounts.models import ApiToken, Member, User
from o2o.common.admin import ChineseLabels

_SCOPE_HELP = "hq：不填区域和门店；region：只填区域；store：只填门店。"


@admin.register(User)
class UserAdmin(ChineseLabels, DjangoUserAdmin, ModelAdmin):
    form = UserChangeForm
    add_form = UserCreationForm
    change_password_form = AdminPasswordChangeForm
    list_display = ("username", "role", "scope", "region", "location", "is_active", "is_staff")
    list_filter = ("role", "scope", "is_active", "is_staff", "is_superuser")
    list_select_related = ("region", "location")
    autocomplete_fields = ("region", "location")
    fieldsets = (
        *DjangoUserAdmin.fieldsets,
        ("角色与范围", {"fields": ("role", "scope", "region", "location"), "description": _SCOPE_HELP}),
    )
    add_fieldsets = (
        *DjangoUserAdmin.add_fieldsets,
        ("角色与范围", {"fields": ("role", "scope", "region", "location"), "description": _SCOPE_HELP}),
    )


if admin.site.is_registered(Group):
    admin.site.unregister(Group)


@admin.register(Group)
class GroupAdmin(DjangoGroupAdmin, ModelAdmin):
    pass


@admin.register(Member)
class MemberAdmin(ChineseLabels, ModelAdmin):
    ordering = ("-pk",)
    list_display = ("id", "display_name", "phone_masked", "is_active", "created_at")
    list_filter = ("is_active",)
    search_fields = ("display_name", "phone_masked")
    fields = ("display_name", "phone_masked", "is_active", "created_at")
    readonly_fields = ("phone_masked", "created_at")


@admin.register(ApiToken)
class ApiTokenAdmin(ChineseLabels, ModelAdmin):
    ordering = ("-pk",)
    list_display = ("id", "label", "user", "member", "revoked", "created_at")
    list_filter = ("revoked",)
    search_fields = ("label", "user__username", "member__display_name")
    list_select_related = ("user", "member")
    fields = ("label", "user", "member", "key_hash", "revoked", "created_at")
    readonly_fields = ("key_hash", "user", "member", "created_at")

    def has_add_permission(self, request) -> bool:  # noqa: ANN001
        return False
