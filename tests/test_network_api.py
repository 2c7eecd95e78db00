"""The network API: scoped like the pages (404 out of sight, 403 where only seen), phone numbers
masked, every write through ``network.actions``, bad data refused per field with nothing written,
coverage numbers that match a count by hand."""

from __future__ import annotations

import datetime
import json
from dataclasses import dataclass
from typing import Any

import pytest
from django.test import Client
from django.utils import timezone

from linli.accounts.actions import issue_token
from linli.accounts.models import Grant
from linli.accounts.roles import Role
from linli.cases.models import Case, Category
from linli.core.models import AuditEntry
from linli.network import actions
from linli.network.models import (
    Association,
    AssociationMember,
    Chief,
    ChiefAssignment,
    ChiefDecision,
    Contact,
    ContactCase,
    Person,
    Reach,
    Team,
    TeamMember,
)
from linli.people import actions as people
from linli.places.models import Place
from tests.conftest import make_user, valid_id

pytestmark = pytest.mark.django_db

API = "/api/v1"
PHONE = "13812345678"
MASKED = "138****5678"
DAY = datetime.timedelta(days=1)


def send(client: Client, method: str, url: str, body: Any = None) -> Any:
    if method == "get":
        return client.get(url)
    return getattr(client, method)(
        url, data=json.dumps(body or {}), content_type="application/json"
    )


def english(user: Any) -> Client:
    client = Client()
    client.force_login(user)
    client.cookies["linli_language"] = "en"
    return client


@dataclass
class Net:
    person: Person  # in community a, with a phone number; a formal building chief
    other: Person  # in community a, no role yet
    chief: Chief
    assignment: ChiefAssignment  # the chief on world.a.building
    association: Association
    member: AssociationMember
    team: Team
    team_member: TeamMember
    contact: Contact  # a home visit to world.a.dwelling
    theirs: Person  # in community b


@pytest.fixture
def net(world) -> Net:
    w = world.worker
    person = actions.add_person(w, world.a.place, name="林建国", phone="138 1234 5678")
    other = actions.add_person(w, world.a.place, name="陈秀英")
    chief = actions.recruit_chief(w, person, "building")
    actions.decide(w, chief.pk, "formal")
    assignment = actions.assign(w, chief.pk, building=world.a.building)
    association = actions.create_association(w, world.a.place, "甲社区街坊会")
    member = actions.join_association(w, association, person, "chair")
    team = actions.create_team(w, world.a.place, "楼长志愿服务队", "chiefs")
    team_member = actions.join_team(w, team, person, leader=True)
    contact = actions.log_contact(
        w,
        actions.ContactInput(
            kind="visit", place=world.a.dwelling, method="home", summary="老人身体还好"
        ),
    ).contact
    theirs = actions.add_person(world.neighbour, world.b.place, name="王乙")
    return Net(
        person,
        other,
        chief,
        assignment,
        association,
        member,
        team,
        team_member,
        contact,
        theirs,
    )


def endpoints(world: Any, net: Net) -> list[tuple[str, str, Any]]:
    """Every network endpoint, aimed at community a (the writes would succeed for its worker)."""
    a = world.a
    return [
        ("get", "/network/people", None),
        ("get", "/network/chiefs", None),
        ("get", "/network/associations", None),
        ("get", "/network/teams", None),
        ("get", "/network/contacts", None),
        ("get", "/network/my-buildings", None),
        # the objects of community a from here on (index 6)
        ("get", f"/network/people/{net.person.pk}", None),
        ("post", "/network/people", {"community": a.place.pk, "name": "新来的"}),
        ("get", f"/network/chiefs/{net.chief.pk}", None),
        ("post", "/network/chiefs", {"person": net.other.pk, "kind": "lane"}),
        ("post", f"/network/chiefs/{net.chief.pk}/decide", {"to_status": "backbone"}),
        ("post", f"/network/chiefs/{net.chief.pk}/assign", {"building": a.other_building.pk}),
        ("post", f"/network/assignments/{net.assignment.pk}/end", {}),
        ("get", f"/network/associations/{net.association.pk}", None),
        ("post", "/network/associations", {"community": a.place.pk, "name": "花园街坊会"}),
        ("post", f"/network/associations/{net.association.pk}/members", {"person": net.other.pk}),
        ("post", f"/network/association-members/{net.member.pk}/leave", {}),
        ("get", f"/network/teams/{net.team.pk}", None),
        (
            "post",
            "/network/teams",
            {"community": a.place.pk, "name": "爱心车队", "kind": "drivers"},
        ),
        ("post", f"/network/teams/{net.team.pk}/members", {"person": net.other.pk}),
        ("post", f"/network/team-members/{net.team_member.pk}/leave", {}),
        ("get", f"/network/contacts/{net.contact.pk}", None),
        ("post", "/network/contacts", {"kind": "visit", "place": a.dwelling.pk, "method": "home"}),
        ("get", f"/network/contacts?place={a.place.pk}", None),
        ("get", f"/network/coverage?place={a.place.pk}", None),
        ("get", f"/network/coverage?grid={a.grid.pk}", None),
        ("get", f"/network/coverage?lane={a.lane.pk}", None),
        ("get", f"/network/coverage/unreached?place={a.place.pk}", None),
        ("get", f"/network/coverage/unreached?grid={a.grid.pk}", None),
    ]


def snapshot() -> tuple[Any, ...]:
    return (
        list(Person.objects.order_by("pk").values_list("pk", "name", "user_id")),
        list(Chief.objects.order_by("pk").values_list("pk", "status")),
        ChiefDecision.objects.count(),
        list(ChiefAssignment.objects.order_by("pk").values_list("pk", "until", "grant_id")),
        list(Association.objects.values_list("pk", flat=True)),
        list(AssociationMember.objects.order_by("pk").values_list("pk", "role", "left_on")),
        list(Team.objects.values_list("pk", flat=True)),
        list(TeamMember.objects.order_by("pk").values_list("pk", "leader", "left_on")),
        Contact.objects.count(),
        Reach.objects.count(),
        Case.objects.count(),
        list(Grant.objects.order_by("pk").values_list("pk", "revoked_at")),
    )


# --- scope: outsider, anonymous, neighbour, chief, street --------------------------------------------


def test_the_outsider_gets_404_everywhere_and_nothing_changes(world, net, as_user):
    client = as_user(world.outsider)
    before = snapshot()
    audits = AuditEntry.objects.count()
    for method, url, body in endpoints(world, net):
        assert send(client, method, f"{API}{url}", body).status_code == 404, (method, url)
    # Without an area, coverage falls back to the user's own: the outsider has none.
    assert client.get(f"{API}/network/coverage").status_code == 404
    assert client.get(f"{API}/network/coverage/unreached").status_code == 404
    assert snapshot() == before
    assert AuditEntry.objects.count() == audits


def test_other_roles_without_the_network_get_404(world, net, as_user):
    for name in ("volunteer", "party_member", "partner", "property"):
        client = as_user(world.users[name])
        for method, url, body in endpoints(world, net)[:8]:
            assert send(client, method, f"{API}{url}", body).status_code == 404, (name, url)


def test_anonymous_gets_401_everywhere(world, net, client):
    before = snapshot()
    for method, url, body in endpoints(world, net):
        assert send(client, method, f"{API}{url}", body).status_code == 401, (method, url)
    assert snapshot() == before


def test_the_neighbouring_worker_gets_404_on_community_a(world, net, as_user):
    client = as_user(world.neighbour)
    before = snapshot()
    for method, url, body in endpoints(world, net)[6:]:
        assert send(client, method, f"{API}{url}", body).status_code == 404, (method, url)
    assert snapshot() == before
    # Their lists hold their own community only.
    people = client.get(f"{API}/network/people").json()
    assert [p["id"] for p in people["items"]] == [net.theirs.pk]
    for url in ("chiefs", "associations", "teams", "contacts"):
        response = client.get(f"{API}/network/{url}")
        assert response.status_code == 200 and response.json()["count"] == 0, url
    assert client.get(f"{API}/network/my-buildings").json() == []
    # Their own community's coverage is theirs.
    assert client.get(f"{API}/network/coverage").json()["area"]["id"] == world.b.place.pk


def test_a_chief_may_not_manage(world, net, as_user):
    """The chief of building 1 sees the chiefs of their building (403 when managing them) but not
    the community's people, association or teams (404)."""
    client = as_user(world.chief)
    assert client.get(f"{API}/network/chiefs/{net.chief.pk}").status_code == 200
    listed = client.get(f"{API}/network/chiefs").json()
    assert [c["id"] for c in listed["items"]] == [net.chief.pk]
    assert client.get(f"{API}/network/chiefs/{net.chief.pk}").json()["next_statuses"] == []
    assert client.get(f"{API}/network/people").json()["count"] == 0
    before = snapshot()
    # By URL; for a collection, the POST (listed after the GET): adding to community a's network,
    # recruiting its person, founding its association or team.
    calls = {url: (method, body) for method, url, body in endpoints(world, net)}
    forbidden = [
        f"/network/chiefs/{net.chief.pk}/decide",
        f"/network/chiefs/{net.chief.pk}/assign",
        f"/network/assignments/{net.assignment.pk}/end",
    ]
    for url in forbidden:
        method, body = calls[url]
        response = send(client, method, f"{API}{url}", body)
        assert response.status_code == 403, url
        assert response.json()["detail"]
    invisible = [
        f"/network/people/{net.person.pk}",
        "/network/people",
        "/network/chiefs",
        f"/network/associations/{net.association.pk}",
        "/network/associations",
        f"/network/associations/{net.association.pk}/members",
        f"/network/association-members/{net.member.pk}/leave",
        f"/network/teams/{net.team.pk}",
        "/network/teams",
        f"/network/teams/{net.team.pk}/members",
        f"/network/team-members/{net.team_member.pk}/leave",
        f"/network/coverage?place={world.a.place.pk}",
        f"/network/coverage?grid={world.a.grid.pk}",
    ]
    for url in invisible:
        method, body = calls[url]
        response = send(client, method, f"{API}{url}", body)
        assert response.status_code == 404, url
    assert snapshot() == before
    # Their own building's coverage and contacts are theirs.
    assert client.get(f"{API}/network/coverage").json()["area"]["id"] == world.a.building.pk
    assert client.get(f"{API}/network/contacts/{net.contact.pk}").status_code == 200


def test_the_street_sees_but_does_not_manage_or_log(world, net, as_user):
    client = as_user(world.street_admin)
    calls = endpoints(world, net)
    before = snapshot()
    for method, url, body in calls:
        response = send(client, method, f"{API}{url}", body)
        expected = 403 if method == "post" else 200
        assert response.status_code == expected, (method, url, response.content)
    assert snapshot() == before
    assert client.get(f"{API}/network/people").json()["count"] == 3  # both communities


def test_the_grid_worker_logs_visits_in_their_grid(world, net, as_user):
    client = as_user(world.grid_worker)
    body = {"kind": "visit", "place": world.a.dwelling.pk, "method": "doorstep"}
    assert send(client, "post", f"{API}/network/contacts", body).status_code == 201
    # Other buildings of the community are in the other grid: out of sight.
    elsewhere = Place.objects.get(parent=world.a.other_building, code="101")
    body = {"kind": "visit", "place": elsewhere.pk, "method": "doorstep"}
    assert send(client, "post", f"{API}/network/contacts", body).status_code == 404
    assert client.get(f"{API}/network/coverage?grid={world.a.grid.pk}").status_code == 200
    assert client.get(f"{API}/network/coverage?grid={world.a.grid2.pk}").status_code == 404
    # People are kept per community: a grid worker sees none, but may see the list (empty).
    assert client.get(f"{API}/network/people").json()["count"] == 0
    assert client.get(f"{API}/network/people/{net.person.pk}").status_code == 404


def test_a_bearer_token_works_like_the_session(world, net):
    _token, secret = issue_token(world.worker, world.worker, "走访同步")
    client = Client(HTTP_AUTHORIZATION=f"Bearer {secret}")
    assert client.get(f"{API}/network/people/{net.person.pk}").json()["name"] == "林建国"
    body = {"kind": "visit", "place": world.a.dwelling.pk, "method": "phone", "client_key": "t1"}
    assert send(client, "post", f"{API}/network/contacts", body).status_code == 201


# --- the whole flow ----------------------------------------------------------------------------------


def test_a_community_worker_runs_the_whole_flow(world, roster, as_user):
    worker = as_user(world.worker)
    login = make_user("new_chief")
    added = send(
        worker,
        "post",
        f"{API}/network/people",
        {
            "community": world.a.place.pk,
            "resident": roster.son.pk,
            "user_id": login.pk,
            "phone": "139 1234 5678",
            "skills": "水电维修",
        },
    )
    assert added.status_code == 201, added.content
    person = added.json()
    assert person["name"] == "曾志明"  # the resident's name
    assert person["resident_id"] == roster.son.pk and person["user_id"] == login.pk
    assert person["phone_masked"] == "139****5678" and "13912345678" not in added.content.decode()
    assert person["may_manage"] is True and person["chiefs"] == []

    recruited = send(
        worker, "post", f"{API}/network/chiefs", {"person": person["id"], "kind": "building"}
    )
    assert recruited.status_code == 201, recruited.content
    chief = recruited.json()
    assert chief["status"] == "candidate" and chief["next_statuses"] == ["formal", "retired"]
    again = send(
        worker, "post", f"{API}/network/chiefs", {"person": person["id"], "kind": "building"}
    )
    assert again.status_code == 200 and again.json()["id"] == chief["id"]
    c = chief["id"]

    formal = send(worker, "post", f"{API}/network/chiefs/{c}/decide", {"to_status": "formal"})
    assert formal.status_code == 200, formal.content
    assert formal.json()["status"] == "formal" and formal.json()["serving"] is True
    building = world.a.other_building
    assigned = send(worker, "post", f"{API}/network/chiefs/{c}/assign", {"building": building.pk})
    assert assigned.status_code == 201, assigned.content
    assignment = assigned.json()
    assert assignment["building_name"] == building.name and assignment["active"] is True
    grant = Grant.objects.get(user=login, role=Role.CHIEF, place=building)
    assert grant.revoked_at is None
    repeat = send(worker, "post", f"{API}/network/chiefs/{c}/assign", {"building": building.pk})
    assert repeat.status_code == 200 and repeat.json()["id"] == assignment["id"]

    # The new chief now sees their building.
    mine = as_user(login).get(f"{API}/network/my-buildings").json()
    assert [b["id"] for b in mine] == [building.pk]

    detail = worker.get(f"{API}/network/chiefs/{c}").json()
    assert [d["to_status"] for d in detail["decisions"]] == ["candidate", "formal"]
    assert detail["decisions"][1]["decided_by_name"] == "worker"
    assert [a["id"] for a in detail["assignments"]] == [assignment["id"]]
    assert worker.get(f"{API}/network/people/{person['id']}").json()["chiefs"] == [
        {"id": c, "kind": "building", "status": "formal"}
    ]

    retired = send(
        worker, "post", f"{API}/network/chiefs/{c}/decide", {"to_status": "retired", "note": "搬走"}
    )
    assert retired.status_code == 200
    assert retired.json()["status"] == "retired" and retired.json()["serving"] is False
    assert retired.json()["assignments"][0]["active"] is False
    grant.refresh_from_db()
    assert grant.revoked_at is not None
    assert as_user(login).get(f"{API}/network/my-buildings").status_code == 404

    # Association and team, joined and left.
    made = send(
        worker,
        "post",
        f"{API}/network/associations",
        {"community": world.a.place.pk, "compound": world.a.compound.pk, "name": "花园街坊会"},
    )
    assert made.status_code == 201, made.content
    a_id = made.json()["id"]
    assert made.json()["compound_id"] == world.a.compound.pk and made.json()["members"] == 0
    joined = send(
        worker,
        "post",
        f"{API}/network/associations/{a_id}/members",
        {"person": person["id"], "role": "secretary"},
    )
    assert joined.status_code == 201 and joined.json()["role"] == "secretary"
    assert worker.get(f"{API}/network/associations/{a_id}").json()["members"] == 1
    left = send(worker, "post", f"{API}/network/association-members/{joined.json()['id']}/leave")
    assert left.status_code == 200 and left.json()["left_on"] == str(timezone.localdate())
    shown = worker.get(f"{API}/network/associations/{a_id}").json()
    assert shown["members"] == 0 and [m["person_id"] for m in shown["people"]] == [person["id"]]

    team = send(
        worker,
        "post",
        f"{API}/network/teams",
        {"community": world.a.place.pk, "name": "爱心车队", "kind": "drivers"},
    )
    assert team.status_code == 201 and team.json()["kind"] == "drivers"
    t_id = team.json()["id"]
    tm = send(
        worker,
        "post",
        f"{API}/network/teams/{t_id}/members",
        {"person": person["id"], "leader": True},
    )
    assert tm.status_code == 201 and tm.json()["leader"] is True
    listed = worker.get(f"{API}/network/teams").json()
    assert {t["id"]: t["members"] for t in listed["items"]} == {t_id: 1}
    gone = send(worker, "post", f"{API}/network/team-members/{tm.json()['id']}/leave")
    assert gone.status_code == 200 and gone.json()["left_on"]
    person_now = worker.get(f"{API}/network/people/{person['id']}").json()
    assert [m["association_id"] for m in person_now["associations"]] == [a_id]
    assert [m["team_id"] for m in person_now["teams"]] == [t_id]
    actions_done = set(AuditEntry.objects.values_list("action", flat=True))
    assert {
        "network.person.create",
        "network.chief.recruit",
        "network.chief.decide",
        "network.chief.assign",
        "network.association.join",
        "network.team.leave",
    } <= actions_done


def test_lane_chiefs_take_lanes(world, net, as_user):
    worker = as_user(world.worker)
    chief = send(worker, "post", f"{API}/network/chiefs", {"person": net.other.pk, "kind": "lane"})
    c = chief.json()["id"]
    send(worker, "post", f"{API}/network/chiefs/{c}/decide", {"to_status": "formal"})
    wrong = send(
        worker, "post", f"{API}/network/chiefs/{c}/assign", {"building": world.a.building.pk}
    )
    assert wrong.status_code == 400 and set(wrong.json()["errors"]) == {"lane"}
    street = send(worker, "post", f"{API}/network/chiefs/{c}/assign", {"lane": world.a.lane2.pk})
    assert street.status_code == 400 and set(street.json()["errors"]) == {"lane"}
    right = send(worker, "post", f"{API}/network/chiefs/{c}/assign", {"lane": world.a.lane.pk})
    assert right.status_code == 201 and right.json()["lane_name"] == world.a.lane.name
    ended = send(
        worker, "post", f"{API}/network/assignments/{right.json()['id']}/end", {"until": None}
    )
    assert ended.status_code == 200 and ended.json()["active"] is False
    # Ending it again changes nothing.
    again = send(worker, "post", f"{API}/network/assignments/{right.json()['id']}/end")
    assert again.status_code == 200 and again.json()["until"] == ended.json()["until"]


def test_the_chiefs_status_decides_what_is_possible(world, net, as_user):
    worker = english(world.worker)
    c = net.chief.pk
    before = snapshot()
    # Formal → candidate is not a step: 409 with the status, nothing changes.
    response = send(worker, "post", f"{API}/network/chiefs/{c}/decide", {"to_status": "candidate"})
    assert response.status_code == 409
    assert response.json() == {
        "detail": "A Formal chief cannot become Candidate.",
        "status": "formal",
    }
    # The same decision again changes nothing.
    same = send(worker, "post", f"{API}/network/chiefs/{c}/decide", {"to_status": "formal"})
    assert same.status_code == 200
    assert snapshot() == before
    send(worker, "post", f"{API}/network/chiefs/{c}/decide", {"to_status": "retired"})
    after = snapshot()
    response = send(
        worker, "post", f"{API}/network/chiefs/{c}/assign", {"building": world.a.building.pk}
    )
    assert response.status_code == 409 and response.json()["status"] == "retired"
    assert snapshot() == after
    back = send(worker, "post", f"{API}/network/chiefs/{c}/decide", {"to_status": "candidate"})
    assert back.status_code == 200 and back.json()["next_statuses"] == ["formal", "retired"]


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


# --- bad data ----------------------------------------------------------------------------------------


def test_bad_contacts_are_400_per_field_and_write_nothing(world, net, roster, as_user):
    client = as_user(world.worker)
    before = snapshot()
    audits = AuditEntry.objects.count()
    future = (timezone.now() + 2 * DAY).isoformat()
    bad = {
        "kind": "visit",
        "place": world.a.building.pk,  # a visit is to a dwelling
        "at": future,
        "attendance": -1,
        "dwellings": [world.b.dwelling.pk],  # not in the worker's area
        "needs": [{"category": "castle", "description": "城堡塌了"}],
        "client_key": "bad-1",
    }
    response = send(client, "post", f"{API}/network/contacts", bad)
    assert response.status_code == 400, response.content
    errors = response.json()["errors"]
    assert set(errors) == {"place", "at", "method", "attendance", "dwellings", "needs.0.category"}
    assert all(isinstance(m, str) and m for ms in errors.values() for m in ms)
    assert response.json()["detail"]
    # The rules of the case taken in are the workflow's.
    short = {
        "kind": "visit",
        "place": world.a.dwelling.pk,
        "method": "home",
        "needs": [{"category": "lift", "description": "坏"}],
        "client_key": "bad-2",
    }
    response = send(client, "post", f"{API}/network/contacts", short)
    assert response.status_code == 400 and set(response.json()["errors"]) == {"needs.0.description"}
    old = {
        "kind": "patrol",
        "place": world.a.place.pk,
        "at": (timezone.now() - 400 * DAY).isoformat(),
        "summary": "x" * 4001,
        "needs": [
            {"category": "lift", "description": "电梯停运两天了", "place": world.b.building.pk}
        ],
    }
    response = send(client, "post", f"{API}/network/contacts", old)
    assert response.status_code == 400
    assert set(response.json()["errors"]) == {"at", "summary", "needs.0.place"}
    # Not the schema at all: 422.
    for wrong in (
        {"kind": "party", "place": world.a.dwelling.pk},
        {"kind": "visit", "place": world.a.dwelling.pk, "method": "pigeon"},
        {"kind": "visit"},
        {"kind": "visit", "place": world.a.dwelling.pk, "needs": [{"category": "lift"}]},
    ):
        assert send(client, "post", f"{API}/network/contacts", wrong).status_code == 422, wrong
    assert snapshot() == before
    assert AuditEntry.objects.count() == audits
    assert not Contact.objects.filter(client_key__startswith="bad").exists()


def test_bad_network_data_is_400_per_field_and_writes_nothing(world, net, roster, as_user):
    client = as_user(world.worker)
    before = snapshot()
    a = world.a.place.pk
    cases: list[tuple[str, dict[str, Any], set[str]]] = [
        ("/network/people", {"community": a, "name": " ", "phone": "12345"}, {"name", "phone"}),
        ("/network/people", {"community": a, "resident": roster.neighbour_b.pk}, {"resident"}),
        ("/network/people", {"community": a, "name": "某人", "user_id": 999999}, {"user_id"}),
        ("/network/people", {"community": world.a.building.pk, "name": "某人"}, {"community"}),
        ("/network/people", {"community": a, "name": "长" * 51}, {"name"}),
        (
            f"/network/chiefs/{net.chief.pk}/decide",
            {"to_status": "backbone", "on": str(timezone.localdate() + DAY)},
            {"on"},
        ),
        (
            f"/network/chiefs/{net.chief.pk}/decide",
            {"to_status": "backbone", "on": "2000-01-01"},
            {"on"},
        ),
        (f"/network/chiefs/{net.chief.pk}/assign", {"building": world.b.building.pk}, {"building"}),
        (f"/network/chiefs/{net.chief.pk}/assign", {"building": world.a.dwelling.pk}, {"building"}),
        (f"/network/chiefs/{net.chief.pk}/assign", {}, {"building"}),
        (f"/network/chiefs/{net.chief.pk}/assign", {"lane": world.b.lane.pk}, {"lane"}),
        (f"/network/assignments/{net.assignment.pk}/end", {"until": "2000-01-01"}, {"until"}),
        ("/network/chiefs", {"person": net.other.pk, "kind": "lane", "on": "2999-01-01"}, {"on"}),
        ("/network/associations", {"community": a, "name": "  "}, {"name"}),
        (
            "/network/associations",
            {"community": a, "name": "乙花园会", "compound": world.b.compound.pk},
            {"compound"},
        ),
        (
            "/network/associations",
            {"community": a, "name": "楼会", "compound": world.a.building.pk},
            {"compound"},
        ),
        (
            f"/network/associations/{net.association.pk}/members",
            {"person": net.theirs.pk},
            {"person"},
        ),
        (f"/network/association-members/{net.member.pk}/leave", {"on": "2000-01-01"}, {"on"}),
        ("/network/teams", {"community": a, "name": "", "kind": "women"}, {"name"}),
        (f"/network/teams/{net.team.pk}/members", {"person": 999999}, {"person"}),
        (f"/network/team-members/{net.team_member.pk}/leave", {"on": "2000-01-01"}, {"on"}),
    ]
    for url, body, fields in cases:
        response = send(client, "post", f"{API}{url}", body)
        assert response.status_code == 400, (url, body, response.content)
        assert set(response.json()["errors"]) == fields, (url, response.json())
        assert response.json()["detail"]
    # A resident already in the network, a login already in it.
    person = actions.add_person(world.worker, world.a.place, name="单桂芳", resident=roster.grandma)
    before = snapshot()
    again = send(
        client, "post", f"{API}/network/people", {"community": a, "resident": roster.grandma.pk}
    )
    assert again.status_code == 400 and set(again.json()["errors"]) == {"resident"}
    assert person.pk
    for url, body in (
        ("/network/chiefs", {"person": net.other.pk, "kind": "mayor"}),
        (f"/network/chiefs/{net.chief.pk}/decide", {"to_status": "king"}),
        ("/network/teams", {"community": a, "name": "队", "kind": "choir"}),
        (
            f"/network/associations/{net.association.pk}/members",
            {"person": net.other.pk, "role": "boss"},
        ),
        ("/network/people", {"name": "没有社区"}),
    ):
        assert send(client, "post", f"{API}{url}", body).status_code == 422, (url, body)
    assert snapshot() == before


# --- reading: masking, coverage ------------------------------------------------------------------------


def test_phone_numbers_are_masked_everywhere(world, net, as_user):
    for who in ("worker", "street_admin"):
        client = as_user(world.users[who])
        for url in (
            "/network/people",
            f"/network/people/{net.person.pk}",
            "/network/chiefs",
            f"/network/chiefs/{net.chief.pk}",
        ):
            response = client.get(f"{API}{url}")
            body = response.content.decode()
            assert MASKED in body, (who, url)
            assert PHONE not in body and "+86" not in body, (who, url)
    person = as_user(world.worker).get(f"{API}/network/people/{net.person.pk}").json()
    assert person["phone_masked"] == MASKED and "phone" not in person
    # The chief sees the masked number of the chiefs of their building too.
    chief = as_user(world.chief).get(f"{API}/network/chiefs/{net.chief.pk}").json()
    assert chief["phone_masked"] == MASKED


def _resident(name: str, body17: str, home: Place, tags: tuple[str, ...] = ()) -> Any:
    resident = people.create_resident(
        None,
        {"name": name, "id_number": valid_id(body17)},
        home=home,
        relation="owner",
        is_head=True,
    )
    if tags:
        people.set_tags(None, resident, list(tags), sensitive_allowed=True)
    return resident


def _visit(actor: Any, dwelling: Place, days_ago: int) -> None:
    actions.log_contact(
        actor,
        actions.ContactInput(
            kind="visit",
            place=dwelling,
            method="doorstep",
            at=timezone.now() - days_ago * DAY,
        ),
    )


@pytest.fixture
def households(world, roster) -> dict[str, Place]:
    """Community a's six dwellings: four with residents, reached 0, 40 and 100 days ago."""
    a = world.a
    d = {
        "unit101": a.dwelling,  # grandma and her son (from the roster)
        "unit201": Place.objects.get(parent=a.unit, code="201"),
        "other101": Place.objects.get(parent=a.other_building, code="101"),
        "other201": Place.objects.get(parent=a.other_building, code="201"),  # empty
        "loose101": Place.objects.get(parent=a.loose_building, code="101"),
        "loose201": Place.objects.get(parent=a.loose_building, code="201"),  # empty
    }
    _resident("赵一", "44010619900101123", d["unit201"])
    _resident("钱二", "44010619850101123", d["other101"])
    _resident("孙三", "44010619920101123", d["loose101"], tags=("hardship",))
    _visit(world.worker, d["unit101"], 0)
    _visit(world.worker, d["other101"], 40)
    _visit(world.worker, d["loose101"], 100)
    _visit(world.worker, d["other201"], 1)  # nobody lives there: not a household
    _visit(world.neighbour, world.b.dwelling, 1)  # the other community
    return d


def test_coverage_matches_a_count_by_hand(world, households, as_user):
    client = as_user(world.worker)
    report = client.get(f"{API}/network/coverage?place={world.a.place.pk}").json()
    assert report["area"] == {"kind": "community", "id": world.a.place.pk, "name": "甲社区"}
    assert report["days"] == 90
    assert report["total"] == {"households": 4, "reached": 2, "unreached": 2, "rate": 0.5}
    rows = {r["id"]: (r["households"], r["reached"]) for r in report["rows"]}
    assert rows == {
        world.a.building.pk: (2, 1),
        world.a.other_building.pk: (1, 1),
        world.a.loose_building.pk: (1, 0),
    }
    assert {r["kind"] for r in report["rows"]} == {"building"}
    grids = {r["id"]: (r["households"], r["reached"]) for r in report["by_grid"]}
    assert grids == {world.a.grid.pk: (3, 1), world.a.grid2.pk: (1, 1)}
    # Longer and shorter windows.
    longer = client.get(f"{API}/network/coverage?place={world.a.place.pk}&days=120").json()
    assert (longer["total"]["households"], longer["total"]["reached"]) == (4, 3)
    shorter = client.get(f"{API}/network/coverage?place={world.a.place.pk}&days=30").json()
    assert shorter["total"]["reached"] == 1
    # A grid, a lane, a building.
    grid = client.get(f"{API}/network/coverage?grid={world.a.grid.pk}").json()
    assert grid["area"]["kind"] == "grid" and grid["total"]["households"] == 3
    assert {r["id"] for r in grid["rows"]} == {world.a.building.pk, world.a.loose_building.pk}
    lane = client.get(f"{API}/network/coverage?lane={world.a.lane2.pk}").json()
    assert lane["total"] == {"households": 1, "reached": 1, "unreached": 0, "rate": 1.0}
    building = client.get(f"{API}/network/coverage?place={world.a.building.pk}").json()
    assert building["total"]["households"] == 2 and building["rows"] == []
    # The street: one row per community.
    street = as_user(world.street_admin).get(f"{API}/network/coverage").json()
    assert street["area"]["id"] == world.street.pk
    assert {r["id"]: (r["households"], r["reached"]) for r in street["rows"]} == {
        world.a.place.pk: (4, 2),
        world.b.place.pk: (1, 1),
    }
    compound = client.get(f"{API}/network/coverage?place={world.a.compound.pk}&days=1").json()
    assert (compound["total"]["households"], compound["total"]["reached"]) == (3, 1)
    # Nothing to count: no rate rather than 0 %.
    assert as_user(world.neighbour).get(
        f"{API}/network/coverage?place={world.b.loose_building.pk}"
    ).json()["total"] == {"households": 0, "reached": 0, "unreached": 0, "rate": None}
    for query in (
        "days=0",
        "days=400",
        f"place={world.a.place.pk}&grid={world.a.grid.pk}",
        "place=abc",
    ):
        assert client.get(f"{API}/network/coverage?{query}").status_code == 422, query
    # A dwelling is not an area; places out of scope are 404.
    assert client.get(f"{API}/network/coverage?place={world.a.dwelling.pk}").status_code == 404
    assert client.get(f"{API}/network/coverage?place={world.b.place.pk}").status_code == 404


def test_unreached_households_show_only_the_tags_one_may_see(world, households, as_user):
    url = f"{API}/network/coverage/unreached?place={world.a.place.pk}"
    worker = as_user(world.worker).get(url).json()
    assert worker["count"] == 2
    items = worker["items"]
    # The household needing care (a sensitive tag the worker may see) comes first.
    assert [i["dwelling_id"] for i in items] == [
        households["loose101"].pk,
        households["unit201"].pk,
    ]
    loose = items[0]
    assert loose["care"] is True and len(loose["tags"]) == 1 and loose["head"] == "孙三"
    assert loose["building_id"] == world.a.loose_building.pk
    assert loose["building_name"] == world.a.loose_building.name
    assert loose["last_reached"] is not None
    assert items[1]["care"] is False and items[1]["tags"] == [] and items[1]["last_reached"] is None
    # The street sees the same households, without the sensitive tag (nor the order it gives).
    street = as_user(world.street_admin).get(url).json()
    assert street["count"] == 2
    assert all(i["tags"] == [] and i["care"] is False for i in street["items"])
    assert "困难" not in json.dumps(street, ensure_ascii=False)
    # The grid worker sees sensitive tags in their grid.
    grid = (
        as_user(world.grid_worker)
        .get(f"{API}/network/coverage/unreached?grid={world.a.grid.pk}")
        .json()
    )
    assert grid["count"] == 2 and grid["items"][0]["care"] is True
    # Paging.
    page = as_user(world.worker).get(f"{url}&limit=1&offset=1").json()
    assert page["count"] == 2 and [i["dwelling_id"] for i in page["items"]] == [
        households["unit201"].pk
    ]
    longer = as_user(world.worker).get(f"{url}&days=120").json()
    assert [i["dwelling_id"] for i in longer["items"]] == [households["unit201"].pk]
    for query in ("limit=0", "limit=1000", "offset=-1"):
        assert as_user(world.worker).get(f"{url}&{query}").status_code == 422, query


def test_my_buildings_for_a_chief(world, households, as_user):
    from linli.cases import workflow

    for description in ("楼道灯不亮了", "电梯门关不上"):
        workflow.take_in(
            world.worker,
            workflow.Intake(
                channel="phone",
                category=Category.objects.get(code="lighting"),
                place=world.a.building,
                description=description,
            ),
        )
    done = workflow.take_in(
        world.worker,
        workflow.Intake(
            channel="phone",
            category=Category.objects.get(code="lighting"),
            place=world.a.building,
            description="已经处理的事",
        ),
    )
    workflow.reject(world.worker, done.pk, "重复")
    mine = as_user(world.chief).get(f"{API}/network/my-buildings").json()
    assert mine == [
        {
            "id": world.a.building.pk,
            "name": world.a.building.name,
            "days": 90,
            "open_cases": 2,
            "households": 2,
            "reached": 1,
            "unreached": 1,
            "rate": 0.5,
        }
    ]
    # The lane chief's buildings are those on their lane.
    lane = as_user(world.lane_chief).get(f"{API}/network/my-buildings?days=120").json()
    assert {b["id"]: (b["households"], b["reached"]) for b in lane} == {
        world.a.building.pk: (2, 1),
        world.a.loose_building.pk: (1, 1),
    }
    # Someone who is no chief has no buildings.
    assert as_user(world.worker).get(f"{API}/network/my-buildings").json() == []


# --- the schema --------------------------------------------------------------------------------------


def test_openapi_declares_the_errors_of_every_network_endpoint():
    from linli.api import api

    schema = json.loads(json.dumps(api.get_openapi_schema()))
    ops = {
        (path.removeprefix(API), method): op
        for path, methods in schema["paths"].items()
        for method, op in methods.items()
        if "network" in op.get("tags", [])
    }
    assert len(ops) == 25
    for (path, method), op in ops.items():
        codes = set(op["responses"])
        assert {"401", "404"} <= codes, (path, method)
        if method == "post":
            assert {"400", "403", "422"} <= codes, path
        if path.endswith(("/decide", "/assign")):
            conflict = op["responses"]["409"]["content"]["application/json"]["schema"]
            assert conflict["$ref"].endswith("/ChiefConflict")
    assert {"200", "201"} <= set(ops[("/network/contacts", "post")]["responses"])
    logged = schema["components"]["schemas"]["ContactLoggedOut"]["properties"]
    assert "repeated" in logged and "case_codes" in logged
