"""Places: codes, the rules of the tree, the actions, and the pages people read."""

from __future__ import annotations

from decimal import Decimal

import pytest
from django.core.exceptions import ValidationError

from linli.core.models import AuditEntry
from linli.places import actions, codes
from linli.places.models import Place, PlaceKind

pytestmark = pytest.mark.django_db


@pytest.mark.parametrize("code", ["440106", "110105", "429004"])
def test_valid_district_codes(code):
    codes.validate_district_code(code)


@pytest.mark.parametrize("code", ["44010", "4401066", "990106", "440100", "440006", "44O106"])
def test_invalid_district_codes(code):
    with pytest.raises(ValidationError):
        codes.validate_district_code(code)


def test_street_and_community_codes_extend_their_parent():
    codes.validate_street_code("440106001000", "440106")
    codes.validate_community_code("440106001002", "440106001000")
    codes.validate_grid_code("440106001002003", "440106001002")
    for bad, parent, check in [
        ("440106001001", "440106", codes.validate_street_code),  # not ending in 000
        ("440107001000", "440106", codes.validate_street_code),  # another district
        ("440106001000", "440106001000", codes.validate_community_code),  # no community number
        ("440106002001", "440106001000", codes.validate_community_code),  # another street
        ("440106001002000", "440106001002", codes.validate_grid_code),  # grid 000
        ("440106001003001", "440106001002", codes.validate_grid_code),  # another community
        ("4401060010021", "440106001002", codes.validate_grid_code),  # too short
    ]:
        with pytest.raises(ValidationError):
            check(bad, parent)


def test_polygon_validation():
    ok = {"type": "Polygon", "coordinates": [[[113, 23], [113.1, 23], [113.1, 23.1], [113, 23]]]}
    codes.validate_polygon(ok)
    for bad in [
        {"type": "Point", "coordinates": [113, 23]},
        {"type": "Polygon", "coordinates": [[[113, 23], [113.1, 23], [113, 23]]]},
        {"type": "Polygon", "coordinates": [[[113, 23], [113.1, 23], [113.1, 23.1], [113, 23.2]]]},
        {"type": "Polygon", "coordinates": [[[200, 23], [113.1, 23], [113.1, 23.1], [200, 23]]]},
        {"type": "Polygon", "coordinates": [[["a", 23], [1, 2], [3, 4], ["a", 23]]]},
    ]:
        with pytest.raises(ValidationError):
            codes.validate_polygon(bad)


def test_a_place_must_sit_under_the_right_kind(world):
    with pytest.raises(ValidationError):
        actions.create_place(None, kind=PlaceKind.UNIT, code="9", name="x", parent=world.a.compound)
    with pytest.raises(ValidationError):
        actions.create_place(
            None, kind=PlaceKind.COMMUNITY, code="440106001009", name="x", parent=world.district
        )
    with pytest.raises(ValidationError):
        actions.create_place(
            None, kind=PlaceKind.DISTRICT, code="440107", name="x", parent=world.street
        )


def test_codes_are_unique_where_they_must_be(world):
    with pytest.raises(ValidationError):
        actions.create_place(
            None,
            kind=PlaceKind.COMMUNITY,
            code=world.a.place.code,
            name="重号",
            parent=world.street,
        )
    with pytest.raises(ValidationError):
        actions.create_place(
            None, kind=PlaceKind.BUILDING, code="1", name="重号", parent=world.a.compound
        )
    # The same local number under another parent is fine.
    actions.create_place(
        None, kind=PlaceKind.BUILDING, code="1", name="另一个1栋", parent=world.a.place
    )


def test_floor_area_only_on_dwellings_and_positive(world):
    with pytest.raises(ValidationError):
        actions.create_place(
            None,
            kind=PlaceKind.BUILDING,
            code="9",
            name="x",
            parent=world.a.compound,
            floor_area=Decimal("10"),
        )
    with pytest.raises(ValidationError):
        actions.create_place(
            None,
            kind=PlaceKind.DWELLING,
            code="999",
            name="x",
            parent=world.a.unit,
            floor_area=Decimal("-1"),
        )


def test_new_places_take_the_next_position_and_inherit_grid_and_lane(world):
    d = actions.create_place(
        None, kind=PlaceKind.DWELLING, code="301", name="301室", parent=world.a.unit, floor=3
    )
    siblings = list(Place.objects.filter(parent=world.a.unit).values_list("path", flat=True))
    assert d.path == max(siblings) and d.path.startswith(world.a.unit.path)
    assert len(d.path) == len(world.a.unit.path) + 5
    assert d.grid_id == world.a.grid.pk and d.lane_id == world.a.lane.pk


def test_reassigning_a_building_moves_its_units_and_dwellings(world):
    changed = actions.assign_buildings(world.worker, [world.a.building], grid=world.a.grid2)
    assert changed == Place.objects.filter(path__startswith=world.a.building.path).count()
    assert set(world.a.building.descendants().values_list("grid_id", flat=True)) == {
        world.a.grid2.pk
    }
    assert AuditEntry.objects.filter(action="building.assign", actor=world.worker).exists()


def test_a_building_cannot_join_another_communitys_grid(world):
    with pytest.raises(ValidationError):
        actions.assign_buildings(None, [world.a.building], grid=world.b.grid)
    assert Place.objects.get(pk=world.a.building.pk).grid_id == world.a.grid.pk


def test_grid_code_and_polygon_are_checked(world):
    with pytest.raises(ValidationError):
        actions.create_grid(
            None, community=world.a.place, code=f"{world.b.place.code}009", name="x"
        )
    with pytest.raises(ValidationError):
        actions.create_grid(
            None,
            community=world.a.place,
            code=f"{world.a.place.code}009",
            name="x",
            polygon={"type": "Polygon", "coordinates": []},
        )


def test_building_page_draws_floors_by_units(world, as_user):
    actions.create_place(
        None,
        kind=PlaceKind.DWELLING,
        code="102",
        name="102室",
        parent=world.a.building.children.get(code="2"),
        floor=1,
    )
    body = as_user(world.chief).get(f"/places/{world.a.building.pk}/").content.decode()
    assert 'class="building"' in body
    assert body.count('<tr><th scope="row">') == 2  # floors 2 and 1
    assert body.index('scope="row">2<') < body.index('scope="row">1<')  # top floor first
    assert "1单元" in body and "2单元" in body and "102" in body


def test_place_page_shows_breadcrumbs_links_only_within_scope(world, as_user):
    body = as_user(world.chief).get(f"/places/{world.a.dwelling.pk}/").content.decode()
    assert f'href="/places/{world.a.building.pk}/"' in body
    assert world.a.place.name in body  # named, for orientation
    assert f'href="/places/{world.a.place.pk}/"' not in body  # but not a link


def test_community_page_lists_its_grids_and_lanes(world, as_user):
    body = as_user(world.worker).get(f"/places/{world.a.place.pk}/").content.decode()
    for grid in (world.a.grid, world.a.grid2):
        assert f"/places/grids/{grid.pk}/" in body
    assert f"/places/lanes/{world.a.lane.pk}/" in body


def test_grid_page_maps_its_buildings(world, as_user):
    body = as_user(world.grid_worker).get(f"/places/grids/{world.a.grid.pk}/").content.decode()
    assert "<polygon" in body and "<circle" in body
    assert world.a.building.name in body and world.a.other_building.name not in body
    assert "grid_worker" in body  # the responsible worker


def test_search_finds_places_in_scope_only(world, as_user):
    client = as_user(world.street_admin)
    body = client.get("/places/?q=1栋").content.decode()
    assert world.a.building.name in body and world.b.building.name in body
    partial = client.get("/places/?q=甲社区1栋", HTTP_HX_REQUEST="true").content.decode()
    assert "<html" not in partial and world.a.building.name in partial
    chief = as_user(world.chief).get("/places/?q=1栋").content.decode()
    assert world.b.building.name not in chief


def test_place_pages_answer_in_constant_queries(world, as_user):
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    client = as_user(world.worker)

    def count(url: str) -> int:
        with CaptureQueriesContext(connection) as ctx:
            assert client.get(url).status_code == 200
        return len(ctx.captured_queries)

    small = count(f"/places/{world.a.building.pk}/")
    unit2 = world.a.building.children.get(code="2")
    for floor in range(3, 12):
        actions.create_place(
            None,
            kind=PlaceKind.DWELLING,
            code=f"{floor}02",
            name=f"{floor}02室",
            parent=unit2,
            floor=floor,
        )
    assert count(f"/places/{world.a.building.pk}/") == small
