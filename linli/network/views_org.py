"""The network's organisation pages: the people in it, the neighbourhood associations (街坊会) and
the volunteer teams. Community workers run them; street admins read them.

Every object comes through ``network.queries`` (404 outside the user's scope, for a POST too);
every write goes through ``network.actions``, which check NETWORK_MANAGE (PermissionDenied → 403)
and validate (ValidationError → the errors next to the fields, nothing written).
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied, ValidationError
from django.db.models import Count, Exists, OuterRef, Prefetch, Q, QuerySet
from django.forms import Form
from django.http import Http404, HttpResponse, HttpResponseNotAllowed
from django.shortcuts import redirect, render
from django.utils import timezone
from django.utils.translation import gettext as _

from linli.accounts.roles import Cap
from linli.accounts.scope import scope_for
from linli.accounts.types import AuthedRequest, Viewer
from linli.core.identifiers import mask_mobile
from linli.core.pages import number_param
from linli.core.paging import page_of
from linli.people.queries import access_resident, search
from linli.places.models import Place
from linli.places.queries import communities_for

from . import actions, queries
from .forms_org import (
    AssociationForm,
    AssociationMemberForm,
    LeaveForm,
    PersonForm,
    TeamForm,
    TeamMemberForm,
)
from .models import (
    Association,
    AssociationMember,
    AssociationRole,
    Chief,
    ChiefStatus,
    Person,
    Team,
    TeamKind,
    TeamMember,
)

# The associations and teams lists show their groups on one page, as many as this.
GROUPS_PAGE_SIZE = 500


# --- helpers ----------------------------------------------------------------------------------


def _viewer_communities(user: Viewer) -> list[Place]:
    """The communities whose network the user may read; 404 when there are none."""
    communities = communities_for(user, Cap.NETWORK_VIEW)
    if not communities:
        raise Http404
    return communities


def _manager_communities(request: AuthedRequest) -> list[Place]:
    """For the pages that found something new: 404 without any network to read, 403 without one
    to manage, and 404 for a POST naming a community outside the user's scope."""
    user = request.user
    _viewer_communities(user)
    managed = communities_for(user, Cap.NETWORK_MANAGE)
    if not managed:
        raise PermissionDenied
    if request.method == "POST":
        posted = request.POST.get("community", "")
        place = Place.objects.filter(pk=int(posted)).first() if posted.isdigit() else None
        if place is not None and not scope_for(user, Cap.NETWORK_VIEW).contains(place):
            raise Http404
    return managed


def _refuse(request: AuthedRequest, *allowed: str) -> HttpResponse | None:
    """405 for another method. Called after the scope check, so that a route answers 404 outside
    the user's scope whatever the method."""
    if request.method not in allowed:
        return HttpResponseNotAllowed(allowed)
    return None


def _errors(form: Form, exc: ValidationError) -> None:
    """An action's ValidationError onto the form: by field where the field is there."""
    if hasattr(exc, "error_dict"):
        for key, errs in exc.message_dict.items():
            form.add_error(key if key in form.fields else None, errs)
    else:
        form.add_error(None, exc.messages)


def _community_filter(request: AuthedRequest, communities: list[Place]) -> Place | None:
    raw = request.GET.get("community", "")
    return next((c for c in communities if str(c.pk) == raw), None)


# --- people -----------------------------------------------------------------------------------


@login_required
def people(request: AuthedRequest) -> HttpResponse:
    user = request.user
    communities = _viewer_communities(user)
    if refused := _refuse(request, "GET"):
        return refused
    community = _community_filter(request, communities)
    q = " ".join(request.GET.get("q", "").split())[:50]
    in_association = request.GET.get("association") == "1"
    in_team = request.GET.get("team") == "1"
    chief = request.GET.get("chief") == "1"
    qs: QuerySet[Person] = queries.people_for(user).select_related("community")
    if community is not None:
        qs = qs.filter(path=community.path)
    if q:
        qs = qs.filter(name__icontains=q)
    if in_association:
        qs = qs.filter(
            Exists(AssociationMember.objects.filter(person=OuterRef("pk"), left_on__isnull=True))
        )
    if in_team:
        qs = qs.filter(
            Exists(TeamMember.objects.filter(person=OuterRef("pk"), left_on__isnull=True))
        )
    if chief:
        qs = qs.filter(
            Exists(Chief.objects.filter(person=OuterRef("pk")).exclude(status=ChiefStatus.RETIRED))
        )
    page = page_of(
        request,
        qs.order_by("name", "id").prefetch_related(
            Prefetch(
                "chief_roles",
                queryset=Chief.objects.exclude(status=ChiefStatus.RETIRED),
                to_attr="active_chief_roles",
            ),
            Prefetch(
                "association_roles",
                queryset=AssociationMember.objects.filter(left_on__isnull=True).select_related(
                    "association"
                ),
                to_attr="active_association_roles",
            ),
            Prefetch(
                "team_roles",
                queryset=TeamMember.objects.filter(left_on__isnull=True).select_related("team"),
                to_attr="active_team_roles",
            ),
        ),
    )
    for p in page:
        p.phone_masked = mask_mobile(p.phone)  # type: ignore[attr-defined]
    return render(
        request,
        "network/org/people.html",
        {
            "page": page,
            "q": q,
            "in_association": in_association,
            "in_team": in_team,
            "chief": chief,
            "communities": communities,
            "community": community,
            "may_manage": bool(communities_for(user, Cap.NETWORK_MANAGE)),
        },
    )


@login_required
def person(request: AuthedRequest, person_id: int) -> HttpResponse:
    user = request.user
    found = queries.access_person(user, person_id)
    if refused := _refuse(request, "GET"):
        return refused
    person = Person.objects.select_related("community", "resident__home", "user").get(pk=found.pk)
    return render(
        request,
        "network/org/person.html",
        {
            "person": person,
            "phone_masked": mask_mobile(person.phone),
            "chief_roles": list(person.chief_roles.all()),
            "associations": list(
                person.association_roles.select_related("association").order_by(
                    "left_on", "-joined_on", "id"
                )
            ),
            "teams": list(
                person.team_roles.select_related("team").order_by("left_on", "-joined_on", "id")
            ),
            "contacts": list(
                queries.contacts_for(user)
                .filter(person=person)
                .select_related("place")
                .order_by("-at", "-id")[:50]
            ),
        },
    )


@login_required
def person_new(request: AuthedRequest) -> HttpResponse:
    user = request.user
    communities = _manager_communities(request)
    if refused := _refuse(request, "GET", "POST"):
        return refused
    if request.method == "POST":
        form = PersonForm(user, communities, request.POST)
        if form.is_valid():
            data = form.cleaned_data
            try:
                person = actions.add_person(
                    user,
                    data["community"],
                    name=data["name"],
                    resident=form.resident_object,
                    user=form.login_object,
                    phone=data["phone"],
                    skills=data["skills"],
                    note=data["note"],
                )
            except ValidationError as exc:
                _errors(form, exc)
            else:
                messages.success(
                    request, _("%(name)s is now in the network.") % {"name": person.name}
                )
                return redirect("network:person", person.pk)
        chosen = form.resident_object
    else:
        initial: dict[str, Any] = {}
        chosen = None
        resident_id = number_param(request, "resident")
        if resident_id is not None:
            try:
                chosen = access_resident(user, resident_id)
            except Http404:
                chosen = None
            else:
                initial["resident"] = chosen.pk
                initial["name"] = chosen.name
                home = chosen.home
                match = next(
                    (c for c in communities if home and home.path.startswith(c.path)), None
                )
                if match is not None:
                    initial["community"] = match.pk
        form = PersonForm(user, communities, initial=initial)
    q = " ".join(request.GET.get("q", "").split())[:50]
    return render(
        request,
        "network/org/person_new.html",
        {
            "form": form,
            "q": q,
            "matches": search(user, q, limit=20) if q else None,
            "chosen": chosen,
        },
    )


# --- associations -----------------------------------------------------------------------------

ROLE_ORDER = [r.value for r in AssociationRole]


@login_required
def associations(request: AuthedRequest) -> HttpResponse:
    user = request.user
    communities = _viewer_communities(user)
    if refused := _refuse(request, "GET"):
        return refused
    community = _community_filter(request, communities)
    qs = (
        queries.associations_for(user)
        .select_related("community", "compound")
        .annotate(active=Count("members", filter=Q(members__left_on__isnull=True), distinct=True))
    )
    if community is not None:
        qs = qs.filter(community=community)
    page = page_of(request, qs.order_by("path", "name", "id"), size=GROUPS_PAGE_SIZE)
    chairs = {
        m.association_id: m.person
        for m in AssociationMember.objects.filter(
            association__in=[a.pk for a in page],
            role=AssociationRole.CHAIR,
            left_on__isnull=True,
        ).select_related("person")
    }
    groups: dict[int, tuple[Place, list[tuple[Association, Any]]]] = {}
    for a in page:
        groups.setdefault(a.community_id, (a.community, []))[1].append((a, chairs.get(a.pk)))
    return render(
        request,
        "network/org/associations.html",
        {
            "page": page,
            "groups": list(groups.values()),
            "communities": communities,
            "community": community,
            "may_manage": bool(communities_for(user, Cap.NETWORK_MANAGE)),
        },
    )


@login_required
def association_new(request: AuthedRequest) -> HttpResponse:
    user = request.user
    communities = _manager_communities(request)
    if refused := _refuse(request, "GET", "POST"):
        return refused
    if request.method == "POST":
        form = AssociationForm(communities, request.POST)
        if form.is_valid():
            data = form.cleaned_data
            try:
                association = actions.create_association(
                    user,
                    data["community"],
                    data["name"],
                    compound=data["compound"],
                    founded_on=data["founded_on"],
                )
            except ValidationError as exc:
                _errors(form, exc)
            else:
                messages.success(
                    request, _("Association %(name)s founded.") % {"name": association.name}
                )
                return redirect("network:association", association.pk)
    else:
        form = AssociationForm(communities)
    return render(request, "network/org/association_new.html", {"form": form})


def _people_of(user: Viewer, community: Place) -> QuerySet[Person]:
    return queries.people_for(user).filter(path=community.path).order_by("name", "id")


def _association(user: Viewer, association_id: int) -> Association:
    found = queries.access_association(user, association_id)
    return Association.objects.select_related("community", "compound").get(pk=found.pk)


@login_required
def association(request: AuthedRequest, association_id: int) -> HttpResponse:
    return group_page(request, GROUP_PAGES["association"], association_id)


# --- teams ------------------------------------------------------------------------------------


@login_required
def teams(request: AuthedRequest) -> HttpResponse:
    user = request.user
    communities = _viewer_communities(user)
    if refused := _refuse(request, "GET"):
        return refused
    community = _community_filter(request, communities)
    kind = request.GET.get("kind", "")
    if kind not in TeamKind.values:
        kind = ""
    qs = (
        queries.teams_for(user)
        .select_related("community")
        .annotate(active=Count("members", filter=Q(members__left_on__isnull=True), distinct=True))
    )
    if community is not None:
        qs = qs.filter(community=community)
    if kind:
        qs = qs.filter(kind=kind)
    return render(
        request,
        "network/org/teams.html",
        {
            "page": page_of(request, qs.order_by("path", "name", "id"), size=GROUPS_PAGE_SIZE),
            "several": len(communities) > 1,
            "communities": communities,
            "community": community,
            "kinds": TeamKind.choices,
            "kind": kind,
            "may_manage": bool(communities_for(user, Cap.NETWORK_MANAGE)),
        },
    )


@login_required
def team_new(request: AuthedRequest) -> HttpResponse:
    user = request.user
    communities = _manager_communities(request)
    if refused := _refuse(request, "GET", "POST"):
        return refused
    if request.method == "POST":
        form = TeamForm(communities, request.POST)
        if form.is_valid():
            data = form.cleaned_data
            try:
                team = actions.create_team(
                    user,
                    data["community"],
                    data["name"],
                    data["kind"],
                    founded_on=data["founded_on"],
                    description=data["description"],
                )
            except ValidationError as exc:
                _errors(form, exc)
            else:
                messages.success(request, _("Team %(name)s founded.") % {"name": team.name})
                return redirect("network:team", team.pk)
    else:
        form = TeamForm(communities)
    return render(request, "network/org/team_new.html", {"form": form})


def _team(user: Viewer, team_id: int) -> Team:
    found = queries.access_team(user, team_id)
    return Team.objects.select_related("community").get(pk=found.pk)


@login_required
def team(request: AuthedRequest, team_id: int) -> HttpResponse:
    return group_page(request, GROUP_PAGES["team"], team_id)


# --- members of an association or a team ------------------------------------------------------


@dataclass(frozen=True)
class GroupPages:
    """What the pages of an association and of a team differ in; the rest is one flow."""

    kind: type[AssociationMember] | type[TeamMember]
    get: Callable[[Viewer, int], Association | Team]  # 404 outside the user's scope
    form: type[AssociationMemberForm] | type[TeamMemberForm]
    joined: Callable[[dict[str, Any]], str]  # the message once the form's person joined
    left: Callable[[Any], str]  # the message once the member left
    more: Callable[[list[Any]], dict[str, Any]] = lambda current: {}  # more for the page

    @property
    def template(self) -> str:
        return f"network/org/{self.kind.group_field}.html"


def _by_role(current: list[Any]) -> dict[str, Any]:
    by_role = [
        (AssociationRole(role).label, [m for m in current if m.role == role]) for role in ROLE_ORDER
    ]
    return {"by_role": [(label, ms) for label, ms in by_role if ms]}


GROUP_PAGES = {
    "association": GroupPages(
        kind=AssociationMember,
        get=_association,
        form=AssociationMemberForm,
        joined=lambda data: (
            _("%(name)s is a member, as %(role)s.")
            % {"name": data["person"].name, "role": AssociationRole(data["role"]).label}
        ),
        left=lambda member: _("%(name)s has left the association.") % {"name": member.person.name},
        more=_by_role,
    ),
    "team": GroupPages(
        kind=TeamMember,
        get=_team,
        form=TeamMemberForm,
        joined=lambda data: _("%(name)s is in the team.") % {"name": data["person"].name},
        left=lambda member: _("%(name)s has left the team.") % {"name": member.person.name},
    ),
}


def _group_context(
    request: AuthedRequest,
    pages: GroupPages,
    group: Association | Team,
    join_form: Form | None = None,
    leave_errors: dict[int, list[str]] | None = None,
) -> dict[str, Any]:
    """The association's or team's page: its current members (``more`` groups them further),
    its past ones, the latest who left first, and the forms to add and to record leaving."""
    user = request.user
    name = pages.kind.group_field
    # In the kind's own order: by role, or the leaders first; then as they joined.
    members = list(pages.kind.objects.filter(**{name: group}).select_related("person"))
    for m in members:
        m.leave_errors = (leave_errors or {}).get(m.pk, [])  # type: ignore[attr-defined]
    current = [m for m in members if m.left_on is None]
    may_manage = queries.may_manage(user, group.path)
    return {
        name: group,
        "group": group,
        "join_route": f"network:{name}_join",
        "leave_route": f"network:{name}_leave",
        "current": current,
        "past": sorted(
            (m for m in members if m.left_on is not None),
            key=lambda m: (m.left_on, m.pk),
            reverse=True,
        ),
        "may_manage": may_manage,
        "join_form": join_form
        or (pages.form(_people_of(user, group.community)) if may_manage else None),
        "today": timezone.localdate(),
        **pages.more(current),
    }


def group_page(request: AuthedRequest, pages: GroupPages, group_id: int) -> HttpResponse:
    found = pages.get(request.user, group_id)
    if refused := _refuse(request, "GET"):
        return refused
    return render(request, pages.template, _group_context(request, pages, found))


@login_required
def member_join(request: AuthedRequest, kind: str, group_id: int) -> HttpResponse:
    """Add a person of the community's network to the association or team (``kind``)."""
    pages = GROUP_PAGES[kind]
    user = request.user
    found = pages.get(user, group_id)
    if refused := _refuse(request, "POST"):
        return refused
    if not queries.may_manage(user, found.path):
        raise PermissionDenied
    form = pages.form(_people_of(user, found.community), request.POST)
    if form.is_valid():
        data = form.cleaned_data
        held = data[pages.kind.holds]
        try:
            actions.join(user, pages.kind, found, data["person"], held, joined_on=data["joined_on"])
        except ValidationError as exc:
            _errors(form, exc)
        else:
            messages.success(request, pages.joined(data))
            return redirect(f"network:{kind}", found.pk)
    return render(request, pages.template, _group_context(request, pages, found, join_form=form))


@login_required
def member_leave(request: AuthedRequest, kind: str, group_id: int, member_id: int) -> HttpResponse:
    """Record the day a member left the association or team (``kind``)."""
    pages = GROUP_PAGES[kind]
    user = request.user
    found = pages.get(user, group_id)
    if refused := _refuse(request, "POST"):
        return refused
    name = pages.kind.group_field
    member = (
        pages.kind.objects.filter(**{name: found}, pk=member_id)
        .select_related("person", name)
        .first()
    )
    if member is None:
        raise Http404
    if not queries.may_manage(user, found.path):
        raise PermissionDenied
    form = LeaveForm(request.POST)
    if form.is_valid():
        try:
            actions.leave(user, member, form.cleaned_data["left_on"])
        except ValidationError as exc:
            _errors(form, exc)
        else:
            messages.success(request, pages.left(member))
            return redirect(f"network:{kind}", found.pk)
    errors = [str(e) for errs in form.errors.values() for e in errs]
    return render(
        request,
        pages.template,
        _group_context(request, pages, found, leave_errors={member.pk: errors}),
    )
