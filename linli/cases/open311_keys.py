"""Open311 keys: each one lets a client (a program) file cases into one community.

A key is shown once when it is issued and stored only as its SHA-256 digest with its first
characters (``key_prefix``) to recognise it in the admin; revoked, never deleted. Issued and revoked
from the admin or ``linli open311``, audited either way.
"""

from __future__ import annotations

import hashlib
import secrets

from django.core.exceptions import ValidationError
from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from linli.accounts.models import User
from linli.core import audit
from linli.places.models import Place, PlaceKind

from .models import Open311Client

KEY_PREFIX = "o311_"


def key_digest(key: str) -> str:
    return hashlib.sha256(key.encode()).hexdigest()


def issue_key(
    actor: User | None, name: str, community: Place, *, hourly_limit: int = 60
) -> tuple[Open311Client, str]:
    """A new client with its key; the key is returned here once and never stored."""
    name = " ".join(name.split())
    if not name:
        raise ValidationError(
            {"name": _("Give the client a name, such as the program that will use the key.")}
        )
    if community.kind != PlaceKind.COMMUNITY or community.retired_at is not None:
        raise ValidationError({"community": _("A key files into one community: choose one.")})
    if hourly_limit < 1:
        raise ValidationError({"hourly_limit": _("Allow at least one case an hour.")})
    key = KEY_PREFIX + secrets.token_urlsafe(32)
    with transaction.atomic():
        client = Open311Client.objects.create(
            name=name[:100],
            key_prefix=key[:12],
            key_digest=key_digest(key),
            community=community,
            hourly_limit=hourly_limit,
        )
        audit.record(
            actor,
            "open311.issue",
            client,
            place_path=community.path,
            data={"name": client.name, "hourly_limit": hourly_limit},
        )
    return client, key


def revoke_key(actor: User | None, client: Open311Client) -> bool:
    with transaction.atomic():
        revoked = Open311Client.objects.filter(pk=client.pk, revoked_at__isnull=True).update(
            revoked_at=timezone.now()
        )
        if revoked:
            audit.record(
                actor,
                "open311.revoke",
                client,
                place_path=client.community.path,
                data={"name": client.name},
            )
    return bool(revoked)


def client_for_key(key: str) -> Open311Client | None:
    key = key.strip()
    if not key.startswith(KEY_PREFIX) or len(key) > 100:
        return None
    return (
        Open311Client.objects.select_related("community")
        .filter(key_digest=key_digest(key), revoked_at__isnull=True)
        .first()
    )
