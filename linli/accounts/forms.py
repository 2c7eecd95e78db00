from __future__ import annotations

from typing import Any

from django import forms
from django.contrib.admin.forms import AdminAuthenticationForm
from django.core.exceptions import ValidationError
from django.utils.translation import gettext_lazy as _

from linli.accounts import actions


class LoginForm(forms.Form):
    login = forms.CharField(
        label=_("Mobile number or username"),
        max_length=150,
        widget=forms.TextInput(
            attrs={"autocomplete": "username", "autofocus": True, "autocapitalize": "none"}
        ),
    )
    password = forms.CharField(
        label=_("Password"),
        strip=False,
        widget=forms.PasswordInput(attrs={"autocomplete": "current-password"}),
    )


class TokenForm(forms.Form):
    name = forms.CharField(label=_("What the token is for"), max_length=100)
    days = forms.IntegerField(label=_("Valid for (days)"), min_value=1, max_value=3650, initial=365)


class AdminLoginForm(AdminAuthenticationForm):
    """The admin's login form under the same lockout as the staff login (``admin.site.login_form``
    in linli/urls.py): locked, it shows the same refusal, even for the right password."""

    def clean(self) -> dict[str, Any]:
        username = self.cleaned_data.get("username")
        password = self.cleaned_data.get("password")
        if username is not None and password:
            try:
                user = actions.authenticate_throttled(
                    self.request, username, password, entrance="admin"
                )
            except actions.LoginLocked as locked:
                raise ValidationError(locked.message, code="locked") from locked
            if user is None:
                raise self.get_invalid_login_error()
            self.confirm_login_allowed(user)  # staff only
            self.user_cache = user
            actions.record_login(user, "admin")
        return self.cleaned_data
