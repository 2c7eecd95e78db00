"""The workbench (工作台): what each person sees first, the things that are theirs to do now.

Each app offers its part through its ``AppConfig``: ``workbench = "linli.<app>.workbench.panels"``,
a function ``panels(user) -> list[Panel]`` that returns nothing for a user the app has nothing for.
The site's home page (``linli.site.views.home``) asks every app (``core.registry.contributions``)
and shows the panels in ``order``.

A panel's items say how many and link to the list that shows exactly those rows: an item's
``count`` comes from the same ``queries`` function as the page behind its ``url``, so the two
cannot disagree (``tests/test_workbench*.py`` follows every link and counts). Every count must be
cheap at district scale: a range on an indexed path, a user's own rows, or a figure kept rolled up.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from linli.core.registry import contributions


@dataclass(frozen=True)
class Item:
    """One thing to do: "3 new cases waiting to be accepted", linking to those three."""

    label: str
    count: int
    url: str
    # Shown as needing attention when the count is not zero (overdue, waiting for a decision).
    urgent: bool = False


@dataclass(frozen=True)
class Row:
    """One entry of a short list under the items (a household to visit next, a building)."""

    text: str
    url: str = ""
    note: str = ""
    tags: tuple[str, ...] = ()
    # One tap: (label, url) of the form that does the next step, a visit log say.
    action: tuple[str, str] | None = None


@dataclass(frozen=True)
class Table:
    """Children of a place compared (the communities of a street), each row a link."""

    columns: tuple[str, ...]
    rows: tuple[tuple[str, tuple[str, ...]], ...]  # (url, cells); the first cell names the row


@dataclass
class Panel:
    key: str  # unique on the page: the panel's element id is ``wb-<key>``
    title: str
    items: list[Item] = field(default_factory=list)
    rows: list[Row] = field(default_factory=list)
    rows_title: str = ""
    # Buttons under the panel: (label, url), the first one the main action.
    actions: list[tuple[str, str]] = field(default_factory=list)
    table: Table | None = None
    # Headline figures (label, value, url): a street's households, its rates.
    figures: list[tuple[str, str, str]] = field(default_factory=list)
    note: str = ""
    order: int = 50  # lower first


def panels_for(user: Any) -> list[Panel]:
    """Every app's panels for ``user``, in order."""
    found: list[Panel] = []
    for make in contributions("workbench"):
        found.extend(make(user))
    return sorted(found, key=lambda p: p.order)
