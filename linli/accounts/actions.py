"""Every write about accounts: logins and their throttling, grants, API tokens."""

from __future__ import annotations

import math
import secrets
from collections.abc import Callable
from datetime import datetime, timedelta
from typing import Literal

from django.conf import settings
from django.contrib.auth import authenticate
from django.core.exceptions import ValidationError
from django.db import transaction
from django.db.models import F
from django.http import HttpRequest
from django.utils import timezone
from django.utils.translation import gettext as _

from linli.accounts.models import (
    ApiToken,
    Grant,
    LoginThrottle,
    User,
    normalize_phone,
)
from linli.accounts.queries import user_for_login
from linli.accounts.scope import forget_scopes
from linli.core import audit
from linli.core.errors import TooManyAttempts
from linli.core.middleware import client_ip
from linli.places.models import Grid, Lane, Place

# Where a password was typed: each audit record of a login attempt names its entrance.
Entrance = Literal["staff", "admin", "api", "registration", "other"]


class LoginLocked(TooManyAttempts):
    """The account or the address is locked out; its text is the refusal every entrance shows."""

    def __init__(self, until: datetime) -> None:
        left = (until - timezone.now()).total_seconds()
        super().__init__(
            _("Too many failed attempts. Try again in %(minutes)s minutes.")
            % {"minutes": max(1, int(left // 60) + 1)},
            retry_after=max(1, math.ceil(left)),
        )
        self.until = until


def _throttle_keys(login: str, ip: str | None) -> list[tuple[str, int]]:
    """The counters a login attempt counts against: the account (whether named by its phone
    number or its username, so both spellings share one count; or the typed name if no such
    account exists) and the client's address."""
    limit = settings.LINLI_LOGIN_MAX_FAILURES
    user = user_for_login(login)
    phone = normalize_phone(login.strip())
    account = f"user:{user.pk}" if user else f"login:{phone.lower()}"[:200]
    keys = [(account, limit)]
    if ip:
        # One address may try several accounts (a shared office), so it gets more room.
        keys.append((f"ip:{ip}", limit * 4))
    return keys


def _locked_until(keys: list[tuple[str, int]]) -> datetime | None:
    now = timezone.now()
    rows = LoginThrottle.objects.filter(
        key__in=[k for k, _ in keys], locked_until__gt=now
    ).values_list("locked_until", flat=True)
    return max((r for r in rows if r is not None), default=None)


def _reserve(keys: list[tuple[str, int]]) -> bool:
    """Count this attempt as a failure before its password is checked, so that guesses sent at the
    same moment cannot all pass the lock check: each takes the next count, and one that takes a
    count beyond a limit is not checked. Returns whether every counter is within its limit. A
    success gives its count back (``_release``)."""
    now = timezone.now()
    window_start = now - timedelta(minutes=settings.LINLI_LOGIN_LOCK_MINUTES)
    within = True
    with transaction.atomic():
        for key, limit in keys:
            row, _ = LoginThrottle.objects.get_or_create(key=key)
            rows = LoginThrottle.objects.filter(pk=row.pk)
            # The counting window restarts once its time is up (conditionally, so that two
            # attempts at the boundary do not both restart it).
            if not rows.filter(window_started_at__lt=window_start).update(
                failures=1, window_started_at=now, locked_until=None
            ):
                rows.update(failures=F("failures") + 1)
            row.refresh_from_db(fields=["failures"])
            within = within and row.failures <= limit
    return within


def _release(keys: list[tuple[str, int]]) -> None:
    LoginThrottle.objects.filter(key__in=[k for k, _ in keys], failures__gt=0).update(
        failures=F("failures") - 1
    )


def _lock_full(keys: list[tuple[str, int]]) -> None:
    """Lock each counter that a failure has brought to its limit."""
    now = timezone.now()
    until = now + timedelta(minutes=settings.LINLI_LOGIN_LOCK_MINUTES)
    for key, limit in keys:
        LoginThrottle.objects.filter(key=key, failures__gte=limit).exclude(
            locked_until__gt=now
        ).update(locked_until=until)


def _attempt(login: str, entrance: str) -> dict[str, str]:
    return {"login": login[:64], "entrance": entrance}


def _keys_of(request: HttpRequest | None, login: str) -> list[tuple[str, int]]:
    return _throttle_keys(login, client_ip(request) if request is not None else None)


def _refuse_if_locked(keys: list[tuple[str, int]], login: str, entrance: str) -> None:
    until = _locked_until(keys)
    if until is not None:
        audit.record(None, "login.locked", data=_attempt(login, entrance))
        raise LoginLocked(until)


def throttled(
    request: HttpRequest | None,
    login: str,
    entrance: str,
    check: Callable[[], User | None],
) -> User | None:
    """The lockout, written once. Every password Linli checks is checked through it: the
    authentication backend runs its check inside, so Django's ``authenticate()`` is throttled
    at every entrance (staff login, admin login, API token, registration).

    Raises LoginLocked while the account or the address is locked, even for the right password,
    and on the failure that locks it. Each failure counts against both and is recorded
    (``login.failed``), each refusal too (``login.locked``); a success clears the account's count
    and does not count against the address. Attempts are counted before their password is
    checked, so the limits hold for guesses sent in parallel too.
    """
    keys = _keys_of(request, login)
    _refuse_if_locked(keys, login, entrance)
    if not _reserve(keys):
        # Sent beside the guesses that fill a counter: refused unchecked, and not counted.
        _release(keys)
        audit.record(None, "login.locked", data=_attempt(login, entrance))
        window = timedelta(minutes=settings.LINLI_LOGIN_LOCK_MINUTES)
        raise LoginLocked(_locked_until(keys) or timezone.now() + window)
    user = check()
    if user is None:
        with transaction.atomic():
            _lock_full(keys)
            audit.record(None, "login.failed", data=_attempt(login, entrance))
        until = _locked_until(keys)
        if until is not None:
            raise LoginLocked(until)
        return None
    LoginThrottle.objects.filter(key=keys[0][0]).delete()
    _release(keys[1:])
    return user


def refuse_if_locked(request: HttpRequest, login: str, entrance: Entrance) -> None:
    """Raise LoginLocked if ``login`` or the request's address is locked out, without checking a
    password (a registration with a new mobile number: an address locked out is refused there
    too)."""
    _refuse_if_locked(_keys_of(request, login), login, entrance)


def authenticate_throttled(
    request: HttpRequest | None, login: str, password: str, *, entrance: Entrance
) -> User | None:
    """The user whose login and password these are, or None (a wrong name and a wrong password
    are not told apart). Raises LoginLocked (see ``throttled``)."""
    user = authenticate(request, username=login, password=password, entrance=entrance)
    return user if isinstance(user, User) else None


def record_login(user: User, entrance: Entrance) -> None:
    audit.record(user, "login", user, data={"entrance": entrance})


def attempt_login(
    request: HttpRequest, login: str, password: str, *, entrance: Entrance = "staff"
) -> User | None:
    """Check a login for a session (the staff login page). Raises LoginLocked while the name or
    address is locked out. Returns the user, or None for a wrong name or password."""
    user = authenticate_throttled(request, login, password, entrance=entrance)
    if user is not None:
        record_login(user, entrance)
    return user


def grant_role(
    actor: User | None,
    user: User,
    role: str,
    *,
    place: Place | None = None,
    grid: Grid | None = None,
    lane: Lane | None = None,
) -> Grant:
    with transaction.atomic():
        existing = Grant.objects.filter(
            user=user, role=role, place=place, grid=grid, lane=lane, revoked_at__isnull=True
        ).first()
        if existing:
            return existing  # granting twice is a no-op, so a retried request is safe
        grant = Grant(user=user, role=role, place=place, grid=grid, lane=lane, granted_by=actor)
        grant.full_clean()
        grant.save()
        audit.record(
            actor,
            "grant.create",
            grant,
            place_path=_grant_path(grant),
            data={"user": user.username, "role": role},
        )
    forget_scopes(user)
    return grant


def revoke_grant(actor: User | None, grant: Grant) -> Grant:
    with transaction.atomic():
        grant = Grant.objects.select_for_update().get(pk=grant.pk)
        if grant.revoked_at is None:
            grant.revoked_at = timezone.now()
            grant.save(update_fields=["revoked_at"])
            audit.record(
                actor,
                "grant.revoke",
                grant,
                place_path=_grant_path(grant),
                data={"user": grant.user.username, "role": grant.role},
            )
    forget_scopes(grant.user)
    return grant


def _grant_path(grant: Grant) -> str:
    if grant.place is not None:
        return grant.place.path
    if grant.grid is not None:
        return grant.grid.community.path
    if grant.lane is not None:
        return grant.lane.community.path
    return ""


TOKEN_PREFIX = "lnl_"  # noqa: S105 - a public prefix, not a secret


def issue_token(
    actor: User | None, user: User, name: str, days: int | None = 365
) -> tuple[ApiToken, str]:
    """Create an API token; returns it with the secret, which is never stored or shown again."""
    name = name.strip()
    if not name:
        raise ValidationError(
            {"name": _("Give the token a name, such as the program that will use it.")}
        )
    secret = TOKEN_PREFIX + secrets.token_urlsafe(32)
    with transaction.atomic():
        token = ApiToken.objects.create(
            user=user,
            name=name[:100],
            prefix=secret[:12],
            digest=ApiToken.digest_of(secret),
            expires_at=timezone.now() + timedelta(days=days) if days else None,
        )
        audit.record(actor, "token.create", token, data={"user": user.username})
    return token, secret


def revoke_token(actor: User | None, token: ApiToken) -> None:
    with transaction.atomic():
        updated = ApiToken.objects.filter(pk=token.pk, revoked_at__isnull=True).update(
            revoked_at=timezone.now()
        )
        if updated:
            audit.record(actor, "token.revoke", token, data={"user": token.user.username})


def user_for_token(secret: str) -> User | None:
    if not secret.startswith(TOKEN_PREFIX):
        return None
    token = (
        ApiToken.objects.select_related("user").filter(digest=ApiToken.digest_of(secret)).first()
    )
    if token is None or not token.is_usable or not token.user.is_active:
        return None
    now = timezone.now()
    if token.last_used_at is None or now - token.last_used_at > timedelta(minutes=5):
        # Throttled so that a busy client does not turn every read into a write.
        ApiToken.objects.filter(pk=token.pk).update(last_used_at=now)
    return token.user


def purge_expired_throttles() -> int:
    cutoff = timezone.now() - timedelta(minutes=settings.LINLI_LOGIN_LOCK_MINUTES) * 2
    deleted, _ = (
        LoginThrottle.objects.filter(window_started_at__lt=cutoff)
        .exclude(locked_until__gt=timezone.now())
        .delete()
    )
    return deleted
