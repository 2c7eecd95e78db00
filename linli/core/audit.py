"""Writing and reading the audit log."""

from __future__ import annotations

from typing import Any

from django.db import models
from django.utils.translation import gettext_lazy as _

from linli.core.context import current_request
from linli.core.models import AuditEntry


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


# What each action is called on the audit page. Later modules add theirs.
ACTION_LABELS: dict[str, Any] = {
    "login": _("logged in"),
    "login.failed": _("failed login"),
    "login.locked": _("login refused: locked"),
    "logout": _("logged out"),
    "password.change": _("changed password"),
    "token.create": _("created an API token"),
    "token.revoke": _("revoked an API token"),
    "grant.create": _("granted a role"),
    "grant.revoke": _("revoked a role"),
    "place.create": _("created a place"),
    "place.update": _("changed a place"),
    "building.assign": _("moved a building to a grid or lane"),
    "grid.create": _("created a grid"),
    "grid.update": _("changed a grid"),
    "lane.create": _("created a street or lane"),
    "lane.update": _("changed a street or lane"),
    "demo.load": _("loaded the demo data"),
    "resident.create": _("added a resident"),
    "resident.update": _("changed a resident"),
    "resident.view": _("viewed a resident"),
    "resident.reveal": _("revealed a personal number"),
    "resident.move_out": _("recorded a move out"),
    "resident.death": _("recorded a death"),
    "resident.tags": _("changed care tags"),
    "membership.create": _("added to a household"),
    "membership.end": _("ended a household tie"),
    "roster.import": _("imported a roster"),
    "roster.export": _("exported a roster"),
    "keys.rotate": _("rotated the encryption key"),
    "caretag.save": _("changed the care tag list"),
    "case.create": _("took in a case"),
    "case.accept": _("accepted a case"),
    "case.reject": _("rejected a case"),
    "case.assign": _("assigned a case"),
    "case.start": _("started on a case"),
    "case.resolve": _("resolved a case"),
    "case.rate": _("recorded a rating"),
    "case.close": _("closed a case"),
    "case.reopen": _("reopened a case"),
    "case.merge": _("merged a case"),
    "case.escalate": _("escalated a case to the street"),
    "case.reveal": _("revealed a reporter's phone number"),
}


def action_label(action: str) -> Any:
    return ACTION_LABELS.get(action, action)
