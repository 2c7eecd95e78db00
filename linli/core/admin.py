from __future__ import annotations

from typing import Any

from django.contrib import admin
from django.http import HttpRequest

from linli.core.models import AuditEntry, OutboxMessage


class ReadOnlyAdmin(admin.ModelAdmin):  # type: ignore[type-arg]  # not subscriptable at run time
    def has_add_permission(self, request: HttpRequest) -> bool:
        return False

    def has_change_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False

    def has_delete_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False


@admin.register(AuditEntry)
class AuditEntryAdmin(ReadOnlyAdmin):
    list_display = ["at", "actor_name", "action", "target_type", "target_repr", "ip"]
    list_filter = ["action"]
    search_fields = ["actor_name", "target_repr", "target_id"]
    date_hierarchy = "at"


@admin.register(OutboxMessage)
class OutboxAdmin(ReadOnlyAdmin):
    list_display = ["id", "kind", "created_at", "attempts", "done_at", "failed_at"]
    list_filter = ["kind"]
