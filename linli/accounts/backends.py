from __future__ import annotations

from typing import Any

from django.contrib.auth.backends import ModelBackend
from django.http import HttpRequest

from linli.accounts.models import MOBILE_RE, User, normalize_phone


class PhoneOrUsernameBackend(ModelBackend):
    """Log in with a mobile number or a username, and a password."""

    def authenticate(
        self,
        request: HttpRequest | None,
        username: str | None = None,
        password: str | None = None,
        **kwargs: Any,
    ) -> User | None:
        if not username or password is None:
            return None
        login = username.strip()
        phone = normalize_phone(login)
        user = None
        if MOBILE_RE.match(phone):
            user = User.objects.filter(phone=phone).first()
        if user is None:
            user = User.objects.filter(username__iexact=login).first()
        if user is None:
            # Spend the same time as a real check, so response times don't reveal who exists.
            User().set_password(password)
            return None
        if user.check_password(password) and self.user_can_authenticate(user):
            return user
        return None
