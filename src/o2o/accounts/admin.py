"""Admin for accounts: staff users with their role and scope, members, and API tokens.

Tokens are shown by label and owner only; the stored SHA-256 is read-only and the raw
token is never stored, so tokens are issued in code (``ApiToken.issue``), not here.
"""

from __future__ import annotations

from django.contrib import admin
from django.contrib.auth.admin import UserAdmin as DjangoUserAdmin

from o2o.accounts.models import ApiToken, Member, User


@admin.register(User)
class UserAdmin(DjangoUserAdmin):
    list_display = ("username", "role", "scope", "region", "location", "is_active", "is_staff")
    list_filter = ("role", "scope", "is_active", "is_staff", "is_superuser")
    list_select_related = ("region", "location")
    autocomplete_fields = ("region", "location")
    fieldsets = (
        *DjangoUserAdmin.fieldsets,
        ("角色与范围 Role and scope", {
            "fields": ("role", "scope", "region", "location"),
            "description": "hq: 不填区域和门店 no region, no store; region: 只填区域 region only; "
                           "store: 只填门店 store only.",
        }),
    )
    add_fieldsets = (
        *DjangoUserAdmin.add_fieldsets,
        ("角色与范围 Role and scope", {"fields": ("role", "scope", "region", "location")}),
    )


@admin.register(Member)
class MemberAdmin(admin.ModelAdmin):
    ordering = ("-pk",)
    list_display = ("id", "display_name", "phone_masked", "is_active", "created_at")
    list_filter = ("is_active",)
    search_fields = ("display_name", "phone_masked")
    readonly_fields = ("created_at",)


@admin.register(ApiToken)
class ApiTokenAdmin(admin.ModelAdmin):
    ordering = ("-pk",)
    list_display = ("id", "label", "user", "member", "revoked", "created_at")
    list_filter = ("revoked",)
    search_fields = ("label", "user__username", "member__display_name")
    list_select_related = ("user", "member")
    fields = ("label", "user", "member", "key_hash", "revoked", "created_at")
    readonly_fields = ("key_hash", "user", "member", "created_at")

    def has_add_permission(self, request) -> bool:  # noqa: ANN001
        return False
