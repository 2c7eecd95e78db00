from __future__ import annotations

from typing import Any

from django.contrib.auth.decorators import login_required
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import render
from django.views.decorators.http import require_GET

from linli.accounts.roles import Cap
from linli.accounts.scope import scope_for
from linli.core.registry import contributions
from linli.places import queries
from linli.places.models import Place, PlaceKind


@login_required
@require_GET
def index(request: HttpRequest) -> HttpResponse:
    scope = scope_for(request.user, Cap.PLACES_VIEW)
    if scope.is_empty:
        raise Http404
    q = request.GET.get("q", "").strip()
    context = {
        "roots": queries.top_places(request.user),
        "grids": list(queries.grids_for(request.user).filter(pk__in=sorted(scope.grid_ids))),
        "lanes": list(queries.lanes_for(request.user).filter(pk__in=sorted(scope.lane_ids))),
        "q": q,
        "results": queries.search_places(request.user, q) if q else None,
    }
    template = "places/_results.html" if request.htmx else "places/index.html"  # type: ignore[attr-defined]
    return render(request, template, context)


@login_required
@require_GET
def place_detail(request: HttpRequest, place_id: int) -> HttpResponse:
    place = queries.access_place(request.user, place_id)
    context: dict[str, object] = {
        "place": place,
        "crumbs": queries.breadcrumbs(request.user, place),
        "children": list(queries.children_of(request.user, place)[:500]),
        "counts": queries.counts_under(place) if place.kind != PlaceKind.DWELLING else {},
        "kinds": PlaceKind,
    }
    if place.kind == PlaceKind.COMMUNITY:
        context["grids"] = list(queries.grids_for(request.user).filter(community=place))
        context["lanes"] = list(queries.lanes_for(request.user).filter(community=place))
    sees_people = scope_for(request.user, Cap.PEOPLE_VIEW).contains(place)
    context["sees_people"] = sees_people
    context["takes_cases"] = place.kind in ("compound", "building") and scope_for(
        request.user, Cap.CASES_INTAKE
    ).contains(place)
    context["rates_here"] = place.kind in ("district", "street", "community") and scope_for(
        request.user, Cap.CASES_VIEW
    ).contains(place)
    context["coverage_here"] = place.kind not in ("unit", "dwelling") and scope_for(
        request.user, Cap.NETWORK_VIEW
    ).contains(place)
    if place.kind == PlaceKind.BUILDING:
        context["layout"] = queries.building_layout(place)
    # The apps above add their part (the roster: who lives in each dwelling).
    for add_context in contributions("place_context"):
        add_context(request, place, context)
    return render(request, "places/place.html", context)


@login_required
@require_GET
def grid_detail(request: HttpRequest, grid_id: int) -> HttpResponse:
    grid = queries.access_grid(request.user, grid_id)
    buildings = list(queries.buildings_of(request.user, grid=grid))
    workers = grid.grants.filter(revoked_at__isnull=True, role="grid_worker").select_related("user")
    return render(
        request,
        "places/grid.html",
        {
            "grid": grid,
            "buildings": buildings,
            "workers": workers,
            "svg": _polygon_svg(grid.polygon, buildings),
        },
    )


@login_required
@require_GET
def lane_detail(request: HttpRequest, lane_id: int) -> HttpResponse:
    lane = queries.access_lane(request.user, lane_id)
    buildings = list(queries.buildings_of(request.user, lane=lane))
    chiefs = lane.grants.filter(revoked_at__isnull=True, role="chief").select_related("user")
    return render(
        request,
        "places/lane.html",
        {
            "lane": lane,
            "buildings": buildings,
            "chiefs": chiefs,
        },
    )


def _polygon_svg(polygon: dict[str, Any] | None, buildings: list[Place]) -> dict[str, Any] | None:
    """The grid's outline and its buildings as SVG coordinates (a 300×300 box, north up)."""
    if not polygon:
        return None
    ring = polygon["coordinates"][0]
    xs = [p[0] for p in ring] + [b.lon for b in buildings if b.lon is not None]
    ys = [p[1] for p in ring] + [b.lat for b in buildings if b.lat is not None]
    minx, maxx, miny, maxy = min(xs), max(xs), min(ys), max(ys)
    span = max(maxx - minx, maxy - miny) or 1.0

    def xy(lon: float, lat: float) -> tuple[float, float]:
        return (round(10 + (lon - minx) / span * 280, 1), round(290 - (lat - miny) / span * 280, 1))

    points = " ".join(f"{x},{y}" for x, y in (xy(p[0], p[1]) for p in ring))
    dots = [(*xy(b.lon, b.lat), b) for b in buildings if b.lon is not None and b.lat is not None]
    return {"points": points, "dots": dots}
