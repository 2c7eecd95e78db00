"""The operators' admin: Open311 clients, and the categories with their attributes.

A key is issued through ``open311_keys.issue_key`` and shown once; clients are revoked, never deleted,
so the audit log keeps what each one filed. Categories, attributes and choices are saved through
``catalogue`` (checked and audited)."""

from __future__ import annotations

from typing import Any, cast

from django.contrib import admin, messages
from django.http import HttpRequest
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from linli.accounts.models import User
from linli.cases import catalogue, open311_keys
from linli.cases.models import AttributeValue, Category, CategoryAttribute, Open311Client


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
        client, key = open311_keys.issue_key(
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
            open311_keys.revoke_key(cast(User, request.user), client)


class AttributeInline(admin.TabularInline):  # type: ignore[type-arg]  # not subscriptable at run time
    model = CategoryAttribute
    extra = 0
    fields = ["order", "code", "description", "datatype", "required", "variable"]
    show_change_link = True  # the choices of a list attribute are set on its own page


@admin.register(Category)
class CategoryAdmin(admin.ModelAdmin):  # type: ignore[type-arg]  # not subscriptable at run time
    """Categories with their deadlines and what each asks beside the description (Open311
    service attributes). Switched off with *in use*, never deleted: cases point at them."""

    list_display = ["code", "name", "parent", "response_hours", "resolve_days", "active", "order"]
    list_filter = ["active"]
    search_fields = ["code", "name"]
    inlines = [AttributeInline]

    def get_readonly_fields(self, request: HttpRequest, obj: Any = None) -> Any:
        # The code is the Open311 service_code clients keep: it does not change.
        return ["code"] if obj is not None else []

    def has_delete_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False

    def save_model(self, request: HttpRequest, obj: Category, form: Any, change: bool) -> None:
        catalogue.save(cast(User, request.user), obj)

    def save_formset(self, request: HttpRequest, form: Any, formset: Any, change: bool) -> None:
        _save_formset(cast(User, request.user), formset)


class ValueInline(admin.TabularInline):  # type: ignore[type-arg]  # not subscriptable at run time
    model = AttributeValue
    extra = 1
    fields = ["order", "key", "name"]


@admin.register(CategoryAttribute)
class CategoryAttributeAdmin(admin.ModelAdmin):  # type: ignore[type-arg]  # not subscriptable
    """One attribute, with its choices when its datatype is a list."""

    list_display = ["category", "order", "code", "description", "datatype", "required"]
    list_filter = ["datatype", "required"]
    list_select_related = ["category"]
    search_fields = ["code", "description", "category__code"]
    inlines = [ValueInline]
    fields = [
        "category",
        "order",
        "code",
        "description",
        "datatype",
        "datatype_description",
        "required",
        "variable",
    ]

    def save_model(
        self, request: HttpRequest, obj: CategoryAttribute, form: Any, change: bool
    ) -> None:
        catalogue.save(cast(User, request.user), obj)

    def delete_model(self, request: HttpRequest, obj: CategoryAttribute) -> None:
        catalogue.remove(cast(User, request.user), obj)

    def delete_queryset(self, request: HttpRequest, queryset: Any) -> None:
        for obj in queryset:
            catalogue.remove(cast(User, request.user), obj)

    def save_formset(self, request: HttpRequest, form: Any, formset: Any, change: bool) -> None:
        _save_formset(cast(User, request.user), formset)


def _save_formset(actor: User, formset: Any) -> None:
    """An inline's rows through ``catalogue``: each checked, saved or removed, and audited."""
    instances = formset.save(commit=False)
    for obj in formset.deleted_objects:
        catalogue.remove(actor, obj)
    for obj in instances:
        catalogue.save(actor, obj)
