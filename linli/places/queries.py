"""Every read of places, grids and lanes, scoped."""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from typing import TypeVar

from django.db.models import Count, Q, QuerySet
from django.http import Http404

from linli.accounts.roles import Cap
from linli.accounts.scope import scope_for
from linli.accounts.types import Viewer
from linli.core.paths import SEGMENT
from linli.core.scope import Scope
from linli.places.models import Grid, Lane, Place, PlaceKind

T = TypeVar("T", Grid, Lane)


def places_for(user: Viewer, capability: str = Cap.PLACES_VIEW) -> QuerySet[Place]:
    return Place.objects.filter(scope_for(user, capability).q())


def access_place(user: Viewer, place_id: int, capability: str = Cap.PLACES_VIEW) -> Place:
    """The place, if the user may see it for ``capability``; otherwise 404 as if it did not exist."""
    place = Place.objects.filter(pk=place_id).select_related("grid", "lane").first()
    if place is None or not scope_for(user, capability).contains(place):
        raise Http404
    return place


def grids_for(user: Viewer, capability: str = Cap.PLACES_VIEW) -> QuerySet[Grid]:
    scope = scope_for(user, capability)
    return Grid.objects.filter(_community_q(scope) | Q(pk__in=sorted(scope.grid_ids)))


def access_grid(user: Viewer, grid_id: int, capability: str = Cap.PLACES_VIEW) -> Grid:
    return _one_or_404(grids_for(user, capability).select_related("community"), grid_id)


def lanes_for(user: Viewer, capability: str = Cap.PLACES_VIEW) -> QuerySet[Lane]:
    scope = scope_for(user, capability)
    return Lane.objects.filter(_community_q(scope) | Q(pk__in=sorted(scope.lane_ids)))


def access_lane(user: Viewer, lane_id: int, capability: str = Cap.PLACES_VIEW) -> Lane:
    return _one_or_404(lanes_for(user, capability).select_related("community"), lane_id)


def _one_or_404(queryset: QuerySet[T], pk: int) -> T:
    found = queryset.filter(pk=pk).first()
    if found is None:
        raise Http404
    return found


def _community_q(scope: Scope) -> Q:
    return scope.path_q("community__path")


def buildings_of(
    user: Viewer, *, grid: Grid | None = None, lane: Lane | None = None
) -> QuerySet[Place]:
    """The buildings of a grid or on a lane that the user may see."""
    qs = places_for(user).filter(kind=PlaceKind.BUILDING)
    if grid is not None:
        qs = qs.filter(grid=grid)
    if lane is not None:
        qs = qs.filter(lane=lane)
    return qs.order_by("path")


def holding_buildings(places: Iterable[Place]) -> dict[int, Place]:
    """The building that holds each of ``places`` (a unit, a dwelling, or the building itself),
    by the place's id, in one query. A building stands under its community or under a compound,
    so its path is one of the first four or five segments of the places' paths."""
    places = list(places)
    prefixes = {p.path[:n] for p in places for n in (4 * SEGMENT, 5 * SEGMENT)}
    if not prefixes:
        return {}
    found = {b.path: b for b in Place.objects.filter(kind=PlaceKind.BUILDING, path__in=prefixes)}
    held = {}
    for place in places:
        building = found.get(place.path[: 5 * SEGMENT]) or found.get(place.path[: 4 * SEGMENT])
        if building is not None:
            held[place.pk] = building
    return held


def communities_for(user: Viewer, capability: str) -> list[Place]:
    """The live communities wholly within the user's scope for ``capability``: a community
    worker's own, every community of a street admin's street. A chief's building or a grid
    worker's grid holds none. The one rule for "which communities may this user run" (the
    network's and the party's pages and APIs)."""
    scope = scope_for(user, capability)
    if not scope.ranges:
        return []
    return list(
        Place.objects.filter(
            scope.path_q("path"), kind=PlaceKind.COMMUNITY, retired_at__isnull=True
        ).order_by("path")
    )


def top_places(user: Viewer) -> list[Place]:
    """The places a user's scope starts from: the targets of their place grants. (Grid and lane
    grants start from the grid or lane, listed separately.)"""
    scope = scope_for(user, Cap.PLACES_VIEW)
    roots = list(Place.objects.filter(path__in=[start for start, _ in scope.ranges]))
    return roots


def children_of(user: Viewer, place: Place) -> QuerySet[Place]:
    """The visible children of a visible place, each with its number of children."""
    scope = scope_for(user, Cap.PLACES_VIEW)
    return (
        Place.objects.filter(parent=place)
        .filter(scope.q())
        .annotate(child_count=Count("children"))
        .order_by("path")
    )


def counts_under(place: Place) -> dict[str, int]:
    """How many places of each kind lie under ``place``.

    One count per kind, each a range scan of the (kind, path) index that never touches the table:
    at district scale (400,000 places) this is about 6× faster than one GROUP BY over the path
    range, which has to read every row for its kind.
    """
    kinds = PlaceKind.values
    below = kinds[kinds.index(place.kind) + 1 :]
    counts = {}
    for kind in below:
        n = Place.objects.filter(kind=kind, path__gt=place.path, path__lt=place.path_end).count()
        if n:
            counts[kind] = n
    return counts


def breadcrumbs(user: Viewer, place: Place) -> list[tuple[Place, bool]]:
    """The ancestors of a place, each with whether the user may open it."""
    scope = scope_for(user, Cap.PLACES_VIEW)
    return [(a, scope.contains(a)) for a in place.ancestors()]


@dataclass
class BuildingLayout:
    """A building drawn as floors × units: ``rows`` top floor first, one cell per unit."""

    units: list[Place]
    rows: list[tuple[int | None, list[list[Place]]]]
    loose: list[Place]  # dwellings with no floor recorded


def building_layout(building: Place) -> BuildingLayout:
    units = list(Place.objects.filter(parent=building, kind=PlaceKind.UNIT).order_by("path"))
    dwellings = list(
        building.descendants().filter(kind=PlaceKind.DWELLING).order_by("floor", "code")
    )
    unit_index = {u.path: i for i, u in enumerate(units)}
    columns = max(len(units), 1)
    by_floor: dict[int, list[list[Place]]] = {}
    loose: list[Place] = []
    for dwelling in dwellings:
        if dwelling.floor is None:
            loose.append(dwelling)
            continue
        column = unit_index.get(dwelling.path[: len(building.path) + SEGMENT], 0) if units else 0
        row = by_floor.setdefault(dwelling.floor, [[] for _ in range(columns)])
        row[column].append(dwelling)
    floors = sorted(by_floor, reverse=True)
    return BuildingLayout(units=units, rows=[(f, by_floor[f]) for f in floors], loose=loose)


def search_places(user: Viewer, text: str, limit: int = 30, kind: str | None = None) -> list[Place]:
    """Places in scope by name, code or address. Dwellings are found through their building
    (a search for "101" would otherwise match every first-floor flat of the district)."""
    text = text.strip()
    if not text:
        return []
    kinds = [kind] if kind else [k for k in PlaceKind.values if k != PlaceKind.DWELLING]
    return list(
        places_for(user)
        .filter(Q(name__icontains=text) | Q(code=text) | Q(address__icontains=text))
        .filter(kind__in=kinds)
        .order_by("path")[:limit]
    )
