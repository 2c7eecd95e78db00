"""Party pages. Community workers: organisations, members, registrations, posts and tasks, claims,
hours to confirm, evaluations, units with their service records, the QR sheet. A party member:
their community's open posts and tasks, their claims and hours. A partner contact: their unit's
service records. Every page checks scope itself; out of scope is 404."""

from __future__ import annotations

from typing import Any

import segno
from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied, ValidationError
from django.db.models import Count, Q
from django.http import Http404, HttpResponse
from django.shortcuts import redirect, render
from django.utils.translation import gettext as _
from django.views.decorators.http import require_GET, require_POST

from linli.accounts.queries import login_with_phone
from linli.accounts.roles import Cap
from linli.accounts.scope import scope_for
from linli.accounts.types import AuthedRequest, Viewer
from linli.core import audit
from linli.core.identifiers import mask_mobile
from linli.core.pages import flash_errors, whole_number
from linli.core.paging import page_of
from linli.places.models import Place, PlaceKind
from linli.places.queries import communities_for

from . import actions, queries
from .forms import (
    ContactForm,
    EvaluationForm,
    HoursForm,
    MemberForm,
    PostForm,
    ReasonForm,
)
from .models import (
    Claim,
    Evaluation,
    Grade,
    HoursStatus,
    MemberKind,
    MemberStatus,
    OrgKind,
    PartyOrg,
    Post,
    PostState,
    RegistrationStatus,
    ServiceHours,
)
from .periods import Period, recent_periods
from .public import register_url
from .records import record_filename, service_record, to_pdf, to_xlsx


def _require_view(user: Viewer) -> None:
    if scope_for(user, Cap.PARTY_VIEW).is_empty:
        raise Http404


def _int(value: Any) -> int:
    """A posted id; 0 (found nowhere) for anything that is not one."""
    return whole_number(str(value or "")) or 0


def _manages(user: Viewer, path: str) -> bool:
    return scope_for(user, Cap.PARTY_MANAGE).covers_path(path)


# --- the landing page -------------------------------------------------------------------------


@login_required
@require_GET
def home(request: AuthedRequest) -> HttpResponse:
    user = request.user
    views = not scope_for(user, Cap.PARTY_VIEW).is_empty
    mine = queries.my_members(user)
    contact = queries.is_contact(user)
    if not (views or mine or contact):
        raise Http404
    if not views:
        return redirect("party:serve" if mine else "party:units")
    figures = {
        "members": queries.members_for(user).filter(status="active").count(),
        "dual": queries.members_for(user)
        .filter(status="active", kind=MemberKind.DUAL_REPORT)
        .count(),
        "pending_registrations": queries.registrations_for(user)
        .filter(status=RegistrationStatus.PENDING)
        .count(),
        "open_posts": queries.posts_for(user).filter(state=PostState.OPEN).count(),
        "pending_hours": queries.hours_for(user).filter(status=HoursStatus.PENDING).count(),
    }
    return render(
        request,
        "party/home.html",
        {
            "figures": figures,
            "serves": bool(mine),
            "manages": not scope_for(user, Cap.PARTY_MANAGE).is_empty,
        },
    )


# --- organisations and members ----------------------------------------------------------------


@login_required
def orgs(request: AuthedRequest) -> HttpResponse:
    user = request.user
    _require_view(user)
    if request.method == "POST":
        community = queries.access_community(
            user, _int(request.POST.get("community")), Cap.PARTY_MANAGE
        )
        place_id = _int(request.POST.get("place")) or community.pk
        place = Place.objects.filter(pk=place_id).first() or community
        parent = PartyOrg.objects.filter(
            pk=_int(request.POST.get("parent")), community=community
        ).first()
        try:
            actions.create_org(
                user,
                kind=request.POST.get("kind", ""),
                name=request.POST.get("name", ""),
                community=community,
                place=place,
                parent=parent,
            )
        except ValidationError as exc:
            flash_errors(request, exc)
        else:
            messages.success(request, _("Saved."))
        return redirect("party:orgs")
    rows = list(
        queries.orgs_for(user)
        .select_related("community", "place", "secretary")
        .annotate(n=Count("members", filter=Q(members__status="active")))
        .order_by("community__path", "path", "order", "id")[:500]
    )
    children: dict[int | None, list[PartyOrg]] = {}
    for org in rows:
        children.setdefault(org.parent_id, []).append(org)
    known = {o.pk for o in rows}
    tree: list[tuple[str, PartyOrg]] = []

    def walk(org: PartyOrg, depth: int) -> None:
        # Indented with full-width spaces: the page's CSP allows no inline style.
        tree.append(("\u3000" * (depth - 1) + "└ " if depth else "", org))
        for child in children.get(org.pk, []):
            walk(child, depth + 1)

    for org in rows:
        if org.parent_id is None or org.parent_id not in known:
            walk(org, 0)
    manage = communities_for(user, Cap.PARTY_MANAGE)
    compounds = (
        list(
            Place.objects.filter(
                scope_for(user, Cap.PARTY_MANAGE).q(), kind=PlaceKind.COMPOUND
            ).order_by("path")[:300]
        )
        if manage
        else []
    )
    return render(
        request,
        "party/orgs.html",
        {
            "tree": tree,
            "communities": manage,
            "compounds": compounds,
            "kinds": OrgKind.choices,
            "parents": [o for o in rows if _manages(user, o.path)],
        },
    )


@login_required
@require_POST
def org_secretary(request: AuthedRequest, org_id: int) -> HttpResponse:
    org = queries.orgs_for(request.user).select_related("community").filter(pk=org_id).first()
    if org is None:
        raise Http404
    member = None
    if request.POST.get("member"):
        member = queries.access_member(request.user, _int(request.POST["member"]))
    try:
        actions.set_secretary(request.user, org, member)
    except ValidationError as exc:
        flash_errors(request, exc)
    else:
        messages.success(request, _("Saved."))
    return redirect("party:orgs")


@login_required
@require_GET
def members(request: AuthedRequest) -> HttpResponse:
    user = request.user
    _require_view(user)
    kind = request.GET.get("kind", "")
    qs = queries.members_for(user).select_related("org", "unit", "community")
    if kind in MemberKind.values:
        qs = qs.filter(kind=kind)
    elif kind == "transferred":
        qs = qs.filter(transferred_in_on__isnull=False)
    status = request.GET.get("status", "")
    if status in MemberStatus.values:
        qs = qs.filter(status=status)
    page = page_of(request, qs.order_by("community__path", "name", "id"), counted=True)
    rows = [(m, mask_mobile(m.phone)) for m in page]
    return render(
        request,
        "party/members.html",
        {
            "page": page,
            "rows": rows,
            "kind": kind,
            "kinds": MemberKind.choices,
            "may_add": not scope_for(user, Cap.PARTY_MANAGE).is_empty,
        },
    )


@login_required
def member_new(request: AuthedRequest) -> HttpResponse:
    user = request.user
    communities = communities_for(user, Cap.PARTY_MANAGE)
    if not communities:
        raise Http404
    orgs = list(
        PartyOrg.objects.filter(scope_for(user, Cap.PARTY_MANAGE).path_q("path")).order_by(
            "path", "id"
        )[:300]
    )
    form = MemberForm(request.POST or None)
    form.fields["org"].choices = [  # type: ignore[attr-defined]
        ("", "—"),
        *((o.pk, o.name) for o in orgs),
    ]
    if request.method == "POST" and form.is_valid():
        org = next((o for o in orgs if o.pk == form.cleaned_data["org"]), None)
        community = Place.objects.get(pk=org.community_id) if org is not None else communities[0]
        try:
            member = actions.add_member(
                user,
                community=community,
                name=form.cleaned_data["name"],
                kind=form.cleaned_data["kind"],
                phone=form.cleaned_data["phone"],
                org=org,
                transferred_in_on=form.cleaned_data["transferred_in_on"],
                transferred_from=form.cleaned_data["transferred_from"],
            )
        except ValidationError as exc:
            for key, errs in exc.message_dict.items():
                form.add_error(key if key in form.fields else None, errs)
        else:
            messages.success(request, _("Saved."))
            return redirect("party:member", member.pk)
    return render(request, "party/member_new.html", {"form": form})


@login_required
def member(request: AuthedRequest, member_id: int) -> HttpResponse:
    user = request.user
    found = queries.access_member(user, member_id)
    manages = _manages(user, found.path)
    if request.method == "POST":
        if not manages:
            raise PermissionDenied
        form = EvaluationForm(request.POST)
        if form.is_valid():
            try:
                actions.evaluate(
                    user,
                    found.pk,
                    period=request.POST.get("period", ""),
                    grade=form.cleaned_data["grade"],
                    comment=form.cleaned_data["comment"],
                )
            except ValidationError as exc:
                flash_errors(request, exc)
            else:
                messages.success(request, _("Saved."))
        return redirect("party:member", found.pk)
    return render(
        request,
        "party/member.html",
        {
            "member": found,
            "phone_masked": mask_mobile(found.phone),
            "claims": Claim.objects.filter(member=found).select_related("post")[:100],
            "hours": ServiceHours.objects.filter(member=found).select_related("post")[:100],
            "evaluations": Evaluation.objects.filter(member=found).order_by("-period"),
            "manages": manages,
            "orgs": (
                list(
                    PartyOrg.objects.filter(community_id=found.community_id).order_by(
                        "path", "order"
                    )
                )
                if manages
                else []
            ),
            "form": EvaluationForm(),
            "periods": recent_periods(),
        },
    )


# --- registrations ----------------------------------------------------------------------------


@login_required
@require_GET
def registrations(request: AuthedRequest) -> HttpResponse:
    user = request.user
    _require_view(user)
    status = request.GET.get("status", RegistrationStatus.PENDING)
    if status not in RegistrationStatus.values:
        status = RegistrationStatus.PENDING
    qs = queries.registrations_for(user).filter(status=status).select_related("community")
    page = page_of(
        request, qs.order_by("created_at", "id") if status == "pending" else qs, counted=True
    )
    rows = [(r, mask_mobile(r.phone), _manages(user, r.path)) for r in page]
    return render(
        request,
        "party/registrations.html",
        {
            "page": page,
            "rows": rows,
            "status": status,
            "statuses": RegistrationStatus.choices,
            "reason_form": ReasonForm(),
        },
    )


@login_required
@require_POST
def decide(request: AuthedRequest, registration_id: int, action: str) -> HttpResponse:
    user = request.user
    registration = queries.access_registration(user, registration_id)
    if not _manages(user, registration.path):
        raise PermissionDenied
    try:
        if action == "approve":
            actions.approve(user, registration.pk)
            messages.success(
                request, _("Approved: %(name)s can log in now.") % {"name": registration.name}
            )
        elif action == "reject":
            actions.reject(user, registration.pk, request.POST.get("reason", ""))
            messages.success(request, _("Rejected."))
        else:
            raise Http404
    except ValidationError as exc:
        flash_errors(request, exc)
    return redirect("party:registrations")


# --- posts, tasks and claims ------------------------------------------------------------------


@login_required
def posts(request: AuthedRequest) -> HttpResponse:
    user = request.user
    _require_view(user)
    communities = communities_for(user, Cap.PARTY_MANAGE)
    form = PostForm(request.POST or None)
    if request.method == "POST":
        if not communities:
            raise PermissionDenied
        community = communities[0]
        if request.POST.get("community"):
            community = queries.access_community(
                user, _int(request.POST["community"]), Cap.PARTY_MANAGE
            )
        if form.is_valid():
            try:
                post = actions.publish(user, community, **form.cleaned_data)
            except ValidationError as exc:
                for key, errs in exc.message_dict.items():
                    form.add_error(key if key in form.fields else None, errs)
            else:
                messages.success(request, _("Published."))
                return redirect("party:post", post.pk)
    state = request.GET.get("state", PostState.OPEN)
    qs = queries.posts_for(user).select_related("community")
    if state in PostState.values:
        qs = qs.filter(state=state)
    page = page_of(request, qs, counted=True)
    return render(
        request,
        "party/posts.html",
        {
            "page": page,
            "state": state,
            "form": form,
            "communities": communities,
        },
    )


@login_required
@require_GET
def post(request: AuthedRequest, post_id: int) -> HttpResponse:
    user = request.user
    found = queries.access_post(user, post_id)
    views = scope_for(user, Cap.PARTY_VIEW).covers_path(found.path)
    claims = (
        list(
            Claim.objects.filter(post=found)
            .select_related("member")
            .order_by("withdrawn_at", "claimed_at")
        )
        if views
        else []
    )
    return render(
        request,
        "party/post.html",
        {
            "post": found,
            "claims": claims,
            "views": views,
            "manages": _manages(user, found.path),
            "member": actions.member_of(user, found.community_id),
        },
    )


@login_required
@require_POST
def post_close(request: AuthedRequest, post_id: int) -> HttpResponse:
    found = queries.access_post(request.user, post_id)
    if not _manages(request.user, found.path):
        raise PermissionDenied
    actions.close_post(request.user, found.pk)
    messages.success(request, _("Closed."))
    return redirect("party:post", found.pk)


@login_required
@require_GET
def claims(request: AuthedRequest) -> HttpResponse:
    user = request.user
    _require_view(user)
    qs = queries.claims_for(user).select_related("post", "member").order_by("-claimed_at", "-id")
    if request.GET.get("live") != "0":
        qs = qs.filter(withdrawn_at__isnull=True)
    page = page_of(request, qs, counted=True)
    return render(request, "party/claims.html", {"page": page})


@login_required
@require_GET
def serve(request: AuthedRequest) -> HttpResponse:
    """The member's own page: open posts and tasks, my claims (log hours), my hours."""
    user = request.user
    mine = queries.my_members(user)
    if not mine:
        raise Http404
    member_ids = [m.pk for m in mine]
    my_claims = list(
        Claim.objects.filter(member_id__in=member_ids, withdrawn_at__isnull=True)
        .select_related("post")
        .order_by("-claimed_at")[:100]
    )
    claimed_posts = {c.post_id for c in my_claims}
    open_posts = [
        p
        for p in Post.objects.filter(
            community_id__in=[m.community_id for m in mine], state=PostState.OPEN
        ).order_by("-created_at")[:100]
    ]
    my_hours = list(
        ServiceHours.objects.filter(member_id__in=member_ids)
        .select_related("post")
        .order_by("-served_on", "-id")[:100]
    )
    confirmed = sum((h.hours for h in my_hours if h.status == HoursStatus.CONFIRMED), 0)
    return render(
        request,
        "party/serve.html",
        {
            "members": mine,
            "open_posts": open_posts,
            "claimed_posts": claimed_posts,
            "claims": my_claims,
            "hours": my_hours,
            "confirmed": confirmed,
            "hours_form": HoursForm(),
        },
    )


@login_required
@require_POST
def claim(request: AuthedRequest, post_id: int) -> HttpResponse:
    found = queries.access_post(request.user, post_id)
    if actions.member_of(request.user, found.community_id) is None:
        raise Http404
    try:
        actions.claim(request.user, found.pk)
    except ValidationError as exc:
        flash_errors(request, exc)
    else:
        messages.success(request, _("Claimed: %(title)s") % {"title": found.title})
    if request.POST.get("next") == "post":
        return redirect("party:post", found.pk)
    return redirect("party:serve")


@login_required
@require_POST
def withdraw(request: AuthedRequest, claim_id: int) -> HttpResponse:
    found = queries.access_claim(request.user, claim_id)
    actions.withdraw(request.user, found.pk)
    messages.success(request, _("Withdrawn: the place is free again."))
    if found.member.user_id == request.user.pk:
        return redirect("party:serve")
    return redirect("party:post", found.post_id)


@login_required
@require_POST
def log_hours(request: AuthedRequest, claim_id: int) -> HttpResponse:
    found = queries.access_claim(request.user, claim_id)
    if found.member.user_id != request.user.pk:
        raise Http404
    form = HoursForm(request.POST)
    if not form.is_valid():
        for errs in form.errors.values():
            for e in errs:
                messages.error(request, str(e))
        return redirect("party:serve")
    try:
        actions.log_hours(
            request.user,
            found.pk,
            served_on=form.cleaned_data["served_on"],
            hours=form.cleaned_data["hours"],
            note=form.cleaned_data["note"],
        )
    except ValidationError as exc:
        flash_errors(request, exc)
    else:
        messages.success(request, _("Logged; a community worker will confirm the hours."))
    return redirect("party:serve")


# --- hours ------------------------------------------------------------------------------------


@login_required
@require_GET
def hours(request: AuthedRequest) -> HttpResponse:
    user = request.user
    _require_view(user)
    status = request.GET.get("status", HoursStatus.PENDING)
    if status not in HoursStatus.values:
        status = HoursStatus.PENDING
    qs = (
        queries.hours_for(user)
        .filter(status=status)
        .select_related("member", "post")
        .order_by("served_on", "id")
    )
    page = page_of(request, qs, counted=True)
    rows = [(h, _manages(user, h.path)) for h in page]
    return render(
        request,
        "party/hours.html",
        {
            "page": page,
            "rows": rows,
            "status": status,
            "statuses": HoursStatus.choices,
        },
    )


@login_required
@require_POST
def hours_decide(request: AuthedRequest, hours_id: int, action: str) -> HttpResponse:
    user = request.user
    row = queries.access_hours(user, hours_id)
    if not _manages(user, row.path):
        raise PermissionDenied
    try:
        if action == "confirm":
            actions.confirm_hours(user, row.pk)
        elif action == "reject":
            actions.reject_hours(user, row.pk, request.POST.get("reason", ""))
        else:
            raise Http404
    except ValidationError as exc:
        flash_errors(request, exc)
    else:
        messages.success(request, _("Saved."))
    return redirect("party:hours")


# --- evaluations ------------------------------------------------------------------------------


@login_required
@require_GET
def evaluations(request: AuthedRequest) -> HttpResponse:
    user = request.user
    _require_view(user)
    try:
        period = Period.parse(request.GET.get("period", ""))
    except ValueError:
        period = Period.current("quarter")
    qs = (
        queries.members_for(user)
        .filter(status="active", kind=MemberKind.DUAL_REPORT)
        .select_related("unit")
    )
    page = page_of(request, qs.order_by("name", "id"), counted=True)
    grades = {
        e.member_id: e
        for e in Evaluation.objects.filter(member_id__in=[m.pk for m in page], period=period.key)
    }
    rows = [(m, grades.get(m.pk), _manages(user, m.path)) for m in page]
    return render(
        request,
        "party/evaluations.html",
        {
            "page": page,
            "rows": rows,
            "period": period,
            "periods": recent_periods(),
            "grades": Grade.choices,
        },
    )


# --- units and their service records ----------------------------------------------------------


@login_required
def units(request: AuthedRequest) -> HttpResponse:
    user = request.user
    if scope_for(user, Cap.PARTY_VIEW).is_empty and not queries.is_contact(user):
        raise Http404
    rows = list(queries.units_for(user).order_by("name", "id")[:500])
    return render(request, "party/units.html", {"units": rows, "period": Period.current()})


def _period(request: AuthedRequest) -> Period:
    try:
        return Period.parse(request.GET.get("period", ""))
    except ValueError:
        return Period.current("quarter")


@login_required
def unit(request: AuthedRequest, unit_id: int) -> HttpResponse:
    user = request.user
    found, rows_q = queries.access_unit(user, unit_id)
    manages = communities_for(user, Cap.PARTY_MANAGE)
    contact_form = ContactForm(request.POST or None)
    if request.method == "POST":
        if not manages:
            raise PermissionDenied
        if contact_form.is_valid():
            contact = login_with_phone(contact_form.cleaned_data["login"])
            if contact is None:
                contact_form.add_error("login", _("No account has this mobile number."))
            else:
                actions.add_contact(user, found, contact, manages[0])
                messages.success(request, _("Saved."))
                return redirect("party:unit", found.pk)
    period = _period(request)
    record = service_record(found, period, rows_q)
    return render(
        request,
        "party/unit.html",
        {
            "unit": found,
            "record": record,
            "period": period,
            "periods": recent_periods(),
            "manages": bool(manages),
            "contacts": list(
                found.contacts.filter(
                    scope_for(user, Cap.PARTY_VIEW).path_q("path")
                ).select_related("user")
            ),
            "contact_form": contact_form,
        },
    )


@login_required
@require_GET
def record_file(request: AuthedRequest, unit_id: int, ext: str) -> HttpResponse:
    found, rows_q = queries.access_unit(request.user, unit_id)
    record = service_record(found, _period(request), rows_q)
    if ext == "xlsx":
        body = to_xlsx(record)
        content_type = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"
    elif ext == "pdf":
        body = to_pdf(record)
        content_type = "application/pdf"
    else:
        raise Http404

    audit.record(
        request.user,
        "party.record.export",
        found,
        data={"period": record.period.key, "format": ext, "rows": len(record.rows)},
    )
    response = HttpResponse(body, content_type=content_type)
    response["Content-Disposition"] = f'attachment; filename="{record_filename(record, ext)}"'
    return response


# --- the QR sheet -----------------------------------------------------------------------------


@login_required
@require_GET
def qr_sheet(request: AuthedRequest) -> HttpResponse:
    """A printable sheet per community: its QR code leading to the dual-report registration."""
    communities = communities_for(request.user, Cap.PARTY_MANAGE)
    if not communities:
        raise Http404

    sheets = []
    for community in communities:
        url = request.build_absolute_uri(register_url(community))
        svg = segno.make(url, error="m").svg_inline(scale=6, border=2, omitsize=True)
        sheets.append((community, url, svg))
    return render(request, "party/qr.html", {"sheets": sheets})
