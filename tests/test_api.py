"""The API: tokens and sessions, scoped answers, and an OpenAPI schema that declares errors."""

from __future__ import annotations

from datetime import timedelta

import pytest
from django.test import Client
from django.utils import timezone

from linli.accounts.actions import issue_token, revoke_token
from linli.accounts.models import ApiToken

pytestmark = pytest.mark.django_db


def bearer(secret: str) -> Client:
    return Client(HTTP_AUTHORIZATION=f"Bearer {secret}")


def test_token_authenticates_and_only_its_digest_is_stored(world):
    token, secret = issue_token(world.chief, world.chief, "楼长手机")
    assert secret.startswith("lnl_") and secret not in token.digest
    assert not ApiToken.objects.filter(digest=secret).exists()
    response = bearer(secret).get("/api/v1/me")
    assert response.status_code == 200
    assert response.json() == {
        "id": world.chief.pk,
        "username": "chief",
        "display_name": "chief",
        "phone_masked": "139****0004",
    }


def test_revoked_expired_and_wrong_tokens_are_refused(world):
    token, secret = issue_token(world.chief, world.chief, "a")
    revoke_token(world.chief, token)
    assert bearer(secret).get("/api/v1/me").status_code == 401
    token2, secret2 = issue_token(world.chief, world.chief, "b", days=1)
    ApiToken.objects.filter(pk=token2.pk).update(expires_at=timezone.now() - timedelta(seconds=1))
    assert bearer(secret2).get("/api/v1/me").status_code == 401
    assert bearer("lnl_not-a-real-token").get("/api/v1/me").status_code == 401
    assert bearer("").get("/api/v1/me").status_code == 401


def test_token_of_a_deactivated_user_is_refused(world):
    _token, secret = issue_token(world.chief, world.chief, "a")
    world.chief.is_active = False
    world.chief.save(update_fields=["is_active"])
    assert bearer(secret).get("/api/v1/me").status_code == 401


def test_grants_of_the_current_user(world):
    _t, secret = issue_token(world.grid_worker, world.grid_worker, "a")
    grants = bearer(secret).get("/api/v1/me/grants").json()
    assert [(g["role"], g["target_type"], g["target_id"]) for g in grants] == [
        ("grid_worker", "grid", world.a.grid.pk)
    ]


def test_places_are_browsed_down_the_tree(world):
    _t, secret = issue_token(world.worker, world.worker, "a")
    client = bearer(secret)
    top = client.get("/api/v1/places").json()
    assert [p["id"] for p in top["items"]] == [world.a.place.pk]
    children = client.get(f"/api/v1/places?parent={world.a.place.pk}").json()["items"]
    assert {p["kind"] for p in children} == {"compound", "building"}
    detail = client.get(f"/api/v1/places/{world.a.building.pk}").json()
    assert detail["counts"] == {"unit": 2, "dwelling": 2}
    assert detail["grid_id"] == world.a.grid.pk
    only_units = client.get(f"/api/v1/places?parent={world.a.building.pk}&kind=unit").json()
    assert only_units["count"] == 2


def test_lists_are_paginated(world):
    _t, secret = issue_token(world.worker, world.worker, "a")
    page = bearer(secret).get(f"/api/v1/places?parent={world.a.unit.pk}&limit=1").json()
    assert page["count"] == 2 and len(page["items"]) == 1


def test_session_authentication_works_for_the_browser(world, as_user):
    assert as_user(world.worker).get("/api/v1/me").json()["username"] == "worker"


def test_openapi_schema_declares_every_error(world, client):
    schema = client.get("/api/v1/openapi.json").json()
    assert schema["openapi"].startswith("3.1")
    for path, methods in schema["paths"].items():
        for method, operation in methods.items():
            codes = set(operation["responses"])
            assert "401" in codes, (path, method)
            if "{" in path or path.endswith(("/places", "/grids", "/lanes")):
                assert "404" in codes, (path, method)
    schemes = schema["components"]["securitySchemes"]
    assert {s["type"] for s in schemes.values()} >= {"http", "apiKey"}


def test_bad_parameters_get_a_clear_422(world, as_user):
    response = as_user(world.worker).get("/api/v1/places?kind=castle")
    assert response.status_code == 422
    assert "detail" in response.json()


def test_list_endpoint_query_count_does_not_grow(world, as_user, django_assert_max_num_queries):
    client = as_user(world.street_admin)
    with django_assert_max_num_queries(9):
        client.get(f"/api/v1/places?parent={world.a.unit.pk}")
    with django_assert_max_num_queries(9):
        client.get("/api/v1/grids")


def test_grid_worker_lists_the_buildings_of_their_grid(world, as_user):
    client = as_user(world.grid_worker)
    grids = client.get("/api/v1/grids").json()["items"]
    assert [g["id"] for g in grids] == [world.a.grid.pk]
    buildings = client.get(f"/api/v1/places?grid={world.a.grid.pk}").json()["items"]
    assert {b["id"] for b in buildings} == {world.a.building.pk, world.a.loose_building.pk}
    assert client.get(f"/api/v1/places?grid={world.a.grid2.pk}").status_code == 404
    assert client.get(f"/api/v1/places?grid={world.b.grid.pk}").status_code == 404


def test_lane_chief_lists_the_buildings_of_their_lane(world, as_user):
    client = as_user(world.lane_chief)
    buildings = client.get(f"/api/v1/places?lane={world.a.lane.pk}").json()["items"]
    assert {b["id"] for b in buildings} == {world.a.building.pk, world.a.loose_building.pk}
    assert client.get(f"/api/v1/places?lane={world.a.lane2.pk}").status_code == 404


def test_search_respects_the_kind_filter(world, as_user):
    client = as_user(world.worker)
    found = client.get("/api/v1/places?q=甲社区&kind=compound").json()["items"]
    assert [p["id"] for p in found] == [world.a.compound.pk]


def test_interactive_docs_are_served_from_our_own_origin(world, as_user):
    response = as_user(world.worker).get("/api/v1/docs")
    body = response.content.decode()
    assert response.status_code == 200
    assert "cdn." not in body and "https://" not in body.split("</head>")[0]
    assert "/static/ninja/swagger-ui-bundle.js" in body
