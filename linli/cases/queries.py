"""Every read of cases, scoped. A user sees the cases under their ``cases.view`` scope and, in
any case, those assigned to them."""

from __future__ import annotations

from typing import Any

from django.db.models import Q, QuerySet
from django.http import Http404

from linli.accounts.roles import Cap
from linli.core.scope import scope_for

from .models import OPEN_STATES, Case, State


def cases_for(user: Any, capability: str = Cap.CASES_VIEW) -> QuerySet[Case]:
    visible = scope_for(user, capability).q()
    if getattr(user, "is_authenticated", False):
        visible |= Q(assignee_id=user.pk)
    return Case.objects.filter(visible)


def access_case(user: Any, case_id: int) -> Case:
    case = (
        cases_for(user)
        .select_related("category", "place", "assignee", "created_by", "merged_into")
        .filter(pk=case_id)
        .first()
    )
    if case is None:
        raise Http404
    return case


def sees_cases(user: Any) -> bool:
    """Whether the case pages are for this user at all: a scope, or a case assigned to them."""
    if not scope_for(user, Cap.CASES_VIEW).is_empty:
        return True
    return Case.objects.filter(assignee_id=user.pk).exists()


STATE_FILTERS: dict[str, tuple[str, ...]] = {
    "open": tuple(OPEN_STATES),
    "resolved": (State.RESOLVED, State.RATED),
    "closed": (State.CLOSED, State.REJECTED, State.MERGED),
}


def inbox(
    user: Any,
    *,
    mine: bool,
    state: str = "open",
    category_id: int | None = None,
    overdue_only: bool = False,
) -> QuerySet[Case]:
    """The worker's list: overdue first, then urgent, then the oldest."""
    qs = Case.objects.filter(assignee_id=user.pk) if mine else cases_for(user)
    if state in STATE_FILTERS:
        qs = qs.filter(state__in=STATE_FILTERS[state])
    if category_id:
        qs = qs.filter(Q(category_id=category_id) | Q(category__parent_id=category_id))
    if overdue_only:
        qs = qs.filter(overdue=True)
    if state == "open":
        return qs.order_by("-overdue", "-priority", "received_at", "id")
    return qs.order_by("-received_at", "-id")
