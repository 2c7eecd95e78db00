"""Reads about accounts that other modules need: which account a login or a mobile number names."""

from __future__ import annotations

from linli.accounts.models import MOBILE_RE, User, normalize_phone


def user_for_login(login: str) -> User | None:
    """The account a login names: its mobile number (spaces, dashes and a +86 prefix allowed),
    else its username (case ignored). The backend checks passwords against it and the lockout
    counts against it, so both spellings of one account share one count."""
    typed = login.strip()
    phone = normalize_phone(typed)
    if MOBILE_RE.match(phone):
        user = User.objects.filter(phone=phone).first()
        if user is not None:
            return user
    return User.objects.filter(username__iexact=typed).first()


def user_with_phone(phone: str) -> User | None:
    """The account whose login phone is these 11 digits (what approving a registration links)."""
    return User.objects.filter(phone=phone).first() if MOBILE_RE.match(phone) else None
