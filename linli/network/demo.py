"""Invented network for the demo street and the benchmark communities.

Per community: a building chief for most buildings (a resident of the building: candidates,
formal and backbone chiefs, with their decisions), a neighbourhood association with its officers,
three volunteer teams, and a year of home visits — about six a household a year, with buildings
whose chief is keen and buildings nobody visits much, so coverage differs from building to building
as it does in life — plus weekly patrols and monthly reception days. Rows are written in bulk
(``executemany`` on SQLite, ``COPY`` on PostgreSQL) so that ``linli demo --scale`` reaches
millions of visits.
"""

from __future__ import annotations

import datetime
import random
import time
from collections import defaultdict
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

from django.db import connection, transaction
from django.utils import timezone

from linli.core import bulk
from linli.core.paths import path_end
from linli.people.models import Resident
from linli.places.models import Place, PlaceKind

from . import coverage
from .models import (
    Association,
    AssociationMember,
    AssociationRole,
    Chief,
    ChiefAssignment,
    ChiefDecision,
    ChiefStatus,
    Contact,
    Person,
    Reach,
    Team,
    TeamMember,
)

VISITS_PER_HOUSEHOLD_YEAR = 6.5
BATCH = 50000
CONTACT_COLUMNS = (
    "id", "kind", "place_id", "path", "grid_id", "lane_id", "at", "logged_by_id", "person_id",
    "method", "with_whom", "route", "location", "attendance", "summary", "client_key",
    "created_at",
)  # fmt: skip
REACH_COLUMNS = ("contact_id", "dwelling_id", "at")
FINDINGS = [
    "", "", "", "老人身体还好，按时吃药", "家里一切正常", "反映楼道灯不亮", "孩子暑假没人看管",
    "独居老人，留了联系电话", "反映楼上漏水", "询问高龄津贴办理", "家中无人，留了联系卡",
]  # fmt: skip
METHODS = [("home", 55), ("doorstep", 25), ("phone", 15), ("online", 5)]
TEAMS = [("楼长志愿服务队", "chiefs"), ("巾帼志愿服务队", "women"), ("爱心车队", "drivers")]


@dataclass
class Summary:
    people: int = 0
    chiefs: int = 0
    contacts: int = 0
    reached: int = 0
    seconds: float = 0.0


def _pick(rng: random.Random, weighted: Sequence[tuple[Any, int]]) -> Any:
    return rng.choices([v for v, _w in weighted], [w for _v, w in weighted])[0]


def _check_columns() -> None:
    for model, columns in ((Contact, CONTACT_COLUMNS), (Reach, ("id", *REACH_COLUMNS))):
        actual = {f.column for f in model._meta.concrete_fields}
        if actual != set(columns):
            raise RuntimeError(f"network.demo writes {model.__name__}: update it ({actual})")


class _Writer:
    def __init__(self) -> None:
        self.contacts: list[list[Any]] = []
        self.reach: list[list[Any]] = []  # [local contact index, dwelling, at]

    def add(self, row: list[Any], dwelling_id: int | None) -> None:
        local = len(self.contacts)
        self.contacts.append(row)
        if dwelling_id is not None:
            self.reach.append([local, dwelling_id, row[6]])

    def flush(self, summary: Summary) -> None:
        if not self.contacts:
            return
        table = Contact._meta.db_table
        ids = bulk.reserve_ids(table, len(self.contacts))
        sqlite = connection.vendor != "postgresql"
        adapt = connection.ops.adapt_datetimefield_value
        for i, row in enumerate(self.contacts):
            row[0] = ids[i]
            if sqlite:
                row[6] = adapt(row[6])
                row[16] = adapt(row[16])
        reach = [
            (ids[local], dwelling, adapt(at) if sqlite else at)
            for local, dwelling, at in self.reach
        ]
        bulk.write_rows(table, CONTACT_COLUMNS, self.contacts)
        bulk.write_rows(Reach._meta.db_table, REACH_COLUMNS, reach)
        summary.contacts += len(self.contacts)
        summary.reached += len(reach)
        self.contacts.clear()
        self.reach.clear()


@transaction.atomic
def populate(
    communities: Sequence[Place], *, seed: int = 2026, now: datetime.datetime | None = None
) -> Summary:
    started = time.monotonic()
    _check_columns()
    now = now or timezone.now()
    rng = random.Random(seed)
    summary = Summary()
    writer = _Writer()
    for community in communities:
        _community(rng, community, now, writer, summary)
        if len(writer.contacts) >= BATCH:
            writer.flush(summary)
    writer.flush(summary)
    for community in communities:
        coverage.refresh(community, now=now)
    summary.seconds = time.monotonic() - started
    return summary


def _households(community: Place) -> tuple[dict[int, list[Any]], dict[int, str]]:
    """Occupied dwellings per building: building id → [(dwelling, grid, lane, path)], and one
    resident of each, for the chiefs."""
    start, end = community.path, path_end(community.path)
    buildings = {
        b.path: b.pk
        for b in Place.objects.filter(kind=PlaceKind.BUILDING, path__gte=start, path__lt=end).only(
            "id", "path"
        )
    }
    place, resident = Place._meta.db_table, Resident._meta.db_table
    out: dict[int, list[Any]] = defaultdict(list)
    with connection.cursor() as cursor:
        cursor.execute(
            f"SELECT p.id, p.grid_id, p.lane_id, p.path, "  # noqa: S608
            f"(SELECT MIN(x.id) FROM {resident} x WHERE x.home_id = p.id AND x.status = 'active') "
            f"FROM {place} p WHERE p.kind = 'dwelling' AND p.path >= %s AND p.path < %s "
            "ORDER BY p.path",
            [start, end],
        )
        for pk, grid_id, lane_id, path, someone in cursor.fetchall():
            if someone is None:
                continue
            building = buildings.get(path[:20]) or buildings.get(path[:25])
            if building is not None:
                out[building].append((pk, grid_id, lane_id, path, someone))
    return out, {pk: path for path, pk in buildings.items()}


def _community(
    rng: random.Random, community: Place, now: datetime.datetime, writer: _Writer, summary: Summary
) -> None:
    households, building_paths = _households(community)
    if not households:
        return
    today = now.date()
    person_of = _chiefs(rng, community, households, building_paths, today, summary)
    _groups(rng, community, list(person_of.values()), today)
    _visits(rng, households, person_of, now, writer)
    _patrols_and_receptions(rng, community, now, writer)


def _chiefs(
    rng: random.Random,
    community: Place,
    households: dict[int, list[Any]],
    building_paths: dict[int, str],
    today: datetime.date,
    summary: Summary,
) -> dict[int, Person]:
    """A building chief for about nine buildings in ten (a resident of the building), with their
    decisions and assignment: building id → the chief's person."""
    picks = {b: rng.choice(rows)[4] for b, rows in households.items() if rng.random() < 0.9}
    names = dict(Resident.objects.filter(pk__in=list(picks.values())).values_list("id", "name"))
    people = Person.objects.bulk_create(
        [
            Person(community=community, path=community.path, name=names[r], resident_id=r)
            for r in picks.values()
        ]
    )
    person_of = dict(zip(picks, people, strict=True))
    statuses = [(ChiefStatus.CANDIDATE, 15), (ChiefStatus.FORMAL, 60), (ChiefStatus.BACKBONE, 25)]
    chiefs = []
    for person in people:
        status = _pick(rng, statuses)
        chiefs.append(
            Chief(
                person=person,
                path=community.path,
                kind="building",
                status=status,
                status_since=today - datetime.timedelta(days=rng.randint(30, 900)),
            )
        )
    Chief.objects.bulk_create(chiefs)
    decisions, assignments = [], []
    for (building, _person), chief in zip(person_of.items(), chiefs, strict=True):
        begun = chief.status_since - datetime.timedelta(days=rng.randint(60, 400))
        decisions.append(
            ChiefDecision(chief=chief, from_status="", to_status="candidate", on=begun)
        )
        if chief.status != ChiefStatus.CANDIDATE:
            formal_on = (
                chief.status_since
                if chief.status == "formal"
                else begun + (chief.status_since - begun) / 2
            )
            decisions.append(
                ChiefDecision(
                    chief=chief, from_status="candidate", to_status="formal", on=formal_on
                )
            )
            if chief.status == ChiefStatus.BACKBONE:
                decisions.append(
                    ChiefDecision(
                        chief=chief,
                        from_status="formal",
                        to_status="backbone",
                        on=chief.status_since,
                    )
                )
        assignments.append(
            ChiefAssignment(
                chief=chief, building_id=building, path=building_paths[building], since=begun
            )
        )
    ChiefDecision.objects.bulk_create(decisions)
    ChiefAssignment.objects.bulk_create(assignments)
    summary.people += len(people)
    summary.chiefs += len(chiefs)
    return person_of


def _groups(
    rng: random.Random, community: Place, people: list[Person], today: datetime.date
) -> None:
    """The association and the teams, from the chiefs and a few more."""
    association = Association.objects.create(
        community=community,
        path=community.path,
        name=f"{community.name}街坊会",
        founded_on=today - datetime.timedelta(days=rng.randint(400, 3000)),
    )
    roles = [AssociationRole.CHAIR, AssociationRole.VICE_CHAIR, AssociationRole.SECRETARY]
    members = []
    for i, person in enumerate(people[: max(3, len(people) // 2)]):
        role = (
            roles[i]
            if i < len(roles)
            else (AssociationRole.COUNCIL if i < 9 else AssociationRole.MEMBER)
        )
        members.append(
            AssociationMember(
                association=association,
                person=person,
                role=role,
                joined_on=association.founded_on or today,
            )
        )
    AssociationMember.objects.bulk_create(members)
    team_members = []
    for name, kind in TEAMS:
        team = Team.objects.create(
            community=community,
            path=community.path,
            name=name,
            kind=kind,
            founded_on=today - datetime.timedelta(days=rng.randint(100, 2000)),
        )
        chosen = rng.sample(people, min(len(people), rng.randint(6, 15)))
        team_members += [
            TeamMember(team=team, person=p, leader=i == 0, joined_on=team.founded_on or today)
            for i, p in enumerate(chosen)
        ]
    TeamMember.objects.bulk_create(team_members)


def _visits(
    rng: random.Random,
    households: dict[int, list[Any]],
    person_of: dict[int, Person],
    now: datetime.datetime,
    writer: _Writer,
) -> None:
    """A year of home visits, by the building's chief where it has one."""
    year = 365 * 86400
    for building, rows in households.items():
        chief_person = person_of.get(building)
        keen = rng.choice((0.15, 0.5, 0.9, 1.1, 1.3, 1.6))
        mean = VISITS_PER_HOUSEHOLD_YEAR * keen
        for dwelling, grid_id, lane_id, path, _someone in rows:
            for _v in range(_poisson(rng, mean)):
                at = now - datetime.timedelta(seconds=rng.uniform(0, year))
                writer.add(
                    [
                        0,
                        "visit",
                        dwelling,
                        path,
                        grid_id,
                        lane_id,
                        at,
                        None,
                        chief_person.pk if chief_person else None,
                        _pick(rng, METHODS),
                        "",
                        "",
                        "",
                        None,
                        rng.choice(FINDINGS),
                        "",
                        at,
                    ],
                    dwelling,
                )


def _patrols_and_receptions(
    rng: random.Random, community: Place, now: datetime.datetime, writer: _Writer
) -> None:
    """A year of weekly patrols and monthly reception days."""
    for week in range(52):
        at = now - datetime.timedelta(days=7 * week + rng.uniform(0, 6))
        # The finding is drawn after the time, as the rows have always been drawn.
        writer.add(
            _area_row(
                "patrol", community, at, route="沿主干道巡查一圈", summary=rng.choice(FINDINGS)
            ),
            None,
        )
    for month in range(12):
        at = now - datetime.timedelta(days=30 * month + rng.uniform(0, 25))
        row = _area_row(
            "reception",
            community,
            at,
            location="社区党群服务中心门口",
            attendance=rng.randint(8, 40),
            summary="收集居民意见",
        )
        writer.add(row, None)


def _area_row(
    kind: str,
    community: Place,
    at: datetime.datetime,
    *,
    route: str = "",
    location: str = "",
    attendance: int | None = None,
    summary: str,
) -> list[Any]:
    """A patrol or reception day of the community, as a row of ``CONTACT_COLUMNS`` (its id is
    given when the batch is written)."""
    return [
        0, kind, community.pk, community.path, None, None, at, None, None, "", "", route,
        location, attendance, summary, "", at,
    ]  # fmt: skip


def _poisson(rng: random.Random, mean: float) -> int:
    # Knuth's method is fine for the small means used here.
    limit, k, p = pow(2.718281828459045, -mean), 0, 1.0
    while True:
        p *= rng.random()
        if p <= limit:
            return k
        k += 1
