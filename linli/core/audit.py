"""Writing and reading the audit log."""

from __future__ import annotations

from typing import Any, Protocol

from django.db import models

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
