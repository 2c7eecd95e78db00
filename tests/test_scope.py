"""Who sees which places: one test per role, and the neighbouring community never."""

from __future__ import annotations

import pytest
from django.http import Http404

from linli.accounts.actions import grant_role, revoke_grant
from linli.accounts.models import User
from linli.accounts.roles import Cap, Role
from linli.accounts.scope import scope_for
from linli.places.models import Place, PlaceKind
from linli.places.queries import access_grid, access_lane, access_place, places_for

pytestmark = pytest.mark.django_db


def visible_ids(user) -> set[int]:
    return set(places_for(user).values_list("pk", flat=True))


def test_street_admin_sees_the_whole_street(world):
    expected = set(world.street.descendants().values_list("pk", flat=True))
    assert visible_ids(world.street_admin) == expected
    assert world.district.pk not in expected  # the district above is not theirs


def test_community_worker_sees_own_community_only(world):
    ids = visible_ids(world.worker)
    assert ids == set(world.a.place.descendants().values_list("pk", flat=True))
    assert world.b.place.pk not in ids
    assert not ids & set(world.b.place.descendants().values_list("pk", flat=True))


def test_grid_worker_sees_buildings_of_the_grid_and_what_is_in_them(world):
    ids = visible_ids(world.grid_worker)
    in_grid = set(Place.objects.filter(grid=world.a.grid).values_list("pk", flat=True))
    assert ids == in_grid
    assert world.a.building.pk in ids and world.a.loose_building.pk in ids
    assert world.a.dwelling.pk in ids
    assert world.a.other_building.pk not in ids  # grid 2
    assert world.a.place.pk not in ids  # the community as a whole is not theirs


def test_chief_sees_their_building_only(world):
    ids = visible_ids(world.chief)
    assert ids == set(world.a.building.descendants().values_list("pk", flat=True))
    assert world.a.other_building.pk not in ids


def test_lane_chief_sees_buildings_on_the_lane(world):
    ids = visible_ids(world.lane_chief)
    assert ids == set(Place.objects.filter(lane=world.a.lane).values_list("pk", flat=True))


def test_property_staff_see_their_compound(world):
    ids = visible_ids(world.property)
    assert ids == set(world.a.compound.descendants().values_list("pk", flat=True))
    assert world.a.loose_building.pk not in ids


@pytest.mark.parametrize("name", ["party_member", "volunteer", "partner"])
def test_community_roles_see_their_community_places(world, name):
    assert visible_ids(world.users[name]) == set(
        world.a.place.descendants().values_list("pk", flat=True)
    )


def test_outsider_sees_nothing_and_gets_404(world):
    assert visible_ids(world.outsider) == set()
    assert scope_for(world.outsider, Cap.PLACES_VIEW).is_empty
    with pytest.raises(Http404):
        access_place(world.outsider, world.a.building.pk)
    with pytest.raises(Http404):
        access_grid(world.outsider, world.a.grid.pk)
    with pytest.raises(Http404):
        access_lane(world.outsider, world.a.lane.pk)


def test_neighbour_gets_404_for_every_kind_of_object(world):
    for place in (
        world.a.place,
        world.a.compound,
        world.a.building,
        world.a.unit,
        world.a.dwelling,
    ):
        with pytest.raises(Http404):
            access_place(world.neighbour, place.pk)
    with pytest.raises(Http404):
        access_grid(world.neighbour, world.a.grid.pk)
    with pytest.raises(Http404):
        access_lane(world.neighbour, world.a.lane.pk)
    assert access_place(world.neighbour, world.b.dwelling.pk) == world.b.dwelling


def test_missing_object_is_the_same_404(world):
    with pytest.raises(Http404):
        access_place(world.street_admin, 10**9)


def test_revoking_a_grant_removes_the_scope_at_once(world):
    grant = world.chief.grants.get()
    assert access_place(world.chief, world.a.building.pk)
    revoke_grant(None, grant)
    # The next request loads the user afresh; scopes are cached per request only.
    again = User.objects.get(pk=world.chief.pk)
    with pytest.raises(Http404):
        access_place(again, world.a.building.pk)


def test_several_grants_add_up_and_nested_ranges_merge(world):
    grant_role(None, world.chief, Role.COMMUNITY_WORKER, place=world.b.place)
    ids = visible_ids(world.chief)
    assert world.b.dwelling.pk in ids and world.a.building.pk in ids
    grant_role(None, world.chief, Role.STREET_ADMIN, place=world.street)
    scope = scope_for(world.chief, Cap.PLACES_VIEW)
    assert scope.ranges == ((world.street.path, world.street.path + ":"),)


def test_capability_limits_scope(world):
    # A chief may see places but not read the audit log of them.
    assert scope_for(world.chief, Cap.AUDIT_VIEW).is_empty
    assert not scope_for(world.worker, Cap.AUDIT_VIEW).is_empty
    with pytest.raises(Http404):
        access_place(world.chief, world.a.building.pk, Cap.AUDIT_VIEW)


def test_inactive_user_has_no_scope(world):
    world.worker.is_active = False
    world.worker.save(update_fields=["is_active"])
    assert visible_ids(world.worker) == set()


def test_scope_query_is_one_indexed_query(world, django_assert_num_queries):
    user = world.street_admin
    with django_assert_num_queries(2):  # the grants, then the places
        list(places_for(user).filter(kind=PlaceKind.DWELLING))
