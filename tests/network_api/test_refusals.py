"""Bad data is refused per field and nothing is written; every error is declared in the schema."""

from __future__ import annotations

import json
from typing import Any

import pytest
from django.utils import timezone

from linli.core.models import AuditEntry
from linli.network import actions
from linli.network.models import (
    Contact,
)
from tests.helpers.api import send
from tests.network_api.helpers import API, DAY, snapshot

pytestmark = pytest.mark.django_db


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
        (
            "/network/people",
            {"community": a, "name": "某人", "login_phone": "13900009999"},
            {"login_phone"},
        ),
        (
            "/network/people",
            {"community": a, "name": "某人", "login_phone": str(world.worker.pk)},
            {"login_phone"},
        ),
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
