"""Writing and reading the audit log."""

from __future__ import annotations

import datetime
import functools
from typing import Any

from django.db import models
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from linli.core.context import current_request
from linli.core.models import AuditEntry
from linli.core.registry import contributions


def record(
    actor: Any,
    action: str,
    target: models.Model | None = None,
    *,
    place_path: str = "",
    data: dict[str, Any] | None = None,
) -> AuditEntry:
    """Append one record. Call it inside the action's transaction, so both commit or neither."""
    info = current_request.get()
    is_user = actor is not None and getattr(actor, "is_authenticated", False)
    entry = AuditEntry(
        actor=actor if is_user else None,
        actor_name=(actor.get_username() if is_user else "")[:150],
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
