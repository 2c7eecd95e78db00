"""The party API: organisations, members, dual-report registrations, posts and tasks, claims,
service hours, evaluations, and each employer unit's service record — scoped exactly like the
pages (``party.queries``), written through ``party.actions`` (one transaction each, audited).

Phone numbers are masked in every answer (``137****0001``).

Errors: 401 without a valid token or session; 404 for anything outside the user's scope (as if
it did not exist), and for the lists when the user has no part in the party module at all; 403
when the user may see the object but not take the step asked; 409 when the step is not possible
now (a full or closed post, a claim made already, a decision taken the other way) and nothing
changed; 400 when the data is refused by the rules, with a message per field; 422 when the
request itself does not fit the schema.
"""

import datetime
from collections.abc import Callable
from decimal import Decimal
from typing import Any, Literal

from django.db.models import QuerySet
from django.http import Http404
from django.utils.translation import gettext as _
from ninja import Field, Query, Router, Schema
from ninja import Status as Reply
from ninja.pagination import paginate

from linli.accounts.queries import login_with_phone
from linli.accounts.roles import Cap
from linli.accounts.scope import scope_for
from linli.accounts.types import AuthedRequest
from linli.core.api import Error, refuse, responses
from linli.core.bounds import Day, Id
from linli.core.identifiers import mask_mobile
from linli.core.paging import Paging
from linli.places.models import Place
from linli.places.queries import communities_for

from . import actions, queries
from .models import (
    Claim,
    Grade,
    HoursStatus,
    MemberKind,
    PartyMember,
    PartyOrg,
    Post,
    PostKind,
    PostState,
    Registration,
    RegistrationStatus,
    ServiceHours,
)
from .periods import Period
from .records import service_record

router = Router(tags=["party"])


# --- schemas ---------------------------------------------------------------------------------------


class OrgOut(Schema):
    id: int
    kind: str
    kind_label: str
    name: str
    community_id: int
    place_id: int  # the community, or the compound of a branch built in a compound
    in_compound: bool
    parent_id: int | None
    secretary_id: int | None
    secretary_name: str | None

    @staticmethod
    def resolve_kind_label(obj: PartyOrg) -> str:
        return str(obj.get_kind_display())

    @staticmethod
    def resolve_secretary_name(obj: PartyOrg) -> str | None:
        return obj.secretary.name if obj.secretary is not None else None


class PartyMemberOut(Schema):
    id: int
    name: str
    kind: str
    kind_label: str
    status: str
    community_id: int
    org_id: int | None
    phone_masked: str
    unit_id: int | None
    unit_name: str | None
    joined_party_on: datetime.date | None
    transferred_in_on: datetime.date | None
    transferred_from: str
    reported_on: datetime.date | None
    skills: str
    availability: str
    has_login: bool

    @staticmethod
    def resolve_kind_label(obj: PartyMember) -> str:
        return str(obj.get_kind_display())

    @staticmethod
    def resolve_phone_masked(obj: PartyMember) -> str:
        return mask_mobile(obj.phone)

    @staticmethod
    def resolve_unit_name(obj: PartyMember) -> str | None:
        return obj.unit.name if obj.unit is not None else None

    @staticmethod
    def resolve_has_login(obj: PartyMember) -> bool:
        return obj.user_id is not None


class RegistrationOut(Schema):
    id: int
    community_id: int
    name: str
    phone_masked: str
    unit_name: str
    uscc: str
    skills: str
    availability: str
    status: str
    reason: str
    created_at: datetime.datetime
    decided_at: datetime.datetime | None
    member_id: int | None

    @staticmethod
    def resolve_phone_masked(obj: Registration) -> str:
        return mask_mobile(obj.phone)


class PostOut(Schema):
    id: int
    community_id: int
    kind: str
    title: str
    description: str
    capacity: int
    claimed: int
    places_left: int
    starts_on: datetime.date | None
    ends_on: datetime.date | None
    state: str
    created_at: datetime.datetime


class PostIn(Schema):
    community: Id  # a community where the user manages party work
    kind: PostKind
    title: str
    capacity: int = Field(..., ge=1, le=10000)
    description: str = ""
    starts_on: Day | None = None
    ends_on: Day | None = None


class ClaimOut(Schema):
    id: int
    post_id: int
    post_title: str
    member_id: int
    member_name: str
    claimed_at: datetime.datetime
    withdrawn_at: datetime.datetime | None

    @staticmethod
    def resolve_post_title(obj: Claim) -> str:
        return obj.post.title

    @staticmethod
    def resolve_member_name(obj: Claim) -> str:
        return obj.member.name


class HoursIn(Schema):
    served_on: Day
    hours: Decimal = Field(..., gt=0, le=24)
    note: str = ""


class HoursOut(Schema):
    id: int
    member_id: int
    member_name: str
    claim_id: int | None
    post_id: int
    post_title: str
    served_on: datetime.date
    hours: Decimal
    note: str
    status: str
    reason: str

    @staticmethod
    def resolve_member_name(obj: ServiceHours) -> str:
        return obj.member.name

    @staticmethod
    def resolve_post_title(obj: ServiceHours) -> str:
        return obj.post.title


class PartyReasonIn(Schema):
    reason: str


class EvaluationIn(Schema):
    period: str  # 2026, 2026-Q1 or 2026-03
    grade: Grade
    comment: str = ""


class EvaluationOut(Schema):
    id: int
    member_id: int
    period: str
    grade: str
    comment: str
    at: datetime.datetime


class UnitOut(Schema):
    id: int
    name: str
    uscc: str


class RecordRowOut(Schema):
    member_id: int
    name: str
    phone_masked: str
    community: str
    hours: Decimal  # confirmed hours served in the period
    tasks: list[str]
    grade: str  # the period's grade, or the one of the quarter or year around it; "" if none
    comment: str


class RecordOut(Schema):
    unit: UnitOut
    period: str
    start: datetime.date
    end: datetime.date  # the first day after the period
    total_hours: Decimal
    rows: list[RecordRowOut]


class OrgIn(Schema):
    community: Id  # a community where the user manages party work
    kind: Literal["committee", "general_branch", "branch"]
    name: str
    place: Id | None = None  # a compound of the community, for a branch built there
    parent: Id | None = None  # an organisation of the same community
    founded_on: Day | None = None


class SecretaryIn(Schema):
    member_id: Id | None  # None leaves the post vacant


class MemberIn(Schema):
    """A member entered by the community. In-service members report through the QR code."""

    community: Id
    name: str
    kind: Literal["registered", "floating"]
    phone: str = ""
    org: Id | None = None
    joined_party_on: Day | None = None
    transferred_in_on: Day | None = None  # membership transferred in (党籍迁入)
    transferred_from: str = ""


class UnitContactIn(Schema):
    phone: str  # the mobile number of the login that becomes the unit's partner contact


class UnitContactOut(Schema):
    id: int
    unit_id: int
    user_id: int
    community_id: int


class MemberFilter(Schema):
    kind: MemberKind | None = None
    transferred_in: bool | None = None  # only those whose membership was transferred in


class StatusFilter(Schema):
    status: RegistrationStatus = RegistrationStatus.PENDING


class PostFilter(Schema):
    state: PostState | None = PostState.OPEN


class MineFilter(Schema):
    mine: bool = False  # only the user's own


class HoursFilter(Schema):
    status: HoursStatus | None = None
    mine: bool = False


class PeriodQuery(Schema):
    period: str = ""  # 2026, 2026-Q1 or 2026-03; the current quarter by default


# --- helpers ---------------------------------------------------------------------------------------


def _require_view(request: AuthedRequest) -> None:
    if scope_for(request.user, Cap.PARTY_VIEW).is_empty:
        raise Http404


def _act(do: Callable[[], Any], status: int = 200) -> Any:
    """Run an action and answer with what it returns; its refusals (403, 409, 400) are the error
    layer's (``linli.core.api``)."""
    return Reply(status, do())


# --- organisations and members ---------------------------------------------------------------------


@router.get(
    "/party/orgs",
    response=responses({200: list[OrgOut]}, 404),
    summary="Party organisations in scope (committees, general branches, branches) with secretaries",
)
def list_orgs(request: AuthedRequest) -> object:
    _require_view(request)
    return list(
        queries.orgs_for(request.user)
        .select_related("secretary")
        .order_by("path", "order", "id")[:1000]
    )


def _managed_community(request: AuthedRequest, community_id: int) -> Any:
    """404 out of sight, 403 when seen but not managed."""
    try:
        return queries.access_community(request.user, community_id, Cap.PARTY_MANAGE)
    except Http404:
        queries.access_community(request.user, community_id, Cap.PARTY_VIEW)
        raise actions.not_allowed() from None


@router.post(
    "/party/orgs",
    response=responses({201: OrgOut}, 400, 403, 404, 422, conflict=Error),
    summary="Add a party organisation (a branch may be built in one of the community's compounds)",
)
def create_org(request: AuthedRequest, payload: OrgIn) -> object:

    community = _managed_community(request, payload.community)
    place = None
    if payload.place is not None:
        place = Place.objects.filter(pk=payload.place).first()
        if place is None or not place.path.startswith(community.path):
            raise refuse(place=_("A branch is built in the community or one of its compounds."))
    parent = None
    if payload.parent is not None:
        parent = queries.orgs_for(request.user).filter(pk=payload.parent).first()
        if parent is None:
            raise Http404
    return _act(
        lambda: actions.create_org(
            request.user,
            kind=payload.kind,
            name=payload.name,
            community=community,
            place=place,
            parent=parent,
            founded_on=payload.founded_on,
        ),
        201,
    )


@router.post(
    "/party/orgs/{org_id}/secretary",
    response=responses({200: OrgOut}, 400, 403, 404, 422, conflict=Error),
    summary="Name the organisation's secretary (a member of its community), or leave it vacant",
)
def set_secretary(request: AuthedRequest, org_id: Id, payload: SecretaryIn) -> object:
    org = queries.orgs_for(request.user).select_related("community").filter(pk=org_id).first()
    if org is None:
        raise Http404
    member = (
        queries.access_member(request.user, payload.member_id)
        if payload.member_id is not None
        else None
    )

    def do() -> PartyOrg:
        actions.set_secretary(request.user, org, member)
        return PartyOrg.objects.select_related("secretary").get(pk=org.pk)

    return _act(do)


@router.post(
    "/party/members",
    response=responses({201: PartyMemberOut}, 400, 403, 404, 422, conflict=Error),
    summary="Add a registered or floating member (with the date a membership was transferred in)",
)
def create_member(request: AuthedRequest, payload: MemberIn) -> object:
    community = _managed_community(request, payload.community)
    org = None
    if payload.org is not None:
        org = queries.orgs_for(request.user).filter(pk=payload.org).first()
        if org is None:
            raise Http404

    def do() -> PartyMember:
        made = actions.add_member(
            request.user,
            community=community,
            name=payload.name,
            kind=payload.kind,
            phone=payload.phone,
            org=org,
            joined_party_on=payload.joined_party_on,
            transferred_in_on=payload.transferred_in_on,
            transferred_from=payload.transferred_from,
        )
        return PartyMember.objects.select_related("unit").get(pk=made.pk)

    return _act(do, 201)


@router.get(
    "/party/members",
    response=responses({200: list[PartyMemberOut]}, 404, 422),
    summary="Party members in scope, by name; phone numbers masked",
)
@paginate(Paging)
def list_members(request: AuthedRequest, filters: Query[MemberFilter]) -> QuerySet[PartyMember]:
    _require_view(request)
    qs = queries.members_for(request.user).select_related("unit")
    if filters.kind is not None:
        qs = qs.filter(kind=filters.kind.value)
    if filters.transferred_in is not None:
        qs = qs.filter(transferred_in_on__isnull=not filters.transferred_in)
    return qs.order_by("name", "id")


@router.get(
    "/party/members/{member_id}",
    response=responses({200: PartyMemberOut}, 404),
    summary="One party member",
)
def get_member(request: AuthedRequest, member_id: Id) -> PartyMember:
    return queries.access_member(request.user, member_id)


@router.post(
    "/party/members/{member_id}/evaluations",
    response=responses({200: EvaluationOut}, 400, 403, 404, 422, conflict=Error),
    summary="Grade a member for a period (again: replaces the grade)",
)
def evaluate(request: AuthedRequest, member_id: Id, payload: EvaluationIn) -> object:
    member = queries.access_member(request.user, member_id)
    return _act(
        lambda: actions.evaluate(
            request.user,
            member.pk,
            period=payload.period,
            grade=payload.grade.value,
            comment=payload.comment,
        )
    )


# --- registrations ---------------------------------------------------------------------------------


@router.get(
    "/party/registrations",
    response=responses({200: list[RegistrationOut]}, 404, 422),
    summary="Dual-report registrations in scope, by status (waiting ones oldest first)",
)
@paginate(Paging)
def list_registrations(
    request: AuthedRequest, filters: Query[StatusFilter]
) -> QuerySet[Registration]:
    _require_view(request)
    qs = queries.registrations_for(request.user).filter(status=filters.status.value)
    if filters.status == RegistrationStatus.PENDING:
        return qs.order_by("created_at", "id")
    return qs.order_by("-created_at", "-id")


@router.post(
    "/party/registrations/{registration_id}/approve",
    response=responses({200: RegistrationOut}, 403, 404, conflict=Error),
    summary="Approve: the member record and a login are made, with the party member role on "
    "the community (a second approval changes nothing)",
)
def approve(request: AuthedRequest, registration_id: Id) -> object:
    found = queries.access_registration(request.user, registration_id)
    return _act(lambda: actions.approve(request.user, found.pk))


@router.post(
    "/party/registrations/{registration_id}/reject",
    response=responses({200: RegistrationOut}, 400, 403, 404, 422, conflict=Error),
    summary="Reject with a reason; the record is kept",
)
def reject(request: AuthedRequest, registration_id: Id, payload: PartyReasonIn) -> object:
    found = queries.access_registration(request.user, registration_id)
    return _act(lambda: actions.reject(request.user, found.pk, payload.reason))


# --- posts, tasks and claims -----------------------------------------------------------------------


@router.get(
    "/party/posts",
    response=responses({200: list[PostOut]}, 404, 422),
    summary="Posts and tasks: all in view scope; a party member sees their community's open ones",
)
@paginate(Paging)
def list_posts(request: AuthedRequest, filters: Query[PostFilter]) -> QuerySet[Post]:
    if not queries.sees_party(request.user):
        raise Http404
    qs = queries.posts_for(request.user)
    if filters.state is not None:
        qs = qs.filter(state=filters.state.value)
    return qs.order_by("-created_at", "-id")


@router.post(
    "/party/posts",
    response=responses({201: PostOut}, 400, 403, 404, 422, conflict=Error),
    summary="Publish a post or a task with its number of places",
)
def publish(request: AuthedRequest, payload: PostIn) -> object:
    community = _managed_community(request, payload.community)
    return _act(
        lambda: actions.publish(
            request.user,
            community,
            kind=payload.kind.value,
            title=payload.title,
            capacity=payload.capacity,
            description=payload.description,
            starts_on=payload.starts_on,
            ends_on=payload.ends_on,
        ),
        201,
    )


@router.get(
    "/party/posts/{post_id}",
    response=responses({200: PostOut}, 404),
    summary="One post or task",
)
def get_post(request: AuthedRequest, post_id: Id) -> Post:
    return queries.access_post(request.user, post_id)


@router.post(
    "/party/posts/{post_id}/close",
    response=responses({200: PostOut}, 403, 404, conflict=Error),
    summary="Close a post or task: no more claims",
)
def close_post(request: AuthedRequest, post_id: Id) -> object:
    found = queries.access_post(request.user, post_id)
    return _act(lambda: actions.close_post(request.user, found.pk))


@router.post(
    "/party/posts/{post_id}/claim",
    response=responses({201: ClaimOut}, 403, 404, conflict=Error),
    summary="Claim a place (a party member of the community); 409 when none is left or the "
    "member has claimed it already",
)
def claim(request: AuthedRequest, post_id: Id) -> object:
    found = queries.access_post(request.user, post_id)

    def do() -> Claim:
        made = actions.claim(request.user, found.pk)
        return Claim.objects.select_related("post", "member").get(pk=made.pk)

    return _act(do, 201)


@router.get(
    "/party/claims",
    response=responses({200: list[ClaimOut]}, 404, 422),
    summary="Claims in view scope and the user's own (``mine`` for only those), live ones",
)
@paginate(Paging)
def list_claims(request: AuthedRequest, filters: Query[MineFilter]) -> QuerySet[Claim]:
    if not queries.sees_party(request.user):
        raise Http404
    qs = queries.claims_for(request.user).filter(withdrawn_at__isnull=True)
    if filters.mine:
        qs = qs.filter(member__user_id=request.user.pk or 0)
    return qs.select_related("post", "member").order_by("-claimed_at", "-id")


@router.post(
    "/party/claims/{claim_id}/withdraw",
    response=responses({200: ClaimOut}, 403, 404, conflict=Error),
    summary="Give the place back (the member, or a worker of the community)",
)
def withdraw(request: AuthedRequest, claim_id: Id) -> object:
    found = queries.access_claim(request.user, claim_id)

    def do() -> Claim:
        actions.withdraw(request.user, found.pk)
        return Claim.objects.select_related("post", "member").get(pk=found.pk)

    return _act(do)


@router.post(
    "/party/claims/{claim_id}/hours",
    response=responses({201: HoursOut}, 400, 403, 404, 422, conflict=Error),
    summary="Log the member's own service hours against their claim; they wait for a worker",
)
def log_hours(request: AuthedRequest, claim_id: Id, payload: HoursIn) -> object:
    found = queries.access_claim(request.user, claim_id)

    def do() -> ServiceHours:
        row = actions.log_hours(
            request.user,
            found.pk,
            served_on=payload.served_on,
            hours=payload.hours,
            note=payload.note,
        )
        return ServiceHours.objects.select_related("member", "post").get(pk=row.pk)

    return _act(do, 201)


# --- service hours ---------------------------------------------------------------------------------


@router.get(
    "/party/hours",
    response=responses({200: list[HoursOut]}, 404, 422),
    summary="Service hours in view scope and the user's own, the oldest first",
)
@paginate(Paging)
def list_hours(request: AuthedRequest, filters: Query[HoursFilter]) -> QuerySet[ServiceHours]:
    if not queries.sees_party(request.user):
        raise Http404
    qs = queries.hours_for(request.user)
    if filters.status is not None:
        qs = qs.filter(status=filters.status.value)
    if filters.mine:
        qs = qs.filter(member__user_id=request.user.pk or 0)
    return qs.select_related("member", "post").order_by("served_on", "id")


def _decide(request: AuthedRequest, hours_id: int, do: Callable[[int], Any]) -> object:
    found = queries.access_hours(request.user, hours_id)

    def run() -> ServiceHours:
        do(found.pk)
        return ServiceHours.objects.select_related("member", "post").get(pk=found.pk)

    return _act(run)


@router.post(
    "/party/hours/{hours_id}/confirm",
    response=responses({200: HoursOut}, 403, 404, conflict=Error),
    summary="Confirm logged hours: they count in the service record",
)
def confirm_hours(request: AuthedRequest, hours_id: Id) -> object:
    return _decide(request, hours_id, lambda pk: actions.confirm_hours(request.user, pk))


@router.post(
    "/party/hours/{hours_id}/reject",
    response=responses({200: HoursOut}, 400, 403, 404, 422, conflict=Error),
    summary="Reject logged hours with a reason",
)
def reject_hours(request: AuthedRequest, hours_id: Id, payload: PartyReasonIn) -> object:
    return _decide(
        request, hours_id, lambda pk: actions.reject_hours(request.user, pk, payload.reason)
    )


# --- units and service records ---------------------------------------------------------------------


@router.get(
    "/party/units",
    response=responses({200: list[UnitOut]}, 404),
    summary="Employer units with members in view scope, and those the user is a contact of",
)
def list_units(request: AuthedRequest) -> object:
    if scope_for(request.user, Cap.PARTY_VIEW).is_empty and not queries.is_contact(request.user):
        raise Http404
    return list(queries.units_for(request.user).order_by("name", "id")[:1000])


@router.post(
    "/party/units/{unit_id}/contacts",
    response=responses({201: UnitContactOut}, 400, 403, 404, 422, conflict=Error),
    summary="Make a login the unit's partner contact in the user's community: they may then read "
    "the unit's service record there",
)
def add_contact(request: AuthedRequest, unit_id: Id, payload: UnitContactIn) -> object:

    unit, _rows = queries.access_unit(request.user, unit_id)
    communities = communities_for(request.user, Cap.PARTY_MANAGE)
    if not communities:
        raise actions.not_allowed()
    user = login_with_phone(payload.phone)
    if user is None:
        raise refuse(phone=_("No account has this mobile number."))
    return _act(lambda: actions.add_contact(request.user, unit, user, communities[0]), 201)


@router.get(
    "/party/units/{unit_id}/record",
    response=responses({200: RecordOut}, 400, 404, 422),
    summary="A unit's service record for a month, a quarter or a year: its members' confirmed "
    "hours, posts and tasks, and grades",
)
def unit_record(request: AuthedRequest, unit_id: Id, query: Query[PeriodQuery]) -> object:
    unit, rows_q = queries.access_unit(request.user, unit_id)
    try:
        period = Period.parse(query.period) if query.period else Period.current("quarter")
    except ValueError:
        raise refuse(period=_("A period is 2026, 2026-Q1 or 2026-03.")) from None
    record = service_record(unit, period, rows_q)
    return {
        "unit": unit,
        "period": period.key,
        "start": period.start,
        "end": period.end,
        "total_hours": record.total_hours,
        "rows": [
            {
                "member_id": r.member_id,
                "name": r.name,
                "phone_masked": r.phone_masked,
                "community": r.community,
                "hours": r.hours,
                "tasks": r.tasks,
                "grade": r.grade,
                "comment": r.comment,
            }
            for r in record.rows
        ],
    }
