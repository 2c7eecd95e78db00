"""Visit coverage: the households someone from the network met lately, those nobody reached,
and a chief's buildings."""

import datetime
from typing import Any

from django.db.models import Q
from django.utils.translation import gettext as _
from ninja import Field, Query, Router, Schema

from linli.accounts.types import AuthedRequest
from linli.cases.models import OPEN_STATES, Case
from linli.core.api import query_error, responses
from linli.core.bounds import Id
from linli.core.paging import MAX_OFFSET
from linli.core.paths import path_end
from linli.people import queries as people_queries
from linli.places.models import Grid, Lane, Place

from .. import coverage, queries
from .common import require_network

router = Router()


class AreaOut(Schema):
    kind: str  # "grid", "lane", or the place's kind
    id: int
    name: str


class CoverOut(Schema):
    households: int  # dwellings where someone lives now
    reached: int  # of which a contact met in the last ``days`` days
    unreached: int
    rate: float | None  # reached / households; None without households


class CoverRowOut(CoverOut):
    kind: str  # the place's kind, or "grid"
    id: int | None  # None for the households of a community outside any grid
    name: str


class CoverageOut(Schema):
    area: AreaOut
    days: int
    since: datetime.datetime
    total: CoverOut
    rows: list[CoverRowOut]  # a district's streets, a street's communities, else the buildings
    by_grid: list[CoverRowOut]  # a community's grids


class CoverageFilter(Schema):
    """One of ``place``, ``grid`` or ``lane``; none when the user's scope is one place, grid or
    street/lane."""

    place: Id | None = None  # a place above the dwelling
    grid: Id | None = None
    lane: Id | None = None
    days: int = Field(coverage.DAYS, ge=1, le=366)


class UnreachedFilter(CoverageFilter):
    limit: int = Field(50, ge=1, le=200)
    offset: int = Field(0, ge=0, le=MAX_OFFSET)


class UnreachedHouseholdOut(Schema):
    dwelling_id: int
    dwelling_name: str
    building_id: int | None
    building_name: str
    care: bool  # someone aged 60+ or with a care tag the user may see lives there
    head: str  # the head of household, else the eldest resident
    tags: list[str]  # the care tags the user may see, and "aged 60+"
    last_reached: datetime.datetime | None  # the last contact ever, older than ``days``


class UnreachedOut(Schema):
    area: AreaOut
    days: int
    count: int
    items: list[UnreachedHouseholdOut]  # those needing care first, then by place


class MyBuildingsFilter(Schema):
    days: int = Field(coverage.DAYS, ge=1, le=366)


class MyBuildingOut(CoverOut):
    id: int
    name: str
    days: int
    open_cases: int


def _cover(c: coverage.Cover) -> dict[str, Any]:
    return {
        "households": c.households,
        "reached": c.reached,
        "unreached": c.unreached,
        "rate": c.rate,
    }


def _area_out(area: Any) -> dict[str, Any]:
    if isinstance(area, Grid):
        kind = "grid"
    elif isinstance(area, Lane):
        kind = "lane"
    else:
        kind = area.kind
    return {"kind": kind, "id": area.pk, "name": area.name}


def _coverage_area(request: AuthedRequest, filters: CoverageFilter) -> Any:
    """The area asked for (404 outside the user's scope), or the user's only one."""
    user = request.user
    given = [
        (kind, pk)
        for kind, pk in (("place", filters.place), ("grid", filters.grid), ("lane", filters.lane))
        if pk is not None
    ]
    if len(given) > 1:
        raise query_error(given[1][0], _("Give one of place, grid or lane, not several."))
    if given:
        return queries.coverage_area(user, *given[0])
    require_network(request)
    roots = queries.coverage_roots(user)
    if len(roots) != 1:
        raise query_error("place", _("Give a place, a grid or a street/lane."))
    return roots[0]


# --- coverage --------------------------------------------------------------------------------------


@router.get(
    "/network/coverage",
    response=responses({200: CoverageOut}, 404, 422),
    summary="Visit coverage of a place, grid or street/lane: the households someone from the "
    "network met in the last days, in total and per part (child place or building, and grid)",
)
def coverage_report(request: AuthedRequest, filters: Query[CoverageFilter]) -> object:
    area = _coverage_area(request, filters)
    if (
        isinstance(area, Place)
        and area.kind in coverage.ROLLED_UP
        and filters.days not in coverage.CHOICES_DAYS
    ):
        # A street's or a district's figures are added up ahead for these periods only.
        raise query_error(
            "days",
            _("A street's or a district's coverage is kept for %(days)s days.")
            % {"days": ", ".join(str(d) for d in coverage.CHOICES_DAYS)},
        )
    report = coverage.report(area, days=filters.days)

    def row(c: coverage.Cover, kind: str) -> dict[str, Any]:
        name = c.label if c.key is not None else _("Outside any grid")
        return {"kind": kind, "id": c.key, "name": name, **_cover(c)}

    return {
        "area": _area_out(area),
        "days": report.days,
        "since": report.since,
        "total": _cover(report.total),
        "rows": [row(c, c.obj.kind) for c in report.rows],
        "by_grid": [row(c, "grid") for c in report.by_grid],
    }


@router.get(
    "/network/coverage/unreached",
    response=responses({200: UnreachedOut}, 404, 422),
    summary="The households of a place, grid or street/lane nobody reached in the last days, "
    "those needing care first (by the care tags the user may see)",
)
def coverage_unreached(request: AuthedRequest, filters: Query[UnreachedFilter]) -> object:
    user = request.user
    area = _coverage_area(request, filters)
    households, count = coverage.unreached(
        area,
        days=filters.days,
        visible_tag_ids=people_queries.visible_tag_ids(user, area),
        limit=filters.limit,
        offset=filters.offset,
    )
    return {
        "area": _area_out(area),
        "days": filters.days,
        "count": count,
        "items": [
            {
                "dwelling_id": h.dwelling.pk,
                "dwelling_name": h.dwelling.name,
                "building_id": h.building.pk if h.building is not None else None,
                "building_name": h.building.name if h.building is not None else "",
                "care": h.care,
                "head": h.head,
                "tags": h.tags,
                "last_reached": h.last_reached,
            }
            for h in households
        ],
    }


@router.get(
    "/network/my-buildings",
    response=responses({200: list[MyBuildingOut]}, 404, 422),
    summary="A chief's buildings (those of their chief's role, and those on their street/lane) "
    "with each one's visit coverage and open cases",
)
def my_buildings(request: AuthedRequest, filters: Query[MyBuildingsFilter]) -> object:
    require_network(request)
    buildings = queries.chief_buildings(request.user)
    if not buildings:
        return []
    q = Q(pk__in=[])
    for b in buildings:
        q |= Q(path__gte=b.path, path__lt=path_end(b.path))
    open_cases: dict[int, int] = {b.pk: 0 for b in buildings}
    for case_path in Case.objects.filter(q, state__in=OPEN_STATES).values_list("path", flat=True):
        for b in buildings:
            if b.path <= case_path < path_end(b.path):
                open_cases[b.pk] += 1
    out = []
    for b in buildings:
        total = coverage.report(b, days=filters.days).total
        out.append(
            {
                "id": b.pk,
                "name": b.name,
                "days": filters.days,
                "open_cases": open_cases[b.pk],
                **_cover(total),
            }
        )
    return out
