"""Reads of accounts that other apps use."""

from __future__ import annotations

from linli.accounts.models import User, normalize_phone


def login_with_phone(raw: str) -> User | None:
    """The active login whose mobile number this is, or None.

    Linking a login to something of a community (a partner unit, the network) asks for the login's
    mobile number, not its id or username: knowing the number is what the person gave the worker,
    while ids and usernames can be walked through.
    """
    phone = normalize_phone(raw.strip())
    if not phone:
        return None
    return User.objects.filter(phone=phone, is_active=True).order_by("pk").first()
