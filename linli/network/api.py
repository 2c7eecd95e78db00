"""The network API: the people of a community's network, its chiefs (三长制) with their decisions
and assignments, the neighbourhood associations and volunteer teams, contact records (home visits,
patrols, reception days) and visit coverage — scoped exactly like the pages.

Reads go through ``network.queries`` (404 outside the user's scope), writes through
``network.actions`` (one transaction each, audited, safe to retry). Phone numbers are masked in
every answer; a decrypted number never leaves the server.

Errors: 401 without a valid token or session; 404 for anything outside the user's scope (as if it
did not exist), and for the lists when the user may see no part of any network at all (a user who
may see some gets a list, possibly empty); 403 when the user may see the object (or the place) but
not do what was asked (managing the network needs the community worker's right on the community,
logging a contact the right to log visits at the place); 409 when the chief's current status
forbids the step (nothing changes; the answer gives the status); 400 when the data is refused by
the network's rules, with a message per field (nothing is written); 422 when the request itself
does not fit the schema.

Steps that are already done answer as if they had just been done: recruiting a person for a kind
of chief they already hold, assigning a building the chief already looks after, adding a member
who is already in, ending an ended assignment or membership, deciding the status a chief already
has, and sending a contact record again with the same ``client_key`` (200 with ``repeated: true``
instead of 201).
"""

import datetime
from typing import Any

from django.core.exceptions import PermissionDenied, ValidationError
from django.db.models import Count, Q, QuerySet
from django.http import Http404, HttpRequest
from django.utils import timezone
from django.utils.translation import gettext as _
from ninja import Field, Query, Router, Schema
from ninja import Status as Reply
from ninja.pagination import LimitOffsetPagination, paginate

from linli.accounts.models import User
from linli.accounts.roles import Cap
from linli.accounts.scope import scope_for
from linli.cases.models import OPEN_STATES, Case, Category, Priority
from linli.cases.queries import cases_for
from linli.core.api import query_error, refuse, renamed_fields, responses
from linli.core.errors import Conflict
from linli.core.identifiers import mask_mobile
from linli.core.paths import SEGMENT, path_end
from linli.people.models import CareTag
from linli.people.queries import access_resident
from linli.places.models import Grid, Lane, Place, PlaceKind
from linli.places.queries import access_place

from . import actions, coverage, queries
from .models import (
    STATUS_STEPS,
    Association,
    AssociationMember,
    AssociationRole,
    Chief,
    ChiefAssignment,
    ChiefDecision,
    ChiefKind,
    ChiefStatus,
    Contact,
    ContactKind,
    Method,
    Person,
    Reach,
    Team,
    TeamKind,
    TeamMember,
)

router = Router(tags=["network"])


# --- schemas ---------------------------------------------------------------------------------------


class ChiefConflict(Schema):
    """The chief's current status forbids the step; nothing was changed."""

    detail: str
    status: str


# people


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
    community: int | None = None  # a community's id: its network only
    q: str | None = None  # a part of the name


class PersonIn(Schema):
    """A person added to a community's network. Without a name, the resident's is used."""

    community: int
    name: str = ""
    resident: int | None = None  # a resident of the community, as seen in the roster
    user_id: int | None = None  # their login, if they have one: it receives the chief's role
    phone: str = ""
    skills: str = ""
    note: str = ""


# chiefs


class DecisionOut(Schema):
    id: int
    from_status: str
    to_status: str
    on: datetime.date
    note: str
    decided_by_name: str | None
    at: datetime.datetime

    @staticmethod
    def resolve_decided_by_name(obj: ChiefDecision) -> str | None:
        return str(obj.decided_by) if obj.decided_by is not None else None


class AssignmentOut(Schema):
    id: int
    chief_id: int
    building_id: int | None
    building_name: str | None
    lane_id: int | None
    lane_name: str | None
    since: datetime.date
    until: datetime.date | None
    active: bool

    @staticmethod
    def resolve_building_name(obj: ChiefAssignment) -> str | None:
        return obj.building.name if obj.building is not None else None

    @staticmethod
    def resolve_lane_name(obj: ChiefAssignment) -> str | None:
        return obj.lane.name if obj.lane is not None else None

    @staticmethod
    def resolve_active(obj: ChiefAssignment) -> bool:
        return obj.until is None


class ChiefOut(Schema):
    id: int
    person_id: int
    name: str
    phone_masked: str
    community_id: int
    kind: str
    kind_label: str
    status: str
    status_label: str
    status_since: datetime.date
    serving: bool  # formal or backbone: holds the chief's role on their buildings or lane

    @staticmethod
    def resolve_name(obj: Chief) -> str:
        return obj.person.name

    @staticmethod
    def resolve_phone_masked(obj: Chief) -> str:
        return mask_mobile(obj.person.phone)

    @staticmethod
    def resolve_community_id(obj: Chief) -> int:
        return obj.person.community_id

    @staticmethod
    def resolve_kind_label(obj: Chief) -> str:
        return str(ChiefKind(obj.kind).label)

    @staticmethod
    def resolve_status_label(obj: Chief) -> str:
        return str(ChiefStatus(obj.status).label)


class ChiefDetailOut(ChiefOut):
    may_manage: bool
    next_statuses: list[str]  # POST /network/chiefs/{id}/decide may move the chief to these
    decisions: list[DecisionOut]
    assignments: list[AssignmentOut]

    @staticmethod
    def resolve_may_manage(obj: Chief, context: dict[str, Any]) -> bool:
        return queries.may_manage(context["request"].user, obj.path)

    @staticmethod
    def resolve_next_statuses(obj: Chief, context: dict[str, Any]) -> list[str]:
        if not queries.may_manage(context["request"].user, obj.path):
            return []
        return [str(s) for s in STATUS_STEPS.get(obj.status, ())]

    @staticmethod
    def resolve_decisions(obj: Chief) -> list[ChiefDecision]:
        return list(obj.decisions.select_related("decided_by").order_by("at", "id"))

    @staticmethod
    def resolve_assignments(obj: Chief) -> list[ChiefAssignment]:
        return list(obj.assignments.select_related("building", "lane").order_by("since", "id"))


class ChiefFilter(Schema):
    community: int | None = None  # a community's id: its chiefs only
    kind: ChiefKind | None = None
    status: ChiefStatus | None = None


class RecruitIn(Schema):
    person: int  # a person of the network
    kind: ChiefKind
    on: datetime.date | None = None  # today by default
    note: str = ""


class DecideIn(Schema):
    to_status: ChiefStatus
    on: datetime.date | None = None  # today by default
    note: str = ""


class ChiefAssignIn(Schema):
    """A building for a building chief; a street/lane for a lane or street chief."""

    building: int | None = None
    lane: int | None = None
    since: datetime.date | None = None  # today by default


class AssignmentEndIn(Schema):
    until: datetime.date | None = None  # today by default


# associations and teams


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
    community: int | None = None  # a community's id


class AssociationIn(Schema):
    community: int
    name: str
    compound: int | None = None  # an association of one compound of the community
    founded_on: datetime.date | None = None


class AssociationMemberIn(Schema):
    person: int  # a person of the community's network
    role: AssociationRole = AssociationRole.MEMBER
    joined_on: datetime.date | None = None  # today by default


class MemberLeaveIn(Schema):
    on: datetime.date | None = None  # today by default


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
    community: int
    name: str
    kind: TeamKind
    founded_on: datetime.date | None = None
    description: str = ""


class TeamMemberIn(Schema):
    person: int  # a person of the community's network
    leader: bool = False
    joined_on: datetime.date | None = None  # today by default


# contacts


class ContactOut(Schema):
    id: int
    kind: str
    kind_label: str
    place_id: int
    place_name: str
    at: datetime.datetime
    method: str
    with_whom: str
    location: str
    attendance: int | None
    summary: str
    logged_by_id: int | None
    logged_by_name: str | None
    person_id: int | None  # the network member who made it
    person_name: str | None
    households: int  # households (dwellings) met
    cases: int  # cases taken in from it

    @staticmethod
    def resolve_kind_label(obj: Contact) -> str:
        return str(ContactKind(obj.kind).label)

    @staticmethod
    def resolve_place_name(obj: Contact) -> str:
        return obj.place.name

    @staticmethod
    def resolve_logged_by_name(obj: Contact) -> str | None:
        return str(obj.logged_by) if obj.logged_by is not None else None

    @staticmethod
    def resolve_person_name(obj: Contact) -> str | None:
        return obj.person.name if obj.person is not None else None

    @staticmethod
    def resolve_households(obj: Contact) -> int:
        count = getattr(obj, "n_households", None)
        return count if count is not None else obj.reached.count()

    @staticmethod
    def resolve_cases(obj: Contact) -> int:
        count = getattr(obj, "n_cases", None)
        return count if count is not None else obj.case_links.count()


class ReachedOut(Schema):
    dwelling_id: int
    name: str
    building_name: str


class ContactDetailOut(ContactOut):
    route: str
    created_at: datetime.datetime
    reached: list[ReachedOut]
    case_codes: list[str]  # the tracking codes of the cases taken in from it that one may see

    @staticmethod
    def resolve_reached(obj: Contact) -> list[dict[str, Any]]:
        dwellings = [
            r.dwelling for r in Reach.objects.filter(contact=obj).select_related("dwelling")
        ]
        buildings = _buildings_of(dwellings)
        return [
            {
                "dwelling_id": d.pk,
                "name": d.name,
                "building_name": b.name if (b := _building_of(d, buildings)) else "",
            }
            for d in sorted(dwellings, key=lambda d: d.path)
        ]

    @staticmethod
    def resolve_case_codes(obj: Contact, context: dict[str, Any]) -> list[str]:
        ids = obj.case_links.values("case_id")
        visible = cases_for(context["request"].user).filter(pk__in=ids)
        return list(visible.order_by("received_at", "id").values_list("code", flat=True))


class ContactLoggedOut(ContactDetailOut):
    repeated: bool  # true when this client_key was sent before: the first record, unchanged

    @staticmethod
    def resolve_repeated(obj: Contact) -> bool:
        return bool(getattr(obj, "repeated", False))


class ContactFilter(Schema):
    kind: ContactKind | None = None
    place: int | None = None  # a place in the user's scope: the contacts at it or under it
    since: datetime.datetime | None = None  # inclusive; without an offset, Beijing time
    until: datetime.datetime | None = None  # exclusive


class NeedIn(Schema):
    """A need found on the way: it becomes a case (channel: the kind of contact)."""

    category: str  # the case category's code
    description: str
    priority: Priority = Priority.NORMAL
    place: int | None = None  # a building or compound; by default the contact's own


class ContactIn(Schema):
    """A home visit (``place`` a dwelling, ``method`` required), a patrol or a reception day
    (``place`` a community, compound or building). ``client_key`` (any unique text up to 40
    characters, such as a UUID) makes a resend record it once."""

    kind: ContactKind
    place: int
    at: datetime.datetime | None = None  # now by default; without an offset, Beijing time
    method: Method | None = None
    with_whom: str = ""
    route: str = ""
    location: str = ""
    attendance: int | None = None
    summary: str = ""
    dwellings: list[int] = []  # households met, besides a visit's own dwelling
    needs: list[NeedIn] = []
    client_key: str = ""


# coverage


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

    place: int | None = None  # a place above the dwelling
    grid: int | None = None
    lane: int | None = None
    days: int = Field(coverage.DAYS, ge=1, le=366)


class UnreachedFilter(CoverageFilter):
    limit: int = Field(50, ge=1, le=200)
    offset: int = Field(0, ge=0)


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


# --- helpers ---------------------------------------------------------------------------------------


def _require_network(request: HttpRequest) -> None:
    """Lists answer 404 to a user who may see no part of any network, like the pages do."""
    if not queries.sees_network(request.user):
        raise Http404


def _aware(moment: datetime.datetime | None) -> datetime.datetime | None:
    if moment is None or timezone.is_aware(moment):
        return moment
    return timezone.make_aware(moment)  # a time without an offset is Beijing time


def _community_to_manage(user: Any, community_id: int) -> Place:
    """The place a new person, association or team belongs to: 404 out of sight, 403 when the
    user may see it but not manage the network there."""
    place = access_place(user, community_id, Cap.NETWORK_VIEW)
    actions.require_manage(user, place.path)
    return place


def _buildings_of(dwellings: list[Place]) -> dict[str, Place]:
    prefixes = {d.path[:n] for d in dwellings for n in (4 * SEGMENT, 5 * SEGMENT)}
    if not prefixes:
        return {}
    return {b.path: b for b in Place.objects.filter(kind=PlaceKind.BUILDING, path__in=prefixes)}


def _building_of(dwelling: Place, buildings: dict[str, Place]) -> Place | None:
    return buildings.get(dwelling.path[: 5 * SEGMENT]) or buildings.get(
        dwelling.path[: 4 * SEGMENT]
    )


def _chief(user: Any, chief_id: int) -> Chief:
    return queries.access_chief(user, chief_id)


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


def _coverage_area(request: HttpRequest, filters: CoverageFilter) -> Any:
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
    _require_network(request)
    roots = queries.coverage_roots(user)
    if len(roots) != 1:
        raise query_error("place", _("Give a place, a grid or a street/lane."))
    return roots[0]


def _sees_sensitive(user: Any, area: Any) -> bool:
    scope = scope_for(user, Cap.PEOPLE_SENSITIVE)
    if isinstance(area, Grid):
        return area.pk in scope.grid_ids or scope.covers_path(area.community.path)
    if isinstance(area, Lane):
        return area.pk in scope.lane_ids or scope.covers_path(area.community.path)
    return scope.contains(area)


def _visible_tag_ids(user: Any, area: Any) -> list[int]:
    """The care tags whose holders a user may be shown in ``area``: the non-sensitive ones, and
    the sensitive ones too where the user may see them."""
    tags = CareTag.objects.all()
    if not _sees_sensitive(user, area):
        tags = tags.filter(sensitive=False)
    return list(tags.values_list("pk", flat=True))


def _contact(user: Any, contact_id: int, *, repeated: bool | None = None) -> Contact:
    contact = queries.contacts_for(user).select_related("place", "logged_by", "person")
    found = contact.filter(pk=contact_id).first()
    if found is None:
        raise Http404
    if repeated is not None:
        found.repeated = repeated  # type: ignore[attr-defined]
    return found


# --- people ----------------------------------------------------------------------------------------


@router.get(
    "/network/people",
    response=responses({200: list[PersonOut]}, 404, 422),
    summary="The people of the networks in scope (chiefs, association and team members), by name",
)
@paginate(LimitOffsetPagination)
def list_people(request: HttpRequest, filters: Query[PeopleFilter]) -> object:
    _require_network(request)
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
def get_person(request: HttpRequest, person_id: int) -> Person:
    return queries.access_person(request.user, person_id)


@router.post(
    "/network/people",
    response=responses({201: PersonDetailOut}, 400, 403, 404, 422),
    summary="Add a person to a community's network (needs the right to manage it)",
)
def create_person(request: HttpRequest, payload: PersonIn) -> object:
    user = request.user
    community = _community_to_manage(user, payload.community)
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
    if payload.user_id is not None:
        login = User.objects.filter(pk=payload.user_id, is_active=True).first()
        if login is None:
            errors["user_id"] = [_("No active login has this number.")]
        elif Person.objects.filter(community=community, user=login).exists():
            errors["user_id"] = [_("This login is already in the network.")]
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


# --- chiefs ----------------------------------------------------------------------------------------


@router.get(
    "/network/chiefs",
    response=responses({200: list[ChiefOut]}, 404, 422),
    summary="The chiefs of the communities in scope, and those looking after a building or "
    "street/lane in it",
)
@paginate(LimitOffsetPagination)
def list_chiefs(request: HttpRequest, filters: Query[ChiefFilter]) -> object:
    _require_network(request)
    qs: QuerySet[Chief] = queries.chiefs_for(request.user).select_related("person")
    if filters.community is not None:
        qs = qs.filter(person__community_id=filters.community)
    if filters.kind is not None:
        qs = qs.filter(kind=filters.kind.value)
    if filters.status is not None:
        qs = qs.filter(status=filters.status.value)
    return qs.order_by("path", "kind", "person__name", "id")


@router.get(
    "/network/chiefs/{chief_id}",
    response=responses({200: ChiefDetailOut}, 404),
    summary="One chief with every decision on their status and their assignments",
)
def get_chief(request: HttpRequest, chief_id: int) -> Chief:
    return _chief(request.user, chief_id)


@router.post(
    "/network/chiefs",
    response=responses({200: ChiefDetailOut, 201: ChiefDetailOut}, 400, 403, 404, 422),
    summary="Recruit a person of the network as a candidate chief (200 with the existing record "
    "when they already hold this kind of role)",
)
def recruit(request: HttpRequest, payload: RecruitIn) -> object:
    user = request.user
    person = queries.access_person(user, payload.person)
    actions.require_manage(user, person.path)
    if payload.on is not None and payload.on > timezone.localdate():
        raise refuse(on=_("The date is in the future."))
    existed = Chief.objects.filter(person=person, kind=payload.kind.value).exists()
    chief = actions.recruit_chief(
        user, person, payload.kind.value, on=payload.on, note=payload.note
    )
    return Reply(200 if existed else 201, _chief(user, chief.pk))


@router.post(
    "/network/chiefs/{chief_id}/decide",
    response=responses({200: ChiefDetailOut}, 400, 403, 404, 422, conflict=ChiefConflict),
    summary="Decide a chief's status: candidate → formal → backbone, or retired (which ends "
    "their assignments); their chief's role follows",
)
def decide(request: HttpRequest, chief_id: int, payload: DecideIn) -> object:
    user = request.user
    chief = _chief(user, chief_id)
    actions.require_manage(user, chief.path)
    to_status = payload.to_status.value
    if to_status != chief.status and to_status not in STATUS_STEPS.get(chief.status, ()):
        raise Conflict(
            _("A %(from)s chief cannot become %(to)s.")
            % {"from": ChiefStatus(chief.status).label, "to": ChiefStatus(to_status).label},
            status=chief.status,
        )
    # A step another request made meanwhile is refused by the action with the same Conflict.
    actions.decide(user, chief.pk, to_status, on=payload.on, note=payload.note)
    return Reply(200, _chief(user, chief.pk))


@router.post(
    "/network/chiefs/{chief_id}/assign",
    response=responses(
        {200: AssignmentOut, 201: AssignmentOut}, 400, 403, 404, 422, conflict=ChiefConflict
    ),
    summary="Give a chief a building (building chiefs) or a street/lane (lane and street chiefs); "
    "a serving chief with a login receives the chief's role on it",
)
def assign(request: HttpRequest, chief_id: int, payload: ChiefAssignIn) -> object:
    user = request.user
    chief = _chief(user, chief_id)
    actions.require_manage(user, chief.path)
    if chief.status == ChiefStatus.RETIRED:
        raise Conflict(_("A retired chief takes no assignments."), status=chief.status)
    manage = scope_for(user, Cap.NETWORK_MANAGE)
    errors: dict[str, list[str]] = {}
    building = None
    if payload.building is not None:
        building = Place.objects.filter(pk=payload.building).first()
        if building is None or not manage.contains(building):
            errors["building"] = [_("Choose a building of the chief's community.")]
    lane = None
    if payload.lane is not None:
        lane = Lane.objects.select_related("community").filter(pk=payload.lane).first()
        if lane is None or not manage.covers_path(lane.community.path):
            errors["lane"] = [_("Choose a street or lane of the chief's community.")]
    if errors:
        raise ValidationError(errors)
    existed = ChiefAssignment.objects.filter(
        chief=chief, building=building, lane=lane, until__isnull=True
    ).exists()
    # Retired meanwhile: the action's Conflict answers 409 like the check above.
    assignment = actions.assign(user, chief.pk, building=building, lane=lane, since=payload.since)
    found = ChiefAssignment.objects.select_related("building", "lane").get(pk=assignment.pk)
    return Reply(200 if existed else 201, found)


@router.post(
    "/network/assignments/{assignment_id}/end",
    response=responses({200: AssignmentOut}, 400, 403, 404, 422),
    summary="End a chief's assignment; the chief's role on it is revoked",
)
def end_assignment(request: HttpRequest, assignment_id: int, payload: AssignmentEndIn) -> object:
    user = request.user
    assignment = ChiefAssignment.objects.filter(pk=assignment_id).first()
    if assignment is None:
        raise Http404
    chief = _chief(user, assignment.chief_id)
    actions.require_manage(user, chief.path)
    actions.end_assignment(user, assignment.pk, payload.until)
    return Reply(
        200, ChiefAssignment.objects.select_related("building", "lane").get(pk=assignment.pk)
    )


# --- associations ----------------------------------------------------------------------------------


def _member_count(qs: QuerySet[Any]) -> QuerySet[Any]:
    return qs.annotate(n_members=Count("members", filter=Q(members__left_on__isnull=True)))


@router.get(
    "/network/associations",
    response=responses({200: list[AssociationOut]}, 404, 422),
    summary="The neighbourhood associations (街坊会) in scope",
)
@paginate(LimitOffsetPagination)
def list_associations(request: HttpRequest, filters: Query[GroupFilter]) -> object:
    _require_network(request)
    qs = queries.associations_for(request.user)
    if filters.community is not None:
        qs = qs.filter(community_id=filters.community)
    return _member_count(qs).order_by("path", "name", "id")


@router.get(
    "/network/associations/{association_id}",
    response=responses({200: AssociationDetailOut}, 404),
    summary="One association with its members, current and past",
)
def get_association(request: HttpRequest, association_id: int) -> Association:
    return queries.access_association(request.user, association_id)


@router.post(
    "/network/associations",
    response=responses({201: AssociationDetailOut}, 400, 403, 404, 422),
    summary="Found a neighbourhood association of a community or of one of its compounds",
)
def create_association(request: HttpRequest, payload: AssociationIn) -> object:
    user = request.user
    community = _community_to_manage(user, payload.community)
    compound = None
    if payload.compound is not None:
        compound = Place.objects.filter(pk=payload.compound).first()
        if compound is None or not queries.may_manage(user, compound.path):
            raise refuse(compound=_("Choose a compound of this community."))
    association = actions.create_association(
        user, community, payload.name, compound=compound, founded_on=payload.founded_on
    )
    return Reply(201, queries.access_association(user, association.pk))


def _member_person(user: Any, person_id: int) -> Person | None:
    return queries.people_for(user).filter(pk=person_id).first()


@router.post(
    "/network/associations/{association_id}/members",
    response=responses({200: AssociationMemberOut, 201: AssociationMemberOut}, 400, 403, 404, 422),
    summary="Add a person of the community's network to the association (200 when already a "
    "member: their role is updated)",
)
def join_association(
    request: HttpRequest, association_id: int, payload: AssociationMemberIn
) -> object:
    user = request.user
    association = queries.access_association(user, association_id)
    actions.require_manage(user, association.path)
    person = _member_person(user, payload.person)
    if person is None:
        raise refuse(person=_("Choose a person of this community's network."))
    existed = AssociationMember.objects.filter(
        association=association, person=person, left_on__isnull=True
    ).exists()
    member = actions.join_association(
        user, association, person, payload.role.value, joined_on=payload.joined_on
    )
    found = AssociationMember.objects.select_related("person").get(pk=member.pk)
    return Reply(200 if existed else 201, found)


@router.post(
    "/network/association-members/{member_id}/leave",
    response=responses({200: AssociationMemberOut}, 400, 403, 404, 422),
    summary="Record that a member left the association (kept as history)",
)
def leave_association(request: HttpRequest, member_id: int, payload: MemberLeaveIn) -> object:
    user = request.user
    member = AssociationMember.objects.filter(pk=member_id).first()
    if member is None:
        raise Http404
    association = queries.access_association(user, member.association_id)
    actions.require_manage(user, association.path)
    with renamed_fields({"left_on": "on"}):
        actions.leave_association(user, member, payload.on)
    return Reply(200, AssociationMember.objects.select_related("person").get(pk=member.pk))


# --- teams -----------------------------------------------------------------------------------------


@router.get(
    "/network/teams",
    response=responses({200: list[TeamOut]}, 404, 422),
    summary="The volunteer teams in scope",
)
@paginate(LimitOffsetPagination)
def list_teams(request: HttpRequest, filters: Query[GroupFilter]) -> object:
    _require_network(request)
    qs = queries.teams_for(request.user)
    if filters.community is not None:
        qs = qs.filter(community_id=filters.community)
    return _member_count(qs).order_by("path", "name", "id")


@router.get(
    "/network/teams/{team_id}",
    response=responses({200: TeamDetailOut}, 404),
    summary="One volunteer team with its members, current and past",
)
def get_team(request: HttpRequest, team_id: int) -> Team:
    return queries.access_team(request.user, team_id)


@router.post(
    "/network/teams",
    response=responses({201: TeamDetailOut}, 400, 403, 404, 422),
    summary="Found a volunteer team of a community",
)
def create_team(request: HttpRequest, payload: TeamIn) -> object:
    user = request.user
    community = _community_to_manage(user, payload.community)
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
def join_team(request: HttpRequest, team_id: int, payload: TeamMemberIn) -> object:
    user = request.user
    team = queries.access_team(user, team_id)
    actions.require_manage(user, team.path)
    person = _member_person(user, payload.person)
    if person is None:
        raise refuse(person=_("Choose a person of this community's network."))
    existed = TeamMember.objects.filter(team=team, person=person, left_on__isnull=True).exists()
    member = actions.join_team(
        user, team, person, leader=payload.leader, joined_on=payload.joined_on
    )
    found = TeamMember.objects.select_related("person").get(pk=member.pk)
    return Reply(200 if existed else 201, found)


@router.post(
    "/network/team-members/{member_id}/leave",
    response=responses({200: TeamMemberOut}, 400, 403, 404, 422),
    summary="Record that a member left the team (kept as history)",
)
def leave_team(request: HttpRequest, member_id: int, payload: MemberLeaveIn) -> object:
    user = request.user
    member = TeamMember.objects.filter(pk=member_id).first()
    if member is None:
        raise Http404
    team = queries.access_team(user, member.team_id)
    actions.require_manage(user, team.path)
    with renamed_fields({"left_on": "on"}):
        actions.leave_team(user, member, payload.on)
    return Reply(200, TeamMember.objects.select_related("person").get(pk=member.pk))


# --- contacts --------------------------------------------------------------------------------------


@router.get(
    "/network/contacts",
    response=responses({200: list[ContactOut]}, 404, 422),
    summary="Contact records (home visits, patrols, reception days) in scope, the latest first",
)
@paginate(LimitOffsetPagination)
def list_contacts(request: HttpRequest, filters: Query[ContactFilter]) -> object:
    _require_network(request)
    user = request.user
    qs = queries.contacts_for(user)
    if filters.kind is not None:
        qs = qs.filter(kind=filters.kind.value)
    if filters.place is not None:
        place = access_place(user, filters.place, Cap.NETWORK_VIEW)
        qs = qs.filter(path__gte=place.path, path__lt=place.path_end)
    if filters.since is not None:
        qs = qs.filter(at__gte=_aware(filters.since))
    if filters.until is not None:
        qs = qs.filter(at__lt=_aware(filters.until))
    return (
        qs.select_related("place", "logged_by", "person")
        .annotate(
            n_households=Count("reached", distinct=True),
            n_cases=Count("case_links", distinct=True),
        )
        .order_by("-at", "-id")
    )


@router.get(
    "/network/contacts/{contact_id}",
    response=responses({200: ContactDetailOut}, 404),
    summary="One contact record with the households it met and the cases taken in from it",
)
def get_contact(request: HttpRequest, contact_id: int) -> Contact:
    return _contact(request.user, contact_id)


@router.post(
    "/network/contacts",
    response=responses({200: ContactLoggedOut, 201: ContactLoggedOut}, 400, 403, 404, 422),
    summary="Log a home visit, patrol or reception day with the households met and the needs "
    "found (each becomes a case), all or nothing; the same client_key again answers 200 with the "
    "first record",
)
def log_contact(request: HttpRequest, payload: ContactIn) -> object:
    user = request.user
    place = Place.objects.filter(pk=payload.place).first()
    may_log = scope_for(user, Cap.VISITS_LOG)
    if place is None or not (
        may_log.contains(place) or scope_for(user, Cap.NETWORK_VIEW).contains(place)
    ):
        raise Http404
    if not may_log.contains(place):
        raise PermissionDenied(_("You may not log contacts here."))
    key = payload.client_key.strip()
    if key:
        earlier = Contact.objects.filter(client_key=key).values_list("pk", "logged_by_id").first()
        if earlier is not None:
            if earlier[1] != user.pk:
                raise refuse(client_key=_("This key was already used for another record."))
            return Reply(200, _contact(user, earlier[0], repeated=True))

    errors: dict[str, list[str]] = {}

    def fail(key: str, message: str) -> None:
        errors.setdefault(key, []).append(message)

    dwellings: list[Place] = []
    found = Place.objects.in_bulk(sorted(set(payload.dwellings)))
    for pk in payload.dwellings:
        dwelling = found.get(pk)
        if dwelling is None or not may_log.contains(dwelling):
            fail("dwellings", _("Choose households in your area."))
            break
        dwellings.append(dwelling)
    intake = scope_for(user, Cap.CASES_INTAKE)
    needs: list[actions.Need] = []
    for i, need in enumerate(payload.needs):
        category = Category.objects.filter(code=need.category).first()
        if category is None:
            fail(f"needs.{i}.category", _("Unknown category: %(code)s") % {"code": need.category})
        need_place = None
        if need.place is not None:
            need_place = Place.objects.filter(pk=need.place).first()
            if need_place is None or not intake.contains(need_place):
                fail(f"needs.{i}.place", _("Choose a building or compound in your area."))
                need_place = None
        if category is not None:
            needs.append(
                actions.Need(
                    category=category,
                    description=need.description,
                    priority=need.priority.value,
                    place=need_place,
                )
            )
    data = actions.ContactInput(
        kind=payload.kind.value,
        place=place,
        at=_aware(payload.at),
        method=payload.method.value if payload.method is not None else "",
        with_whom=payload.with_whom,
        route=payload.route,
        location=payload.location,
        attendance=payload.attendance,
        summary=payload.summary,
        dwellings=dwellings,
        needs=needs,
        client_key=key,
    )
    if errors:
        for field, messages in actions.clean_contact(user, data, timezone.now()).items():
            errors.setdefault(field, []).extend(messages)
        raise ValidationError(errors)
    logged = actions.log_contact(user, data)
    return Reply(
        200 if logged.repeated else 201,
        _contact(user, logged.contact.pk, repeated=logged.repeated),
    )


# --- coverage --------------------------------------------------------------------------------------


@router.get(
    "/network/coverage",
    response=responses({200: CoverageOut}, 404, 422),
    summary="Visit coverage of a place, grid or street/lane: the households someone from the "
    "network met in the last days, in total and per part (child place or building, and grid)",
)
def coverage_report(request: HttpRequest, filters: Query[CoverageFilter]) -> object:
    area = _coverage_area(request, filters)
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
def coverage_unreached(request: HttpRequest, filters: Query[UnreachedFilter]) -> object:
    user = request.user
    area = _coverage_area(request, filters)
    households, count = coverage.unreached(
        area,
        days=filters.days,
        visible_tag_ids=_visible_tag_ids(user, area),
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
def my_buildings(request: HttpRequest, filters: Query[MyBuildingsFilter]) -> object:
    _require_network(request)
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
