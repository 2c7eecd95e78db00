"""Writing and reading the audit log."""

from __future__ import annotations

import functools
from typing import Any, Protocol

from django.db import models
from django.utils.translation import gettext_lazy as _

from linli.core.context import current_request
from linli.core.models import AuditEntry
from linli.core.registry import contributions


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


# What each action is called on the audit page: core's own here; every app names its own actions in
# its AppConfig's ``audit_labels`` (linli.core.registry), collected at the first use.
AUDIT_LABELS: dict[str, Any] = {
    "keys.rotate": _("rotated the encryption key"),
}


@functools.cache
def action_labels() -> dict[str, Any]:
    labels = dict(AUDIT_LABELS)
    for more in contributions("audit_labels"):
        labels.update(more)
    return labels


def action_label(action: str) -> Any:
    return action_labels().get(action, action)
