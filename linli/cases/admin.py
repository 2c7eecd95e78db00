"""The operators' admin for Open311 clients: a key is issued through ``open311.issue_key`` and
shown once; clients are revoked, never deleted, so the audit log keeps what each one filed."""

from __future__ import annotations

from typing import Any, cast

from django.contrib import admin, messages
from django.http import HttpRequest
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from linli.accounts.models import User
from linli.cases import open311
from linli.cases.models import Open311Client


@admin.register(Open311Client)
class Open311ClientAdmin(admin.ModelAdmin):  # type: ignore[type-arg]  # not subscriptable at run time
    list_display = [
        "name",
        "community",
        "key_prefix",
        "hourly_limit",
        "created_at",
        "last_used_at",
        "revoked_at",
    ]
    list_filter = ["revoked_at"]
    search_fields = ["name", "=key_prefix"]
    list_select_related = ["community"]
    actions = ["revoke"]

    def get_fields(self, request: HttpRequest, obj: Any = None) -> Any:
        if obj is None:
            return ["name", "community", "hourly_limit"]
        return [
            "name",
            "community",
            "hourly_limit",
            "key_prefix",
            "created_at",
            "last_used_at",
            "revoked_at",
        ]

    def get_readonly_fields(self, request: HttpRequest, obj: Any = None) -> Any:
        if obj is None:
            return []
        # A key files into the community it was issued for: issue a new one to change it.
        return ["community", "key_prefix", "created_at", "last_used_at", "revoked_at"]

    def has_delete_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False  # revoked (and audited), never deleted

    def save_model(self, request: HttpRequest, obj: Open311Client, form: Any, change: bool) -> None:
        if change:
            obj.save(update_fields=["name", "hourly_limit"])
            return
        # The form has run the model's checks (``Open311Client.clean``).
        staff = cast(User, request.user)  # the admin site needs a staff login
        client, key = open311.issue_key(
            staff, obj.name, obj.community, hourly_limit=obj.hourly_limit
        )
        obj.pk = client.pk
        obj.key_prefix, obj.key_digest, obj.created_at = (
            client.key_prefix,
            client.key_digest,
            client.created_at,
        )
        messages.warning(
            request,
            _("The key for %(name)s, shown only this once: %(key)s")
            % {"name": client.name, "key": key},
        )

    @admin.action(description=gettext_lazy("Revoke the selected keys"))
    def revoke(self, request: HttpRequest, queryset: Any) -> None:
        for client in queryset.select_related("community"):
            open311.revoke_key(cast(User, request.user), client)
