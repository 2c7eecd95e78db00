"""The demo street: built fast, fictional, one login per role, each seeing its own scope only."""

from __future__ import annotations

import pytest
from django.core.management import call_command
from django.test import Client

from linli.accounts.models import User
from linli.places.models import Grid, Lane, Place, PlaceKind
from linli.site.management.commands.demo import DEMO_PASSWORD, DEMO_USERS
from tests.conftest import demo_loaded_once

pytestmark = pytest.mark.django_db


@pytest.fixture(scope="module")
def demo(django_db_setup, django_db_blocker):
    """What ``linli demo`` printed; the demo is loaded once for this module (see conftest)."""
    yield from demo_loaded_once(django_db_blocker)


def test_demo_builds_a_street_of_five_communities(demo):
    street = Place.objects.get(kind=PlaceKind.STREET, code="440199001000")
    assert "演示" in street.name  # clearly fictional
    communities = Place.objects.filter(parent=street)
    assert communities.count() == 5
    for community in communities:
        under = community.descendants()
        assert under.filter(kind=PlaceKind.COMPOUND).count() == 4
        assert under.filter(kind=PlaceKind.DWELLING).count() > 500
        assert Grid.objects.filter(community=community).count() == 4
        assert Lane.objects.filter(community=community).count() == 3
        # Every building is in a grid and on a lane, and so is everything in it.
        assert not under.filter(kind__in=["building", "unit", "dwelling"], grid=None).exists()
        assert not under.filter(kind__in=["building", "unit", "dwelling"], lane=None).exists()
    for grid in Grid.objects.all():
        assert grid.polygon is not None and grid.polygon["type"] == "Polygon"
        assert grid.code.startswith(grid.community.code)


def test_paths_of_the_bulk_build_agree_with_parents(demo):
    wrong = [
        p.pk
        for p in Place.objects.select_related("parent").exclude(parent=None)
        if p.parent is None
        or not (p.path.startswith(p.parent.path) and len(p.path) == len(p.parent.path) + 5)
    ]
    assert wrong == []


def test_demo_prints_every_login_and_each_can_log_in(demo):
    assert DEMO_PASSWORD in demo
    for username, phone, *_ in DEMO_USERS:
        assert username in demo and phone in demo
        client = Client()
        response = client.post("/accounts/login/", {"login": phone, "password": DEMO_PASSWORD})
        assert response.status_code == 302, username


def test_each_demo_role_sees_its_scope(demo):
    street = Place.objects.get(kind=PlaceKind.STREET, code="440199001000")
    community1, community2 = Place.objects.filter(parent=street).order_by("path")[:2]
    compound1 = (
        Place.objects.filter(parent=community1, kind=PlaceKind.COMPOUND).order_by("path").first()
    )
    assert compound1 is not None
    building1 = Place.objects.filter(parent=compound1).order_by("path").first()
    other_compound = (
        Place.objects.filter(parent=community1, kind=PlaceKind.COMPOUND).order_by("-path").first()
    )
    sees: dict[str, list[Place | None]] = {
        "jiedao": [street, community1, community2],
        "shequ": [community1, building1],
        "shequ2": [community2],
        "wangge": [building1],
        "louzhang": [building1],
        "dangyuan": [community1],
        "zhiyuan": [community1],
        "gongjian": [community1],
        "wuye": [compound1, building1],
    }
    refused: dict[str, list[Place | None]] = {
        "shequ": [street, community2],
        "shequ2": [community1, building1],
        "wangge": [community1, community2],
        "louzhang": [compound1, community1],
        "dangyuan": [community2],
        "wuye": [community1, other_compound],
        "outsider": [street, community1, building1],
    }
    for expected, table in ((200, sees), (404, refused)):
        for username, places in table.items():
            client = Client()
            client.force_login(User.objects.get(username=username))
            for place in places:
                assert place is not None
                status = client.get(f"/places/{place.pk}/").status_code
                assert status == expected, (username, place.name, status)
    client = Client()
    client.force_login(User.objects.get(username="shequ2"))
    assert client.get(f"/places/{community1.pk}/").status_code == 404


def test_running_it_again_changes_nothing(demo, capsys):
    before = Place.objects.count(), User.objects.count()
    call_command("demo", "--if-empty")
    call_command("demo")
    assert (Place.objects.count(), User.objects.count()) == before


def test_scale_adds_benchmark_communities(demo):
    before = Place.objects.filter(kind=PlaceKind.COMMUNITY).count()
    call_command("demo", "--scale", "2")
    assert Place.objects.filter(kind=PlaceKind.COMMUNITY).count() == before + 2
    street = Place.objects.filter(kind=PlaceKind.STREET).order_by("-path").first()
    assert street is not None and street.code == "440199002000"
