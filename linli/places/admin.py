from __future__ import annotations

from typing import Any

from django.contrib import admin
from django.http import HttpRequest
from simple_history.admin import SimpleHistoryAdmin

from linli.places import actions
from linli.places.models import Grid, Lane, Place


@admin.register(Place)
class PlaceAdmin(SimpleHistoryAdmin):
    list_display = ["name", "kind", "code", "path", "grid", "lane"]
    list_filter = ["kind"]
    search_fields = ["name", "code", "=path"]
    raw_id_fields = ["parent", "grid", "lane"]
    readonly_fields = ["path"]

    def has_delete_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False  # places are retired (``retired_at``), never deleted

    def save_model(self, request: HttpRequest, obj: Place, form: Any, change: bool) -> None:
        if change:
            # Writes go through actions so that they are validated and audited.
            actions.rename_place(request.user, obj, name=obj.name, code=obj.code)
            Place.objects.filter(pk=obj.pk).update(
                floors=obj.floors,
                floor=obj.floor,
                floor_area=obj.floor_area,
                lon=obj.lon,
                lat=obj.lat,
                address=obj.address,
                retired_at=obj.retired_at,
            )
            return
        created = actions.create_place(
            request.user,
            kind=obj.kind,
            code=obj.code,
            name=obj.name,
            parent=obj.parent,
            floors=obj.floors,
            floor=obj.floor,
            floor_area=obj.floor_area,
            lon=obj.lon,
            lat=obj.lat,
            address=obj.address,
        )
        obj.pk = created.pk
        obj.path = created.path


@admin.register(Grid)
class GridAdmin(SimpleHistoryAdmin):
    list_display = ["code", "name", "community"]
    search_fields = ["code", "name"]
    raw_id_fields = ["community"]


@admin.register(Lane)
class LaneAdmin(SimpleHistoryAdmin):
    list_display = ["code", "name", "kind", "community"]
    search_fields = ["code", "name"]
    raw_id_fields = ["community"]
