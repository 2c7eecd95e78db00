"""The in-service member's side before they have an account: the registration form the
community's QR code leads to (一报到).

The QR code carries a signed token naming the community, so nobody can register with a community
by guessing its number. Filing is limited per address (``PUBLIC_LIMIT`` an hour).
"""

from __future__ import annotations

from django.core.exceptions import ValidationError
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils.translation import gettext as _
from django.views.decorators.http import require_http_methods

from linli.core import audit
from linli.places.links import place_of_token, place_token
from linli.places.models import Place, PlaceKind

from . import actions
from .forms import RegisterForm

SALT = "linli.party.register"
PUBLIC_LIMIT = 10  # registrations an hour from one address


def register_token(community: Place) -> str:
    return place_token(community, SALT)


def register_url(community: Place) -> str:
    return reverse("public_party:register", args=[register_token(community)])


def community_of_token(token: str) -> Place:
    return place_of_token(token, SALT, (PlaceKind.COMMUNITY,))


@require_http_methods(["GET", "POST"])
def register(request: HttpRequest, token: str) -> HttpResponse:
    community = community_of_token(token)
    if request.method == "POST":
        form = RegisterForm(request.POST)
        if audit.too_many_from_here("party.register", PUBLIC_LIMIT):
            form.add_error(
                None, _("Too many registrations from here just now; try again in an hour.")
            )
        elif form.is_valid():
            try:
                actions.register(community, form.cleaned_data)
            except ValidationError as exc:
                for key, errs in exc.message_dict.items():
                    form.add_error(key if key in form.fields else None, errs)
            else:
                return redirect("public_party:registered")
    else:
        form = RegisterForm()
    return render(request, "party/register.html", {"form": form, "community": community})


def registered(request: HttpRequest) -> HttpResponse:
    return render(request, "party/registered.html", {})
