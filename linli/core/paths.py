"""Materialized paths for the place tree.

Every place stores ``path``: its parent's path followed by a fixed-width segment of ``SEGMENT``
decimal digits (its position among its siblings). "Everything under P" is then the half-open range
``P.path <= path < path_end(P.path)``, one indexed range scan on SQLite and PostgreSQL alike;
``LIKE 'p%'`` would be a full scan on SQLite. The column uses the "C" collation on PostgreSQL so that
comparisons are by byte, whatever the database's locale.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from django.db import models

SEGMENT = 5
MAX_SIBLINGS = 10**SEGMENT - 1


def segment(position: int) -> str:
    if not 1 <= position <= MAX_SIBLINGS:
        raise ValueError(f"sibling position {position} outside 1..{MAX_SIBLINGS}")
    return f"{position:0{SEGMENT}d}"


def path_end(path: str) -> str:
    """The smallest string greater than every path that starts with ``path``.

    Paths use only the digits 0-9, so the character after '9' (':') closes the range.
    """
    return path + ":"


def depth(path: str) -> int:
    return len(path) // SEGMENT


def ancestors(path: str) -> list[str]:
    """The paths of the strict ancestors of ``path``, root first."""
    return [path[:i] for i in range(SEGMENT, len(path), SEGMENT)]


if TYPE_CHECKING:  # django-stubs' fields are generic (what is set, what is read); Django's are not
    _CharField = models.CharField[str, str]
else:
    _CharField = models.CharField


class PathField(_CharField):
    """A CharField that compares bytewise on PostgreSQL (collation "C")."""

    def db_parameters(self, connection: Any) -> dict[str, Any]:
        params = super().db_parameters(connection)
        if connection.vendor == "postgresql":
            params["collation"] = "C"
        return params
