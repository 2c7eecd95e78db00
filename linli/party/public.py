"""The in-service member's side before they have an account: the registration form the
community's QR code leads to (一报到).

The QR code carries a signed token naming the community, so nobody can register with a community
by guessing its number. Filing is limited per address (``PUBLIC_LIMIT`` an hour).

A mobile number that already has a Linli account registers with that account (approval links
them), so the registrant proves it is theirs with its password. That is a password check like any
login, under the same lockout (``linli.accounts.actions.throttled``); an address or number locked
out there is refused here too, with a new number as well.
"""

from __future__ import annotations

from typing import Any

from django.core.exceptions import ValidationError
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils.translation import gettext as _
from django.views.decorators.http import require_http_methods

from linli.accounts import actions as accounts
from linli.accounts.queries import user_with_phone
from linli.core import audit
from linli.core.identifiers import parse_mobile
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


def _prove_account(request: HttpRequest, data: dict[str, Any]) -> None:
    """Raise LoginLocked while the number or the address is locked out, and ValidationError when
    the number has an account and the password is not that account's (a failed login)."""
    try:
        phone = parse_mobile(data["phone"])
    except ValidationError:
        phone = ""  # actions.register says what is wrong with it
    digits = phone[3:] if phone.startswith("+86") else ""
    if user_with_phone(digits) is None:
        accounts.refuse_if_locked(request, digits or data["phone"], entrance="registration")
        return
    user = accounts.authenticate_throttled(
        request, digits, data["password"], entrance="registration"
    )
    if user is None:
        raise ValidationError(
            {
                "password": _(
                    "This mobile number already has a Linli account: enter its password to "
                    "register with it."
                )
            }
        )


@require_http_methods(["GET", "POST"])
def register(request: HttpRequest, token: str) -> HttpResponse:
    community = community_of_token(token)
    status = 200
    if request.method == "POST":
        form = RegisterForm(request.POST)
        if audit.too_many_from_here("party.register", PUBLIC_LIMIT):
            form.add_error(
                None, _("Too many registrations from here just now; try again in an hour.")
            )
        elif form.is_valid():
            try:
                _prove_account(request, form.cleaned_data)
                actions.register(community, form.cleaned_data)
            except accounts.LoginLocked as locked:
                form.add_error(None, locked.message)
                status = 429
            except ValidationError as exc:
                for key, errs in exc.message_dict.items():
                    form.add_error(key if key in form.fields else None, errs)
            else:
                return redirect("public_party:registered")
    else:
        form = RegisterForm()
    return render(
        request, "party/register.html", {"form": form, "community": community}, status=status
    )


def registered(request: HttpRequest) -> HttpResponse:
    return render(request, "party/registered.html", {})
