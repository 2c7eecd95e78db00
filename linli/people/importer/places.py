"""The community's places: a snapshot the workers find homes in, and the places the writer
creates."""

from __future__ import annotations

import unicodedata
from collections import defaultdict
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from django.db import connection
from django.utils.translation import gettext as _

from linli.core.paths import segment
from linli.people.importer.columns import HEADER
from linli.people.importer.results import ImportResult
from linli.people.importer.tables import Tables
from linli.places.actions import NewPlace, write_places
from linli.places.models import Place, PlaceKind

if TYPE_CHECKING:
    from linli.people.importer.rows import Prepared


@dataclass(slots=True)
class PlaceRef:
    """A place as the writer and the workers need it: its id, path, grid and lane."""

    id: int
    path: str
    grid_id: int | None
    lane_id: int | None


def _key(text: str) -> str:
    return unicodedata.normalize("NFKC", text).strip().casefold()


_SUFFIXES: dict[str, tuple[str, ...]] = {
    PlaceKind.BUILDING: ("号楼", "栋", "幢", "座", "楼"),
    PlaceKind.UNIT: ("单元",),
    PlaceKind.DWELLING: ("室", "号", "房"),
}


def _bare(kind: str, text: str) -> str:
    for suffix in _SUFFIXES.get(kind, ()):
        if text.endswith(suffix) and len(text) > len(suffix):
            return text[: -len(suffix)]
    return text


def _default_name(kind: str, code: str) -> str:
    if not code.isascii():
        return code
    names: dict[str, str] = {
        PlaceKind.BUILDING: f"{code}栋",
        PlaceKind.UNIT: f"{code}单元",
        PlaceKind.DWELLING: f"{code}室",
    }
    return names.get(kind, code)


class Places:
    """The community's compounds, buildings, units and dwellings, by the names and codes a file may
    use for them. Read once when an import begins, before the workers fork, so that they find the
    home of nearly every row without the database. The writer adds the places it creates to its
    own copy; the workers' copies never learn of them and send rows naming them back to the
    writer. A community's worth of dwellings: a few thousand, 333,000 in the million-row bench."""

    def __init__(self, community: Place) -> None:
        self.community = PlaceRef(community.pk, community.path, None, None)
        self.levels: dict[tuple[int, str], PlaceRef] = {}
        self.dwellings: dict[
            int, dict[str, PlaceRef]
        ] = {}  # holder (unit or building) → code → dwelling
        self.holders: dict[
            tuple[str, str, str], PlaceRef
        ] = {}  # (compound, building, unit) as written
        with connection.cursor() as cursor:
            cursor.execute(
                "SELECT id, parent_id, kind, code, name, path, grid_id, lane_id FROM places_place"
                " WHERE path > %s AND path < %s",
                [community.path, community.path_end],
            )
            # Row by row: the whole result as a list would be most of the import's memory.
            for pk, parent_id, kind, code, name, path, grid_id, lane_id in cursor:
                place = PlaceRef(pk, path, grid_id, lane_id)
                if kind == PlaceKind.DWELLING:
                    self.dwellings.setdefault(parent_id, {}).setdefault(code, place)
                elif kind in _HOLDING:
                    self.remember(parent_id, kind, code, name, place)

    def remember(self, parent_id: int, kind: str, code: str, name: str, place: PlaceRef) -> None:
        for text in (name, code):
            self.levels.setdefault((parent_id, f"{kind}:{_key(text)}"), place)

    def find(self, parent: PlaceRef, kind: str, text: str) -> PlaceRef | None:
        found = self.levels.get((parent.id, f"{kind}:{_key(text)}"))
        if found is None and _bare(kind, text) != text:
            found = self.levels.get((parent.id, f"{kind}:{_key(_bare(kind, text))}"))
        return found

    def holder(self, compound: str, building: str, unit: str) -> PlaceRef | None:
        """The unit (or the building without units) these cells name, if it exists."""
        found = self.holders.get((compound, building, unit))
        if found is not None:
            return found
        parent: PlaceRef | None = self.community
        for kind, text in (
            (PlaceKind.COMPOUND, compound),
            (PlaceKind.BUILDING, building),
            (PlaceKind.UNIT, unit),
        ):
            if parent is not None and (text or kind == PlaceKind.BUILDING):
                parent = self.find(parent, kind, text)
        if parent is not None:
            self.holders[(compound, building, unit)] = parent
        return parent

    def locate(self, compound: str, building: str, unit: str, dwelling: str) -> int | None:
        """The id of the dwelling these cells name, if it exists."""
        holder = self.holder(compound, building, unit)
        codes = self.dwellings.get(holder.id) if holder is not None else None
        if not codes:
            return None
        found = codes.get(dwelling) or codes.get(_bare(PlaceKind.DWELLING, dwelling))
        return found.id if found is not None and found.id else None


_HOLDING = (PlaceKind.COMPOUND, PlaceKind.BUILDING, PlaceKind.UNIT)


class PlaceMaker(Tables):
    """The writer's part that finds, or creates, the places rows name."""

    community: PlaceRef
    create_places: bool
    result: ImportResult
    now_db: Any
    next_child: dict[int, int]
    places: Places
    levels: dict[tuple[int, str], PlaceRef]

    def _remember(self, parent_id: int, kind: str, code: str, name: str, place: PlaceRef) -> None:
        self.places.remember(parent_id, kind, code, name, place)

    def _find(self, parent: PlaceRef, kind: str, text: str) -> PlaceRef | None:
        return self.places.find(parent, kind, text)

    def _position(self, parent: PlaceRef) -> str:
        n = self.next_child.get(parent.id)
        if n is None:
            last = (
                Place.objects.filter(parent_id=parent.id)
                .order_by("-path")
                .values_list("path", flat=True)
                .first()
            )
            n = int(last[-5:]) if last else 0
        n += 1
        self.next_child[parent.id] = n
        return parent.path + segment(n)

    def new_place(self, parent: PlaceRef, kind: str, text: str) -> NewPlace:
        """A new place of ``kind`` under ``parent``, as ``text`` names it (not yet written)."""
        code = _bare(kind, text)
        inherit = kind in (PlaceKind.UNIT, PlaceKind.DWELLING)  # they carry the building's grid
        return NewPlace(
            kind=kind,
            code=code,
            name=_default_name(kind, code) if code == text else text,
            parent_id=parent.id,
            path=self._position(parent),
            floor=int(code[:-2])
            if kind == PlaceKind.DWELLING and code.isdigit() and len(code) >= 3
            else None,
            grid_id=parent.grid_id if inherit else None,
            lane_id=parent.lane_id if inherit else None,
        )

    def level(
        self, parent: PlaceRef, kind: str, text: str, row: int, column: str
    ) -> PlaceRef | None:
        """The place of ``kind`` under ``parent`` that ``text`` names, created when allowed;
        None (and an error for ``row``'s ``column``) when it cannot be found or made."""
        found = self._find(parent, kind, text)
        if found is not None:
            return found
        if not self.create_places:
            self.result.add_error(
                row,
                HEADER[column],
                _("There is no %(kind)s “%(name)s” here; check it or let the import create it.")
                % {"kind": PlaceKind(kind).label, "name": text},
            )
            return None
        if len(text) > 32:
            self.result.add_error(row, HEADER[column], _("A place code is at most 32 characters."))
            return None
        new = self.new_place(parent, kind, text)
        place_id = write_places([new], self.now_db)[0]
        self.next_child[place_id] = 0  # just made: no children yet, no need to ask
        self.result.places_created += 1
        made = PlaceRef(place_id, new.path, new.grid_id, new.lane_id)
        self._remember(parent.id, kind, new.code, new.name, made)
        self.levels[(parent.id, f"{kind}:{_key(text)}")] = made
        return made

    def _holders(self, rows: list[Prepared]) -> list[tuple[Prepared, PlaceRef]]:
        out = []
        for p in rows:
            known = self.places.holders.get((p.compound, p.building, p.unit))
            if known is not None:
                out.append((p, known))
                continue
            parent = self.community
            if p.compound:
                found = self.level(parent, PlaceKind.COMPOUND, p.compound, p.row, "compound")
                if found is None:
                    continue
                parent = found
            found = self.level(parent, PlaceKind.BUILDING, p.building, p.row, "building")
            if found is None:
                continue
            if p.unit:
                found = self.level(found, PlaceKind.UNIT, p.unit, p.row, "unit")
                if found is None:
                    continue
            self.places.holders[(p.compound, p.building, p.unit)] = found
            out.append((p, found))
        return out

    def _holder_dwellings(self, holder_id: int) -> dict[str, PlaceRef]:
        """The dwellings of a unit (or of a building without units), by code."""
        return self.places.dwellings.setdefault(holder_id, {})

    def _dwellings(self, rows: list[tuple[Prepared, PlaceRef]]) -> list[tuple[Prepared, PlaceRef]]:
        found = self._known_dwellings(rows)
        keyed: list[tuple[Prepared, tuple[int, str]]] = []
        new: list[NewPlace] = []
        for p, holder in rows:
            key = (holder.id, p.dwelling)
            if key not in found:
                key = (holder.id, _bare(PlaceKind.DWELLING, p.dwelling))
            if key in found:
                keyed.append((p, key))
            elif not self.create_places:
                self.result.add_error(
                    p.row,
                    HEADER["dwelling"],
                    _("There is no dwelling “%(name)s” here; check it or let the import create it.")
                    % {"name": p.dwelling},
                )
            elif len(key[1]) > 32:
                self.result.add_error(
                    p.row, HEADER["dwelling"], _("A place code is at most 32 characters.")
                )
            else:
                place = self.new_place(holder, PlaceKind.DWELLING, p.dwelling)
                # Filled in with the id once the batch of new dwellings is written.
                found[key] = made = PlaceRef(0, place.path, place.grid_id, place.lane_id)
                self._holder_dwellings(holder.id)[place.code] = made
                new.append(place)
                keyed.append((p, key))
        if new:
            self._write_dwellings(new, found)
        return [(p, found[key]) for p, key in keyed]

    def _known_dwellings(
        self, rows: list[tuple[Prepared, PlaceRef]]
    ) -> dict[tuple[int, str], PlaceRef]:
        """The dwellings the rows name that are there already, by holder and code (as written
        and bare)."""
        wanted: dict[int, set[str]] = defaultdict(set)
        for p, holder in rows:
            wanted[holder.id].update({p.dwelling, _bare(PlaceKind.DWELLING, p.dwelling)})
        found: dict[tuple[int, str], PlaceRef] = {}
        for holder_id, codes in wanted.items():
            known = self._holder_dwellings(holder_id)
            for code in codes:
                if code in known:
                    found[(holder_id, code)] = known[code]
        return found

    def _write_dwellings(self, new: list[NewPlace], found: dict[tuple[int, str], PlaceRef]) -> None:
        """Store the new dwellings and fill their ids into the references made for them."""
        # A million-row file can bring hundreds of thousands of dwellings: made in one pass by
        # the places' own bulk writer, not through the ORM.
        ids = write_places(new, self.now_db)
        self.result.places_created += len(new)
        by_path = {n.path: place_id for n, place_id in zip(new, ids, strict=True)}
        for made in found.values():
            if made.id == 0:
                made.id = by_path[made.path]
