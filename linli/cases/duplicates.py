"""Likely duplicates of a case: the same matter raised again by a neighbour.

Candidates are the cases of the same compound (or of the same building, when it stands in no
compound) received in the 30 days before or after, not rejected or merged. Each is scored by the
Dice coefficient of the character bigrams of the two descriptions — Chinese text needs no word
segmentation for this, and nothing is downloaded — with a bonus for the same category. Computed
in Python over at most ``MAX_CANDIDATES`` rows: a compound sees a few cases a day.
"""

from __future__ import annotations

import datetime
import itertools
import unicodedata
from typing import Any

from linli.core.paths import SEGMENT, path_end
from linli.places.models import PlaceKind

from .models import Case, State

WINDOW = datetime.timedelta(days=30)
MAX_CANDIDATES = 300
THRESHOLD = 0.35
SAME_CATEGORY_BONUS = 0.1


def bigrams(text: str) -> set[str]:
    chars = [
        c
        for c in unicodedata.normalize("NFKC", text).lower()
        if c.isalnum()  # drop spaces and punctuation, keep Chinese characters, letters, digits
    ]
    if len(chars) < 2:
        return set(chars)
    return {a + b for a, b in itertools.pairwise(chars)}


def dice(a: set[str], b: set[str]) -> float:
    if not a or not b:
        return 0.0
    return 2 * len(a & b) / (len(a) + len(b))


def area_path(case: Case) -> str:
    """The compound the case's place is in, or the place itself."""
    place = case.place
    if place.kind == PlaceKind.BUILDING and place.parent_id is not None:
        parent = place.parent
        if parent is not None and parent.kind == PlaceKind.COMPOUND:
            return case.path[:-SEGMENT]
    return case.path


def similar(case: Case, *, visible: Any = None, limit: int = 5) -> list[tuple[Case, float]]:
    """The likeliest duplicates of ``case``, best first. ``visible`` narrows the candidates to a
    queryset the viewer may see (``queries.cases_for(user)``)."""
    area = area_path(case)
    qs = visible if visible is not None else Case.objects.all()
    candidates = (
        qs.filter(
            path__gte=area,
            path__lt=path_end(area),
            received_at__gte=case.received_at - WINDOW,
            received_at__lte=case.received_at + WINDOW,
        )
        .exclude(pk=case.pk)
        .exclude(state__in=[State.REJECTED, State.MERGED])
        .select_related("category")
        .order_by("-received_at")[:MAX_CANDIDATES]
    )
    mine = bigrams(f"{case.title} {case.description}")
    scored = []
    for other in candidates:
        score = dice(mine, bigrams(f"{other.title} {other.description}"))
        if other.category_id == case.category_id:
            score += SAME_CATEGORY_BONUS
        if score >= THRESHOLD:
            scored.append((other, min(score, 1.0)))
    scored.sort(key=lambda pair: (-pair[1], -pair[0].received_at.timestamp()))
    return scored[:limit]
