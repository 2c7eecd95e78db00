"""The residents' side, no account needed: the form a building's QR code leads to, and the
tracking page where a resident follows their case and rates it.

The QR code carries a signed token naming the building, so nobody can file against a building by
guessing its number, and the form shows the building's name without revealing anything else. The
tracking page is reached by the 8-character tracking code alone and shows no personal data: the
category, the place's name, the state, the public timeline, and the reason if it was rejected.
Filing is limited per address (``PUBLIC_LIMIT`` an hour) so a script cannot flood a community.
"""

from __future__ import annotations

import contextlib

from django.core.exceptions import ValidationError
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils.translation import gettext as _
from django.views.decorators.http import require_http_methods, require_POST

from linli.core import audit
from linli.places.links import place_of_token, place_token
from linli.places.models import Place, PlaceKind

from . import photos, workflow
from .forms import PublicCaseForm, RateForm
from .models import Case, CaseEvent, Channel, State

SALT = "linli.cases.qr"
PUBLIC_LIMIT = 10  # cases an hour from one address
# Wrong tracking codes an hour from one address; past it, every code is refused for the hour. A
# code is 8 of 31 characters (about 10^12); with a million cases, a script guessing without this
# limit would find one every few hours, and could rate it.
CODE_GUESSES = 20


class TooManyGuesses(Exception):
    """This address tried too many tracking codes that match no case."""


def qr_token(place: Place) -> str:
    return place_token(place, SALT)


def qr_url(place: Place) -> str:
    return reverse("public_cases:form", args=[qr_token(place)])


def place_of_qr(token: str) -> Place:
    return place_of_token(token, SALT, (PlaceKind.BUILDING, PlaceKind.COMPOUND))


@require_http_methods(["GET", "POST"])
def form(request: HttpRequest, token: str) -> HttpResponse:
    place = place_of_qr(token)
    if request.method == "POST":
        form = PublicCaseForm(request.POST, request.FILES)
        if audit.too_many_from_here("case.create", PUBLIC_LIMIT):
            form.add_error(None, _("Too many requests from here just now; try again in an hour."))
        elif form.is_valid():
            data = workflow.Intake(
                channel=Channel.QR,
                category=form.category_object(),
                place=place,
                description=form.cleaned_data["description"],
                reporter_name=form.cleaned_data["reporter_name"],
                reporter_phone=form.cleaned_data["reporter_phone"],
                anonymous=form.cleaned_data["anonymous"],
            )
            try:
                case = photos.take_in_with_photo(None, data, form.cleaned_data.get("photo"))
            except ValidationError as exc:
                for key, errs in exc.message_dict.items():
                    form.add_error(key if key in form.fields else None, errs)
            else:
                return redirect("public_cases:track", case.code)
    else:
        form = PublicCaseForm()
    return render(request, "cases/public_form.html", {"form": form, "place": place})


def case_by_code(code: str) -> Case | None:
    """The case a resident's tracking code names, for every public way to it (the tracking page,
    rating, Open311's tokens). Each wrong code is recorded against the address; past
    ``CODE_GUESSES`` an hour, raises TooManyGuesses, for right codes too."""
    if audit.too_many_from_here("case.code_missed", CODE_GUESSES):
        raise TooManyGuesses
    case = (
        Case.objects.filter(code=code.strip().upper()[:12])
        .select_related("category", "place", "merged_into")
        .first()
    )
    if case is None:
        audit.record(None, "case.code_missed")
    return case


def _case_by_code(code: str) -> Case:
    case = case_by_code(code)
    if case is None:
        raise Http404
    return case


def _too_many(request: HttpRequest) -> HttpResponse:
    message = _("Too many wrong tracking codes from here; try again in an hour.")
    return render(request, "cases/lookup.html", {"error": message}, status=429)


def track(request: HttpRequest, code: str) -> HttpResponse:
    try:
        case = _case_by_code(code)
    except TooManyGuesses:
        return _too_many(request)
    # A merged case follows its primary: the resident sees the primary's progress.
    shown = case.merged_into if case.state == State.MERGED and case.merged_into else case
    events = CaseEvent.objects.filter(case=shown, public=True).order_by("at", "id")
    return render(
        request,
        "cases/track.html",
        {
            "case": case,
            "shown": shown,
            "events": events,
            "rate_form": RateForm() if shown.state == State.RESOLVED and shown == case else None,
        },
    )


@require_POST
def rate(request: HttpRequest, code: str) -> HttpResponse:
    try:
        case = _case_by_code(code)
    except TooManyGuesses:
        return _too_many(request)
    form = RateForm(request.POST)
    if not form.is_valid():
        return render(
            request,
            "cases/track.html",
            {"case": case, "shown": case, "events": [], "rate_form": form},
            status=400,
        )
    # Rated already (a second press): the page shows the result.
    with contextlib.suppress(workflow.IllegalTransition):
        workflow.rate(None, case.pk, form.cleaned_data["rating"], form.cleaned_data["comment"])
    return redirect("public_cases:track", case.code)


def lookup(request: HttpRequest) -> HttpResponse:
    """A small form: type a tracking code, see the case."""
    code = request.GET.get("code", "").strip()
    if code:
        return redirect("public_cases:track", code.upper()[:12])
    return render(request, "cases/lookup.html", {})
