"""The three rates by which a 12345 hotline is judged, per scope and period (see docs/cases.md).

Computed over the cases *received* in the period, in one aggregate query over the case table's
(path, received_at) index; merged cases are left out (they follow their primary).

- response rate: answered (accepted or rejected) within the answer deadline, over the cases whose
  deadline has passed or that have been answered — a case still inside its deadline counts for
  neither side yet;
- resolution rate: resolved, over accepted;
- satisfaction rate: rated satisfied or very satisfied, over rated.
"""

from __future__ import annotations

import datetime
from dataclasses import dataclass

from django.db.models import Count, F, Q
from django.db.models.functions import Substr
from django.utils import timezone

from linli.core.paths import SEGMENT, path_end

from .models import OPEN_STATES, Case, Rating, State


@dataclass(frozen=True)
class Rates:
    received: int
    answer_due: int
    answered_in_time: int
    accepted: int
    resolved: int
    rated: int
    satisfied: int
    open: int
    overdue: int

    @staticmethod
    def _ratio(part: int, whole: int) -> float | None:
        return part / whole if whole else None

    @property
    def response(self) -> float | None:
        return self._ratio(self.answered_in_time, self.answer_due)

    @property
    def resolution(self) -> float | None:
        return self._ratio(self.resolved, self.accepted)

    @property
    def satisfaction(self) -> float | None:
        return self._ratio(self.satisfied, self.rated)


def sum_rates(parts: list[Rates]) -> Rates:
    """The rates of disjoint sets of cases, together."""
    fields = Rates.__dataclass_fields__
    return Rates(**{name: sum(getattr(r, name) for r in parts) for name in fields})


def _aggregates(now: datetime.datetime) -> dict[str, Count]:
    return {
        "received": Count("pk"),
        "answer_due": Count("pk", filter=Q(responded_at__isnull=False) | Q(respond_by__lt=now)),
        "answered_in_time": Count("pk", filter=Q(responded_at__lte=F("respond_by"))),
        "accepted": Count("pk", filter=Q(accepted_at__isnull=False)),
        "resolved": Count("pk", filter=Q(accepted_at__isnull=False, resolved_at__isnull=False)),
        "rated": Count("pk", filter=Q(rating__isnull=False)),
        "satisfied": Count("pk", filter=Q(rating__gte=Rating.SATISFIED)),
        "open": Count("pk", filter=Q(state__in=OPEN_STATES)),
        "overdue": Count("pk", filter=Q(overdue=True, state__in=OPEN_STATES)),
    }


def _period(scope_q: Q, start: datetime.datetime, end: datetime.datetime) -> object:
    return Case.objects.filter(scope_q, received_at__gte=start, received_at__lt=end).exclude(
        state=State.MERGED
    )


def rates(
    scope_q: Q,
    start: datetime.datetime,
    end: datetime.datetime,
    *,
    now: datetime.datetime | None = None,
) -> Rates:
    """``scope_q`` is a filter on cases: a user's ``Scope.q()``, narrowed to a place if wanted."""
    now = now or timezone.now()
    row = _period(scope_q, start, end).aggregate(**_aggregates(now))  # type: ignore[attr-defined]
    return Rates(**row)


def rates_by_child(
    scope_q: Q,
    parent_path: str,
    start: datetime.datetime,
    end: datetime.datetime,
    *,
    now: datetime.datetime | None = None,
) -> dict[str, Rates]:
    """The rates under each child of a place (each community of a street…), keyed by the child's
    path, in one grouped query."""
    now = now or timezone.now()
    under = Q(path__gte=parent_path, path__lt=path_end(parent_path))
    rows = (
        _period(scope_q & under, start, end)  # type: ignore[attr-defined]
        .annotate(child=Substr("path", 1, len(parent_path) + SEGMENT))
        .values("child")
        .annotate(**_aggregates(now))
        .order_by("child")
    )
    return {row.pop("child"): Rates(**row) for row in rows}
