from decimal import Decimal
from typing import Any

from django.http import Http404, HttpRequest
from ninja import Query, Router, Schema
from ninja.pagination import paginate

from linli.accounts.roles import Cap
from linli.accounts.scope import scope_for
from linli.core.api import responses
from linli.core.bounds import Id
from linli.core.paging import Paging
from linli.places import queries
from linli.places.models import Grid, Lane, Place, PlaceKind

router = Router(tags=["places"])


def _require_scope(request: HttpRequest) -> None:
    """Lists answer 404 to a user with no places at all, like the pages do."""
    if scope_for(request.user, Cap.PLACES_VIEW).is_empty:
        raise Http404


class PlaceOut(Schema):
    id: int
    kind: str
    code: str
    name: str
    parent_id: int | None
    path: str
    grid_id: int | None
    lane_id: int | None
    floors: int | None
    floor: int | None
    floor_area: Decimal | None
    lon: float | None
    lat: float | None
    address: str


class PlaceDetailOut(PlaceOut):
    counts: dict[str, int]


class GridOut(Schema):
    id: int
    community_id: int
    code: str
    name: str
    polygon: dict[str, Any] | None


class LaneOut(Schema):
    id: int
    community_id: int
    kind: str
    code: str
    name: str


class PlaceFilter(Schema):
    parent: Id | None = None
    grid: Id | None = None
    lane: Id | None = None
    kind: PlaceKind | None = None
    q: str | None = None


@router.get(
    "/places",
    response=responses({200: list[PlaceOut]}, 404, 422),
    summary="Places in scope: the top of your scope, a parent's children, the buildings of a "
    "grid or lane, or a search",
)
@paginate(Paging)
def list_places(request: HttpRequest, filters: Query[PlaceFilter]) -> object:
    _require_scope(request)
    if filters.q:
        return queries.search_places(request.user, filters.q, limit=200, kind=filters.kind)
    if filters.grid is not None:
        grid = queries.access_grid(request.user, filters.grid)
        qs = queries.buildings_of(request.user, grid=grid)
    elif filters.lane is not None:
        lane = queries.access_lane(request.user, filters.lane)
        qs = queries.buildings_of(request.user, lane=lane)
    elif filters.parent is not None:
        parent = queries.access_place(request.user, filters.parent)
        qs = queries.children_of(request.user, parent)
    else:
        qs = Place.objects.filter(pk__in=[p.pk for p in queries.top_places(request.user)])
    if filters.kind:
        qs = qs.filter(kind=filters.kind)
    return qs.order_by("path")


@router.get(
    "/places/{place_id}",
    response=responses({200: PlaceDetailOut}, 404),
    summary="One place, with the number of places of each kind under it",
)
def get_place(request: HttpRequest, place_id: Id) -> dict[str, Any]:
    place = queries.access_place(request.user, place_id)
    data = PlaceOut.from_orm(place).dict()
    data["counts"] = queries.counts_under(place) if place.kind != PlaceKind.DWELLING else {}
    return data


@router.get(
    "/grids",
    response=responses({200: list[GridOut]}, 404, 422),
    summary="Grids in scope, optionally of one community",
)
@paginate(Paging)
def list_grids(request: HttpRequest, community: Id | None = None) -> object:
    _require_scope(request)
    qs = queries.grids_for(request.user)
    if community is not None:
        qs = qs.filter(community_id=community)
    return qs.order_by("code")


@router.get("/grids/{grid_id}", response=responses({200: GridOut}, 404), summary="One grid")
def get_grid(request: HttpRequest, grid_id: Id) -> Grid:
    return queries.access_grid(request.user, grid_id)


@router.get(
    "/lanes",
    response=responses({200: list[LaneOut]}, 404, 422),
    summary="Streets and lanes in scope, optionally of one community",
)
@paginate(Paging)
def list_lanes(request: HttpRequest, community: Id | None = None) -> object:
    _require_scope(request)
    qs = queries.lanes_for(request.user)
    if community is not None:
        qs = qs.filter(community_id=community)
    return qs.order_by("community_id", "code")


@router.get(
    "/lanes/{lane_id}",
    response=responses({200: LaneOut}, 404),
    summary="One street or lane",
)
def get_lane(request: HttpRequest, lane_id: Id) -> Lane:
    return queries.access_lane(request.user, lane_id)
