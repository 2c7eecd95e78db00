"""Case pages for staff: the inbox, intake (with a pasted WeChat message), a case with its
timeline and the steps the user may take, the three rates, and the QR code sheet of a building."""

from __future__ import annotations

import datetime
from collections.abc import Callable
from typing import Any

import segno
from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied, ValidationError
from django.db import transaction
from django.db.models import Q
from django.http import FileResponse, Http404, HttpResponse
from django.shortcuts import redirect, render
from django.utils import timezone
from django.utils.translation import gettext as _
from django.views.decorators.http import require_GET, require_POST

from linli.accounts.models import User
from linli.accounts.roles import Cap
from linli.accounts.scope import scope_for
from linli.accounts.types import AuthedRequest
from linli.core import audit
from linli.core.identifiers import mask_mobile
from linli.core.pages import flash_errors, number_param, posted_number
from linli.core.paging import page_of
from linli.places.models import Place
from linli.places.queries import access_place

from . import attributes, photos, queries, workflow
from .duplicates import similar
from .forms import (
    CommentForm,
    IntakeForm,
    MergeForm,
    PasteForm,
    RateForm,
    ReasonForm,
    ResolveForm,
    intake_places,
)
from .models import Case, CaseEvent, Category, Notification, PhotoKind, State, category_label
from .notify import notification_text
from .paste import guess
from .public import qr_url
from .rates import rates, rates_by_child, sum_rates


def _errors(form: Any, exc: ValidationError) -> None:
    if hasattr(exc, "error_dict"):
        for key, errs in exc.message_dict.items():
            form.add_error(key if key in form.fields else None, errs)
    else:
        form.add_error(None, exc.messages)


@login_required
@require_GET
def inbox(request: AuthedRequest) -> HttpResponse:
    user = request.user
    if not queries.sees_cases(user):
        raise Http404
    has_scope = not scope_for(user, Cap.CASES_VIEW).is_empty
    mine = request.GET.get("who", "all" if has_scope else "mine") == "mine" or not has_scope
    state = request.GET.get("state", "open")
    if state not in (*queries.STATE_FILTERS, "all"):
        state = "open"
    category = number_param(request, "category")
    overdue = request.GET.get("overdue") == "1"
    qs = queries.inbox(
        user, mine=mine, state=state, category_id=category, overdue_only=overdue
    ).select_related("category", "place", "assignee")
    # No count over the whole scope (a street has hundreds of thousands of cases).
    page = page_of(request, qs)
    return render(
        request,
        "cases/inbox.html",
        {
            "cases": page.rows,
            "page": page,
            "mine": mine,
            "has_scope": has_scope,
            "state": state,
            "overdue": overdue,
            "category": category,
            "categories": [
                (c.pk, category_label(c)) for c in Category.objects.filter(parent__isnull=True)
            ],
            "may_intake": not scope_for(user, Cap.CASES_INTAKE).is_empty,
            "may_rates": has_scope,
            "now": timezone.now(),
        },
    )


@login_required
def new(request: AuthedRequest) -> HttpResponse:
    user = request.user
    if scope_for(user, Cap.CASES_INTAKE).is_empty:
        raise Http404
    paste_form = PasteForm()
    if request.method == "POST" and "paste" in request.POST:
        # Pre-fill the form from a pasted WeChat message; nothing is saved yet.
        paste_form = PasteForm(request.POST)
        initial: dict[str, Any] = {"channel": "wechat"}
        if paste_form.is_valid():
            found = guess(paste_form.cleaned_data["text"], intake_places(user))
            initial.update(description=found.description, reporter_phone=found.phone)
            if found.building_id:
                initial["place"] = found.building_id
            category = Category.objects.filter(code=found.category_code, active=True).first()
            if category:
                initial["category"] = category.pk
        form = IntakeForm(user, initial=initial)
    elif request.method == "POST":
        form = IntakeForm(user, request.POST, request.FILES)
        if form.is_valid():
            data = workflow.Intake(
                channel=form.cleaned_data["channel"],
                category=form.category_object(),
                place=form.place_object(),
                description=form.cleaned_data["description"],
                priority=form.cleaned_data["priority"],
                reporter_name=form.cleaned_data["reporter_name"],
                reporter_phone=form.cleaned_data["reporter_phone"],
                anonymous=form.cleaned_data["anonymous"],
            )
            try:
                case = photos.take_in_with_photo(user, data, form.cleaned_data.get("photo"))
            except ValidationError as exc:
                _errors(form, exc)
            else:
                messages.success(request, _("Case %(code)s taken in.") % {"code": case.code})
                return redirect("cases:detail", case.pk)
    else:
        form = IntakeForm(user, initial={"place": request.GET.get("place")})
    return render(request, "cases/new.html", {"form": form, "paste_form": paste_form})


@login_required
@require_GET
def detail(request: AuthedRequest, case_id: int) -> HttpResponse:
    case = queries.access_case(request.user, case_id)
    return render(request, "cases/detail.html", _detail_context(request, case))


def _detail_context(request: AuthedRequest, case: Case, **extra: Any) -> dict[str, Any]:
    user = request.user
    allowed = workflow.steps_for(user, case)
    # The rating has its own form; escalating and commenting are offered apart from the steps.
    steps = [s for s in allowed if s in workflow.TRANSITIONS and s != "rate"]
    handles = workflow.may_handle(user, case)
    context = {
        "case": case,
        "steps": steps,
        "handles": handles,
        "events": CaseEvent.objects.filter(case=case).select_related("actor"),
        "photos": list(case.photos.all()),
        "answers": attributes.answers(case),
        "phone_masked": mask_mobile(case.reporter_phone),
        "assignable": workflow.assignable(case) if "assign" in steps else [],
        "may_escalate": "escalate" in allowed,
        "may_comment": "comment" in allowed,
        "reason_form": ReasonForm(),
        "resolve_form": ResolveForm(),
        "merge_form": MergeForm(),
        "comment_form": CommentForm(),
        "rate_form": RateForm(),
        "now": timezone.now(),
        # Same matter raised by neighbours: offered for merging while the case is open.
        "duplicates": (
            similar(case, visible=queries.cases_for(user))
            if handles and case.state in workflow.TRANSITIONS["merge"][0]
            else []
        ),
    }
    context.update(extra)
    return context


STEP_HANDLERS = ("accept", "start", "close")
StepHandler = Callable[[AuthedRequest, Case, list[str]], None]


def _plain_step(action: str) -> StepHandler:
    def do(request: AuthedRequest, case: Case, written: list[str]) -> None:
        getattr(workflow, action)(request.user, case.pk)

    return do


def _step_with_reason(action: str) -> StepHandler:
    def do(request: AuthedRequest, case: Case, written: list[str]) -> None:
        form = ReasonForm(request.POST)
        if not form.is_valid():
            raise ValidationError({"reason": _("Give a reason.")})
        getattr(workflow, action)(request.user, case.pk, form.cleaned_data["reason"])

    return do


def _assign(request: AuthedRequest, case: Case, written: list[str]) -> None:
    assignee = User.objects.filter(pk=posted_number(request, "assignee") or 0).first()
    workflow.assign(request.user, case.pk, assignee)


def _resolve(request: AuthedRequest, case: Case, written: list[str]) -> None:
    form = ResolveForm(request.POST, request.FILES)
    if not form.is_valid():
        raise ValidationError([e for errs in form.errors.values() for e in errs])
    updated = workflow.resolve(request.user, case.pk, form.cleaned_data["resolution"])
    if form.cleaned_data.get("photo"):
        written.append(photos.save(updated, form.cleaned_data["photo"], PhotoKind.RESOLUTION).file)


def _rate(request: AuthedRequest, case: Case, written: list[str]) -> None:
    form = RateForm(request.POST)
    if not form.is_valid() or not workflow.may_handle(request.user, case):
        raise ValidationError(_("Choose one of the five levels."))
    workflow.rate(request.user, case.pk, form.cleaned_data["rating"], form.cleaned_data["comment"])


def _merge(request: AuthedRequest, case: Case, written: list[str]) -> None:
    form = MergeForm(request.POST)
    code = form.cleaned_data["primary"].strip().upper() if form.is_valid() else ""
    primary = queries.cases_for(request.user).filter(code=code).first() if code else None
    if primary is None:
        raise ValidationError(_("No case here has this tracking code."))
    workflow.merge(request.user, case.pk, primary.pk)


def _comment(request: AuthedRequest, case: Case, written: list[str]) -> None:
    form = CommentForm(request.POST)
    if not form.is_valid():
        raise ValidationError(_("Write something."))
    workflow.comment(
        request.user, case.pk, form.cleaned_data["text"], public=form.cleaned_data["public"]
    )


# What each button of the case page does: (request, case, files written) -> None.
STEPS: dict[str, StepHandler] = {
    **{action: _plain_step(action) for action in STEP_HANDLERS},
    **{action: _step_with_reason(action) for action in ("reject", "reopen", "escalate")},
    "assign": _assign,
    "resolve": _resolve,
    "rate": _rate,
    "merge": _merge,
    "comment": _comment,
}


@login_required
@require_POST
def step(request: AuthedRequest, case_id: int, action: str) -> HttpResponse:
    """One workflow step from the case page. Errors come back on the page, nothing changed."""
    case = queries.access_case(request.user, case_id)
    do = STEPS.get(action)
    if do is None:
        raise Http404
    written: list[str] = []
    try:
        with transaction.atomic():
            do(request, case, written)
    except (ValidationError, PermissionDenied) as exc:
        photos.discard(written)
        if isinstance(exc, PermissionDenied):
            raise
        flash_errors(request, exc)
    else:
        messages.success(request, _("Saved."))
    return redirect("cases:detail", case.pk)


@login_required
@require_POST
def reveal_phone(request: AuthedRequest, case_id: int) -> HttpResponse:
    """The reporter's number, to call them back: handlers only, with a reason, audited."""
    case = queries.access_case(request.user, case_id)
    if not workflow.may_handle(request.user, case) or not case.reporter_phone:
        raise Http404
    form = ReasonForm(request.POST)
    if not form.is_valid():
        return HttpResponse(_("Give a reason."), status=400)
    audit.record(
        request.user,
        "case.reveal",
        case,
        place_path=case.path,
        data={"reason": form.cleaned_data["reason"][:200]},
    )
    shown = (
        case.reporter_phone[3:] if case.reporter_phone.startswith("+86") else case.reporter_phone
    )
    return HttpResponse(f'<span class="secret">{shown}</span>')


@login_required
@require_GET
def photo(request: AuthedRequest, case_id: int, photo_id: int) -> FileResponse:
    case = queries.access_case(request.user, case_id)
    found = case.photos.filter(pk=photo_id).first()
    if found is None:
        raise Http404
    path = photos.path_of(found)
    if not path.exists():
        raise Http404
    # FileResponse closes the file when the response is done.
    response = FileResponse(path.open("rb"), content_type=found.content_type)
    response["Cache-Control"] = "private, max-age=3600"
    response["X-Content-Type-Options"] = "nosniff"
    return response


PERIODS = {"7": 7, "30": 30, "90": 90, "365": 365}


@login_required
@require_GET
def rates_page(request: AuthedRequest) -> HttpResponse:
    user = request.user
    scope = scope_for(user, Cap.CASES_VIEW)
    if scope.is_empty:
        raise Http404
    place_id = number_param(request, "place")
    place: Place | None = None
    if place_id is not None:
        place = access_place(user, place_id, Cap.CASES_VIEW)
    elif len(scope.ranges) == 1:
        place = Place.objects.filter(path=scope.ranges[0][0]).first()
    days = PERIODS.get(request.GET.get("days", "30"), 30)
    now = timezone.now()
    start = now - datetime.timedelta(days=days)
    scope_q = scope.q()
    if place is not None:
        scope_q &= Q(path__gte=place.path, path__lt=place.path_end)
    children: list[tuple[Place, Any]] = []
    if place is not None:
        by_child = rates_by_child(scope_q, place.path, start, now, now=now)
        names = {p.path: p for p in Place.objects.filter(path__in=list(by_child))}
        children = [(names[path], r) for path, r in by_child.items() if path in names]
        # The place's own cases (filed on a compound, say) are not under any child.
        total = (
            rates(scope_q, start, now, now=now)
            if not by_child
            else sum_rates(
                [*by_child.values(), rates(Q(path=place.path) & scope_q, start, now, now=now)]
            )
        )
    else:
        total = rates(scope_q, start, now, now=now)
    if place is not None and scope_for(user, Cap.CASES_VIEW).contains(place):
        overdue_qs = queries.inbox(user, mine=False, overdue_only=True, place=place)
    else:
        overdue_qs = queries.inbox(user, mine=False, overdue_only=True)
    overdue = list(overdue_qs.select_related("category", "place", "assignee")[:100])
    return render(
        request,
        "cases/rates.html",
        {
            "place": place,
            "days": days,
            "periods": list(PERIODS.values()),
            "total": total,
            "children": children,
            "overdue": overdue,
        },
    )


BOARD_COLUMNS = (
    (State.RECEIVED,),
    (State.ACCEPTED, State.ASSIGNED),
    (State.IN_PROGRESS,),
    (State.RESOLVED,),
)


@login_required
@require_GET
def board(request: AuthedRequest, place_id: int) -> HttpResponse:
    """A compound's (or a building's) cases at a glance: one column per stage, overdue first, and
    what was closed in the last 30 days."""
    place = access_place(request.user, place_id, Cap.CASES_VIEW)
    if place.kind not in ("compound", "building"):
        raise Http404
    under = Case.objects.filter(
        scope_for(request.user, Cap.CASES_VIEW).q(),
        path__gte=place.path,
        path__lt=place.path_end,
    ).select_related("category", "place", "assignee")
    columns = []
    for states in BOARD_COLUMNS:
        rows = list(
            under.filter(state__in=states).order_by("-overdue", "-priority", "received_at")[:60]
        )
        columns.append((State(states[-1]).label, rows))
    since = timezone.now() - datetime.timedelta(days=30)
    done = list(
        under.filter(state__in=[State.RATED, State.CLOSED], updated_at__gte=since).order_by(
            "-updated_at"
        )[:30]
    )
    return render(request, "cases/board.html", {"place": place, "columns": columns, "done": done})


@login_required
@require_GET
def qr_sheet(request: AuthedRequest, place_id: int) -> HttpResponse:
    """A printable sheet for a building (or each building of a compound): its QR code leading to
    the residents' form."""
    place = access_place(request.user, place_id, Cap.CASES_INTAKE)
    buildings = [place]
    if place.kind != "building":
        buildings = list(
            Place.objects.filter(
                path__gt=place.path, path__lt=place.path_end, kind="building"
            ).order_by("path")[:300]
        )

    sheets = []
    for building in buildings:
        url = request.build_absolute_uri(qr_url(building))
        svg = segno.make(url, error="m").svg_inline(scale=6, border=2, omitsize=True)
        sheets.append((building, url, svg))
    return render(request, "cases/qr.html", {"place": place, "sheets": sheets})


@login_required
def notifications(request: AuthedRequest) -> HttpResponse:

    assert isinstance(request.user, User)  # login_required
    mine = Notification.objects.filter(user=request.user)
    if request.method == "POST":
        mine.filter(read_at__isnull=True).update(read_at=timezone.now())
        return redirect("cases:notifications")
    page = page_of(request, mine.select_related("event__case").order_by("-created_at", "-id"))
    # Only cases the user may still open are links: a notice outlives a revoked grant.
    visible = set(
        queries.cases_for(request.user)
        .filter(pk__in=[n.event.case_id for n in page])
        .values_list("pk", flat=True)
    )
    rows = [(n, notification_text(n.event), n.event.case_id in visible) for n in page]
    return render(request, "cases/notifications.html", {"page": page, "rows": rows})
