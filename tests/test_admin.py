"""The operators' admin: saves go through the actions (validated, audited), nothing is deleted."""

from __future__ import annotations

import pytest

from linli.accounts.models import Grant, User
from linli.core.models import AuditEntry
from linli.places.models import Place

pytestmark = pytest.mark.django_db


@pytest.fixture
def operator(world, client):
    user = User.objects.create_superuser("operator", password="an operator pass phrase")
    client.force_login(user)
    return client


def test_admin_creates_a_place_with_a_path_and_an_audit_record(world, operator):
    response = operator.post(
        "/admin/places/place/add/",
        {
            "kind": "building",
            "code": "9",
            "name": "新建9栋",
            "parent": world.a.compound.pk,
            "grid": world.a.grid2.pk,
            "address": "",
            "floors": "6",
        },
    )
    assert response.status_code == 302, response.content.decode()[:2000]
    place = Place.objects.get(name="新建9栋")
    assert (
        place.path.startswith(world.a.compound.path)
        and len(place.path) == len(world.a.compound.path) + 5
    )
    assert place.grid_id == world.a.grid2.pk
    assert AuditEntry.objects.filter(
        action="place.create", target_id=str(place.pk), actor_name="operator"
    ).exists()


def test_admin_refuses_a_place_under_the_wrong_parent(world, operator):
    response = operator.post(
        "/admin/places/place/add/",
        {
            "kind": "unit",
            "code": "9",
            "name": "错层",
            "parent": world.a.compound.pk,
        },
    )
    assert response.status_code == 200  # the form again, with the error
    assert not Place.objects.filter(name="错层").exists()


def test_admin_moves_a_building_to_another_grid_with_its_dwellings(world, operator):
    b = world.a.building
    response = operator.post(
        f"/admin/places/place/{b.pk}/change/",
        {
            "code": b.code,
            "name": "改名1栋",
            "grid": world.a.grid2.pk,
            "lane": world.a.lane.pk,
            "floors": "3",
            "address": "",
        },
    )
    assert response.status_code == 302, response.content.decode()[:2000]
    assert set(b.descendants().values_list("grid_id", flat=True)) == {world.a.grid2.pk}
    assert Place.objects.get(pk=b.pk).name == "改名1栋"
    assert AuditEntry.objects.filter(action="place.update", target_id=str(b.pk)).exists()
    assert AuditEntry.objects.filter(action="building.assign", target_id=str(b.pk)).exists()
    assert Place.history.filter(id=b.pk).count() >= 2  # row history kept


def test_admin_grants_through_the_action_and_cannot_delete(world, operator):
    response = operator.post(
        "/admin/accounts/grant/add/",
        {"user": world.outsider.pk, "role": "chief", "place": world.b.building.pk},
    )
    assert response.status_code == 302
    grant = Grant.objects.get(user=world.outsider)
    assert grant.granted_by is not None and grant.granted_by.username == "operator"
    assert operator.get(f"/admin/accounts/grant/{grant.pk}/delete/").status_code == 403
    assert operator.get(f"/admin/places/place/{world.a.place.pk}/delete/").status_code == 403


def test_admin_shows_the_audit_log_read_only(world, operator):
    entry = AuditEntry.objects.first()
    assert entry is not None
    assert operator.get("/admin/core/auditentry/").status_code == 200
    assert operator.get(f"/admin/core/auditentry/{entry.pk}/delete/").status_code == 403
    assert operator.post(f"/admin/core/auditentry/{entry.pk}/change/", {}).status_code == 403


def test_admin_is_closed_to_staff_without_admin_rights(world, as_user):
    response = as_user(world.street_admin).get("/admin/places/place/")
    assert response.status_code == 302 and "/admin/login/" in response["Location"]


def test_admin_changes_a_grid_and_a_lane_through_the_actions(world, operator, as_user):
    response = operator.post(
        f"/admin/places/grid/{world.a.grid.pk}/change/",
        {"name": "甲社区东片网格", "polygon": "null"},
    )
    assert response.status_code == 302, response.content.decode()[:2000]
    response = operator.post(
        f"/admin/places/lane/{world.a.lane.pk}/change/", {"name": "甲社区新巷", "kind": "street"}
    )
    assert response.status_code == 302, response.content.decode()[:2000]
    world.a.grid.refresh_from_db()
    world.a.lane.refresh_from_db()
    assert (world.a.grid.name, world.a.grid.polygon) == ("甲社区东片网格", None)
    assert (world.a.lane.name, world.a.lane.kind) == ("甲社区新巷", "street")
    entry = AuditEntry.objects.get(action="grid.update")
    assert entry.data["before"]["name"] == "甲社区一网格" and entry.place_path == world.a.place.path
    assert (
        "甲社区东片网格" in as_user(world.worker).get("/audit/?action=grid.update").content.decode()
    )
    assert "甲社区东片网格" not in as_user(world.neighbour).get("/audit/").content.decode()


def test_admin_refuses_a_bad_polygon(world, operator):
    response = operator.post(
        f"/admin/places/grid/{world.a.grid.pk}/change/",
        {"name": "x", "polygon": '{"type": "Point", "coordinates": [1, 2]}'},
    )
    assert response.status_code == 200
    world.a.grid.refresh_from_db()
    assert world.a.grid.name == "甲社区一网格"


def test_operators_manage_care_tags_but_residents_are_not_in_the_admin(world, operator):
    response = operator.post(
        "/admin/people/caretag/add/",
        {"code": "dementia", "name": "认知障碍", "sensitive": "on", "order": "95"},
    )
    assert response.status_code == 302
    assert AuditEntry.objects.filter(action="caretag.save").exists()
    assert operator.get("/admin/people/resident/").status_code == 404
