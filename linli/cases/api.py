"""The cases API: the inbox, intake, one case with its timeline, every workflow step, the people a
case may be given to, the category tree and the three rates — scoped exactly like the pages.

Reads go through ``cases.queries`` (404 outside the user's scope), writes through
``cases.workflow`` (one transaction each, audited, notified). The reporter's phone number is masked
in every answer, and their name is left out when they asked to stay anonymous.

Errors: 401 without a valid token or session; 404 for a case or place outside the user's scope
(as if it did not exist), and for the lists when the user may see no case at all; 403 when the
user may see the case (or the place) but not take the step asked; 409 when the step is not
possible from the case's current state (nothing changes; the answer gives the state); 400 when the
data is refused by the workflow's rules, with a message per field; 422 when the request itself does
not fit the schema.
"""

import datetime
from collections.abc import Callable
from typing import Any, Literal

from django.core.exceptions import PermissionDenied, ValidationError
from django.db.models import Q
from django.http import Http404
from django.urls import reverse
from django.utils import timezone
from django.utils.translation import gettext as _
from ninja import Field, Query, Router, Schema
from ninja import Status as Reply
from ninja.pagination import paginate

from linli.accounts.models import User
from linli.accounts.roles import Cap
from linli.accounts.scope import scope_for
from linli.accounts.types import AuthedRequest
from linli.core.api import query_error, refuse, renamed_fields, responses
from linli.core.bounds import Id, Moment
from linli.core.identifiers import mask_mobile
from linli.core.paging import Paging
from linli.places.models import Place
from linli.places.queries import access_place

from . import attributes, queries, workflow
from .models import (
    AssigneeKind,
    Case,
    CaseEvent,
    CasePhoto,
    Category,
    Channel,
    Priority,
    State,
    category_label,
)
from .rates import Rates, rates, rates_by_child

router = Router(tags=["cases"])


# --- schemas ---------------------------------------------------------------------------------------


class Conflict(Schema):
    """The step is not possible from the case's current state; nothing was changed."""

    detail: str
    state: str


class CaseOut(Schema):
    id: int
    code: str  # the tracking code the resident was given
    title: str
    state: str
    state_label: str
    channel: str
    category: str  # the category's code
    category_name: str
    priority: str
    place_id: int
    place_name: str
    received_at: datetime.datetime
    respond_by: datetime.datetime
    resolve_by: datetime.datetime | None
    overdue: bool
    escalated: bool
    assignee_id: int | None
    assignee_name: str | None
    assignee_kind: str
    reporter_name: str | None  # None when the resident asked to stay anonymous
    reporter_phone_masked: str

    @staticmethod
    def resolve_state_label(obj: Case) -> str:
        return str(State(obj.state).label)

    @staticmethod
    def resolve_category(obj: Case) -> str:
        return obj.category.code

    @staticmethod
    def resolve_category_name(obj: Case) -> str:
        return category_label(obj.category)

    @staticmethod
    def resolve_place_name(obj: Case) -> str:
        return obj.place.name

    @staticmethod
    def resolve_escalated(obj: Case) -> bool:
        return obj.escalated_at is not None

    @staticmethod
    def resolve_assignee_name(obj: Case) -> str | None:
        return str(obj.assignee) if obj.assignee is not None else None

    @staticmethod
    def resolve_reporter_name(obj: Case) -> str | None:
        return None if obj.anonymous else obj.reporter_name

    @staticmethod
    def resolve_reporter_phone_masked(obj: Case) -> str:
        return mask_mobile(obj.reporter_phone)


class EventOut(Schema):
    id: int
    at: datetime.datetime
    kind: str
    from_state: str
    to_state: str
    note: str
    public: bool  # shown to the resident on the tracking page too
    actor_id: int | None
    actor_name: str | None

    @staticmethod
    def resolve_actor_name(obj: CaseEvent) -> str | None:
        return str(obj.actor) if obj.actor is not None else None


class PhotoOut(Schema):
    id: int
    kind: str
    content_type: str
    size: int
    uploaded_at: datetime.datetime
    url: str  # the page view that serves it, behind the same scope check

    @staticmethod
    def resolve_url(obj: CasePhoto) -> str:
        return reverse("cases:photo", args=[obj.case_id, obj.pk])


class AnswerOut(Schema):
    """One answer to what the category asks (an Open311 attribute), as the case page shows it."""

    question: str
    answer: str


class CaseDetailOut(CaseOut):
    description: str
    answers: list[AnswerOut]  # the details given with the case, in the category's order
    reject_reason: str
    resolution: str
    rating: int | None
    rating_comment: str
    responded_at: datetime.datetime | None
    accepted_at: datetime.datetime | None
    resolved_at: datetime.datetime | None
    rated_at: datetime.datetime | None
    closed_at: datetime.datetime | None
    escalated_at: datetime.datetime | None
    merged_into_id: int | None
    merged_into_code: str | None
    steps: list[str]  # what the user may do with the case now (POST /cases/{id}/<step>)
    events: list[EventOut]
    photos: list[PhotoOut]

    @staticmethod
    def resolve_answers(obj: Case) -> list[dict[str, str]]:
        return [{"question": q, "answer": a} for q, a in attributes.answers(obj)]

    @staticmethod
    def resolve_merged_into_code(obj: Case) -> str | None:
        return obj.merged_into.code if obj.merged_into is not None else None

    @staticmethod
    def resolve_steps(obj: Case, context: dict[str, Any]) -> list[str]:
        return workflow.steps_for(context["request"].user, obj)

    @staticmethod
    def resolve_events(obj: Case) -> list[CaseEvent]:
        return list(CaseEvent.objects.filter(case=obj).select_related("actor").order_by("at", "id"))

    @staticmethod
    def resolve_photos(obj: Case) -> list[CasePhoto]:
        return list(obj.photos.order_by("uploaded_at", "id"))


class CaseFilter(Schema):
    state: Literal["open", "resolved", "closed", "all"] = "open"
    category: str | None = None  # a category's code; its subcategories are included
    overdue: bool = False
    mine: bool = False  # only the cases assigned to the user
    place: Id | None = None  # a place in the user's scope: the cases under it
    received_after: Moment | None = None  # inclusive
    received_before: Moment | None = None  # exclusive


class CaseIn(Schema):
    """A case taken in for a resident. Without a title, the first line of the description is
    used. ``anonymous`` drops the name given."""

    channel: Channel
    category: str  # the category's code
    place: Id  # a building or a compound
    description: str
    title: str = ""
    priority: Priority = Priority.NORMAL
    reporter_name: str = ""
    reporter_phone: str = ""
    anonymous: bool = False


class ReasonIn(Schema):
    reason: str


class AssignIn(Schema):
    user_id: Id  # one of GET /cases/{case_id}/assignable


class ResolveIn(Schema):
    resolution: str


class RateIn(Schema):
    rating: int  # 1 (very dissatisfied) to 5 (very satisfied); 1 or 2 reopens the case
    comment: str = ""


class MergeIn(Schema):
    primary_code: str  # the tracking code of the case this one joins


class CommentIn(Schema):
    text: str
    public: bool = False  # shown to the resident on the tracking page


class AssigneeOut(Schema):
    id: int
    name: str
    kind: str
    kind_label: str


class CategoryOut(Schema):
    id: int
    code: str
    name: str
    response_hours: int  # the answer is due within this many hours of intake
    resolve_days: int  # the resolution is due within this many days of acceptance
    active: bool  # inactive ones keep their cases but take no new ones
    children: list["CategoryOut"]


CategoryOut.model_rebuild()


class RatesFilter(Schema):
    place: Id | None = None  # a place in the user's scope; by default their own (if only one)
    days: int = Field(30, ge=1, le=366)  # the cases received in the last so many days


class RatesOut(Schema):
    received: int
    answer_due: int
    answered_in_time: int
    accepted: int
    resolved: int
    rated: int
    satisfied: int
    open: int
    overdue: int
    response: float | None  # answered_in_time / answer_due; None when nothing is due yet
    resolution: float | None  # resolved / accepted
    satisfaction: float | None  # satisfied / rated


class ChildRatesOut(RatesOut):
    place_id: int
    place_name: str


class RatesReportOut(Schema):
    place_id: int | None
    place_name: str | None
    days: int
    start: datetime.datetime
    end: datetime.datetime
    total: RatesOut
    children: list[ChildRatesOut]  # one row per child of the place that has cases


# --- helpers ---------------------------------------------------------------------------------------

_LIST_RELATED = ("category", "place", "assignee")


def _require_cases(request: AuthedRequest) -> None:
    """Lists answer 404 to a user who may see no case at all, like the pages do."""
    if not queries.sees_cases(request.user):
        raise Http404


def _aware(moment: datetime.datetime | None) -> datetime.datetime | None:
    if moment is None or timezone.is_aware(moment):
        return moment
    return timezone.make_aware(moment)  # a time without an offset is Beijing time


def _step(
    request: AuthedRequest,
    case_id: int,
    action: str,
    do: Callable[[Case], object],
    rename: dict[str, str] | None = None,
) -> object:
    """One workflow step: 404 out of sight, 403 when only seen, 409 from the wrong state, 400 for
    refused data; otherwise the case as it is now."""
    user = request.user
    case = queries.access_case(user, case_id)
    # Checked here as well as in the workflow so that a user who may not take the step hears so,
    # whatever else is wrong with the request.
    if not workflow.may_step(user, case, action):
        raise workflow.not_yours()
    with renamed_fields(rename or {}):
        do(case)
    return Reply(200, queries.access_case(user, case.pk))


def _rates_out(r: Rates) -> dict[str, Any]:
    return {
        "received": r.received,
        "answer_due": r.answer_due,
        "answered_in_time": r.answered_in_time,
        "accepted": r.accepted,
        "resolved": r.resolved,
        "rated": r.rated,
        "satisfied": r.satisfied,
        "open": r.open,
        "overdue": r.overdue,
        "response": r.response,
        "resolution": r.resolution,
        "satisfaction": r.satisfaction,
    }


# --- the inbox and intake --------------------------------------------------------------------------


@router.get(
    "/cases",
    response=responses({200: list[CaseOut]}, 404, 422),
    summary="Cases in scope (and those assigned to the user), ordered like the inbox: open ones "
    "overdue first, then urgent, then the oldest; the others newest first",
)
@paginate(Paging)
def list_cases(request: AuthedRequest, filters: Query[CaseFilter]) -> object:
    _require_cases(request)
    user = request.user
    category_id = None
    if filters.category:
        found = Category.objects.filter(code=filters.category).values_list("pk", flat=True).first()
        if found is None:
            raise query_error(
                "category", _("Unknown category: %(code)s") % {"code": filters.category}
            )
        category_id = found
    qs = queries.inbox(
        user,
        mine=filters.mine,
        state=filters.state,
        category_id=category_id,
        overdue_only=filters.overdue,
    )
    if filters.place is not None:
        place = access_place(user, filters.place, Cap.CASES_VIEW)
        qs = qs.filter(path__gte=place.path, path__lt=place.path_end)
    if filters.received_after is not None:
        qs = qs.filter(received_at__gte=_aware(filters.received_after))
    if filters.received_before is not None:
        qs = qs.filter(received_at__lt=_aware(filters.received_before))
    return qs.select_related(*_LIST_RELATED)


@router.post(
    "/cases",
    response=responses({201: CaseDetailOut}, 400, 403, 404, 422),
    summary="Take a case in for a resident (needs the right to take in cases at the place)",
)
def create_case(request: AuthedRequest, payload: CaseIn) -> object:
    user = request.user
    # 404 when the place is out of sight, 403 when it is seen but the user may not take in there.
    try:
        place = access_place(user, payload.place, Cap.CASES_INTAKE)
    except Http404:
        access_place(user, payload.place, Cap.CASES_VIEW)
        raise PermissionDenied(_("You may not take in cases here.")) from None
    category = Category.objects.filter(code=payload.category).first()
    if category is None:
        raise refuse(category=_("Unknown category: %(code)s") % {"code": payload.category})
    data = workflow.Intake(
        channel=payload.channel.value,
        category=category,
        place=place,
        description=payload.description,
        title=payload.title,
        priority=payload.priority.value,
        reporter_name=payload.reporter_name,
        reporter_phone=payload.reporter_phone,
        anonymous=payload.anonymous,
    )
    case = workflow.take_in(user, data)
    return Reply(201, queries.access_case(user, case.pk))


@router.get(
    "/cases/rates",
    response=responses({200: RatesReportOut}, 404, 422),
    summary="The response, resolution and satisfaction rates of the cases received in the last "
    "days, in the user's scope or under one place of it, with a row per child place",
)
def case_rates(request: AuthedRequest, filters: Query[RatesFilter]) -> object:
    user = request.user
    scope = scope_for(user, Cap.CASES_VIEW)
    if scope.is_empty:
        raise Http404
    place: Place | None = None
    if filters.place is not None:
        place = access_place(user, filters.place, Cap.CASES_VIEW)
    elif len(scope.ranges) == 1:
        place = Place.objects.filter(path=scope.ranges[0][0]).first()
    end = timezone.now()
    start = end - datetime.timedelta(days=filters.days)
    scope_q = scope.q()
    if place is not None:
        scope_q &= Q(path__gte=place.path, path__lt=place.path_end)
    total = rates(scope_q, start, end, now=end)
    children: list[dict[str, Any]] = []
    if place is not None:
        by_child = rates_by_child(scope_q, place.path, start, end, now=end)
        names = {p.path: p for p in Place.objects.filter(path__in=list(by_child))}
        children = [
            {"place_id": names[path].pk, "place_name": names[path].name, **_rates_out(r)}
            for path, r in by_child.items()
            if path in names
        ]
    return {
        "place_id": place.pk if place else None,
        "place_name": place.name if place else None,
        "days": filters.days,
        "start": start,
        "end": end,
        "total": _rates_out(total),
        "children": children,
    }


@router.get(
    "/case-categories",
    response=responses({200: list[CategoryOut]}, 404),
    summary="The category tree with each category's deadlines, in the user's language",
)
def case_categories(request: AuthedRequest) -> object:
    _require_cases(request)
    nodes: dict[int, dict[str, Any]] = {}
    parents: dict[int, int | None] = {}
    for c in Category.objects.order_by("order", "code"):
        nodes[c.pk] = {
            "id": c.pk,
            "code": c.code,
            "name": category_label(c),
            "response_hours": c.response_hours,
            "resolve_days": c.resolve_days,
            "active": c.active,
            "children": [],
        }
        parents[c.pk] = c.parent_id
    roots: list[dict[str, Any]] = []
    for pk, node in nodes.items():
        parent = parents[pk]
        (nodes[parent]["children"] if parent in nodes else roots).append(node)
    return roots


# --- one case --------------------------------------------------------------------------------------


@router.get(
    "/cases/{case_id}",
    response=responses({200: CaseDetailOut}, 404),
    summary="One case with its timeline, its photos and the steps the user may take now",
)
def get_case(request: AuthedRequest, case_id: Id) -> Case:
    return queries.access_case(request.user, case_id)


@router.get(
    "/cases/{case_id}/assignable",
    response=responses({200: list[AssigneeOut]}, 403, 404),
    summary="The people the case may be assigned to: anyone holding a role where it is",
)
def assignable(request: AuthedRequest, case_id: Id) -> object:
    case = queries.access_case(request.user, case_id)
    if not workflow.may_step(request.user, case, "assign"):
        raise PermissionDenied(_("You may see this case but not assign it."))
    people = workflow.assignable(case)
    kinds = workflow.assignee_kinds(case, [u.pk for u in people])
    return [
        {
            "id": u.pk,
            "name": str(u),
            "kind": kinds[u.pk],
            "kind_label": str(AssigneeKind(kinds[u.pk]).label),
        }
        for u in people
    ]


_STEP = responses({200: CaseDetailOut}, 403, 404, conflict=Conflict)
_STEP_WITH_DATA = responses({200: CaseDetailOut}, 400, 403, 404, 422, conflict=Conflict)


@router.post(
    "/cases/{case_id}/accept",
    response=_STEP,
    summary="Accept a received case: the resolution deadline starts",
)
def accept(request: AuthedRequest, case_id: Id) -> object:
    return _step(request, case_id, "accept", lambda case: workflow.accept(request.user, case.pk))


@router.post(
    "/cases/{case_id}/reject",
    response=_STEP_WITH_DATA,
    summary="Reject a received case, telling the resident why (final)",
)
def reject(request: AuthedRequest, case_id: Id, payload: ReasonIn) -> object:
    return _step(
        request,
        case_id,
        "reject",
        lambda case: workflow.reject(request.user, case.pk, payload.reason),
    )


@router.post(
    "/cases/{case_id}/assign",
    response=_STEP_WITH_DATA,
    summary="Give an accepted case to someone holding a role where it is (or give it to another)",
)
def assign(request: AuthedRequest, case_id: Id, payload: AssignIn) -> object:
    assignee = User.objects.filter(pk=payload.user_id, is_active=True).first()
    return _step(
        request,
        case_id,
        "assign",
        lambda case: workflow.assign(request.user, case.pk, assignee),
        rename={"assignee": "user_id"},
    )


@router.post(
    "/cases/{case_id}/start",
    response=_STEP,
    summary="Start work on an assigned case (its assignee, or a handler)",
)
def start(request: AuthedRequest, case_id: Id) -> object:
    return _step(request, case_id, "start", lambda case: workflow.start(request.user, case.pk))


@router.post(
    "/cases/{case_id}/resolve",
    response=_STEP_WITH_DATA,
    summary="Say what was done (its assignee, or a handler); the resident is asked to rate it",
)
def resolve(request: AuthedRequest, case_id: Id, payload: ResolveIn) -> object:
    return _step(
        request,
        case_id,
        "resolve",
        lambda case: workflow.resolve(request.user, case.pk, payload.resolution),
    )


@router.post(
    "/cases/{case_id}/rate",
    response=_STEP_WITH_DATA,
    summary="Record the resident's rating (after a call back); 1 or 2 reopens the case",
)
def rate(request: AuthedRequest, case_id: Id, payload: RateIn) -> object:
    return _step(
        request,
        case_id,
        "rate",
        lambda case: workflow.rate(request.user, case.pk, payload.rating, payload.comment),
    )


@router.post("/cases/{case_id}/close", response=_STEP, summary="Close a resolved or rated case")
def close(request: AuthedRequest, case_id: Id) -> object:
    return _step(request, case_id, "close", lambda case: workflow.close(request.user, case.pk))


@router.post(
    "/cases/{case_id}/reopen",
    response=_STEP_WITH_DATA,
    summary="Reopen a resolved, rated or closed case to its assignee, with a reason",
)
def reopen(request: AuthedRequest, case_id: Id, payload: ReasonIn) -> object:
    return _step(
        request,
        case_id,
        "reopen",
        lambda case: workflow.reopen(request.user, case.pk, payload.reason),
    )


@router.post(
    "/cases/{case_id}/merge",
    response=_STEP_WITH_DATA,
    summary="Merge an open case into another (by its tracking code): it follows that one",
)
def merge(request: AuthedRequest, case_id: Id, payload: MergeIn) -> object:
    code = payload.primary_code.strip().upper()

    def do(case: Case) -> object:
        primary = queries.cases_for(request.user).filter(code=code).values_list("pk", flat=True)
        if not primary:
            raise ValidationError({"primary": _("No case here has this tracking code.")})
        return workflow.merge(request.user, case.pk, primary[0])

    return _step(request, case_id, "merge", do, rename={"primary": "primary_code"})


@router.post(
    "/cases/{case_id}/escalate",
    response=_STEP_WITH_DATA,
    summary="Mark an open case for the street to take up, with a reason",
)
def escalate(request: AuthedRequest, case_id: Id, payload: ReasonIn) -> object:
    return _step(
        request,
        case_id,
        "escalate",
        lambda case: workflow.escalate(request.user, case.pk, payload.reason),
    )


@router.post(
    "/cases/{case_id}/comment",
    response=responses({201: EventOut}, 400, 403, 404, 422),
    summary="Add a comment to the timeline (internal unless public)",
)
def comment(request: AuthedRequest, case_id: Id, payload: CommentIn) -> object:
    user = request.user
    case = queries.access_case(user, case_id)
    if not workflow.may_step(user, case, "comment"):
        raise workflow.not_yours()
    event = workflow.comment(user, case.pk, payload.text, public=payload.public)
    return Reply(201, CaseEvent.objects.select_related("actor").get(pk=event.pk))
