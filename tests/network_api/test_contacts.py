"""Contacts through the API: needs become cases once, patrols, lists and filters, query counts."""

from __future__ import annotations

import datetime

import pytest
from django.test import Client
from django.utils import timezone

from linli.cases.models import Case, Category
from linli.network import actions
from linli.network.models import (
    Contact,
    ContactCase,
    Reach,
)
from linli.places.models import Place
from tests.helpers.api import send
from tests.network_api.helpers import API, DAY

pytestmark = pytest.mark.django_db


# --- contacts ----------------------------------------------------------------------------------------


def test_a_visit_with_a_need_takes_in_a_case_once(world, net, as_user):
    client = as_user(world.worker)
    at = (timezone.now() - 2 * DAY).replace(microsecond=0)
    body = {
        "kind": "visit",
        "place": world.a.dwelling.pk,
        "at": at.isoformat(),
        "method": "home",
        "with_whom": "楼长 林建国",
        "summary": "老人说电梯经常停",
        "needs": [{"category": "lift", "description": "电梯经常停运，老人下不了楼"}],
        "client_key": "b3f1c0de-visit-1",
    }
    first = send(client, "post", f"{API}/network/contacts", body)
    assert first.status_code == 201, first.content
    data = first.json()
    assert data["repeated"] is False and data["kind"] == "visit"
    assert data["households"] == 1 and data["cases"] == 1
    assert [r["dwelling_id"] for r in data["reached"]] == [world.a.dwelling.pk]
    assert data["reached"][0]["building_name"] == world.a.building.name
    case = Case.objects.get(code=data["case_codes"][0])
    assert case.channel == "visit" and case.place == world.a.building
    assert case.category == Category.objects.get(code="lift")
    assert ContactCase.objects.filter(contact_id=data["id"], case=case).exists()
    assert datetime.datetime.fromisoformat(data["at"]) == at
    assert data["logged_by_name"] == "worker"

    counts = (Contact.objects.count(), Case.objects.count(), Reach.objects.count())
    again = send(client, "post", f"{API}/network/contacts", body)
    assert again.status_code == 200, again.content
    assert again.json()["repeated"] is True and again.json()["id"] == data["id"]
    assert again.json()["case_codes"] == data["case_codes"]
    assert (Contact.objects.count(), Case.objects.count(), Reach.objects.count()) == counts
    # Someone else's key is refused, not shown.
    other = send(as_user(world.grid_worker), "post", f"{API}/network/contacts", body)
    assert other.status_code == 400 and set(other.json()["errors"]) == {"client_key"}

    detail = client.get(f"{API}/network/contacts/{data['id']}").json()
    assert detail["case_codes"] == [case.code] and detail["summary"] == "老人说电梯经常停"


def test_a_chief_logs_a_patrol_of_their_building(world, net, as_user):
    client = as_user(world.chief)
    second = Place.objects.get(parent=world.a.unit, code="201")
    body = {
        "kind": "patrol",
        "place": world.a.building.pk,
        "route": "1栋 1单元 从上到下",
        "dwellings": [world.a.dwelling.pk, second.pk],
        "needs": [{"category": "lighting", "description": "二楼楼道灯不亮", "priority": "urgent"}],
    }
    response = send(client, "post", f"{API}/network/contacts", body)
    assert response.status_code == 201, response.content
    data = response.json()
    assert data["households"] == 2 and data["route"] == "1栋 1单元 从上到下"
    case = Case.objects.get(code=data["case_codes"][0])
    assert case.channel == "patrol" and case.priority == "urgent"
    # The chief's own building only.
    body["place"] = world.a.other_building.pk
    body["dwellings"] = []
    assert send(client, "post", f"{API}/network/contacts", body).status_code == 404


def test_contact_lists_and_filters(world, net, as_user):
    now = timezone.now()
    w = world.worker
    old = actions.log_contact(
        w,
        actions.ContactInput(
            kind="reception", place=world.a.place, at=now - 40 * DAY, location="社区服务站"
        ),
    ).contact
    patrol = actions.log_contact(
        w,
        actions.ContactInput(
            kind="patrol", place=world.a.other_building, at=now - 5 * DAY, route="2栋"
        ),
    ).contact
    client = as_user(w)

    def ids(query: str = "") -> list[int]:
        response = client.get(f"{API}/network/contacts?{query}")
        assert response.status_code == 200, response.content
        return [c["id"] for c in response.json()["items"]]

    assert ids() == [net.contact.pk, patrol.pk, old.pk]  # the latest first
    assert ids("kind=reception") == [old.pk]
    assert ids(f"place={world.a.other_building.pk}") == [patrol.pk]
    assert ids(f"place={world.a.building.pk}") == [net.contact.pk]
    since = (now - 10 * DAY).date().isoformat()
    assert ids(f"since={since}") == [net.contact.pk, patrol.pk]
    assert ids(f"until={since}") == [old.pk]
    assert client.get(f"{API}/network/contacts?place={world.b.place.pk}").status_code == 404
    for query in ("kind=party", "since=yesterday", "place=abc"):
        assert client.get(f"{API}/network/contacts?{query}").status_code == 422, query
    # The grid worker sees the contacts of their grid's buildings only.
    grid = as_user(world.grid_worker).get(f"{API}/network/contacts").json()
    assert [c["id"] for c in grid["items"]] == [net.contact.pk]


def test_case_codes_are_shown_to_those_who_may_see_the_case(world, net, as_user):
    body = {
        "kind": "visit",
        "place": world.a.dwelling.pk,
        "method": "home",
        "needs": [
            {
                "category": "lighting",
                "description": "老人说2栋门口的路灯坏了",
                "place": world.a.other_building.pk,
            }
        ],
    }
    logged = send(as_user(world.worker), "post", f"{API}/network/contacts", body).json()
    case = Case.objects.get(code=logged["case_codes"][0])
    assert case.place == world.a.other_building
    # The chief of building 1 sees the visit (it was in their building), not the case.
    seen = as_user(world.chief).get(f"{API}/network/contacts/{logged['id']}").json()
    assert seen["case_codes"] == [] and seen["cases"] == 1


def test_chief_and_people_filters(world, net, as_user):
    w = world.worker
    lane = actions.recruit_chief(w, net.other, "lane")
    theirs = actions.recruit_chief(world.neighbour, net.theirs, "street")
    client = as_user(world.street_admin)

    def ids(query: str) -> list[int]:
        response = client.get(f"{API}/network/chiefs?{query}")
        assert response.status_code == 200, response.content
        return [c["id"] for c in response.json()["items"]]

    assert set(ids("")) == {net.chief.pk, lane.pk, theirs.pk}
    assert set(ids(f"community={world.a.place.pk}")) == {net.chief.pk, lane.pk}
    assert ids("kind=lane") == [lane.pk]
    assert ids("status=formal") == [net.chief.pk]
    assert set(ids("status=candidate")) == {lane.pk, theirs.pk}
    for query in ("kind=mayor", "status=asleep", "community=abc"):
        assert client.get(f"{API}/network/chiefs?{query}").status_code == 422, query

    def names(query: str) -> list[str]:
        response = client.get(f"{API}/network/people?{query}")
        return [p["name"] for p in response.json()["items"]]

    assert names(f"community={world.a.place.pk}") == sorted(["林建国", "陈秀英"])
    assert names("q=秀") == ["陈秀英"]
    assert names(f"community={world.b.place.pk}") == ["王乙"]


def _count_queries(client: Client, url: str) -> int:
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    with CaptureQueriesContext(connection) as ctx:
        response = client.get(url)
    assert response.status_code == 200, response.content
    return len(ctx)


def test_query_counts_do_not_grow_with_rows(world, net, as_user):
    urls = [
        f"{API}/network/people",
        f"{API}/network/chiefs",
        f"{API}/network/associations",
        f"{API}/network/teams",
        f"{API}/network/contacts",
        f"{API}/network/chiefs/{net.chief.pk}",
        f"{API}/network/associations/{net.association.pk}",
        f"{API}/network/teams/{net.team.pk}",
        f"{API}/network/contacts/{net.contact.pk}",
        f"{API}/network/people/{net.person.pk}",
    ]
    before = [_count_queries(as_user(world.worker), url) for url in urls]
    w = world.worker
    for i in range(4):
        person = actions.add_person(w, world.a.place, name=f"志愿者{i}", phone=f"1370000000{i}")
        chief = actions.recruit_chief(w, person, "building")
        actions.join_association(w, net.association, person)
        actions.join_team(w, net.team, person)
        actions.create_association(w, world.a.place, f"第{i}街坊会")
        actions.create_team(w, world.a.place, f"第{i}队", "youth")
        actions.log_contact(
            w,
            actions.ContactInput(
                kind="patrol",
                place=world.a.building,
                dwellings=[world.a.dwelling],
                needs=[actions.Need(Category.objects.get(code="lift"), f"电梯第{i}次故障")],
            ),
        )
        actions.decide(w, net.chief.pk, "backbone" if i % 2 == 0 else "formal")
        actions.assign(w, chief.pk, building=world.a.other_building)
    after = [_count_queries(as_user(world.worker), url) for url in urls]
    assert after == before
