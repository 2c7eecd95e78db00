from __future__ import annotations

from typing import Any

from django.contrib.auth.backends import ModelBackend
from django.http import HttpRequest

from linli.accounts import actions
from linli.accounts.models import User
from linli.accounts.queries import user_for_login


class PhoneOrUsernameBackend(ModelBackend):
    """Log in with a mobile number or a username, and a password, under the one lockout.

    The check runs inside ``actions.throttled``, so whoever calls Django's ``authenticate()`` (the
    staff login, the admin's login form, the API's token endpoint, the party registration) gets the
    same lockout and audit records. ``entrance`` names the caller in those records. A lockout is
    raised as ``actions.LoginLocked``, which Django's ``authenticate()`` lets through (it swallows
    only PermissionDenied), so each entrance can show the lockout's own refusal.
    """

    def authenticate(
        self,
        request: HttpRequest | None,
        username: str | None = None,
        password: str | None = None,
        entrance: str = "other",
        **kwargs: Any,
    ) -> User | None:
        if not username or password is None:
            return None
        login, secret = username, password
        return actions.throttled(request, login, entrance, lambda: self._check(login, secret))

    def _check(self, login: str, password: str) -> User | None:
        user = user_for_login(login)
        if user is None:
            # Spend the same time as a real check, so response times don't reveal who exists.
            User().set_password(password)
            return None
        if user.check_password(password) and self.user_can_authenticate(user):
            return user
        return None
