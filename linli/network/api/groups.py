"""The neighbourhood associations (街坊会) and the volunteer teams, and their members."""

import datetime
from collections.abc import Callable
from typing import Any

from django.db.models import Count, Q, QuerySet
from django.http import Http404
from django.utils.translation import gettext as _
from ninja import Query, Router, Schema
from ninja import Status as Reply
from ninja.pagination import paginate

from linli.accounts.types import AuthedRequest
from linli.core.api import refuse, renamed_fields, responses
from linli.core.bounds import Day, Id
from linli.core.paging import Paging
from linli.places.models import Place

from .. import actions, queries
from ..models import (
    Association,
    AssociationMember,
    AssociationRole,
    Team,
    TeamKind,
    TeamMember,
)
from .common import community_to_manage, require_network

router = Router()


class AssociationMemberOut(Schema):
    id: int
    association_id: int
    person_id: int
    person_name: str
    role: str
    role_label: str
    joined_on: datetime.date
    left_on: datetime.date | None

    @staticmethod
    def resolve_person_name(obj: AssociationMember) -> str:
        return obj.person.name

    @staticmethod
    def resolve_role_label(obj: AssociationMember) -> str:
        return str(AssociationRole(obj.role).label)


class AssociationOut(Schema):
    id: int
    community_id: int
    compound_id: int | None
    name: str
    founded_on: datetime.date | None
    members: int  # current members

    @staticmethod
    def resolve_members(obj: Association) -> int:
        count = getattr(obj, "n_members", None)
        return count if count is not None else obj.members.filter(left_on__isnull=True).count()


class AssociationDetailOut(AssociationOut):
    may_manage: bool
    people: list[AssociationMemberOut]  # current and past members, current first

    @staticmethod
    def resolve_may_manage(obj: Association, context: dict[str, Any]) -> bool:
        return queries.may_manage(context["request"].user, obj.path)

    @staticmethod
    def resolve_people(obj: Association) -> list[AssociationMember]:
        rows = obj.members.select_related("person").order_by("role", "joined_on", "id")
        return sorted(rows, key=lambda m: m.left_on is not None)


class GroupFilter(Schema):
    community: Id | None = None  # a community's id


class AssociationIn(Schema):
    community: Id
    name: str
    compound: Id | None = None  # an association of one compound of the community
    founded_on: Day | None = None


class AssociationMemberIn(Schema):
    person: Id  # a person of the community's network
    role: AssociationRole = AssociationRole.MEMBER
    joined_on: Day | None = None  # today by default


class MemberLeaveIn(Schema):
    on: Day | None = None  # today by default


class TeamMemberOut(Schema):
    id: int
    team_id: int
    person_id: int
    person_name: str
    leader: bool
    joined_on: datetime.date
    left_on: datetime.date | None

    @staticmethod
    def resolve_person_name(obj: TeamMember) -> str:
        return obj.person.name


class TeamOut(Schema):
    id: int
    community_id: int
    name: str
    kind: str
    kind_label: str
    founded_on: datetime.date | None
    description: str
    members: int  # current members

    @staticmethod
    def resolve_kind_label(obj: Team) -> str:
        return str(TeamKind(obj.kind).label)

    @staticmethod
    def resolve_members(obj: Team) -> int:
        count = getattr(obj, "n_members", None)
        return count if count is not None else obj.members.filter(left_on__isnull=True).count()


class TeamDetailOut(TeamOut):
    may_manage: bool
    people: list[TeamMemberOut]  # current and past members, current first

    @staticmethod
    def resolve_may_manage(obj: Team, context: dict[str, Any]) -> bool:
        return queries.may_manage(context["request"].user, obj.path)

    @staticmethod
    def resolve_people(obj: Team) -> list[TeamMember]:
        rows = obj.members.select_related("person").order_by("-leader", "joined_on", "id")
        return sorted(rows, key=lambda m: m.left_on is not None)


class TeamIn(Schema):
    community: Id
    name: str
    kind: TeamKind
    founded_on: Day | None = None
    description: str = ""


class TeamMemberIn(Schema):
    person: Id  # a person of the community's network
    leader: bool = False
    joined_on: Day | None = None  # today by default


# --- associations ----------------------------------------------------------------------------------


def _member_count(qs: QuerySet[Any]) -> QuerySet[Any]:
    counted: QuerySet[Any] = qs.annotate(
        n_members=Count("members", filter=Q(members__left_on__isnull=True))
    )
    return counted


@router.get(
    "/network/associations",
    response=responses({200: list[AssociationOut]}, 404, 422),
    summary="The neighbourhood associations (街坊会) in scope",
)
@paginate(Paging)
def list_associations(request: AuthedRequest, filters: Query[GroupFilter]) -> object:
    require_network(request)
    qs = queries.associations_for(request.user)
    if filters.community is not None:
        qs = qs.filter(community_id=filters.community)
    return _member_count(qs).order_by("path", "name", "id")


@router.get(
    "/network/associations/{association_id}",
    response=responses({200: AssociationDetailOut}, 404),
    summary="One association with its members, current and past",
)
def get_association(request: AuthedRequest, association_id: Id) -> Association:
    return queries.access_association(request.user, association_id)


@router.post(
    "/network/associations",
    response=responses({201: AssociationDetailOut}, 400, 403, 404, 422),
    summary="Found a neighbourhood association of a community or of one of its compounds",
)
def create_association(request: AuthedRequest, payload: AssociationIn) -> object:
    user = request.user
    community = community_to_manage(user, payload.community)
    compound = None
    if payload.compound is not None:
        compound = Place.objects.filter(pk=payload.compound).first()
        if compound is None or not queries.may_manage(user, compound.path):
            raise refuse(compound=_("Choose a compound of this community."))
    association = actions.create_association(
        user, community, payload.name, compound=compound, founded_on=payload.founded_on
    )
    return Reply(201, queries.access_association(user, association.pk))


# --- joining and leaving, the same for an association and a team -----------------------------


def _join(
    request: AuthedRequest,
    kind: type[AssociationMember] | type[TeamMember],
    group: Association | Team,
    payload: AssociationMemberIn | TeamMemberIn,
    held: Any,
) -> object:
    """201 with the new member, or 200 when the person was in already (what they hold in the
    group is updated)."""
    user = request.user
    actions.require_manage(user, group.path)
    person = queries.people_for(user).filter(pk=payload.person).first()
    if person is None:
        raise refuse(person=_("Choose a person of this community's network."))
    # The group's field and the person's are the kind's own (the base has neither).
    ours = {kind.group_field: group, "person": person}
    existed = kind.objects.filter(**ours, left_on__isnull=True).exists()
    member = actions.join(user, kind, group, person, held, joined_on=payload.joined_on)
    return Reply(200 if existed else 201, kind.objects.select_related("person").get(pk=member.pk))


def _leave(
    request: AuthedRequest,
    kind: type[AssociationMember] | type[TeamMember],
    member_id: int,
    payload: MemberLeaveIn,
    access: Callable[[Any, int], Association | Team],
) -> object:
    """404 unless the member's group is the user's to see (``access``), 403 unless to manage."""
    user = request.user
    member = kind.objects.filter(pk=member_id).first()
    if member is None:
        raise Http404
    group = access(user, getattr(member, f"{kind.group_field}_id"))
    actions.require_manage(user, group.path)
    with renamed_fields({"left_on": "on"}):
        actions.leave(user, member, payload.on)
    return Reply(200, kind.objects.select_related("person").get(pk=member.pk))


@router.post(
    "/network/associations/{association_id}/members",
    response=responses({200: AssociationMemberOut, 201: AssociationMemberOut}, 400, 403, 404, 422),
    summary="Add a person of the community's network to the association (200 when already a "
    "member: their role is updated)",
)
def join_association(
    request: AuthedRequest, association_id: Id, payload: AssociationMemberIn
) -> object:
    association = queries.access_association(request.user, association_id)
    return _join(request, AssociationMember, association, payload, payload.role.value)


@router.post(
    "/network/association-members/{member_id}/leave",
    response=responses({200: AssociationMemberOut}, 400, 403, 404, 422),
    summary="Record that a member left the association (kept as history)",
)
def leave_association(request: AuthedRequest, member_id: Id, payload: MemberLeaveIn) -> object:
    return _leave(request, AssociationMember, member_id, payload, queries.access_association)


# --- teams -----------------------------------------------------------------------------------------


@router.get(
    "/network/teams",
    response=responses({200: list[TeamOut]}, 404, 422),
    summary="The volunteer teams in scope",
)
@paginate(Paging)
def list_teams(request: AuthedRequest, filters: Query[GroupFilter]) -> object:
    require_network(request)
    qs = queries.teams_for(request.user)
    if filters.community is not None:
        qs = qs.filter(community_id=filters.community)
    return _member_count(qs).order_by("path", "name", "id")


@router.get(
    "/network/teams/{team_id}",
    response=responses({200: TeamDetailOut}, 404),
    summary="One volunteer team with its members, current and past",
)
def get_team(request: AuthedRequest, team_id: Id) -> Team:
    return queries.access_team(request.user, team_id)


@router.post(
    "/network/teams",
    response=responses({201: TeamDetailOut}, 400, 403, 404, 422),
    summary="Found a volunteer team of a community",
)
def create_team(request: AuthedRequest, payload: TeamIn) -> object:
    user = request.user
    community = community_to_manage(user, payload.community)
    team = actions.create_team(
        user,
        community,
        payload.name,
        payload.kind.value,
        founded_on=payload.founded_on,
        description=payload.description,
    )
    return Reply(201, queries.access_team(user, team.pk))


@router.post(
    "/network/teams/{team_id}/members",
    response=responses({200: TeamMemberOut, 201: TeamMemberOut}, 400, 403, 404, 422),
    summary="Add a person of the community's network to the team (200 when already in it)",
)
def join_team(request: AuthedRequest, team_id: Id, payload: TeamMemberIn) -> object:
    team = queries.access_team(request.user, team_id)
    return _join(request, TeamMember, team, payload, payload.leader)


@router.post(
    "/network/team-members/{member_id}/leave",
    response=responses({200: TeamMemberOut}, 400, 403, 404, 422),
    summary="Record that a member left the team (kept as history)",
)
def leave_team(request: AuthedRequest, member_id: Id, payload: MemberLeaveIn) -> object:
    return _leave(request, TeamMember, member_id, payload, queries.access_team)
