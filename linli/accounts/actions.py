"""Every write about accounts: logins and their throttling, grants, API tokens."""

from __future__ import annotations

import secrets
from datetime import timedelta
from typing import Any

from django.conf import settings
from django.contrib.auth import authenticate
from django.db import transaction
from django.db.models import F
from django.http import HttpRequest
from django.utils import timezone
from django.utils.translation import gettext as _

from linli.accounts.models import (
    MOBILE_RE,
    ApiToken,
    Grant,
    LoginThrottle,
    User,
    normalize_phone,
)
from linli.accounts.scope import forget_scopes
from linli.core import audit
from linli.core.middleware import client_ip
from linli.places.models import Grid, Lane, Place


class LoginLocked(Exception):
    def __init__(self, until: Any) -> None:
        super().__init__(str(until))
        self.until = until


def _throttle_keys(login: str, ip: str | None) -> list[tuple[str, int]]:
    """The counters a login attempt counts against: the account (whether named by its phone
    number or its username, so both spellings share one count; or the typed name if no such
    account exists) and the client's address."""
    limit = settings.LINLI_LOGIN_MAX_FAILURES
    typed = login.strip()
    phone = normalize_phone(typed)
    user_id = None
    if MOBILE_RE.match(phone):
        user_id = User.objects.filter(phone=phone).values_list("pk", flat=True).first()
    if user_id is None:
        user_id = User.objects.filter(username__iexact=typed).values_list("pk", flat=True).first()
    account = f"user:{user_id}" if user_id else f"login:{phone.lower()}"[:200]
    keys = [(account, limit)]
    if ip:
        # One address may try several accounts (a shared office), so it gets more room.
        keys.append((f"ip:{ip}", limit * 4))
    return keys


def _locked_until(keys: list[tuple[str, int]]) -> Any:
    now = timezone.now()
    rows = LoginThrottle.objects.filter(
        key__in=[k for k, _ in keys], locked_until__gt=now
    ).values_list("locked_until", flat=True)
    return max((r for r in rows if r is not None), default=None)


def _register_failure(keys: list[tuple[str, int]]) -> None:
    now = timezone.now()
    window = timedelta(minutes=settings.LINLI_LOGIN_LOCK_MINUTES)
    with transaction.atomic():
        for key, limit in keys:
            row, _ = LoginThrottle.objects.get_or_create(key=key)
            if row.window_started_at < now - window:
                LoginThrottle.objects.filter(pk=row.pk).update(
                    failures=1, window_started_at=now, locked_until=None
                )
                continue
            LoginThrottle.objects.filter(pk=row.pk).update(failures=F("failures") + 1)
            row.refresh_from_db(fields=["failures"])
            if row.failures >= limit:
                LoginThrottle.objects.filter(pk=row.pk).update(locked_until=now + window)


def attempt_login(request: HttpRequest, login: str, password: str) -> User | None:
    """Check a login. Raises LoginLocked while the name or address is locked out.

    Returns the user, or None for a wrong name or password (the two are not told apart).
    """
    keys = _throttle_keys(login, client_ip(request))
    until = _locked_until(keys)
    if until is not None:
        audit.record(None, "login.locked", data={"login": login[:64]})
        raise LoginLocked(until)
    user = authenticate(request, username=login, password=password)
    if user is None:
        _register_failure(keys)
        audit.record(None, "login.failed", data={"login": login[:64]})
        until = _locked_until(keys)
        if until is not None:
            raise LoginLocked(until)
        return None
    LoginThrottle.objects.filter(key=keys[0][0]).delete()
    audit.record(user, "login", user)
    return user if isinstance(user, User) else None


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
        raise ValueError(_("Give the token a name, such as the program that will use it."))
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
