"""Shared fixtures: a small world of places and one named user per role.

Two communities side by side in one street: ``a`` (where everyone works) and ``b`` (the
neighbouring community, with its own worker). ``outsider`` holds no role anywhere.
"""

from __future__ import annotations

import io
from collections.abc import Iterator
from dataclasses import dataclass
from decimal import Decimal

import pytest
from django.apps import apps as django_apps
from django.db.models.signals import post_migrate
from django.test import Client

from linli.accounts.actions import grant_role
from linli.accounts.models import User
from linli.accounts.roles import Role
from linli.places import actions
from linli.places.models import Grid, Lane, Place, PlaceKind
from tests.snapshot import Snapshots

PASSWORD = "correct horse battery"


def square(lon: float, lat: float, size: float = 0.01) -> dict:
    ring = [[lon, lat], [lon + size, lat], [lon + size, lat + size], [lon, lat + size], [lon, lat]]
    return {"type": "Polygon", "coordinates": [ring]}


@dataclass
class Community:
    place: Place
    compound: Place
    building: Place  # in the compound, in grid 1, on lane 1
    other_building: Place  # in the compound, in grid 2, on lane 2
    loose_building: Place  # straight under the community, no units
    unit: Place
    dwelling: Place
    grid: Grid
    grid2: Grid
    lane: Lane
    lane2: Lane


@dataclass
class World:
    district: Place
    street: Place
    a: Community
    b: Community
    users: dict[str, User]

    def __getattr__(self, name: str) -> User:
        try:
            return self.__dict__["users"][name]
        except KeyError as exc:
            raise AttributeError(name) from exc


def make_community(street: Place, number: int, name: str) -> Community:
    code = f"{street.code[:9]}{number:03d}"
    community = actions.create_place(
        None, kind=PlaceKind.COMMUNITY, code=code, name=name, parent=street
    )
    grid = actions.create_grid(
        None,
        community=community,
        code=f"{code}001",
        name=f"{name}一网格",
        polygon=square(113.0 + number, 23.0),
    )
    grid2 = actions.create_grid(None, community=community, code=f"{code}002", name=f"{name}二网格")
    lane = actions.create_lane(None, community=community, kind="lane", code="L1", name=f"{name}巷")
    lane2 = actions.create_lane(
        None, community=community, kind="street", code="L2", name=f"{name}街"
    )
    compound = actions.create_place(
        None, kind=PlaceKind.COMPOUND, code="C1", name=f"{name}花园", parent=community
    )
    building = actions.create_place(
        None,
        kind=PlaceKind.BUILDING,
        code="1",
        name=f"{name}1栋",
        parent=compound,
        floors=3,
        lon=113.0 + number + 0.005,
        lat=23.005,
    )
    other = actions.create_place(
        None, kind=PlaceKind.BUILDING, code="2", name=f"{name}2栋", parent=compound, floors=2
    )
    loose = actions.create_place(
        None, kind=PlaceKind.BUILDING, code="J1", name=f"{name}旧楼", parent=community, floors=2
    )
    actions.assign_buildings(None, [building, loose], grid=grid, lane=lane)
    actions.assign_buildings(None, [other], grid=grid2, lane=lane2)
    unit = actions.create_place(None, kind=PlaceKind.UNIT, code="1", name="1单元", parent=building)
    actions.create_place(None, kind=PlaceKind.UNIT, code="2", name="2单元", parent=building)
    dwelling = None
    for holder in (unit, other, loose):
        for floor in (1, 2):
            d = actions.create_place(
                None,
                kind=PlaceKind.DWELLING,
                code=f"{floor}01",
                name=f"{floor}01室",
                parent=holder,
                floor=floor,
                floor_area=Decimal("88.50"),
            )
            dwelling = dwelling or d
    assert dwelling is not None
    for p in (building, other, loose, unit, dwelling):
        p.refresh_from_db()
    return Community(
        community, compound, building, other, loose, unit, dwelling, grid, grid2, lane, lane2
    )


def make_user(username: str, phone: str | None = None) -> User:
    user = User(username=username, phone=phone, display_name=username)
    user.set_password(PASSWORD)
    user.save()
    return user


_worlds = Snapshots()
_rosters = Snapshots()


@pytest.fixture
def world(db) -> World:
    # Built for real once, then the same rows put back for each test (see tests/snapshot.py).
    seed_lists()
    return _worlds.get(build_places_and_users)


@pytest.fixture
def live_world(transactional_db) -> World:
    """The same world, committed, for tests that drive a real server in a real browser."""
    return build_world()


def build_world() -> World:
    seed_lists()
    return build_places_and_users()


def seed_lists() -> None:
    # The lists the migrations seed (care tags, case categories): a transactional test before this
    # one may have flushed them.
    from importlib import import_module

    from django.apps import apps as django_apps

    for seed in (
        "linli.people.migrations.0002_builtin_tags",
        "linli.cases.migrations.0002_builtin_categories",
    ):
        import_module(seed).add(django_apps, None)


def _seed_lists_after_flush(**kwargs: object) -> None:
    seed_lists()


# A transactional test ends by emptying every table (Django's flush); Django then sends
# post_migrate, which puts back the content types and permissions. Put the seeded lists back with
# them, so that whatever runs next finds the database as the migrations left it, whatever the
# order (tests that read the lists without the world fixture, the roster import benchmark).
post_migrate.connect(
    _seed_lists_after_flush,
    sender=django_apps.get_app_config("people"),
    dispatch_uid="tests.conftest.seed_lists",
)


def build_places_and_users() -> World:
    district = actions.create_place(None, kind=PlaceKind.DISTRICT, code="440106", name="测试区")
    street = actions.create_place(
        None, kind=PlaceKind.STREET, code="440106001000", name="测试街道", parent=district
    )
    a = make_community(street, 1, "甲社区")
    b = make_community(street, 2, "乙社区")
    users: dict[str, User] = {}

    def user(name: str, role: str | None, phone: str | None = None, **target: object) -> None:
        users[name] = make_user(name, phone)
        if role:
            grant_role(None, users[name], role, **target)  # type: ignore[arg-type]

    user("street_admin", Role.STREET_ADMIN, place=street)
    user("worker", Role.COMMUNITY_WORKER, "13900000002", place=a.place)
    user("grid_worker", Role.GRID_WORKER, grid=a.grid)
    user("chief", Role.CHIEF, "13900000004", place=a.building)
    user("lane_chief", Role.CHIEF, lane=a.lane)
    user("party_member", Role.PARTY_MEMBER, place=a.place)
    user("volunteer", Role.VOLUNTEER, place=a.place)
    user("partner", Role.PARTNER_CONTACT, place=a.place)
    user("property", Role.PROPERTY_STAFF, place=a.compound)
    user("neighbour", Role.COMMUNITY_WORKER, place=b.place)
    user("outsider", None)
    return World(district, street, a, b, users)


def client_for(user: User | None) -> Client:
    client = Client()
    if user is not None:
        client.force_login(user)
    return client


@pytest.fixture
def as_user():
    return client_for


# --- the roster ------------------------------------------------------------------------------------

ID_A = "11010519491231002X"  # an 80-year-old woman, in community a
ID_B = "440106199003071234"  # placeholder, fixed below to a valid check digit


def valid_id(body17: str) -> str:
    from stdnum.cn import ric

    return body17 + ric.calc_check_digit(body17 + "0")


@dataclass
class Roster:
    grandma: object  # in world.a.dwelling, head, aged 60+, living alone (tag), hardship (sensitive)
    son: object  # tenant in world.a.dwelling
    neighbour_b: object  # in world.b.dwelling


@pytest.fixture
def roster(world) -> Roster:
    return _rosters.get(lambda: build_roster(world), base=world)


def build_roster(world: World) -> Roster:
    from linli.people import actions as people

    grandma = people.create_resident(
        None,
        {
            "name": "单桂芳",
            "id_number": ID_A,
            "phone": "13812345678",
            "residence_type": "registered",
        },
        home=world.a.dwelling,
        relation="owner",
        is_head=True,
    )
    people.set_tags(None, grandma, ["living_alone", "hardship"], sensitive_allowed=True)
    son = people.create_resident(
        None,
        {"name": "曾志明", "id_number": valid_id("44010619900307123"), "phone": "139 0000 1111"},
        home=world.a.dwelling,
        relation="tenant",
    )
    other = people.create_resident(
        None,
        {"name": "王小红", "id_number": valid_id("44010620100101002")},
        home=world.b.dwelling,
        relation="family",
        is_head=True,
    )
    return Roster(grandma, son, other)


# --- the demo street -------------------------------------------------------------------------------


def demo_loaded_once(django_db_blocker) -> Iterator[str]:
    """``linli demo`` loaded once for a group of tests that read it, as ``setUpTestData`` would.

    Use it from a module- or class-scoped fixture (which also requests ``django_db_setup``). The
    demo is loaded inside a transaction that stays open while the group runs and is rolled back
    after its last test, so nothing outside the group ever sees it. Each test of the group still
    runs in its own savepoint (pytest-django's ``db``), rolled back after it: a test that changes
    the demo (``--scale``, a second run) leaves the next one the demo as loaded. Yields what the
    command printed. Transactional tests cannot be part of such a group.
    """
    from django.core.management import call_command
    from django.db import connection, transaction

    with django_db_blocker.unblock():
        atomic = transaction.atomic()
        # Marked as Django's TestCase marks its class-wide transaction, so that a durable atomic
        # block in the code under test is still allowed inside it.
        atomic._from_testcase = True  # type: ignore[attr-defined]  # noqa: SLF001
        atomic.__enter__()
        try:
            seed_lists()  # as the migrations left them: a transactional test may have flushed them
            out = io.StringIO()
            call_command("demo", stdout=out)
            # The check Django runs when each test ends (deferred foreign keys, all of them at once
            # on PostgreSQL), run once here for the demo's 100,000 rows: otherwise every test's
            # savepoint would roll the pending checks back and the next test would run them again.
            connection.check_constraints()
        except BaseException:
            transaction.set_rollback(True)
            atomic.__exit__(None, None, None)
            raise
    try:
        yield out.getvalue()
    finally:
        with django_db_blocker.unblock():
            transaction.set_rollback(True)
            atomic.__exit__(None, None, None)
