from __future__ import annotations

from typing import Any

from django.contrib import messages
from django.contrib.auth import login, logout
from django.contrib.auth.decorators import login_required
from django.contrib.auth.views import PasswordChangeView
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.urls import reverse_lazy
from django.utils.http import url_has_allowed_host_and_scheme
from django.utils.translation import gettext as _
from django.views.decorators.cache import never_cache
from django.views.decorators.csrf import csrf_protect
from django.views.decorators.http import require_POST

from linli.accounts import actions
from linli.accounts.forms import LoginForm, TokenForm
from linli.accounts.models import ApiToken, User
from linli.accounts.types import AuthedRequest
from linli.core import audit


@never_cache
@csrf_protect
def login_view(request: HttpRequest) -> HttpResponse:
    next_url = request.POST.get("next") or request.GET.get("next") or ""
    if not url_has_allowed_host_and_scheme(next_url, {request.get_host()}, request.is_secure()):
        next_url = ""
    form = LoginForm(request.POST or None)
    status = 200
    if request.method == "POST" and form.is_valid():
        try:
            user = actions.attempt_login(
                request, form.cleaned_data["login"], form.cleaned_data["password"]
            )
        except actions.LoginLocked as locked:
            form.add_error(None, locked.message)
            status = 429
        else:
            if user is None:
                form.add_error(None, _("The mobile number/username or password is wrong."))
                status = 401
            else:
                login(request, user)
                return redirect(next_url or "site:home")
    return render(request, "accounts/login.html", {"form": form, "next": next_url}, status=status)


@require_POST
def logout_view(request: HttpRequest) -> HttpResponse:
    if request.user.is_authenticated:
        audit.record(request.user, "logout", request.user)
    logout(request)
    return redirect("accounts:login")


def _user(request: HttpRequest) -> User:
    """The logged-in user (the views below are behind login_required)."""
    assert isinstance(request.user, User)
    return request.user


@login_required
def profile(request: HttpRequest) -> HttpResponse:
    user = _user(request)
    grants = user.grants.filter(revoked_at__isnull=True).select_related("place", "grid", "lane")
    tokens = ApiToken.objects.filter(user=user, revoked_at__isnull=True)
    form = TokenForm(request.POST or None)
    new_secret = None
    if request.method == "POST" and form.is_valid():
        _token, new_secret = actions.issue_token(
            user,
            user,
            form.cleaned_data["name"],
            form.cleaned_data["days"],
        )
        form = TokenForm()
    return render(
        request,
        "accounts/profile.html",
        {
            "grants": grants,
            "tokens": tokens,
            "form": form,
            "new_secret": new_secret,
        },
    )


@login_required
@require_POST
def revoke_token(request: AuthedRequest, token_id: int) -> HttpResponse:
    # Only one's own tokens: anyone else's is a 404, as if it did not exist.
    token = ApiToken.objects.filter(pk=token_id, user=_user(request)).first()
    if token is None:
        raise Http404
    actions.revoke_token(request.user, token)
    messages.success(request, _("The token was revoked."))
    return redirect("accounts:profile")


class PasswordChange(PasswordChangeView):
    template_name = "accounts/password_change.html"
    success_url = reverse_lazy("accounts:profile")

    def form_valid(self, form: Any) -> HttpResponse:
        response = super().form_valid(form)
        user = _user(self.request)
        audit.record(user, "password.change", user)
        messages.success(self.request, _("Your password was changed."))
        return response
