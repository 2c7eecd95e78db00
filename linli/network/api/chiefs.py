"""The chiefs (三长制): recruit, decide their status, give and end their assignments."""

import datetime
from typing import Any

from django.core.exceptions import ValidationError
from django.db.models import QuerySet
from django.http import Http404
from django.utils import timezone
from django.utils.translation import gettext as _
from ninja import Query, Router, Schema
from ninja import Status as Reply
from ninja.pagination import paginate

from linli.accounts.roles import Cap
from linli.accounts.scope import scope_for
from linli.accounts.types import AuthedRequest, Viewer
from linli.core.api import refuse, responses
from linli.core.bounds import Day, Id
from linli.core.errors import Conflict
from linli.core.identifiers import mask_mobile
from linli.core.paging import Paging
from linli.places.models import Lane, Place

from .. import actions, queries
from ..models import (
    STATUS_STEPS,
    Chief,
    ChiefAssignment,
    ChiefDecision,
    ChiefKind,
    ChiefStatus,
)
from .common import require_network

router = Router()


class ChiefConflict(Schema):
    """The chief's current status forbids the step; nothing was changed."""

    detail: str
    status: str


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
    community: Id | None = None  # a community's id: its chiefs only
    kind: ChiefKind | None = None
    status: ChiefStatus | None = None


class RecruitIn(Schema):
    person: Id  # a person of the network
    kind: ChiefKind
    on: Day | None = None  # today by default
    note: str = ""


class DecideIn(Schema):
    to_status: ChiefStatus
    on: Day | None = None  # today by default
    note: str = ""


class ChiefAssignIn(Schema):
    """A building for a building chief; a street/lane for a lane or street chief."""

    building: Id | None = None
    lane: Id | None = None
    since: Day | None = None  # today by default


class AssignmentEndIn(Schema):
    until: Day | None = None  # today by default


def _chief(user: Viewer, chief_id: int) -> Chief:
    return queries.access_chief(user, chief_id)


# --- chiefs ----------------------------------------------------------------------------------------


@router.get(
    "/network/chiefs",
    response=responses({200: list[ChiefOut]}, 404, 422),
    summary="The chiefs of the communities in scope, and those looking after a building or "
    "street/lane in it",
)
@paginate(Paging)
def list_chiefs(request: AuthedRequest, filters: Query[ChiefFilter]) -> object:
    require_network(request)
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
def get_chief(request: AuthedRequest, chief_id: Id) -> Chief:
    return _chief(request.user, chief_id)


@router.post(
    "/network/chiefs",
    response=responses({200: ChiefDetailOut, 201: ChiefDetailOut}, 400, 403, 404, 422),
    summary="Recruit a person of the network as a candidate chief (200 with the existing record "
    "when they already hold this kind of role)",
)
def recruit(request: AuthedRequest, payload: RecruitIn) -> object:
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
def decide(request: AuthedRequest, chief_id: Id, payload: DecideIn) -> object:
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
def assign(request: AuthedRequest, chief_id: Id, payload: ChiefAssignIn) -> object:
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
def end_assignment(request: AuthedRequest, assignment_id: Id, payload: AssignmentEndIn) -> object:
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
