"""Every read of cases, scoped. A user sees the cases under their ``cases.view`` scope and, in
any case, those assigned to them."""

from __future__ import annotations

from typing import Any

from django.db.models import Q, QuerySet
from django.http import Http404

from linli.accounts.roles import Cap
from linli.accounts.scope import scope_for
from linli.accounts.types import Viewer
from linli.core.paths import SEGMENT
from linli.core.scope import Scope

from .models import OPEN_STATES, Case, Category, State, category_label


def cases_for(user: Viewer, capability: str = Cap.CASES_VIEW) -> QuerySet[Case]:
    visible = scope_for(user, capability).q()
    if getattr(user, "is_authenticated", False):
        visible |= Q(assignee_id=user.pk)
    return Case.objects.filter(visible)


def access_case(user: Viewer, case_id: int) -> Case:
    case = (
        cases_for(user)
        .select_related("category", "place", "assignee", "created_by", "merged_into")
        .filter(pk=case_id)
        .first()
    )
    if case is None:
        raise Http404
    return case


def sees_cases(user: Viewer) -> bool:
    """Whether the case pages are for this user at all: a scope, or a case assigned to them."""
    if not scope_for(user, Cap.CASES_VIEW).is_empty:
        return True
    return Case.objects.filter(assignee_id=user.pk).exists()


def _area_filter(scope: Scope, state: str, place: Any = None) -> Q:
    """The scope as a filter for the inbox. A street's or a district's open cases are a large
    share of the table: for them the path is matched by prefix, which no index serves, so that
    the database walks the open cases in the inbox's order (``case_open_inbox``) and stops at a
    page, instead of collecting every case of the area by path and sorting them (0.5 s for a
    district of 300,000 cases on SQLite, whose planner has no range statistics)."""
    wide = (
        state == "open"
        and bool(scope.ranges)
        and all(len(start) <= 2 * SEGMENT for start, _end in scope.ranges)
    )
    if place is not None:
        # Narrowed to a place the caller has checked is in scope.
        if state == "open" and len(place.path) <= 2 * SEGMENT:
            return Q(path__startswith=place.path)
        return Q(path__gte=place.path, path__lt=place.path_end)
    if not wide:
        return scope.q()
    q = Q(pk__in=[])
    for start, _end in scope.ranges:
        q |= Q(path__startswith=start)
    if scope.grid_ids:
        q |= Q(grid_id__in=sorted(scope.grid_ids))
    if scope.lane_ids:
        q |= Q(lane_id__in=sorted(scope.lane_ids))
    return q


OPEN_STATES_SQL = '"cases_case"."state" IN ({})'.format(", ".join(f"'{s}'" for s in OPEN_STATES))

STATE_FILTERS: dict[str, tuple[str, ...]] = {
    "open": tuple(OPEN_STATES),
    "resolved": (State.RESOLVED, State.RATED),
    "closed": (State.CLOSED, State.REJECTED, State.MERGED),
}


def inbox(
    user: Viewer,
    *,
    mine: bool,
    state: str = "open",
    category_id: int | None = None,
    overdue_only: bool = False,
    place: Any = None,
) -> QuerySet[Case]:
    """The worker's list: overdue first, then urgent, then the oldest. ``place`` narrows it to a
    place the caller has already checked is in the user's scope."""
    # "All in my area" is the scope alone: a case assigned to the user outside it shows under
    # "mine", and a filter without an OR lets the database walk the open-cases index in order.
    # Whoever has no area (a party member, a volunteer) has only their own cases.
    scope = scope_for(user, Cap.CASES_VIEW)
    mine = mine or scope.is_empty
    qs = (
        Case.objects.filter(assignee_id=user.pk)
        if mine
        else Case.objects.filter(_area_filter(scope, state, place))
    )
    if state == "open":
        # Written out, not bound: SQLite uses a partial index (case_open_inbox) only when the
        # query's condition is the index's own text, which a bound parameter is not.
        qs = qs.extra(where=[OPEN_STATES_SQL])  # noqa: S610 - constants of our own
    elif state in STATE_FILTERS:
        qs = qs.filter(state__in=STATE_FILTERS[state])
    if category_id:
        qs = qs.filter(Q(category_id=category_id) | Q(category__parent_id=category_id))
    if overdue_only:
        qs = qs.filter(overdue=True)
    if state == "open":
        return qs.order_by("-overdue", "-priority", "received_at", "id")
    return qs.order_by("-received_at", "-id")


def category_choices() -> list[tuple[str, str]]:
    """The active categories, each child under its parent."""
    categories = list(Category.objects.filter(active=True).order_by("order", "code"))
    out: list[tuple[str, str]] = [("", "—")]
    for top in (c for c in categories if c.parent_id is None):
        out.append((str(top.pk), category_label(top)))
        for child in (c for c in categories if c.parent_id == top.pk):
            out.append((str(child.pk), f"{category_label(top)} › {category_label(child)}"))
    return out
