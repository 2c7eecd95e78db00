"""Writing and reading the audit log."""

from __future__ import annotations

import datetime
from typing import Any, Protocol

from django.db import models
from django.utils import timezone

from linli.core.audit_labels import AUDIT_LABELS as AUDIT_LABELS
from linli.core.audit_labels import action_label as action_label
from linli.core.audit_labels import action_labels as action_labels
from linli.core.context import current_request
from linli.core.models import AuditEntry


class Actor(Protocol):
    """Who acts, as the audit log needs them: a logged-in user, or an anonymous visitor (Django's
    ``AnonymousUser``, recorded as no one). Core sits below accounts and cannot name its ``User``;
    both it and ``AnonymousUser`` fit."""

    @property
    def pk(self) -> int | None: ...

    @property
    def is_authenticated(self) -> bool: ...

    def get_username(self) -> str: ...


def record(
    actor: Actor | None,
    action: str,
    target: models.Model | None = None,
    *,
    place_path: str = "",
    data: dict[str, Any] | None = None,
) -> AuditEntry:
    """Append one record. Call it inside the action's transaction, so both commit or neither.
    ``actor`` None is the system (the demo, imports and commands run by the server's operator)."""
    info = current_request.get()
    user = actor if actor is not None and getattr(actor, "is_authenticated", False) else None
    entry = AuditEntry(
        actor_id=user.pk if user is not None else None,
        actor_name=(user.get_username() if user is not None else "")[:150],
        action=action,
        target_type=target._meta.label_lower if target is not None else "",
        target_id=str(target.pk) if target is not None else "",
        target_repr=str(target)[:200] if target is not None else "",
        place_path=place_path,
        ip=info.ip if info else None,
        user_agent=(info.user_agent if info else "")[:200],
        data=data or {},
    )
    entry.save()
    return entry


def too_many_from_here(action: str, limit: int) -> bool:
    """Whether the request's address did ``action`` without a login ``limit`` times in the last
    hour: the residents' forms (no login) stop a flood with it. False when the address is unknown."""
    info = current_request.get()
    if info is None or info.ip is None:
        return False
    since = timezone.now() - datetime.timedelta(hours=1)
    recent = AuditEntry.objects.filter(
        action=action, actor__isnull=True, ip=info.ip, at__gte=since
    ).count()
    return recent >= limit
