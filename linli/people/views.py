from __future__ import annotations

from typing import Any

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied, ValidationError
from django.db import transaction
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.utils.translation import gettext as _
from django.views.decorators.http import require_http_methods, require_POST

from linli.accounts.roles import Cap
from linli.accounts.scope import scope_for
from linli.accounts.types import AuthedRequest, Viewer
from linli.core.identifiers import mask_citizen_id, mask_mobile
from linli.people import actions, queries
from linli.people.forms import LeaveForm, NewResidentForm, ResidentForm, RevealForm, TagsForm
from linli.people.models import PII_LABELS, Membership, Resident, tag_label
from linli.places.models import Place, PlaceKind
from linli.places.queries import BuildingLayout, access_place


def _require(user: Viewer, capability: str) -> None:
    if scope_for(user, capability).is_empty:
        raise Http404


@login_required
def search(request: HttpRequest) -> HttpResponse:
    _require(request.user, Cap.PEOPLE_VIEW)
    q = request.GET.get("q", "").strip()
    results = queries.search(request.user, q) if q else None
    template = "people/_results.html" if getattr(request, "htmx", False) else "people/search.html"
    return render(
        request,
        template,
        {
            "q": q,
            "results": results,
            "may_import": not scope_for(request.user, Cap.PEOPLE_IMPORT).is_empty,
        },
    )


@login_required
def care(request: HttpRequest, place_id: int) -> HttpResponse:
    place = access_place(request.user, place_id, Cap.PEOPLE_VIEW)
    tag = request.GET.get("tag") or None
    tags = queries.visible_care_tags(request.user, place)
    if tag and tag != "aged_60" and not tags.filter(code=tag).exists():
        raise Http404
    people = list(queries.care_list(request.user, place, tag)[:500])
    return render(
        request,
        "people/care.html",
        {
            "place": place,
            "people": people,
            "tag": tag,
            "tags": [(t.code, tag_label(t)) for t in tags],
            "truncated": len(people) == 500,
        },
    )


@login_required
def detail(request: AuthedRequest, resident_id: int) -> HttpResponse:
    resident = queries.access_resident(request.user, resident_id)
    actions.log_view(request.user, resident)
    return render(request, "people/resident.html", _detail_context(request, resident))


def _detail_context(request: HttpRequest, resident: Resident, **extra: Any) -> dict[str, Any]:
    user = request.user
    home = resident.home
    memberships = (
        Membership.objects.filter(resident=resident)
        .select_related("dwelling")
        .order_by("until", "-since")
    )
    return {
        "resident": resident,
        "age": resident.age(),
        "id_masked": mask_citizen_id(resident.id_number),
        "phone_masked": mask_mobile(resident.phone),
        "tags": [tag_label(t) for t in queries.visible_tags(user, resident)],
        "aged_60": (resident.age() or 0) >= 60,
        "memberships": memberships,
        "may_reveal": queries.may_reveal(user, resident),
        "may_edit": home is not None and scope_for(user, Cap.PEOPLE_EDIT).contains(home),
        "history": _history(resident),
        "reveal_form": RevealForm(),
        **extra,
    }


def _history(resident: Resident) -> list[dict[str, Any]]:
    """What changed when and by whom; for the personal numbers only that they changed."""
    records = list(resident.history.select_related("history_user").order_by("history_date"))
    rows = []
    for previous, record in zip([None, *records], records, strict=False):
        if previous is None:
            changed = [_("created")]
        else:
            delta = record.diff_against(previous)
            changed = [
                str(getattr(Resident._meta.get_field(c.field), "verbose_name", c.field))
                for c in delta.changes
            ]
        rows.append({"at": record.history_date, "who": record.history_user, "changed": changed})
    return list(reversed(rows))


@login_required
@require_POST
def reveal(request: AuthedRequest, resident_id: int, field: str) -> HttpResponse:
    resident = queries.access_resident(request.user, resident_id)
    if field not in actions.PII_FIELDS:
        raise Http404
    form = RevealForm(request.POST)
    value = None
    if form.is_valid():
        try:
            value = actions.reveal(request.user, resident, field, form.cleaned_data["reason"])
        except PermissionDenied:
            raise Http404 from None
        except ValidationError as exc:
            form.add_error("reason", exc.messages[0])
    status = 200 if value is not None else 400
    context = {
        "resident": resident,
        "field": field,
        "label": PII_LABELS[field],
        "value": value,
        "form": form,
    }
    if getattr(request, "htmx", False):
        return render(request, "people/_reveal.html", context, status=status)
    revealed = {field: value} if value is not None else {}
    return render(
        request,
        "people/resident.html",
        _detail_context(request, resident, revealed=revealed, reveal_form=form),
        status=status,
    )


@login_required
@require_http_methods(["GET", "POST"])
def edit(request: AuthedRequest, resident_id: int) -> HttpResponse:
    resident = queries.access_resident(request.user, resident_id, Cap.PEOPLE_EDIT)
    sensitive = queries.sees_sensitive(request.user, resident)
    initial = {
        "name": resident.name,
        "id_type": resident.id_type,
        "id_number": resident.id_number,
        "gender": resident.gender,
        "birth_date": resident.birth_date,
        "ethnicity": resident.ethnicity,
        "phone": resident.phone,
        "residence_type": resident.residence_type,
    }
    current_tags = [t.pk for t in queries.visible_tags(request.user, resident)]
    form = ResidentForm(request.POST or None, initial=initial)
    tags_form = TagsForm(request.POST or None, sensitive=sensitive, initial={"tags": current_tags})
    if request.method == "POST" and form.is_valid() and tags_form.is_valid():
        try:
            # The facts and the tags are saved together or not at all.
            with transaction.atomic():
                actions.update_resident(request.user, resident, form.cleaned_data)
                actions.set_tags(
                    request.user,
                    resident,
                    [t.code for t in tags_form.cleaned_data["tags"]],
                    sensitive_allowed=sensitive,
                )
        except ValidationError as exc:
            _add_errors(form, exc)
        else:
            messages.success(request, _("Saved."))
            return redirect("people:detail", resident.pk)
    return render(
        request,
        "people/edit.html",
        {
            "resident": resident,
            "form": form,
            "tags_form": tags_form,
        },
        status=400 if form.errors else 200,
    )


@login_required
@require_http_methods(["GET", "POST"])
def new(request: AuthedRequest, dwelling_id: int) -> HttpResponse:
    dwelling = access_place(request.user, dwelling_id, Cap.PEOPLE_EDIT)
    if dwelling.kind != PlaceKind.DWELLING:
        raise Http404
    form = NewResidentForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        try:
            resident = actions.create_resident(
                request.user,
                form.cleaned_data,
                home=dwelling,
                relation=form.cleaned_data["relation"],
                is_head=form.cleaned_data["is_head"],
            )
        except ValidationError as exc:
            _add_errors(form, exc)
        else:
            messages.success(request, _("Saved."))
            return redirect("people:detail", resident.pk)
    return render(
        request,
        "people/new.html",
        {"dwelling": dwelling, "form": form},
        status=400 if form.errors else 200,
    )


@login_required
@require_http_methods(["GET", "POST"])
def leave(request: AuthedRequest, resident_id: int) -> HttpResponse:
    resident = queries.access_resident(request.user, resident_id, Cap.PEOPLE_EDIT)
    form = LeaveForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        record = (
            actions.move_out if form.cleaned_data["what"] == "moved_out" else (actions.record_death)
        )
        try:
            record(request.user, resident, form.cleaned_data["on"])
        except ValidationError as exc:
            _add_errors(form, exc, fallback="on")
        else:
            messages.success(request, _("Saved."))
            return redirect("people:detail", resident.pk)
    return render(
        request,
        "people/leave.html",
        {"resident": resident, "form": form},
        status=400 if form.errors else 200,
    )


def _add_errors(form: Any, exc: ValidationError, fallback: str | None = None) -> None:
    if hasattr(exc, "error_dict"):
        for key, errors in exc.message_dict.items():
            form.add_error(key if key in form.fields else fallback, errors)
    else:
        form.add_error(fallback, exc.messages)


def place_context(request: HttpRequest, place: Place, context: dict[str, object]) -> None:
    """The roster's part of the place page (``PeopleConfig.place_context``): each dwelling's
    household on a building's plan, a dwelling's members, whether one may be added."""
    if not context.get("sees_people"):
        return
    layout = context.get("layout")
    if isinstance(layout, BuildingLayout):
        members = queries.households(request.user, place)
        for _floor, cells in layout.rows:
            for cell in cells:
                for dwelling in cell:
                    dwelling.members = members.get(dwelling.pk, [])  # type: ignore[attr-defined]
        for dwelling in layout.loose:
            dwelling.members = members.get(dwelling.pk, [])  # type: ignore[attr-defined]
    if place.kind == PlaceKind.DWELLING:
        context["members"] = queries.members_of(request.user, place)
        context["may_add"] = scope_for(request.user, Cap.PEOPLE_EDIT).contains(place)
