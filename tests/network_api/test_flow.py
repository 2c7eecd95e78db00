"""A community worker's whole flow through the network API, and the chiefs' lanes and statuses."""

from __future__ import annotations

import pytest
from django.utils import timezone

from linli.accounts.models import Grant
from linli.accounts.roles import Role
from linli.core.models import AuditEntry
from tests.conftest import make_user
from tests.helpers.api import english, send
from tests.network_api.helpers import API, snapshot

pytestmark = pytest.mark.django_db


# --- the whole flow ----------------------------------------------------------------------------------


def test_a_community_worker_runs_the_whole_flow(world, roster, as_user):
    worker = as_user(world.worker)
    login = make_user("new_chief", phone="13912340001")
    added = send(
        worker,
        "post",
        f"{API}/network/people",
        {
            "community": world.a.place.pk,
            "resident": roster.son.pk,
            "login_phone": "139 1234 0001",
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
