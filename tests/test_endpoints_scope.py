"""Every page and API endpoint, against the outsider and the neighbouring community.

``ROUTES`` (in tests/helpers/routes.py) lists every URL of the project;
``test_every_route_is_listed`` fails when a new route is added without being listed there, so no
endpoint escapes these checks.
"""

from __future__ import annotations

import pytest
from django.urls import URLPattern, URLResolver, get_resolver

from linli.accounts.actions import issue_token
from tests.helpers.routes import ROUTES, w

__all__ = ["w"]  # a fixture, imported for this module's tests

pytestmark = pytest.mark.django_db


# Served by libraries, checked in their own tests below or not about our data.
NOT_OURS = {"api:openapi-json", "api:openapi-view", "admin"}


def _names(patterns, prefix="") -> set[str]:
    names: set[str] = set()
    for p in patterns:
        if isinstance(p, URLResolver):
            ns = f"{prefix}{p.namespace}:" if p.namespace else prefix
            if p.namespace == "admin":
                names.add("admin")
                continue
            names |= _names(p.url_patterns, ns)
        elif isinstance(p, URLPattern) and p.name:
            names.add(prefix + p.name)
    return names


def test_every_route_is_listed():
    from linli.api import api

    page_names = {n for n in _names(get_resolver().url_patterns) if not n.startswith("api:")}
    listed = {r.name for r in ROUTES if not r.api}
    assert page_names - NOT_OURS == listed
    api_paths = {path.rstrip("/") for path in api.get_openapi_schema()["paths"]}
    listed_api = {"/api/v1" + r.name for r in ROUTES if r.api}
    assert api_paths == listed_api


@pytest.mark.parametrize(
    "route", [r for r in ROUTES if r.kind in ("scoped", "list")], ids=lambda r: r.name
)
def test_outsider_gets_404(w, as_user, route):
    assert route.call(as_user(w.outsider), w).status_code == 404


@pytest.mark.parametrize("route", [r for r in ROUTES if r.kind == "scoped"], ids=lambda r: r.name)
def test_neighbouring_community_gets_404(w, as_user, route):
    assert route.call(as_user(w.neighbour), w).status_code == 404


@pytest.mark.parametrize("route", [r for r in ROUTES if r.kind == "scoped"], ids=lambda r: r.name)
def test_the_right_people_get_200(w, as_user, route):
    for name in route.who_may():
        response = route.call(as_user(w.users[name]), w)
        assert response.status_code == 200, (name, response.status_code)


@pytest.mark.parametrize(
    "route", [r for r in ROUTES if r.kind == "scoped" and r.allowed], ids=lambda r: r.name
)
def test_roles_without_the_capability_get_404(w, as_user, route):
    for name in ("chief", "street_admin", "volunteer", "property"):
        if name not in route.allowed:
            assert route.call(as_user(w.users[name]), w).status_code == 404, name


@pytest.mark.parametrize(
    "route",
    [r for r in ROUTES if r.kind in ("scoped", "list", "own") and r.name != "accounts:logout"],
    ids=lambda r: r.name,
)
def test_anonymous_is_sent_to_login_or_refused(w, client, route):
    response = route.call(client, w)
    if route.api:
        assert response.status_code == 401
    else:
        assert response.status_code == 302
        assert response["Location"].startswith("/accounts/login/")


def test_lists_show_the_neighbour_only_their_own(world, as_user):
    client = as_user(world.neighbour)
    body = client.get("/places/").content.decode()
    assert world.b.place.name in body and world.a.place.name not in body
    ids = {p["id"] for p in client.get("/api/v1/places").json()["items"]}
    assert ids == {world.b.place.pk}
    grids = {g["id"] for g in client.get("/api/v1/grids").json()["items"]}
    assert grids == {world.b.grid.pk, world.b.grid2.pk}
    lanes = {x["id"] for x in client.get("/api/v1/lanes").json()["items"]}
    assert lanes == {world.b.lane.pk, world.b.lane2.pk}
    children = client.get(f"/api/v1/places?parent={world.a.place.pk}")
    assert children.status_code == 404
    search = client.get("/api/v1/places?q=甲社区").json()["items"]
    assert search == []


def test_own_pages_show_nothing_of_others_to_the_outsider(world, as_user):
    client = as_user(world.outsider)
    for url in ("/", "/accounts/me/"):
        body = client.get(url).content.decode()
        assert world.a.place.name not in body and world.b.place.name not in body
    assert client.get("/api/v1/me/grants").json() == []


def test_nobody_revokes_another_users_token(world, as_user):
    token, _secret = issue_token(world.worker, world.worker, "sync")
    url = f"/accounts/me/tokens/{token.pk}/revoke/"
    for name in ("outsider", "neighbour", "street_admin"):
        assert as_user(world.users[name]).post(url).status_code == 404
    token.refresh_from_db()
    assert token.revoked_at is None
    assert as_user(world.worker).post(url).status_code == 302
    token.refresh_from_db()
    assert token.revoked_at is not None
