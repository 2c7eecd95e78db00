"""Reads of accounts that other apps use: which account a login or a mobile number names."""

from __future__ import annotations

from linli.accounts.models import MOBILE_RE, User, normalize_phone


def login_with_phone(raw: str) -> User | None:
    """The active login whose mobile number this is, or None.

    Linking a login to something of a community (a partner unit, the network) asks for the login's
    mobile number, not its id or username: knowing the number is what the person gave the worker,
    while ids and usernames can be walked through.
    """
    user = user_with_phone(normalize_phone(raw.strip()))
    return user if user is not None and user.is_active else None


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
    """The account, active or not, whose login phone is these 11 digits: the one approving a
    party registration links (``party.actions``), so the registration must prove it is theirs."""
    return User.objects.filter(phone=phone).first() if MOBILE_RE.match(phone) else None
