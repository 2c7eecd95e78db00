"""The network's lists go a page at a time through the one pager (linli.core.paging)."""

from __future__ import annotations

import datetime

import pytest
from django.utils import timezone

from linli.core.paging import Page
from linli.network import actions
from linli.network.models import Chief, Contact, ContactKind, Person
from linli.places.models import Place, PlaceKind

from .conftest import client_for

pytestmark = pytest.mark.django_db


def people(community: Place, n: int, prefix: str = "人") -> list[Person]:
    return Person.objects.bulk_create(
        Person(community=community, path=community.path, name=f"{prefix}{i:03}") for i in range(n)
    )


def links(html: str) -> list[str]:
    """The hrefs of the pager's links, in order."""
    nav = html.split('<nav class="pager"', 1)
    if len(nav) == 1:
        return []
    return [part.split('"', 1)[0] for part in nav[1].split("</nav>", 1)[0].split('href="')[1:]]


def test_the_people_list_pages_by_fifty_keeping_its_filters(world):
    people(world.a.place, 51)
    people(world.a.place, 3, prefix="别")
    c = client_for(world.worker)
    first = c.get("/network/people/?q=人")
    page = first.context["page"]
    assert isinstance(page, Page) and page.number == 1 and page.has_next
    assert [p.name for p in page.rows] == [f"人{i:03}" for i in range(50)]
    assert links(first.content.decode()) == ["?q=%E4%BA%BA&amp;page=2"]
    second = c.get("/network/people/?q=人&page=2")
    assert [p.name for p in second.context["page"].rows] == ["人050"]
    assert links(second.content.decode()) == ["?q=%E4%BA%BA&amp;page=1"]
    # A page number that is not one is the first page; a list on one page has no pager.
    assert c.get("/network/people/?page=abc").context["page"].number == 1
    assert links(c.get("/network/people/?q=别").content.decode()) == []


def test_the_chiefs_list_pages_by_a_hundred(world):
    for person in people(world.a.place, 101):
        Chief.objects.create(person=person, path=person.path, kind="building")
    c = client_for(world.worker)
    first = c.get("/network/chiefs/?status=candidate")
    assert len(first.context["page"].rows) == 100 and first.context["page"].has_next
    assert links(first.content.decode()) == ["?status=candidate&amp;page=2"]
    second = c.get("/network/chiefs/?status=candidate&page=2").context["page"]
    assert len(second.rows) == 1 and not second.has_next and second.has_previous
    assert c.get("/network/chiefs/?status=formal").context["page"].rows == []


def test_the_contacts_list_pages_by_fifty_the_latest_first(world):
    building = Place.objects.filter(
        kind=PlaceKind.BUILDING, path__startswith=world.a.place.path
    ).first()
    assert building is not None
    now = timezone.now()
    Contact.objects.bulk_create(
        Contact(
            kind=ContactKind.PATROL,
            place=building,
            path=building.path,
            grid_id=building.grid_id,
            lane_id=building.lane_id,
            at=now - datetime.timedelta(hours=i),
            summary=f"巡查{i:02}",
        )
        for i in range(51)
    )
    c = client_for(world.worker)
    first = c.get("/network/contacts/?kind=patrol")
    assert [r.summary for r in first.context["page"]] == [f"巡查{i:02}" for i in range(50)]
    assert links(first.content.decode()) == ["?kind=patrol&amp;page=2"]
    last = c.get("/network/contacts/?kind=patrol&page=2").context["page"]
    assert [r.summary for r in last] == ["巡查50"] and not last.has_next
    assert c.get("/network/contacts/?kind=visit").context["page"].rows == []


def test_associations_and_teams_are_pages_too(world):
    w = world.worker
    association = actions.create_association(w, world.a.place, "甲社区街坊会")
    team = actions.create_team(w, world.a.place, "车队", "drivers")
    c = client_for(w)
    found = c.get("/network/associations/").context["page"]
    assert found.rows == [association] and not found.has_other_pages
    found = c.get("/network/teams/?kind=drivers").context["page"]
    assert found.rows == [team] and found.query == "kind=drivers"


def test_the_unreached_list_is_a_page_of_the_counted_households(world):
    from .test_network import live_in

    dwellings = Place.objects.filter(
        kind=PlaceKind.DWELLING, path__startswith=world.a.place.path
    ).order_by("path")
    for i, dwelling in enumerate(dwellings[:3]):
        live_in(dwelling, f"户{i}")
    c = client_for(world.street_admin)
    response = c.get(f"/network/coverage/place/{world.a.place.pk}/unreached/?days=30")
    page = response.context["page"]
    assert isinstance(page, Page) and len(page.rows) == response.context["count"] == 3
    assert page.number == 1 and not page.has_next and page.query == "days=30"
    assert links(response.content.decode()) == []
    beyond = c.get(f"/network/coverage/place/{world.a.place.pk}/unreached/?page=2")
    assert beyond.context["page"].rows == [] and beyond.context["page"].has_previous
    assert links(beyond.content.decode()) == ["?page=1"]
