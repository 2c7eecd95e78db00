"""Operators manage the list of care tags here. Residents are deliberately not in the admin: it is
not scoped and would show personal numbers unmasked and unlogged."""

from __future__ import annotations

from typing import Any

from django.contrib import admin
from django.db import transaction
from django.http import HttpRequest

from linli.core import audit
from linli.people.models import CareTag


@admin.register(CareTag)
class CareTagAdmin(admin.ModelAdmin):  # type: ignore[type-arg]  # not subscriptable at run time
    list_display = ["code", "name", "sensitive", "order"]
    list_editable = ["order"]

    def get_readonly_fields(self, request: HttpRequest, obj: Any = None) -> Any:
        return ["code"] if obj is not None else []

    def has_delete_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False  # residents' tags would go with it; keep the history

    def save_model(self, request: HttpRequest, obj: CareTag, form: Any, change: bool) -> None:
        with transaction.atomic():
            super().save_model(request, obj, form, change)
            audit.record(
                request.user,
                "caretag.save",
                obj,
                data={"code": obj.code, "sensitive": obj.sensitive},
            )
