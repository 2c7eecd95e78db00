"""Visit coverage (走访覆盖率): the share of households someone from the network met lately.

A street's or a district's page adds up ``BuildingCoverage`` rows (one per building, refreshed by
the worker every few minutes and at once for the buildings a contact reached); see ``refresh``.
Everything below the street — a community, a grid, a street/lane, a building — is counted live:

A *household* is a dwelling where at least one resident lives now (an active resident whose home
it is). It is *reached* when a contact record met it (a ``Reach`` row) in the last ``days`` days,
90 by default. Both are decided per dwelling by an index probe — ``resident_home_status`` and
``reach_dwelling_at`` — while the dwellings of the area come from one range of the place index
(``kind, path``) or, for a grid or a street/lane, from ``(grid, kind)`` / ``(lane, kind)``. One
grouped query answers a whole page: a street's communities, a community's grids and buildings, a
building's dwellings. Visit records themselves are never scanned, however many there are.
"""

from __future__ import annotations

import datetime
from collections.abc import Iterable
from dataclasses import dataclass, field
from typing import Any

from django.db import connection, transaction
from django.utils import timezone

from linli.core.paths import SEGMENT, path_end
from linli.people.models import AGED_60, DERIVED_TAGS, CareTag, Membership, ResidentTag
from linli.people.models import Resident as ResidentModel
from linli.people.queries import years_ago
from linli.places.models import Grid, Lane, Place, PlaceKind
from linli.places.queries import holding_buildings

from .models import BuildingCoverage, Reach

DAYS = 90
CHOICES_DAYS = (30, 90, 180, 365)

PLACE = Place._meta.db_table
RESIDENT = ResidentModel._meta.db_table
REACH = Reach._meta.db_table
RESIDENT_TAG = ResidentTag._meta.db_table

OCCUPIED = f"EXISTS (SELECT 1 FROM {RESIDENT} x WHERE x.home_id = p.id AND x.status = 'active')"  # noqa: S608
REACHED = f"EXISTS (SELECT 1 FROM {REACH} r WHERE r.dwelling_id = p.id AND r.at >= %s)"  # noqa: S608


@dataclass
class Cover:
    """Households and households reached, for one place, grid or street/lane."""

    key: Any = None
    label: str = ""
    obj: Any = None
    households: int = 0
    reached: int = 0

    @property
    def unreached(self) -> int:
        return self.households - self.reached

    @property
    def rate(self) -> float | None:
        return self.reached / self.households if self.households else None

    @property
    def percent(self) -> str:
        rate = self.rate
        return "—" if rate is None else f"{rate * 100:.0f}%"

    def add(self, households: int, reached: int) -> None:
        self.households += households
        self.reached += reached


@dataclass
class Report:
    area: Any
    days: int
    since: datetime.datetime
    total: Cover
    rows: list[Cover] = field(default_factory=list)  # the area's parts, per child or building
    by_grid: list[Cover] = field(default_factory=list)  # a community's grids
    as_of: datetime.datetime | None = None  # for a street or district: the oldest figure's time


def cutoff(days: int, now: datetime.datetime | None = None) -> datetime.datetime:
    return (now or timezone.now()) - datetime.timedelta(days=days)


def _param(value: datetime.datetime) -> Any:
    # SQLite keeps datetimes as text: compare with the text Django writes.
    return connection.ops.adapt_datetimefield_value(value)


def _area(area: Any) -> tuple[str, list[Any]]:
    if isinstance(area, Grid):
        return "p.grid_id = %s", [area.pk]
    if isinstance(area, Lane):
        return "p.lane_id = %s", [area.pk]
    return "p.path >= %s AND p.path < %s", [area.path, path_end(area.path)]


def _grouped(area: Any, group: str, since: datetime.datetime) -> list[tuple[Any, ...]]:
    where, params = _area(area)
    sql = (
        f"SELECT {group}, COUNT(*), SUM(CASE WHEN {REACHED} THEN 1 ELSE 0 END) "  # noqa: S608
        f"FROM {PLACE} p WHERE p.kind = 'dwelling' AND {where} AND p.retired_at IS NULL "
        f"AND {OCCUPIED} GROUP BY {group}"
    )
    with connection.cursor() as cursor:
        cursor.execute(sql, [_param(since), *params])
        return list(cursor.fetchall())


ROLLED_UP = (PlaceKind.DISTRICT, PlaceKind.STREET)
ROLLUP = BuildingCoverage._meta.db_table


def _child_rows(area: Place, days: int) -> tuple[list[Cover], datetime.datetime | None]:
    """A district's streets or a street's communities, from the buildings' rolled-up figures:
    one range of the rollup's path index, grouped by the next path segment. Returns the rows and
    the time of the oldest figure."""
    n = len(area.path) + SEGMENT
    column = f"met_{days}"
    with connection.cursor() as cursor:
        cursor.execute(
            f"SELECT SUBSTR(path, 1, {n}), SUM(households), SUM({column}), MIN(computed_at) "  # noqa: S608
            f"FROM {ROLLUP} WHERE path >= %s AND path < %s GROUP BY 1",
            [area.path, path_end(area.path)],
        )
        rows = cursor.fetchall()
    children = {c.path: c for c in Place.objects.filter(parent=area).order_by("path")}
    out = {path: Cover(key=c.pk, label=c.name, obj=c) for path, c in children.items()}
    oldest = None
    for prefix, households, reached, computed in rows:
        if prefix in out:
            out[prefix].add(households or 0, reached or 0)
        if isinstance(computed, str):
            computed = _parse(computed)
        if computed is not None and (oldest is None or computed < oldest):
            oldest = computed
    return list(out.values()), oldest


def _building_rows(area: Any, since: datetime.datetime) -> list[Cover]:
    """The buildings of a community, compound, grid or street/lane. A building sits under its
    community or under a compound, so its path has four or five segments: the dwellings are
    grouped by both prefixes and each group is given to the building it names."""
    rows = _grouped(
        area, f"SUBSTR(p.path, 1, {4 * SEGMENT}), SUBSTR(p.path, 1, {5 * SEGMENT})", since
    )
    buildings = Place.objects.filter(kind=PlaceKind.BUILDING, retired_at__isnull=True)
    if isinstance(area, Grid):
        buildings = buildings.filter(grid=area)
    elif isinstance(area, Lane):
        buildings = buildings.filter(lane=area)
    else:
        buildings = buildings.filter(path__gte=area.path, path__lt=path_end(area.path))
    out = {
        b.path: Cover(key=b.pk, label=b.name, obj=b)
        for b in buildings.order_by("path").only("id", "name", "path", "kind")
    }
    for four, five, households, reached in rows:
        cover = out.get(four) or out.get(five)
        if cover is not None:
            cover.add(households, reached or 0)
    return list(out.values())


def _grid_rows(community: Place, since: datetime.datetime) -> list[Cover]:
    rows = {grid_id: (h, r) for grid_id, h, r in _grouped(community, "p.grid_id", since)}
    out = []
    for grid in Grid.objects.filter(community=community).order_by("code"):
        households, reached = rows.pop(grid.pk, (0, 0))
        out.append(
            Cover(
                key=grid.pk, label=grid.name, obj=grid, households=households, reached=reached or 0
            )
        )
    if rows.get(None):
        households, reached = rows[None]
        out.append(Cover(key=None, label="", households=households, reached=reached or 0))
    return out


def report(area: Any, *, days: int = DAYS, now: datetime.datetime | None = None) -> Report:
    """Coverage of ``area`` (a place of any kind above the dwelling, a grid or a street/lane)
    and of its parts."""
    since = cutoff(days, now)
    total = Cover(obj=area, label=str(area))
    result = Report(area=area, days=days, since=since, total=total)
    if isinstance(area, Place) and area.kind in ROLLED_UP:
        if days not in CHOICES_DAYS:
            raise ValueError(f"a street's coverage is kept for {CHOICES_DAYS} days, not {days}")
        result.rows, result.as_of = _child_rows(area, days)
    elif isinstance(area, Place) and area.kind == PlaceKind.BUILDING:
        result.rows = []
    else:
        result.rows = _building_rows(area, since)
        if isinstance(area, Place) and area.kind == PlaceKind.COMMUNITY:
            result.by_grid = _grid_rows(area, since)
    if result.rows:
        for row in result.rows:
            total.add(row.households, row.reached)
    else:
        for _key, households, reached in _grouped(area, "1", since):
            total.add(households, reached or 0)
    return result


# --- households nobody reached ----------------------------------------------------------------


@dataclass
class Household:
    dwelling: Place
    building: Place | None = None
    care: bool = False
    head: str = ""
    tags: list[str] = field(default_factory=list)
    last_reached: datetime.datetime | None = None


def unreached(
    area: Any,
    *,
    days: int = DAYS,
    visible_tag_ids: Iterable[int] = (),
    limit: int = 50,
    offset: int = 0,
    now: datetime.datetime | None = None,
) -> tuple[list[Household], int]:
    """The households of ``area`` that nobody reached in ``days`` days, the ones needing care
    first (a resident aged 60+ or with a care tag among ``visible_tag_ids``, so that the order
    tells a viewer nothing about tags they may not see), then by place. Returns one page and the
    count."""
    since = cutoff(days, now)
    where, params = _area(area)
    tag_ids = sorted(set(visible_tag_ids))
    tag_sql = (
        f" OR EXISTS (SELECT 1 FROM {RESIDENT_TAG} t WHERE t.resident_id = c.id "  # noqa: S608
        f"AND t.tag_id IN ({', '.join(['%s'] * len(tag_ids))}))"
        if tag_ids
        else ""
    )
    care = (
        f"EXISTS (SELECT 1 FROM {RESIDENT} c WHERE c.home_id = p.id AND c.status = 'active' "  # noqa: S608
        f"AND (c.birth_date <= %s{tag_sql}))"
    )
    base = (
        f"FROM {PLACE} p WHERE p.kind = 'dwelling' AND {where} AND p.retired_at IS NULL "
        f"AND {OCCUPIED} AND NOT {REACHED}"
    )
    born = years_ago(60, timezone.localdate())
    with connection.cursor() as cursor:
        cursor.execute(f"SELECT COUNT(*) {base}", [*params, _param(since)])
        count = cursor.fetchone()[0]
        cursor.execute(
            f"SELECT p.id, CASE WHEN {care} THEN 1 ELSE 0 END AS care {base} "
            "ORDER BY care DESC, p.path LIMIT %s OFFSET %s",
            [born, *tag_ids, *params, _param(since), limit, offset],
        )
        page = cursor.fetchall()
    ids = [row[0] for row in page]
    dwellings = Place.objects.in_bulk(ids)
    households = [Household(dwelling=dwellings[pk], care=bool(flag)) for pk, flag in page]
    describe(households, tag_ids)
    return households, count


def describe(households: list[Household], tag_ids: list[int]) -> None:
    """The building, the head of household, the visible care tags and the last contact of each."""
    if not households:
        return
    ids = [h.dwelling.pk for h in households]
    buildings = holding_buildings(h.dwelling for h in households)
    residents = (
        ResidentModel.objects.filter(home_id__in=ids, status="active")
        .order_by("home_id", "birth_date", "id")
        .only("id", "name", "home_id", "birth_date")
    )
    heads = dict(
        Membership.objects.filter(
            dwelling_id__in=ids, until__isnull=True, is_head=True
        ).values_list("dwelling_id", "resident__name")
    )
    first: dict[int, str] = {}
    people_of: dict[int, list[int]] = {}
    aged: set[int] = set()
    born = years_ago(60, timezone.localdate())
    for resident in residents:
        if resident.home_id is None:
            continue
        first.setdefault(resident.home_id, resident.name)
        people_of.setdefault(resident.home_id, []).append(resident.pk)
        if resident.birth_date and resident.birth_date <= born:
            aged.add(resident.home_id)
    tags_of: dict[int, set[int]] = {}
    if tag_ids:
        by_resident = {rid: home for home, rids in people_of.items() for rid in rids}
        for resident_id, tag_id in ResidentTag.objects.filter(
            resident_id__in=list(by_resident), tag_id__in=tag_ids
        ).values_list("resident_id", "tag_id"):
            tags_of.setdefault(by_resident[resident_id], set()).add(tag_id)
    tags = list(CareTag.objects.filter(pk__in=tag_ids))
    names = {t.pk: str(t) for t in tags}
    order = {t.pk: (t.order, t.code) for t in tags}
    last: dict[int, Any] = {}
    with connection.cursor() as cursor:
        marks = ", ".join(["%s"] * len(ids))
        cursor.execute(
            f"SELECT dwelling_id, MAX(at) FROM {REACH} WHERE dwelling_id IN ({marks}) "  # noqa: S608
            "GROUP BY dwelling_id",
            ids,
        )
        for dwelling_id, at in cursor.fetchall():
            last[dwelling_id] = at
    for h in households:
        pk = h.dwelling.pk
        h.building = buildings.get(pk)
        h.head = heads.get(pk) or first.get(pk, "")
        labels = []
        if pk in aged:
            labels.append(str(DERIVED_TAGS[AGED_60]))
        labels += [names[t] for t in sorted(tags_of.get(pk, ()), key=lambda t: order[t])]
        h.tags = labels
        value = last.get(pk)
        if isinstance(value, str):
            value = _parse(value)
        h.last_reached = value


def _parse(text: str) -> datetime.datetime:
    parsed = datetime.datetime.fromisoformat(text)
    if timezone.is_naive(parsed):
        parsed = timezone.make_aware(parsed, datetime.UTC)
    return parsed


def dwellings(building: Place, *, days: int = DAYS) -> list[dict[str, Any]]:
    """A building's households with the time each was last reached: the chief's checklist."""
    since = cutoff(days)
    rows = []
    with connection.cursor() as cursor:
        cursor.execute(
            f"SELECT p.id, (SELECT MAX(r.at) FROM {REACH} r WHERE r.dwelling_id = p.id) "  # noqa: S608
            f"FROM {PLACE} p WHERE p.kind = 'dwelling' AND p.path >= %s AND p.path < %s "
            f"AND p.retired_at IS NULL AND {OCCUPIED} ORDER BY p.path",
            [building.path, path_end(building.path)],
        )
        rows = cursor.fetchall()
    places = Place.objects.in_bulk([r[0] for r in rows])
    out = []
    for pk, last in rows:
        if isinstance(last, str):
            last = _parse(last)
        out.append(
            {"dwelling": places[pk], "last": last, "reached": last is not None and last >= since}
        )
    return out


# --- the rollup for streets and districts -----------------------------------------------------


def refresh(area: Place | None = None, *, now: datetime.datetime | None = None) -> int:
    """Recount the buildings under ``area`` (every building when None, street by street) into
    ``BuildingCoverage``: one pass over the dwellings, one probe each for the latest contact.
    Returns the number of buildings written."""
    if area is None:
        return sum(
            refresh(street, now=now)
            for street in Place.objects.filter(kind=PlaceKind.STREET).order_by("path")
        )
    now = now or timezone.now()
    cuts = [_param(cutoff(days, now)) for days in CHOICES_DAYS]
    met = ", ".join("SUM(CASE WHEN d.last >= %s THEN 1 ELSE 0 END)" for _days in CHOICES_DAYS)
    sql = (
        f"SELECT SUBSTR(d.path, 1, {4 * SEGMENT}), SUBSTR(d.path, 1, {5 * SEGMENT}), "  # noqa: S608
        f"COUNT(*), {met} FROM (SELECT p.path AS path, "
        f"(SELECT MAX(r.at) FROM {REACH} r WHERE r.dwelling_id = p.id) AS last "
        f"FROM {PLACE} p WHERE p.kind = 'dwelling' AND p.path >= %s AND p.path < %s "
        f"AND p.retired_at IS NULL AND {OCCUPIED}) d GROUP BY 1, 2"
    )
    buildings = {
        path: pk
        for pk, path in Place.objects.filter(
            kind=PlaceKind.BUILDING,
            path__gte=area.path,
            path__lt=path_end(area.path),
            retired_at__isnull=True,
        ).values_list("id", "path")
    }
    counts: dict[int, list[int]] = {pk: [0] * (1 + len(CHOICES_DAYS)) for pk in buildings.values()}
    with transaction.atomic():
        with connection.cursor() as cursor:
            cursor.execute(sql, [*cuts, area.path, path_end(area.path)])
            for four, five, households, *reached in cursor.fetchall():
                pk = buildings.get(four) or buildings.get(five)
                if pk is None:
                    continue
                row = counts[pk]
                row[0] += households
                for i, value in enumerate(reached):
                    row[1 + i] += value or 0
        # Buildings retired since the last count leave the rollup; the others are written over
        # in place (an upsert, in building order). A chief's visit recounting one building while
        # the worker recounts the street then waits for the row instead of colliding on it.
        BuildingCoverage.objects.filter(
            path__gte=area.path, path__lt=path_end(area.path), building__retired_at__isnull=False
        ).delete()
        by_pk = {pk: path for path, pk in buildings.items()}
        BuildingCoverage.objects.bulk_create(
            [
                BuildingCoverage(
                    building_id=pk,
                    path=by_pk[pk],
                    households=row[0],
                    met_30=row[1],
                    met_90=row[2],
                    met_180=row[3],
                    met_365=row[4],
                    computed_at=now,
                )
                for pk, row in sorted(counts.items())
            ],
            batch_size=2000,
            update_conflicts=True,
            unique_fields=["building"],
            update_fields=[
                "path",
                "households",
                "met_30",
                "met_90",
                "met_180",
                "met_365",
                "computed_at",
            ],
        )
    return len(counts)


def refresh_buildings(places: Iterable[Place], *, now: datetime.datetime | None = None) -> None:
    """Recount the buildings of ``places`` (dwellings or buildings), as a contact is saved."""
    seen: set[str] = set()
    for building in holding_buildings(places).values():
        if building.path not in seen:
            seen.add(building.path)
            refresh(building, now=now)
