"""Every read of the network, scoped. Single objects come through ``access_*`` (404 outside)."""

from __future__ import annotations

from typing import Any

from django.db.models import Q, QuerySet
from django.http import Http404

from linli.accounts.models import Grant, User
from linli.accounts.roles import Cap, Role
from linli.accounts.scope import scope_for
from linli.accounts.types import Viewer
from linli.places.models import Grid, Lane, Place, PlaceKind

from .models import Association, Chief, ChiefAssignment, Contact, Person, Team


def people_for(user: Viewer, capability: str = Cap.NETWORK_VIEW) -> QuerySet[Person]:
    return Person.objects.filter(scope_for(user, capability).path_q("path"))


def access_person(user: Viewer, person_id: int, capability: str = Cap.NETWORK_VIEW) -> Person:
    person = people_for(user, capability).filter(pk=person_id).first()
    if person is None:
        raise Http404
    return person


def chiefs_for(user: Viewer, capability: str = Cap.NETWORK_VIEW) -> QuerySet[Chief]:
    """Chiefs of the communities in scope, and — for a grid worker or a chief — the chiefs who
    look after a building or lane in their area."""
    scope = scope_for(user, capability)
    q = scope.path_q("path")
    area = Q()
    if scope.grid_ids:
        area |= Q(building__grid_id__in=sorted(scope.grid_ids))
    if scope.lane_ids:
        area |= Q(lane_id__in=sorted(scope.lane_ids)) | Q(
            building__lane_id__in=sorted(scope.lane_ids)
        )
    if scope.ranges:
        area |= scope.path_q("path")
    if area:
        ids = ChiefAssignment.objects.filter(area, until__isnull=True).values("chief_id")
        q |= Q(pk__in=ids)
    return Chief.objects.filter(q)


def access_chief(user: Viewer, chief_id: int, capability: str = Cap.NETWORK_VIEW) -> Chief:
    chief = chiefs_for(user, capability).select_related("person").filter(pk=chief_id).first()
    if chief is None:
        raise Http404
    return chief


def associations_for(user: Viewer, capability: str = Cap.NETWORK_VIEW) -> QuerySet[Association]:
    return Association.objects.filter(scope_for(user, capability).path_q("path"))


def access_association(
    user: Viewer, association_id: int, capability: str = Cap.NETWORK_VIEW
) -> Association:
    association = associations_for(user, capability).filter(pk=association_id).first()
    if association is None:
        raise Http404
    return association


def teams_for(user: Viewer, capability: str = Cap.NETWORK_VIEW) -> QuerySet[Team]:
    return Team.objects.filter(scope_for(user, capability).path_q("path"))


def access_team(user: Viewer, team_id: int, capability: str = Cap.NETWORK_VIEW) -> Team:
    team = teams_for(user, capability).filter(pk=team_id).first()
    if team is None:
        raise Http404
    return team


def contacts_for(user: Viewer, capability: str = Cap.NETWORK_VIEW) -> QuerySet[Contact]:
    # Contact carries path, grid_id and lane_id like a place: the scope's filter applies as is.
    return Contact.objects.filter(scope_for(user, capability).q())


def access_contact(user: Viewer, contact_id: int, capability: str = Cap.NETWORK_VIEW) -> Contact:
    contact = contacts_for(user, capability).filter(pk=contact_id).first()
    if contact is None:
        raise Http404
    return contact


def may_manage(user: Viewer, path: str) -> bool:
    """Whether the user may manage the network at ``path`` (add people, recruit and decide on
    chiefs, found associations and teams): the community worker's right covering it. The one rule
    the API, the pages and ``actions`` ask."""
    return scope_for(user, Cap.NETWORK_MANAGE).covers_path(path)


def sees_network(user: Viewer) -> bool:
    return not scope_for(user, Cap.NETWORK_VIEW).is_empty


def coverage_area(user: Viewer, kind: str, pk: int) -> Any:
    """The place, grid or street/lane whose coverage the user asks for, or 404."""
    if kind not in ("place", "grid", "lane"):
        raise Http404
    scope = scope_for(user, Cap.NETWORK_VIEW)
    area: Any
    if kind == "grid":
        area = Grid.objects.select_related("community").filter(pk=pk).first()
        ok = area is not None and (
            area.pk in scope.grid_ids or scope.covers_path(area.community.path)
        )
    elif kind == "lane":
        area = Lane.objects.select_related("community").filter(pk=pk).first()
        ok = area is not None and (
            area.pk in scope.lane_ids or scope.covers_path(area.community.path)
        )
    else:
        area = (
            Place.objects.filter(pk=pk)
            .exclude(kind__in=(PlaceKind.UNIT, PlaceKind.DWELLING))
            .first()
        )
        ok = area is not None and scope.contains(area)
    if not ok:
        raise Http404
    return area


def coverage_roots(user: Viewer) -> list[Any]:
    """Where a user's coverage pages start: the places, grids and lanes of their grants."""
    scope = scope_for(user, Cap.NETWORK_VIEW)
    # One query for the places of every range, in the scope's order.
    starts = [start for start, _end in scope.ranges]
    by_path = {p.path: p for p in Place.objects.filter(path__in=starts)} if starts else {}
    roots: list[Any] = [by_path[start] for start in starts if start in by_path]
    roots += list(Grid.objects.filter(pk__in=sorted(scope.grid_ids)).order_by("code"))
    roots += list(Lane.objects.filter(pk__in=sorted(scope.lane_ids)).order_by("code"))
    return roots


def chief_buildings(user: Viewer) -> list[Place]:
    """The buildings a chief looks after: those of their CHIEF grants on buildings, and the
    buildings on the streets/lanes they hold."""
    if not isinstance(user, User):  # an anonymous visitor holds no grant
        return []
    grants = Grant.objects.filter(user=user, role=Role.CHIEF, revoked_at__isnull=True)
    place_ids = [g for g in grants.values_list("place_id", flat=True) if g]
    lane_ids = [g for g in grants.values_list("lane_id", flat=True) if g]
    q = Q(pk__in=place_ids)
    if lane_ids:
        q |= Q(lane_id__in=lane_ids)
    return list(
        Place.objects.filter(q, kind=PlaceKind.BUILDING, retired_at__isnull=True).order_by("path")
    )
