"""The outbox handler that tells people about a change to a case.

Each timeline event notifies the case's assignee and whoever took the case in (not the person who
made the change) in their Linli inbox. Residents follow their case on its tracking page, reached by
the tracking code; no text message gateway is configured, so nothing is sent to phones. The
handler may run more than once for one event (the outbox delivers at least once): each
notification has a key, and a repeat writes nothing new.
"""

from __future__ import annotations

from typing import Any

from django.utils.translation import gettext as _

from linli.core import outbox

from .models import Case, CaseEvent, EventKind, Notification, State


@outbox.handler("cases.notify")
def notify(payload: dict[str, Any]) -> None:

    event = CaseEvent.objects.filter(pk=payload["event"]).select_related("case").first()
    if event is None:
        return  # its transaction rolled back after all
    case: Case = event.case
    people: set[int] = {
        pk
        for pk in (case.assignee_id, case.created_by_id)
        if pk is not None and pk != event.actor_id
    }
    if not people:
        return
    Notification.objects.bulk_create(
        [
            Notification(user_id=user_id, event=event, created_at=event.at)
            for user_id in sorted(people)
        ],
        ignore_conflicts=True,
    )


def notification_text(event: Any) -> str:
    """What a notification says, in the current language."""

    if event.kind == EventKind.STATE and event.to_state:
        return _("Case %(code)s is now “%(state)s”.") % {
            "code": event.case.code,
            "state": State(event.to_state).label,
        }
    return _("Case %(code)s: %(what)s.") % {
        "code": event.case.code,
        "what": EventKind(event.kind).label,
    }
