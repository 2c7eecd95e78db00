"""The people of a community's network: list, one with their roles, add one."""

import datetime
from typing import Any

from django.core.exceptions import ValidationError
from django.http import Http404
from django.utils.translation import gettext as _
from ninja import Query, Router, Schema
from ninja import Status as Reply
from ninja.pagination import paginate

from linli.accounts.queries import login_with_phone
from linli.accounts.types import AuthedRequest
from linli.core.api import responses
from linli.core.bounds import Id
from linli.core.identifiers import mask_mobile
from linli.core.paging import Paging
from linli.people.queries import access_resident

from .. import actions, queries
from ..models import (
    AssociationMember,
    Chief,
    Person,
    TeamMember,
)
from .common import community_to_manage, require_network

router = Router()


class PersonOut(Schema):
    id: int
    community_id: int
    name: str
    resident_id: int | None  # the roster record, when the person is a resident
    user_id: int | None  # their login, when they have one
    phone_masked: str
    skills: str
    created_at: datetime.datetime

    @staticmethod
    def resolve_phone_masked(obj: Person) -> str:
        return mask_mobile(obj.phone)


class PersonChiefOut(Schema):
    id: int
    kind: str
    status: str


class PersonAssociationOut(Schema):
    id: int  # the membership (POST /network/association-members/{id}/leave)
    association_id: int
    association_name: str
    role: str
    joined_on: datetime.date
    left_on: datetime.date | None

    @staticmethod
    def resolve_association_name(obj: AssociationMember) -> str:
        return obj.association.name


class PersonTeamOut(Schema):
    id: int  # the membership (POST /network/team-members/{id}/leave)
    team_id: int
    team_name: str
    leader: bool
    joined_on: datetime.date
    left_on: datetime.date | None

    @staticmethod
    def resolve_team_name(obj: TeamMember) -> str:
        return obj.team.name


class PersonDetailOut(PersonOut):
    note: str
    may_manage: bool
    chiefs: list[PersonChiefOut]
    associations: list[PersonAssociationOut]
    teams: list[PersonTeamOut]

    @staticmethod
    def resolve_may_manage(obj: Person, context: dict[str, Any]) -> bool:
        return queries.may_manage(context["request"].user, obj.path)

    @staticmethod
    def resolve_chiefs(obj: Person) -> list[Chief]:
        return list(obj.chief_roles.order_by("kind", "id"))

    @staticmethod
    def resolve_associations(obj: Person) -> list[AssociationMember]:
        return list(obj.association_roles.select_related("association").order_by("joined_on", "id"))

    @staticmethod
    def resolve_teams(obj: Person) -> list[TeamMember]:
        return list(obj.team_roles.select_related("team").order_by("joined_on", "id"))


class PeopleFilter(Schema):
    community: Id | None = None  # a community's id: its network only
    q: str | None = None  # a part of the name


class PersonIn(Schema):
    """A person added to a community's network. Without a name, the resident's is used."""

    community: Id
    name: str = ""
    resident: Id | None = None  # a resident of the community, as seen in the roster
    login_phone: str = ""  # the mobile number of their login, if they have one (it gets the roles)
    phone: str = ""
    skills: str = ""
    note: str = ""


# --- people ----------------------------------------------------------------------------------------


@router.get(
    "/network/people",
    response=responses({200: list[PersonOut]}, 404, 422),
    summary="The people of the networks in scope (chiefs, association and team members), by name",
)
@paginate(Paging)
def list_people(request: AuthedRequest, filters: Query[PeopleFilter]) -> object:
    require_network(request)
    qs = queries.people_for(request.user)
    if filters.community is not None:
        qs = qs.filter(community_id=filters.community)
    if filters.q:
        qs = qs.filter(name__contains=filters.q.strip())
    return qs.order_by("name", "id")


@router.get(
    "/network/people/{person_id}",
    response=responses({200: PersonDetailOut}, 404),
    summary="One person of the network with their chief's roles, associations and teams",
)
def get_person(request: AuthedRequest, person_id: Id) -> Person:
    return queries.access_person(request.user, person_id)


@router.post(
    "/network/people",
    response=responses({201: PersonDetailOut}, 400, 403, 404, 422),
    summary="Add a person to a community's network (needs the right to manage it)",
)
def create_person(request: AuthedRequest, payload: PersonIn) -> object:
    user = request.user
    community = community_to_manage(user, payload.community)
    errors: dict[str, list[str]] = {}
    resident = None
    if payload.resident is not None:
        try:
            resident = access_resident(user, payload.resident)
        except Http404:
            errors["resident"] = [_("No resident you may see has this number.")]
        else:
            if Person.objects.filter(community=community, resident=resident).exists():
                errors["resident"] = [_("This resident is already in the network.")]
    login = None
    if payload.login_phone.strip():
        login = login_with_phone(payload.login_phone)
        if login is None:
            errors["login_phone"] = [_("No account has this mobile number.")]
        elif Person.objects.filter(community=community, user=login).exists():
            errors["login_phone"] = [_("This login is already in the network.")]
    if errors:
        raise ValidationError(errors)
    person = actions.add_person(
        user,
        community,
        name=payload.name,
        resident=resident,
        user=login,
        phone=payload.phone,
        skills=payload.skills,
        note=payload.note,
    )
    return Reply(201, queries.access_person(user, person.pk))
