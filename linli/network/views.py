"""Network pages: the chief's phone view, a building's households with their last contact, home
visits, patrols and reception days, visit coverage with the households nobody reached, and the
chiefs' register (recruit, decide status, assign)."""

from __future__ import annotations

import datetime
from typing import Any

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied, ValidationError
from django.db.models import Count, Q
from django.http import Http404, HttpResponse
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils.translation import gettext as _
from django.views.decorators.http import require_GET, require_POST

from linli.accounts.models import Grant, User
from linli.accounts.roles import Cap, Role, roles_with
from linli.accounts.scope import scope_for
from linli.accounts.types import AuthedRequest, Viewer
from linli.cases.models import OPEN_STATES, Case
from linli.core.pages import flash_errors, number_param
from linli.core.paging import Page, other_parameters, page_number, page_of
from linli.people import queries as people_queries
from linli.people.models import Resident
from linli.places.models import Grid, Lane, LaneKind, Place, PlaceKind

from . import actions, coverage, queries
from .forms import AssignForm, ContactForm, DecideForm, RecruitForm, VisitForm
from .models import (
    STATUS_STEPS,
    Chief,
    ChiefAssignment,
    ChiefKind,
    ChiefStatus,
    ContactKind,
    Person,
)


def _errors(form: Any, exc: ValidationError) -> None:
    if hasattr(exc, "error_dict"):
        for key, errs in exc.message_dict.items():
            name = key.removeprefix("needs.0.")
            name = {"category": "need_category", "description": "need_description"}.get(name, name)
            form.add_error(name if name in form.fields else None, errs)
    else:
        form.add_error(None, exc.messages)


def _days(request: AuthedRequest) -> int:
    days = number_param(request, "days")
    return days if days in coverage.CHOICES_DAYS else coverage.DAYS


def _open_cases(buildings: list[Place], limit: int = 20) -> tuple[list[Case], int]:
    if not buildings:
        return [], 0
    q = Q()
    for b in buildings:
        q |= Q(path__gte=b.path, path__lt=b.path_end)
    qs = Case.objects.filter(q, state__in=OPEN_STATES)
    rows = list(qs.select_related("category", "place").order_by("-overdue", "received_at")[:limit])
    return rows, qs.count()


# --- home and the chief's view ----------------------------------------------------------------


@login_required
@require_GET
def home(request: AuthedRequest) -> HttpResponse:
    user = request.user
    if not queries.sees_network(user):
        raise Http404
    mine = queries.chief_buildings(user)
    roots = queries.coverage_roots(user)
    manage = not scope_for(user, Cap.NETWORK_MANAGE).is_empty
    has_ranges = bool(scope_for(user, Cap.NETWORK_VIEW).ranges)
    if mine and not _has_role_beyond_chief(user):
        return redirect("network:mine")
    return render(
        request,
        "network/home.html",
        {
            "roots": [(_area_kind(r), r) for r in roots],
            "mine": mine,
            "manage": manage,
            "has_ranges": has_ranges,
            "may_log": not scope_for(user, Cap.VISITS_LOG).is_empty,
        },
    )


def _has_role_beyond_chief(user: User) -> bool:
    roles = set(roles_with(Cap.NETWORK_VIEW)) - {Role.CHIEF}
    return Grant.objects.filter(user=user, role__in=roles, revoked_at__isnull=True).exists()


def _area_kind(area: Any) -> str:
    return "grid" if isinstance(area, Grid) else "lane" if isinstance(area, Lane) else "place"


@login_required
@require_GET
def mine(request: AuthedRequest) -> HttpResponse:
    """A chief's phone view: my buildings, how many households were met lately, the households
    needing care, the open cases from my buildings, and one tap to log a visit or take in a case."""
    user = request.user
    buildings = queries.chief_buildings(user)
    if not buildings:
        raise Http404
    cards = []
    for building in buildings:
        cover = coverage.report(building).total
        first, count = coverage.unreached(
            building, visible_tag_ids=people_queries.visible_tag_ids(user, building), limit=5
        )
        cards.append({"building": building, "cover": cover, "first": first, "unreached": count})
    cases, case_count = _open_cases(buildings)
    return render(
        request,
        "network/mine.html",
        {
            "cards": cards,
            "cases": cases,
            "case_count": case_count,
            "may_intake": not scope_for(user, Cap.CASES_INTAKE).is_empty,
        },
    )


@login_required
@require_GET
def building(request: AuthedRequest, place_id: int) -> HttpResponse:
    """A building's households, care first, each with when someone last met it and a button to
    log a visit."""
    user = request.user
    place = queries.coverage_area(user, "place", place_id)
    if place.kind != PlaceKind.BUILDING:
        raise Http404
    days = _days(request)
    rows = coverage.dwellings(place, days=days)
    households = [coverage.Household(dwelling=r["dwelling"], last_reached=r["last"]) for r in rows]
    tag_ids = people_queries.visible_tag_ids(user, place)
    coverage.describe(households, tag_ids)
    since = coverage.cutoff(days)
    for h in households:
        h.care = bool(h.tags)
    households.sort(
        key=lambda h: (
            h.last_reached is not None and h.last_reached >= since,
            not h.care,
            h.dwelling.path,
        )
    )
    cover = coverage.report(place, days=days).total
    cases, case_count = _open_cases([place])
    return render(
        request,
        "network/building.html",
        {
            "building": place,
            "households": households,
            "since": since,
            "cover": cover,
            "days": days,
            "cases": cases,
            "case_count": case_count,
            "may_log": scope_for(user, Cap.VISITS_LOG).contains(place),
            "may_intake": scope_for(user, Cap.CASES_INTAKE).contains(place),
            "sees_people": scope_for(user, Cap.PEOPLE_VIEW).contains(place),
        },
    )


# --- contact records --------------------------------------------------------------------------


def _need(form: Any, place: Place | None = None) -> list[actions.Need]:
    category = form.need_category_object()
    if category is None:
        return []
    return [
        actions.Need(
            category=category,
            description=form.cleaned_data.get("need_description", ""),
            priority=form.cleaned_data.get("need_priority") or "normal",
            place=place,
        )
    ]


def _logged_message(request: AuthedRequest, logged: actions.Logged) -> None:
    if logged.repeated:
        messages.info(request, _("This record was already saved."))
        return
    text = _("Saved.")
    if logged.cases:
        text += " " + _("Case %(code)s taken in.") % {"code": logged.cases[0].code}
    messages.success(request, text)


@login_required
def visit(request: AuthedRequest, dwelling_id: int) -> HttpResponse:
    user = request.user
    dwelling = Place.objects.filter(pk=dwelling_id, kind=PlaceKind.DWELLING).first()
    if dwelling is None or not scope_for(user, Cap.VISITS_LOG).contains(dwelling):
        raise Http404
    building = actions.case_place_for(dwelling)
    form = VisitForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        data = actions.ContactInput(
            kind=ContactKind.VISIT,
            place=dwelling,
            at=form.cleaned_data.get("at"),
            method=form.cleaned_data["method"],
            with_whom=form.cleaned_data.get("with_whom", ""),
            summary=form.cleaned_data.get("summary", ""),
            needs=_need(form, building),
            client_key=form.cleaned_data.get("client_key", ""),
        )
        try:
            logged = actions.log_contact(user, data)
        except ValidationError as exc:
            _errors(form, exc)
        else:
            _logged_message(request, logged)
            return redirect("network:building", building.pk)
    members: list[Resident] = []
    if scope_for(user, Cap.PEOPLE_VIEW).contains(dwelling):
        members = list(
            Resident.objects.filter(home=dwelling, status="active").order_by("birth_date", "id")
        )
    return render(
        request,
        "network/visit.html",
        {"form": form, "dwelling": dwelling, "building": building, "members": members},
    )


def _contact_places(user: Viewer) -> list[tuple[int, str]]:
    """Where the user may hold a patrol or a reception day: the communities, compounds and
    buildings of their area (buildings by grid or lane for grid workers and chiefs)."""
    scope = scope_for(user, Cap.VISITS_LOG)
    kinds = (PlaceKind.COMMUNITY, PlaceKind.COMPOUND, PlaceKind.BUILDING)
    q = Q(pk__in=[])
    for start, end in scope.ranges:
        q |= Q(path__gte=start, path__lt=end)
    if scope.grid_ids:
        q |= Q(grid_id__in=sorted(scope.grid_ids))
    if scope.lane_ids:
        q |= Q(lane_id__in=sorted(scope.lane_ids))
    places = Place.objects.filter(q, kind__in=kinds, retired_at__isnull=True).order_by("path")
    return [(p.pk, f"{p.name} · {p.get_kind_display()}") for p in places[:800]]


@login_required
def contact_new(request: AuthedRequest) -> HttpResponse:
    user = request.user
    if scope_for(user, Cap.VISITS_LOG).is_empty:
        raise Http404
    choices = _contact_places(user)
    initial: dict[str, Any] = {}
    if request.GET.get("kind") in (ContactKind.PATROL, ContactKind.RECEPTION):
        initial["kind"] = request.GET["kind"]
    place_id = number_param(request, "place")
    if place_id is not None:
        initial["place"] = place_id
    form = ContactForm(choices, request.POST or None, initial=initial)
    if request.method == "POST" and form.is_valid():
        place = Place.objects.filter(pk=form.cleaned_data["place"]).first()
        if place is None or not scope_for(user, Cap.VISITS_LOG).contains(place):
            raise Http404
        need_place = place if place.kind in (PlaceKind.BUILDING, PlaceKind.COMPOUND) else None
        if form.need_category_object() is not None and need_place is None:
            form.add_error("need_category", _("A case belongs to a building or a compound."))
        else:
            data = actions.ContactInput(
                kind=form.cleaned_data["kind"],
                place=place,
                at=form.cleaned_data.get("at"),
                route=form.cleaned_data.get("route", ""),
                location=form.cleaned_data.get("location", ""),
                attendance=form.cleaned_data.get("attendance"),
                with_whom=form.cleaned_data.get("with_whom", ""),
                summary=form.cleaned_data.get("summary", ""),
                needs=_need(form, need_place),
                client_key=form.cleaned_data.get("client_key", ""),
            )
            try:
                logged = actions.log_contact(user, data)
            except ValidationError as exc:
                _errors(form, exc)
            else:
                _logged_message(request, logged)
                return redirect("network:contact", logged.contact.pk)
    return render(request, "network/contact_new.html", {"form": form})


@login_required
@require_GET
def contacts(request: AuthedRequest) -> HttpResponse:
    user = request.user
    if not queries.sees_network(user):
        raise Http404
    kind = request.GET.get("kind", "")
    qs = queries.contacts_for(user).select_related("place", "logged_by", "person")
    if kind in ContactKind.values:
        qs = qs.filter(kind=kind)
    return render(
        request,
        "network/contacts.html",
        {
            "page": page_of(request, qs.order_by("-at", "-id")),
            "kind": kind,
            "kinds": ContactKind.choices,
            "may_log": not scope_for(user, Cap.VISITS_LOG).is_empty,
        },
    )


@login_required
@require_GET
def contact(request: AuthedRequest, contact_id: int) -> HttpResponse:
    user = request.user
    record = queries.access_contact(user, contact_id)
    reached = list(
        Place.objects.filter(pk__in=record.reached.values_list("dwelling_id", flat=True)).order_by(
            "path"
        )
    )
    cases = list(
        Case.objects.filter(
            pk__in=record.case_links.values_list("case_id", flat=True)
        ).select_related("category")
    )
    return render(
        request,
        "network/contact.html",
        {"contact": record, "reached": reached, "cases": cases},
    )


# --- coverage ---------------------------------------------------------------------------------


def _row_link(row: coverage.Cover) -> str:
    obj = row.obj
    if isinstance(obj, Grid):
        return reverse("network:coverage", args=["grid", obj.pk])
    if isinstance(obj, Place) and obj.kind == PlaceKind.BUILDING:
        return reverse("network:building", args=[obj.pk])
    if isinstance(obj, Place):
        return reverse("network:coverage", args=["place", obj.pk])
    return ""


@login_required
@require_GET
def coverage_page(request: AuthedRequest, kind: str, pk: int) -> HttpResponse:
    user = request.user
    area = queries.coverage_area(user, kind, pk)
    if isinstance(area, Place) and area.kind == PlaceKind.BUILDING:
        return redirect("network:building", area.pk)
    days = _days(request)
    result = coverage.report(area, days=days)
    rows = sorted(result.rows, key=lambda r: (r.rate is None, r.rate or 0, r.label))
    return render(
        request,
        "network/coverage.html",
        {
            "area": area,
            "kind": kind,
            "result": result,
            "rows": [(r, _row_link(r)) for r in rows],
            "by_grid": [(r, _row_link(r)) for r in result.by_grid],
            "days": days,
            "choices": coverage.CHOICES_DAYS,
            "child_kind": _child_label(area),
        },
    )


def _child_label(area: Any) -> str:
    if isinstance(area, Place) and area.kind == PlaceKind.DISTRICT:
        return _("Street")
    if isinstance(area, Place) and area.kind == PlaceKind.STREET:
        return _("Community")
    return _("Building")


@login_required
@require_GET
def unreached_page(request: AuthedRequest, kind: str, pk: int) -> HttpResponse:
    user = request.user
    area = queries.coverage_area(user, kind, pk)
    days = _days(request)
    number = page_number(request)
    size = 50
    households, count = coverage.unreached(
        area,
        days=days,
        visible_tag_ids=people_queries.visible_tag_ids(user, area),
        limit=size,
        offset=(number - 1) * size,
    )
    return render(
        request,
        "network/unreached.html",
        {
            "area": area,
            "kind": kind,
            # Computed over the area's households and counted, so paged by offset, not page_of.
            "page": Page(
                rows=households,
                number=number,
                has_next=number * size < count,
                query=other_parameters(request),
            ),
            "count": count,
            "days": days,
            "may_log": not scope_for(user, Cap.VISITS_LOG).is_empty,
        },
    )


# --- the chiefs' register ---------------------------------------------------------------------


def _communities(user: Viewer, capability: str) -> list[Place]:
    scope = scope_for(user, capability)
    q = Q(pk__in=[])
    for start, end in scope.ranges:
        q |= Q(path__gte=start, path__lt=end)
    return list(Place.objects.filter(q, kind=PlaceKind.COMMUNITY).order_by("path")[:200])


@login_required
def chiefs(request: AuthedRequest) -> HttpResponse:
    user = request.user
    if not queries.sees_network(user):
        raise Http404
    qs = queries.chiefs_for(user).select_related("person")
    status = request.GET.get("status", "")
    kind = request.GET.get("kind", "")
    if status in ChiefStatus.values:
        qs = qs.filter(status=status)
    if kind in ChiefKind.values:
        qs = qs.filter(kind=kind)
    page = page_of(request, qs.order_by("path", "status", "person__name", "id"), size=100)
    counts = dict(queries.chiefs_for(user).values_list("status").annotate(n=Count("id")).order_by())
    manage_communities = _communities(user, Cap.NETWORK_MANAGE)
    form = None
    if manage_communities:
        people = Person.objects.filter(path__in=[c.path for c in manage_communities]).order_by(
            "name"
        )[:2000]
        form = RecruitForm([(p.pk, p.name) for p in people], request.POST or None)
        if request.method == "POST" and form.is_valid():
            person = queries.access_person(user, form.cleaned_data["person"], Cap.NETWORK_MANAGE)
            try:
                chief = actions.recruit_chief(
                    user, person, form.cleaned_data["kind"], note=form.cleaned_data.get("note", "")
                )
            except ValidationError as exc:
                _errors(form, exc)
            else:
                messages.success(request, _("%(name)s is now a candidate.") % {"name": person.name})
                return redirect("network:chief", chief.pk)
    elif request.method == "POST":
        raise PermissionDenied
    assignments = {
        a.chief_id: a
        for a in ChiefAssignment.objects.filter(
            chief_id__in=[c.pk for c in page], until__isnull=True
        ).select_related("building", "lane")
    }
    for c in page:
        c.current_assignment = assignments.get(c.pk)  # type: ignore[attr-defined]
    return render(
        request,
        "network/chiefs.html",
        {
            "page": page,
            "status": status,
            "kind": kind,
            "statuses": ChiefStatus.choices,
            "kinds": ChiefKind.choices,
            "counts": [(label, counts.get(value, 0)) for value, label in ChiefStatus.choices],
            "form": form,
        },
    )


def _targets(chief: Chief) -> list[tuple[str, str]]:
    if chief.kind == ChiefKind.BUILDING:
        buildings = Place.objects.filter(
            kind=PlaceKind.BUILDING,
            path__gte=chief.path,
            path__lt=chief.path + ":",
            retired_at__isnull=True,
        ).order_by("path")[:1000]
        return [(f"b{b.pk}", b.name) for b in buildings]
    wanted = LaneKind.LANE if chief.kind == ChiefKind.LANE else LaneKind.STREET
    lanes = Lane.objects.filter(community__path=chief.path, kind=wanted).order_by("code")
    return [(f"l{lane.pk}", lane.name) for lane in lanes]


@login_required
@require_GET
def chief(request: AuthedRequest, chief_id: int) -> HttpResponse:
    user = request.user
    record = queries.access_chief(user, chief_id)
    manage = queries.may_manage(user, record.path)
    return render(
        request,
        "network/chief.html",
        {
            "chief": record,
            "decisions": record.decisions.select_related("decided_by").order_by("at", "id"),
            "assignments": record.assignments.select_related("building", "lane").order_by(
                "until", "-since", "id"
            ),
            "manage": manage,
            "decide_form": DecideForm(list(STATUS_STEPS[record.status])) if manage else None,
            "assign_form": AssignForm(_targets(record))
            if manage and record.status != ChiefStatus.RETIRED
            else None,
        },
    )


@login_required
@require_POST
def chief_decide(request: AuthedRequest, chief_id: int) -> HttpResponse:
    user = request.user
    record = queries.access_chief(user, chief_id, Cap.NETWORK_MANAGE)
    form = DecideForm(list(STATUS_STEPS[record.status]), request.POST)
    if not form.is_valid():
        for errors in form.errors.values():
            for error in errors:
                messages.error(request, str(error))
        return redirect("network:chief", record.pk)
    try:
        actions.decide(
            user,
            record.pk,
            form.cleaned_data["to_status"],
            on=form.cleaned_data["on"],
            note=form.cleaned_data.get("note", ""),
        )
    except ValidationError as exc:
        flash_errors(request, exc)
    else:
        messages.success(request, _("Status recorded."))
    return redirect("network:chief", record.pk)


@login_required
@require_POST
def chief_assign(request: AuthedRequest, chief_id: int) -> HttpResponse:
    user = request.user
    record = queries.access_chief(user, chief_id, Cap.NETWORK_MANAGE)
    form = AssignForm(_targets(record), request.POST)
    if not form.is_valid():
        for errors in form.errors.values():
            for error in errors:
                messages.error(request, str(error))
        return redirect("network:chief", record.pk)
    target = form.cleaned_data["target"]
    building = lane = None
    if target.startswith("b"):
        building = Place.objects.get(pk=int(target[1:]))
    else:
        lane = Lane.objects.select_related("community").get(pk=int(target[1:]))
    try:
        actions.assign(
            user, record.pk, building=building, lane=lane, since=form.cleaned_data["since"]
        )
    except ValidationError as exc:
        flash_errors(request, exc)
    else:
        messages.success(request, _("Assignment recorded."))
    return redirect("network:chief", record.pk)


@login_required
@require_POST
def assignment_end(request: AuthedRequest, assignment_id: int) -> HttpResponse:
    user = request.user
    assignment = ChiefAssignment.objects.filter(pk=assignment_id).first()
    if assignment is None:
        raise Http404
    record = queries.access_chief(user, assignment.chief_id, Cap.NETWORK_MANAGE)
    raw = request.POST.get("until", "")
    try:
        until = datetime.date.fromisoformat(raw) if raw else None
    except ValueError:
        messages.error(request, _("Enter a valid date."))
        return redirect("network:chief", record.pk)
    try:
        actions.end_assignment(user, assignment.pk, until)
    except ValidationError as exc:
        flash_errors(request, exc)
    else:
        messages.success(request, _("Assignment ended."))
    return redirect("network:chief", record.pk)
