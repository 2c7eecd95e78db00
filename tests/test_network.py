"""The network's core: chiefs and their grants, contact records, visit coverage and its pages."""

from __future__ import annotations

import datetime
from typing import Any

import pytest
from django.core.exceptions import PermissionDenied, ValidationError
from django.utils import timezone

from linli.accounts.models import Grant, User
from linli.accounts.roles import Role
from linli.cases.models import Case, Category
from linli.network import actions, coverage
from linli.network.models import Chief, ChiefStatus, Contact, ContactCase, Person, Reach
from linli.places.models import Place, PlaceKind

from .conftest import client_for


def dwellings(place: Place) -> list[Place]:
    return list(
        Place.objects.filter(
            kind=PlaceKind.DWELLING, path__gte=place.path, path__lt=place.path_end
        ).order_by("path")
    )


def live_in(dwelling: Place, name: str, born: datetime.date | None = None) -> object:
    from linli.people import actions as people

    data: dict[str, object] = {"name": name, "id_type": "none"}
    resident = people.create_resident(None, data, home=dwelling, relation="owner", is_head=True)
    if born:
        resident.birth_date = born
        resident.save(update_fields=["birth_date"])
    return resident


def visit(user: User, dwelling: Place, days_ago: float = 1, **extra: Any) -> actions.Logged:
    at = timezone.now() - datetime.timedelta(days=days_ago)
    return actions.log_contact(
        user,
        actions.ContactInput(kind="visit", place=dwelling, at=at, method="home", **extra),
    )


@pytest.fixture
def homes(world):
    """Community a: six dwellings; five lived in (one of them by an 80-year-old), one empty."""
    a = world.a
    ds = dwellings(a.place)
    assert len(ds) == 6
    live_in(ds[0], "甲一")
    live_in(ds[1], "甲二")
    live_in(ds[2], "甲三", born=datetime.date(1946, 5, 1))
    live_in(ds[3], "甲四")
    live_in(ds[4], "甲五")
    # ds[5] stays empty: not a household.
    return ds


# --- coverage arithmetic ---------------------------------------------------------------------


def test_coverage_counts_households_met_in_the_window(world, homes):
    worker = world.worker
    visit(worker, homes[0], days_ago=3)
    visit(worker, homes[0], days_ago=5)  # the same household twice counts once
    visit(worker, homes[1], days_ago=100)  # outside 90 days, inside 180
    visit(worker, homes[5], days_ago=1)  # an empty dwelling is not a household
    result = coverage.report(world.a.place)
    assert (result.total.households, result.total.reached) == (5, 1)
    assert result.total.percent == "20%"
    wider = coverage.report(world.a.place, days=180)
    assert (wider.total.households, wider.total.reached) == (5, 2)
    # Per building: the unit's dwellings count for the building above the unit.
    by_building = {row.obj.pk: (row.households, row.reached) for row in result.rows}
    assert by_building[world.a.building.pk] == (2, 1)
    assert by_building[world.a.other_building.pk] == (2, 0)
    assert by_building[world.a.loose_building.pk] == (1, 0)  # straight under the community
    by_grid = {row.obj.pk: (row.households, row.reached) for row in result.by_grid if row.obj}
    assert by_grid[world.a.grid.pk] == (3, 1)
    assert by_grid[world.a.grid2.pk] == (2, 0)
    # The street adds up the buildings' rolled-up figures: a contact recounts its own building
    # at once, the worker every building.
    street = coverage.report(world.street)
    # Buildings 1 and the old building were visited (the latter in an empty dwelling): 2 + 1.
    assert (street.total.households, street.total.reached) == (3, 1)
    coverage.refresh()
    # One row per community; community b has no households.
    street = coverage.report(world.street)
    rows = {row.obj.pk: (row.households, row.reached) for row in street.rows}
    assert rows == {world.a.place.pk: (5, 1), world.b.place.pk: (0, 0)}
    assert (street.total.households, street.total.reached) == (5, 1)
    assert street.as_of is not None
    assert coverage.report(world.street, days=180).total.reached == 2
    assert coverage.report(world.district, days=365).total.reached == 2
    assert coverage.report(world.a.grid).total.households == 3
    assert coverage.report(world.a.lane2).total.households == 2
    assert coverage.report(world.a.building).total.reached == 1


def test_the_rollup_matches_a_live_count(world, homes):
    visit(world.worker, homes[0], days_ago=20)
    visit(world.worker, homes[1], days_ago=100)
    visit(world.worker, homes[2], days_ago=200)
    visit(world.worker, homes[3], days_ago=300)
    coverage.refresh()
    for days in coverage.CHOICES_DAYS:
        live = coverage.report(world.a.place, days=days).total
        rolled = {r.obj.pk: r for r in coverage.report(world.street, days=days).rows}
        assert (rolled[world.a.place.pk].households, rolled[world.a.place.pk].reached) == (
            live.households,
            live.reached,
        ), days
    assert [coverage.report(world.street, days=d).total.reached for d in (30, 90, 180, 365)] == [
        1,
        1,
        2,
        4,
    ]


def test_a_moved_out_resident_leaves_no_household(world, homes):
    from linli.people import actions as people
    from linli.people.models import Resident

    before = coverage.report(world.a.place).total.households
    resident = Resident.objects.get(home=homes[3])
    people.move_out(None, resident, timezone.localdate())
    assert coverage.report(world.a.place).total.households == before - 1


def test_unreached_lists_care_households_first(world, homes):
    visit(world.worker, homes[0])
    households, count = coverage.unreached(world.a.place)
    assert count == 4
    assert households[0].dwelling == homes[2]  # the 80-year-old's home
    assert households[0].care and "60" in " ".join(households[0].tags)
    assert [h.care for h in households[1:]] == [False, False, False]
    assert households[0].head == "甲三"
    page, _count = coverage.unreached(world.a.place, limit=2, offset=2)
    assert len(page) == 2


def test_sensitive_tags_order_only_viewers_who_may_see_them(world, homes):
    from linli.people import actions as people
    from linli.people.models import CareTag, Resident

    hardship = CareTag.objects.get(code="hardship")
    people.set_tags(None, Resident.objects.get(home=homes[4]), ["hardship"], sensitive_allowed=True)
    seen, _n = coverage.unreached(world.a.place, visible_tag_ids=[hardship.pk])
    assert {h.dwelling for h in seen if h.care} == {homes[2], homes[4]}
    unseen, _n = coverage.unreached(world.a.place, visible_tag_ids=[])
    assert {h.dwelling for h in unseen if h.care} == {homes[2]}
    assert all("困难" not in " ".join(h.tags) for h in unseen)


# --- chiefs ------------------------------------------------------------------------------------


def test_chief_lifecycle_carries_the_grant(world):
    worker = world.worker
    login = world.outsider  # no grants yet
    person = actions.add_person(worker, world.a.place, name="黄婶", user=login, phone="13911112222")
    assert person.phone_index and person.phone.endswith("2222")
    chief = actions.recruit_chief(worker, person, "building")
    assert actions.recruit_chief(worker, person, "building") == chief  # retry-safe
    actions.assign(worker, chief.pk, building=world.a.other_building)
    # A candidate holds no grant yet.
    assert not Grant.objects.filter(user=login, role=Role.CHIEF, revoked_at__isnull=True).exists()
    actions.decide(worker, chief.pk, "formal")
    grant = Grant.objects.get(user=login, role=Role.CHIEF, revoked_at__isnull=True)
    assert grant.place == world.a.other_building
    actions.decide(worker, chief.pk, "backbone")
    assert Grant.objects.filter(pk=grant.pk, revoked_at__isnull=True).exists()
    with pytest.raises(ValidationError):
        actions.decide(worker, chief.pk, "candidate")  # backbone → candidate is not a step
    actions.decide(worker, chief.pk, "retired")
    grant.refresh_from_db()
    assert grant.revoked_at is not None
    chief.refresh_from_db()
    assert chief.status == ChiefStatus.RETIRED
    assert chief.assignments.filter(until__isnull=True).count() == 0
    steps = list(chief.decisions.values_list("from_status", "to_status"))
    assert steps == [
        ("", "candidate"),
        ("candidate", "formal"),
        ("formal", "backbone"),
        ("backbone", "retired"),
    ]


def test_assignments_must_fit_the_kind_and_the_community(world):
    worker = world.worker
    person = actions.add_person(worker, world.a.place, name="梁伯")
    lane_chief = actions.recruit_chief(worker, person, "lane")
    with pytest.raises(ValidationError):
        actions.assign(worker, lane_chief.pk, building=world.a.building)
    with pytest.raises(ValidationError):
        actions.assign(worker, lane_chief.pk, lane=world.a.lane2)  # a street, not a lane
    with pytest.raises(ValidationError):
        actions.assign(worker, lane_chief.pk, lane=world.b.lane)  # another community
    actions.assign(worker, lane_chief.pk, lane=world.a.lane)
    building_chief = actions.recruit_chief(worker, person, "building")
    with pytest.raises(ValidationError):
        actions.assign(worker, building_chief.pk, building=world.b.building)


def test_only_the_communitys_workers_manage_chiefs(world):
    person = actions.add_person(world.worker, world.a.place, name="某某")
    for user in (world.neighbour, world.street_admin, world.grid_worker, world.chief):
        with pytest.raises(PermissionDenied):
            actions.recruit_chief(user, person, "building")
        with pytest.raises(PermissionDenied):
            actions.add_person(user, world.a.place, name="某某")
    assert not Chief.objects.exists()


# --- contact records ---------------------------------------------------------------------------


def test_a_visit_with_a_need_becomes_a_case_in_one_step(world, homes):
    category = Category.objects.get(code="lighting")
    logged = visit(
        world.chief,
        homes[0],
        summary="老人腿脚不便",
        needs=[actions.Need(category=category, description="楼道扶手松动需要维修")],
    )
    case = logged.cases[0]
    assert case.channel == "visit" and case.place == world.a.building
    assert ContactCase.objects.get(contact=logged.contact).case == case
    assert Reach.objects.get(contact=logged.contact).dwelling == homes[0]


def test_bad_contacts_write_nothing(world, homes):
    category = Category.objects.get(code="lighting")
    with pytest.raises(ValidationError) as err:
        visit(world.worker, homes[0], needs=[actions.Need(category=category, description="")])
    assert "needs.0.description" in err.value.message_dict
    with pytest.raises(ValidationError):
        visit(world.worker, homes[0], days_ago=-1)  # tomorrow
    with pytest.raises(ValidationError):
        actions.log_contact(
            world.worker, actions.ContactInput(kind="visit", place=world.a.building, method="home")
        )
    assert not Contact.objects.exists() and not Case.objects.exists()


def test_contacts_outside_the_users_area_are_refused(world, homes):
    other = dwellings(world.b.place)[0]
    for user, place in (
        (world.chief, homes[2]),  # the other building
        (world.grid_worker, homes[2]),  # grid 2
        (world.neighbour, homes[0]),
        (world.street_admin, homes[0]),  # reads, does not log
        (world.worker, other),
    ):
        with pytest.raises(PermissionDenied):
            visit(user, place)
    assert not Contact.objects.exists()


def test_the_same_form_sent_twice_records_one_visit(world, homes):
    first = visit(world.chief, homes[0], client_key="k-1")
    again = visit(world.chief, homes[0], client_key="k-1")
    assert again.repeated and again.contact == first.contact
    assert Contact.objects.count() == 1
    with pytest.raises(PermissionDenied):
        visit(world.worker, homes[0], client_key="k-1")  # someone else's key


def test_the_visitor_is_the_network_person_of_their_login(world, homes):
    person = actions.add_person(world.worker, world.a.place, name="黄婶", user=world.chief)
    logged = visit(world.chief, homes[0])
    assert logged.contact.person == person


# --- pages -------------------------------------------------------------------------------------


def test_chief_logs_a_visit_on_the_phone_and_coverage_moves(world, homes):
    client = client_for(world.chief)
    assert client.get("/network/").status_code == 302  # a chief lands on their buildings
    page = client.get("/network/mine/")
    assert page.status_code == 200
    cover = page.context["cards"][0]["cover"]
    assert (cover.reached, cover.households) == (0, 2)
    assert "2 户中已走访 0 户" in page.content.decode()  # Chinese by default
    form = client.get(f"/network/visit/{homes[0].pk}/")
    assert form.status_code == 200
    key = form.context["form"].initial["client_key"]
    repair = Category.objects.get(code="lighting")
    data = {
        "method": "home",
        "summary": "一切正常",
        "client_key": key,
        "need_category": repair.pk,
        "need_description": "楼道灯坏了",
        "need_priority": "normal",
    }
    response = client.post(f"/network/visit/{homes[0].pk}/", data)
    assert response.status_code == 302
    assert client.post(f"/network/visit/{homes[0].pk}/", data).status_code == 302  # retried
    assert Contact.objects.count() == 1 and Case.objects.filter(channel="visit").count() == 1
    page = client.get(f"/network/buildings/{world.a.building.pk}/")
    assert (page.context["cover"].reached, page.context["cover"].households) == (1, 2)
    assert "2 户中已走访 1 户" in page.content.decode()
    assert coverage.report(world.a.building).total.reached == 1


def test_a_bad_visit_form_shows_errors_and_saves_nothing(world, homes):
    client = client_for(world.chief)
    repair = Category.objects.get(code="lighting")
    response = client.post(
        f"/network/visit/{homes[0].pk}/",
        {"method": "home", "need_category": repair.pk, "need_description": ""},
    )
    assert response.status_code == 200
    assert response.context["form"].errors["need_description"]
    assert not Contact.objects.exists()


def test_patrol_and_reception_day_pages(world, homes):
    client = client_for(world.worker)
    response = client.post(
        "/network/contacts/new/",
        {
            "kind": "reception",
            "place": world.a.compound.pk,
            "location": "小区门口",
            "attendance": 12,
            "summary": "居民反映停车难",
        },
    )
    assert response.status_code == 302
    record = Contact.objects.get()
    assert record.kind == "reception" and record.attendance == 12
    assert client.get(f"/network/contacts/{record.pk}/").status_code == 200
    listed = client.get("/network/contacts/?kind=reception").content.decode()
    assert world.a.compound.name in listed and "居民反映停车难" in listed
    assert client_for(world.neighbour).get(f"/network/contacts/{record.pk}/").status_code == 404


def test_coverage_pages_for_each_level(world, homes):
    visit(world.worker, homes[0])
    admin = client_for(world.street_admin)
    street = admin.get(f"/network/coverage/place/{world.street.pk}/")
    assert street.status_code == 200
    assert world.a.place.name in street.content.decode()
    community = admin.get(f"/network/coverage/place/{world.a.place.pk}/?days=30")
    assert community.status_code == 200 and community.context["result"].total.reached == 1
    unreached = admin.get(f"/network/coverage/place/{world.a.place.pk}/unreached/")
    assert unreached.context["count"] == 4
    grid = client_for(world.grid_worker).get(f"/network/coverage/grid/{world.a.grid.pk}/")
    assert grid.status_code == 200 and grid.context["result"].total.households == 3
    # A grid worker sees their grid, not the whole community nor the other grid.
    gw = client_for(world.grid_worker)
    assert gw.get(f"/network/coverage/place/{world.a.place.pk}/").status_code == 404
    assert gw.get(f"/network/coverage/grid/{world.a.grid2.pk}/").status_code == 404
    assert admin.get(f"/network/coverage/street/{world.street.pk}/").status_code == 404


def test_chief_register_pages(world):
    worker = client_for(world.worker)
    person = Person.objects.create(community=world.a.place, path=world.a.place.path, name="黄婶")
    response = worker.post("/network/chiefs/", {"person": person.pk, "kind": "building"})
    chief = Chief.objects.get()
    assert response.status_code == 302
    worker.post(
        f"/network/chiefs/{chief.pk}/decide/",
        {"to_status": "formal", "on": timezone.localdate().isoformat()},
    )
    worker.post(
        f"/network/chiefs/{chief.pk}/assign/",
        {"target": f"b{world.a.building.pk}", "since": timezone.localdate().isoformat()},
    )
    chief.refresh_from_db()
    assert chief.status == "formal" and chief.assignments.count() == 1
    page = worker.get(f"/network/chiefs/{chief.pk}/")
    assert "黄婶" in page.content.decode()
    # The chief's building's grid worker sees the chief; the neighbour does not.
    assert client_for(world.grid_worker).get(f"/network/chiefs/{chief.pk}/").status_code == 200
    assert client_for(world.neighbour).get(f"/network/chiefs/{chief.pk}/").status_code == 404
    # A street admin reads, but may not decide: for them the step does not exist.
    admin = client_for(world.street_admin)
    assert admin.get(f"/network/chiefs/{chief.pk}/").status_code == 200
    for user in (world.street_admin, world.grid_worker, world.chief):
        response = client_for(user).post(
            f"/network/chiefs/{chief.pk}/decide/",
            {"to_status": "backbone", "on": timezone.localdate().isoformat()},
        )
        assert response.status_code == 404, user.username
    chief.refresh_from_db()
    assert chief.status == "formal"
    assignment = chief.assignments.get()
    worker.post(f"/network/assignments/{assignment.pk}/end/", {})
    assignment.refresh_from_db()
    assert assignment.until is not None


def network_routes(world, homes, chief_id: int, contact_id: int, assignment_id: int):
    a = world.a
    return [
        ("get", "/network/"),
        ("get", "/network/mine/"),
        ("get", f"/network/buildings/{a.building.pk}/"),
        ("get", f"/network/visit/{homes[0].pk}/"),
        ("post", f"/network/visit/{homes[0].pk}/"),
        ("get", "/network/contacts/"),
        ("get", "/network/contacts/new/"),
        ("post", "/network/contacts/new/"),
        ("get", f"/network/contacts/{contact_id}/"),
        ("get", f"/network/coverage/place/{a.place.pk}/"),
        ("get", f"/network/coverage/grid/{a.grid.pk}/"),
        ("get", f"/network/coverage/lane/{a.lane.pk}/"),
        ("get", f"/network/coverage/place/{a.place.pk}/unreached/"),
        ("get", "/network/chiefs/"),
        ("get", f"/network/chiefs/{chief_id}/"),
        ("post", f"/network/chiefs/{chief_id}/decide/"),
        ("post", f"/network/chiefs/{chief_id}/assign/"),
        ("post", f"/network/assignments/{assignment_id}/end/"),
    ]


def test_outsider_gets_404_on_every_network_route(world, homes):
    person = actions.add_person(world.worker, world.a.place, name="黄婶")
    chief = actions.recruit_chief(world.worker, person, "building")
    assignment = actions.assign(world.worker, chief.pk, building=world.a.building)
    contact = visit(world.worker, homes[0]).contact
    for user in (world.outsider, world.neighbour):
        client = client_for(user)
        for method, url in network_routes(world, homes, chief.pk, contact.pk, assignment.pk):
            if user is world.neighbour and url in (
                "/network/",
                "/network/contacts/",
                "/network/chiefs/",
                "/network/contacts/new/",
            ):
                continue  # lists of their own community
            response = getattr(client, method)(url, {})
            assert response.status_code == 404, (user.username, method, url)
    assert Contact.objects.count() == 1
    chief.refresh_from_db()
    assert chief.status == "candidate"
    anonymous = client_for(None).get("/network/")
    assert anonymous.status_code == 302


def test_the_worker_recounts_every_building(live_world):
    """``linli worker --once`` (it closes stale connections, so the data must be committed)."""
    import io

    from django.core.management import call_command

    from linli.network.models import BuildingCoverage

    world = live_world
    ds = dwellings(world.a.place)
    live_in(ds[0], "甲一")
    live_in(ds[2], "甲三")
    live_in(ds[3], "甲四")
    visit(world.worker, ds[2], days_ago=10)
    assert BuildingCoverage.objects.count() == 1  # the visited building, at once
    call_command("worker", "--once", stdout=io.StringIO(), stderr=io.StringIO())
    buildings = Place.objects.filter(kind=PlaceKind.BUILDING).count()
    assert BuildingCoverage.objects.count() == buildings
    other = BuildingCoverage.objects.get(building=world.a.other_building)
    assert (other.households, other.met_30, other.met_365) == (2, 1, 1)
    first = BuildingCoverage.objects.get(building=world.a.building)
    assert (first.households, first.met_365) == (1, 0)


def test_recounts_at_the_same_time_do_not_collide(live_world):
    """The worker recounting the street while chiefs' visits recount their building: each write
    is an upsert, so none of them fails on the building's row (real threads, both databases)."""
    import threading

    from django.db import connection

    from linli.network.models import BuildingCoverage

    world = live_world
    ds = dwellings(world.a.place)
    live_in(ds[0], "甲一")
    coverage.refresh()
    errors: list[BaseException] = []
    start = threading.Barrier(6)

    def run(area: Place) -> None:
        try:
            start.wait()
            for _ in range(3):
                coverage.refresh(area)
        except BaseException as exc:
            errors.append(exc)
        finally:
            connection.close()

    threads = [
        threading.Thread(target=run, args=(area,)) for area in [world.street, world.a.building] * 3
    ]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert errors == []
    assert BuildingCoverage.objects.filter(building=world.a.building).count() == 1
    assert BuildingCoverage.objects.get(building=world.a.building).households == 1


def test_a_retired_building_leaves_the_rollup(world, homes):
    from linli.network.models import BuildingCoverage

    coverage.refresh()
    assert BuildingCoverage.objects.filter(building=world.a.loose_building).exists()
    Place.objects.filter(pk=world.a.loose_building.pk).update(retired_at=timezone.localdate())
    coverage.refresh()
    assert not BuildingCoverage.objects.filter(building=world.a.loose_building).exists()
