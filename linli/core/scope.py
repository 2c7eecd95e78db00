"""Scope: which places a user may see, for one capability.

A user's scope for a capability is the union of the targets of their active grants whose role
carries it (see ``accounts.roles``):

- a grant on a place covers that place and everything under it: one path range;
- a grant on a grid covers the buildings of that grid and their units and dwellings;
- a grant on a street/lane covers the buildings on it and their units and dwellings.

Every read of places — and, in later modules, of people and cases attached to places — filters by
``Scope.q()``; every fetch of a single object goes through an ``access_*`` function which answers
404 (``Http404``) when the object is outside the scope, exactly as if it did not exist.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from django.db.models import Q


@dataclass(frozen=True)
class Scope:
    capability: str
    ranges: tuple[tuple[str, str], ...] = ()
    grid_ids: frozenset[int] = field(default_factory=frozenset)
    lane_ids: frozenset[int] = field(default_factory=frozenset)

    @property
    def is_empty(self) -> bool:
        return not (self.ranges or self.grid_ids or self.lane_ids)

    def q(self, prefix: str = "") -> Q:
        """A filter for places (``prefix=""``) or for rows linked to a place (``"place__"``).

        An empty scope yields a filter that matches nothing.
        """
        q = Q(pk__in=[]) if not prefix else Q(**{f"{prefix}pk__in": []})
        for start, end in self.ranges:
            q |= Q(**{f"{prefix}path__gte": start, f"{prefix}path__lt": end})
        if self.grid_ids:
            q |= Q(**{f"{prefix}grid_id__in": sorted(self.grid_ids)})
        if self.lane_ids:
            q |= Q(**{f"{prefix}lane_id__in": sorted(self.lane_ids)})
        return q

    def path_q(self, field_name: str) -> Q:
        """A filter on a bare path column (such as the audit log's), by the place ranges only."""
        q = Q(pk__in=[])
        for start, end in self.ranges:
            q |= Q(**{f"{field_name}__gte": start, f"{field_name}__lt": end})
        return q

    def covers_path(self, path: str) -> bool:
        return any(start <= path < end for start, end in self.ranges)

    def contains(self, place: Any) -> bool:
        if self.covers_path(place.path):
            return True
        if place.grid_id is not None and place.grid_id in self.grid_ids:
            return True
        return place.lane_id is not None and place.lane_id in self.lane_ids


def merge_ranges(ranges: list[tuple[str, str]]) -> tuple[tuple[str, str], ...]:
    """Drop ranges nested in another: a street admin who is also a community worker of one of
    its communities needs one range, not two."""
    merged: list[tuple[str, str]] = []
    for start, end in sorted(ranges):
        if merged and start < merged[-1][1]:
            continue
        merged.append((start, end))
    return tuple(merged)
