"""Each user's scope for a capability, from their active grants: the ground every scoped read stands
on (``linli.core.scope.Scope`` is the value; this module reads the grants that make it)."""

from __future__ import annotations

from linli.accounts.models import Grant, User
from linli.accounts.roles import roles_with
from linli.accounts.types import Viewer
from linli.core.paths import path_end
from linli.core.scope import Scope, merge_ranges


def scope_for(user: Viewer | None, capability: str) -> Scope:
    """The user's scope for ``capability``, computed once per request (cached on the user)."""
    if user is None or not getattr(user, "is_authenticated", False) or not user.is_active:
        return Scope(capability)
    cache: dict[str, Scope] = user.__dict__.setdefault("_linli_scopes", {})
    if capability in cache:
        return cache[capability]

    # The user's active grants, read once for every capability: each page asks for several.
    grants: list[tuple[str, str | None, int | None, int | None]] | None = user.__dict__.get(
        "_linli_grants"
    )
    if grants is None:
        grants = list(
            Grant.objects.filter(user=user, revoked_at__isnull=True).values_list(
                "role", "place__path", "grid_id", "lane_id"
            )
        )
        user.__dict__["_linli_grants"] = grants
    roles = set(roles_with(capability))
    ranges: list[tuple[str, str]] = []
    grid_ids: set[int] = set()
    lane_ids: set[int] = set()
    for role, place_path, grid_id, lane_id in grants:
        if role not in roles:
            continue
        if place_path:
            ranges.append((place_path, path_end(place_path)))
        elif grid_id:
            grid_ids.add(grid_id)
        elif lane_id:
            lane_ids.add(lane_id)
    scope = Scope(capability, merge_ranges(ranges), frozenset(grid_ids), frozenset(lane_ids))
    cache[capability] = scope
    return scope


def forget_scopes(user: User) -> None:
    """Drop the cached scopes, after the user's grants change."""
    user.__dict__.pop("_linli_scopes", None)
    user.__dict__.pop("_linli_grants", None)
