from __future__ import annotations

from typing import Any

from django.contrib import admin
from django.contrib.auth.admin import UserAdmin as BaseUserAdmin
from django.http import HttpRequest
from simple_history.admin import SimpleHistoryAdmin

from linli.accounts import actions
from linli.accounts.models import ApiToken, Grant, User
from linli.accounts.types import AuthedRequest


class GrantInline(admin.TabularInline):  # type: ignore[type-arg]  # not subscriptable at run time
    model = Grant
    fk_name = "user"
    extra = 0
    fields = ["role", "place", "grid", "lane", "created_at", "revoked_at"]
    readonly_fields = ["role", "place", "grid", "lane", "created_at", "revoked_at"]
    can_delete = False

    def has_add_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False


@admin.register(User)
class UserAdmin(BaseUserAdmin):  # type: ignore[type-arg]  # not subscriptable at run time
    fieldsets = (
        *(BaseUserAdmin.fieldsets or ()),
        ("Linli", {"fields": ("phone", "display_name")}),
    )
    list_display = ["username", "display_name", "phone", "is_active", "is_staff"]
    search_fields = ["username", "display_name", "phone"]
    inlines = [GrantInline]


@admin.register(Grant)
class GrantAdmin(SimpleHistoryAdmin):  # type: ignore[misc]  # simple_history has no types
    list_display = ["user", "role", "place", "grid", "lane", "created_at", "revoked_at"]
    list_filter = ["role"]
    raw_id_fields = ["user", "place", "grid", "lane"]
    actions = ["revoke"]

    def get_readonly_fields(self, request: HttpRequest, obj: Any = None) -> Any:
        # A grant is never edited: revoke it and grant anew, so the history stays true.
        if obj is not None:
            return [
                "user",
                "role",
                "place",
                "grid",
                "lane",
                "granted_by",
                "created_at",
                "revoked_at",
            ]
        return ["granted_by", "created_at", "revoked_at"]

    def has_delete_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False  # grants are revoked, never deleted

    def save_model(self, request: AuthedRequest, obj: Grant, form: Any, change: bool) -> None:
        if change:
            return  # every field is read-only on an existing grant
        created = actions.grant_role(
            request.user, obj.user, obj.role, place=obj.place, grid=obj.grid, lane=obj.lane
        )
        obj.pk = created.pk

    @admin.action(description="Revoke the selected grants")
    def revoke(self, request: AuthedRequest, queryset: Any) -> None:
        for grant in queryset:
            actions.revoke_grant(request.user, grant)


@admin.register(ApiToken)
class ApiTokenAdmin(admin.ModelAdmin):  # type: ignore[type-arg]  # not subscriptable at run time
    list_display = [
        "name",
        "user",
        "prefix",
        "created_at",
        "expires_at",
        "last_used_at",
        "revoked_at",
    ]
    readonly_fields = [
        "user",
        "name",
        "prefix",
        "created_at",
        "expires_at",
        "last_used_at",
        "revoked_at",
    ]

    def has_add_permission(self, request: HttpRequest) -> bool:
        return False  # tokens are issued on "My account" or with `linli token create`

    def has_delete_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False  # revoked (and audited) through the actions, never deleted
