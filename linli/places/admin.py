"""The operators' admin for the place tree. Every save goes through ``places.actions`` so that it
is validated, keeps the paths right and is audited."""

from __future__ import annotations

from typing import Any

from django.contrib import admin
from django.http import HttpRequest
from simple_history.admin import SimpleHistoryAdmin

from linli.accounts.types import AuthedRequest
from linli.places import actions
from linli.places.models import Grid, Lane, Place, PlaceKind


@admin.register(Place)
class PlaceAdmin(SimpleHistoryAdmin):  # type: ignore[misc]  # simple_history has no types
    list_display = ["name", "kind", "code", "path", "grid", "lane"]
    list_filter = ["kind"]
    search_fields = ["name", "code", "=path"]
    raw_id_fields = ["parent", "grid", "lane"]
    readonly_fields = ["path"]

    def get_readonly_fields(self, request: HttpRequest, obj: Any = None) -> Any:
        if obj is None:
            return ["path"]
        # A place does not move in the tree; its kind is what it is. Only buildings are put in
        # grids and on lanes (their units and dwellings follow).
        fixed = ["path", "kind", "parent"]
        if obj.kind != PlaceKind.BUILDING:
            fixed += ["grid", "lane"]
        return fixed

    def has_delete_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False  # places are retired (``retired_at``), never deleted

    def save_model(self, request: AuthedRequest, obj: Place, form: Any, change: bool) -> None:
        if not change:
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
            obj.pk, obj.path = created.pk, created.path
            if obj.kind == PlaceKind.BUILDING and (obj.grid_id or obj.lane_id):
                actions.assign_buildings(request.user, [created], grid=obj.grid, lane=obj.lane)
            return
        changes = {f: getattr(obj, f) for f in actions.EDITABLE_PLACE_FIELDS}
        actions.update_place(request.user, obj, **changes)
        if obj.kind == PlaceKind.BUILDING and {"grid", "lane"} & set(form.changed_data):
            actions.assign_buildings(
                request.user,
                [obj],
                grid=obj.grid,
                lane=obj.lane,
                clear_grid=obj.grid is None,
                clear_lane=obj.lane is None,
            )


class _CommunityPartAdmin(SimpleHistoryAdmin):  # type: ignore[misc]  # simple_history has no types
    """A grid or a lane: made in a community; its community and code never change, and it is
    never deleted."""

    search_fields = ["code", "name"]
    raw_id_fields = ["community"]

    def get_readonly_fields(self, request: HttpRequest, obj: Any = None) -> Any:
        return ["community", "code"] if obj is not None else []

    def has_delete_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False


@admin.register(Grid)
class GridAdmin(_CommunityPartAdmin):
    list_display = ["code", "name", "community"]

    def save_model(self, request: AuthedRequest, obj: Grid, form: Any, change: bool) -> None:
        if change:
            actions.update_grid(request.user, obj, name=obj.name, polygon=obj.polygon)
            return
        created = actions.create_grid(
            request.user,
            community=obj.community,
            code=obj.code,
            name=obj.name,
            polygon=obj.polygon,
        )
        obj.pk = created.pk


@admin.register(Lane)
class LaneAdmin(_CommunityPartAdmin):
    list_display = ["code", "name", "kind", "community"]

    def save_model(self, request: AuthedRequest, obj: Lane, form: Any, change: bool) -> None:
        if change:
            actions.update_lane(request.user, obj, name=obj.name, kind=obj.kind)
            return
        created = actions.create_lane(
            request.user, community=obj.community, kind=obj.kind, code=obj.code, name=obj.name
        )
        obj.pk = created.pk
