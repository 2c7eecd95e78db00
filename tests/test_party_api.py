"""The party API: the dual report end to end through /api/v1/, scoped per role, masked, every
refusal answered with its declared status."""

from __future__ import annotations

import json
from typing import Any

import pytest
from django.test import Client
from django.utils import timezone

from linli.accounts.actions import issue_token
from linli.party import actions
from linli.party.models import PartyMember, Post
from tests.conftest import client_for
from tests.helpers.party import USCC_BANK, Party, build_party

pytestmark = pytest.mark.django_db


@pytest.fixture
def party(world) -> Party:
    return build_party(world)


API = "/api/v1"

FORM = {
    "name": "张在职",
    "phone": "13912345678",
    "unit_name": "某银行支行",
    "uscc": USCC_BANK,
    "password": "a-long-pass-phrase-9",
}


def send(client: Client, method: str, url: str, body: Any = None) -> Any:
    if method == "get":
        return client.get(API + url)
    return client.post(API + url, data=json.dumps(body or {}), content_type="application/json")


def test_the_dual_report_through_the_api(world, party):
    worker = client_for(world.worker)
    reg = actions.register(world.a.place, FORM)
    listed = send(worker, "get", "/party/registrations").json()
    assert listed["count"] == 1 and listed["items"][0]["phone_masked"] == "139****5678"
    assert "13912345678" not in json.dumps(listed)
    approved = send(worker, "post", f"/party/registrations/{reg.pk}/approve")
    assert approved.status_code == 200 and approved.json()["status"] == "approved"
    again = send(worker, "post", f"/party/registrations/{reg.pk}/approve")
    assert again.status_code == 200  # a retry is a no-op
    assert (
        send(worker, "post", f"/party/registrations/{reg.pk}/reject", {"reason": "x"}).status_code
        == 409
    )
    member = PartyMember.objects.get(phone_index=reg.phone_index)

    created = send(
        worker, "post", "/party/posts",
        {"community": world.a.place.pk, "kind": "task", "title": "义诊帮手", "capacity": 1},
    )  # fmt: skip
    assert created.status_code == 201
    post_id = created.json()["id"]
    # The new member logs in with a token and claims.
    assert member.user is not None
    _token, secret = issue_token(None, member.user, "phone app")
    phone = Client(HTTP_AUTHORIZATION=f"Bearer {secret}")
    posts = send(phone, "get", "/party/posts").json()
    assert post_id in [p["id"] for p in posts["items"]]
    claimed = send(phone, "post", f"/party/posts/{post_id}/claim")
    assert claimed.status_code == 201, claimed.content
    assert send(phone, "post", f"/party/posts/{post_id}/claim").status_code == 409
    # The place is gone for the next member.
    other = send(client_for(world.party_member), "post", f"/party/posts/{post_id}/claim")
    assert other.status_code == 409 and Post.objects.get(pk=post_id).claimed == 1
    claim_id = claimed.json()["id"]
    today = timezone.localdate().isoformat()
    logged = send(
        phone, "post", f"/party/claims/{claim_id}/hours", {"served_on": today, "hours": "2.5"}
    )
    assert logged.status_code == 201 and logged.json()["status"] == "pending"
    assert (
        send(
            phone, "post", f"/party/claims/{claim_id}/hours", {"served_on": today, "hours": 30}
        ).status_code
        == 422
    )
    hours_id = logged.json()["id"]
    assert send(phone, "post", f"/party/hours/{hours_id}/confirm").status_code == 403
    confirmed = send(worker, "post", f"/party/hours/{hours_id}/confirm")
    assert confirmed.status_code == 200 and confirmed.json()["status"] == "confirmed"
    mine = send(phone, "get", "/party/hours?mine=true").json()
    assert [h["id"] for h in mine["items"]] == [hours_id]
    assert send(worker, "post", f"/party/members/{member.pk}/evaluations",
                {"period": timezone.localdate().strftime("%Y"), "grade": "excellent"}).status_code == 200  # fmt: skip

    record = send(client_for(world.partner), "get", f"/party/units/{member.unit_id}/record")
    assert record.status_code == 200
    rows = {r["name"]: r for r in record.json()["rows"]}
    assert rows["张在职"]["hours"] in ("2.5", 2.5) and rows["张在职"]["grade"] == "excellent"
    assert (
        rows["张在职"]["tasks"] == ["义诊帮手"] and rows["张在职"]["phone_masked"] == "139****5678"
    )
    assert (
        send(worker, "get", f"/party/units/{member.unit_id}/record?period=2026-13").status_code
        == 400
    )


def test_lists_are_scoped_and_masked(world, party):
    members = send(client_for(world.worker), "get", "/party/members").json()
    names = {m["name"] for m in members["items"]}
    assert names == {"吴越", "李建国"}
    assert {m["phone_masked"] for m in members["items"]} == {"137****0001", "137****0002"}
    assert "1370000000" not in json.dumps(members)
    assert {
        m["name"]
        for m in send(client_for(world.neighbour), "get", "/party/members").json()["items"]
    } == {"乙社区党员"}
    assert send(client_for(world.street_admin), "get", "/party/members").json()["count"] == 3
    transferred = send(client_for(world.worker), "get", "/party/members?transferred_in=true").json()
    assert [m["name"] for m in transferred["items"]] == ["李建国"]
    orgs = send(client_for(world.worker), "get", "/party/orgs").json()
    assert {o["name"]: o["in_compound"] for o in orgs} == {
        "甲社区党委": False,
        "甲社区花园小区党支部": True,
    }
    assert orgs[1]["secretary_name"] == "李建国" or orgs[0]["secretary_name"] == "李建国"


@pytest.mark.parametrize(
    "method,url,body",
    [
        ("get", "/party/orgs", None),
        ("get", "/party/members", None),
        ("get", "/party/registrations", None),
        ("get", "/party/posts", None),
        ("get", "/party/claims", None),
        ("get", "/party/hours", None),
        ("get", "/party/units", None),
    ],
)
def test_lists_are_404_for_the_outsider(world, party, method, url, body):
    assert send(client_for(world.outsider), method, url, body).status_code == 404


def test_objects_are_404_outside_scope(world, party):
    made = actions.claim(world.party_member, party.task.pk)
    hours = actions.log_hours(world.party_member, made.pk, served_on=timezone.localdate(), hours=1)
    reg = actions.register(world.a.place, FORM)
    routes = [
        ("get", f"/party/members/{party.member.pk}", None),
        ("post", f"/party/members/{party.member.pk}/evaluations", {"period": "2026", "grade": "good"}),
        ("post", f"/party/registrations/{reg.pk}/approve", None),
        ("post", f"/party/registrations/{reg.pk}/reject", {"reason": "x"}),
        ("post", "/party/posts", {"community": world.a.place.pk, "kind": "task", "title": "x", "capacity": 1}),
        ("get", f"/party/posts/{party.task.pk}", None),
        ("post", f"/party/posts/{party.task.pk}/close", None),
        ("post", f"/party/posts/{party.task.pk}/claim", None),
        ("post", f"/party/claims/{made.pk}/withdraw", None),
        ("post", f"/party/claims/{made.pk}/hours", {"served_on": "2026-01-01", "hours": 1}),
        ("post", f"/party/hours/{hours.pk}/confirm", None),
        ("post", f"/party/hours/{hours.pk}/reject", {"reason": "x"}),
        ("get", f"/party/units/{party.other_unit.pk}/record", None),
    ]  # fmt: skip
    for user in (world.outsider, world.neighbour, world.chief, world.partner):
        client = client_for(user)
        for method, url, body in routes:
            response = send(client, method, url, body)
            assert response.status_code == 404, (user.username, url, response.status_code)
    # Seen but not theirs to do: 403.
    admin = client_for(world.street_admin)
    assert send(admin, "post", f"/party/posts/{party.task.pk}/close").status_code == 403
    assert send(admin, "post", f"/party/hours/{hours.pk}/confirm").status_code == 403
    assert send(admin, "post", "/party/posts", routes[4][2]).status_code == 403
    assert (
        send(client_for(world.worker), "post", f"/party/posts/{party.task.pk}/claim").status_code
        == 403
    )


def test_every_error_status_is_declared():
    from linli.api import api

    schema = api.get_openapi_schema()
    for path, item in schema["paths"].items():
        if not path.startswith("/api/v1/party"):
            continue
        for method, operation in item.items():
            codes = {str(code) for code in operation["responses"]}
            assert {"401", "404"} <= codes, (method, path)
            if method == "post":
                assert "403" in codes, (method, path)


def test_anonymous_callers_get_401(world, party, client):
    from linli.api import api

    for path, item in api.get_openapi_schema()["paths"].items():
        if not path.startswith("/api/v1/party"):
            continue
        url = (
            path.replace("{member_id}", str(party.member.pk))
            .replace("{post_id}", str(party.task.pk))
            .replace("{unit_id}", str(party.unit.pk))
            .replace("{registration_id}", "1")
            .replace("{claim_id}", "1")
            .replace("{hours_id}", "1")
            .replace("{org_id}", str(party.committee.pk))
        )
        for method in item:
            response = getattr(client, method)(url, content_type="application/json")
            assert response.status_code == 401, (method, url, response.status_code)


def test_organisations_members_and_contacts_through_the_api(world, party):
    from linli.accounts.models import User
    from linli.party.models import PartyOrg, UnitContact

    worker = client_for(world.worker)
    made = send(
        worker,
        "post",
        "/party/orgs",
        {"community": world.a.place.pk, "kind": "branch", "name": "二号楼党小组支部",
         "place": world.a.compound.pk, "parent": party.committee.pk},
    )  # fmt: skip
    assert made.status_code == 201 and made.json()["in_compound"] is True
    bad = send(
        worker,
        "post",
        "/party/orgs",
        {
            "community": world.a.place.pk,
            "kind": "branch",
            "name": "x",
            "place": world.b.compound.pk,
        },
    )
    assert bad.status_code == 400
    org_id = made.json()["id"]
    named = send(worker, "post", f"/party/orgs/{org_id}/secretary", {"member_id": party.member.pk})
    assert named.status_code == 200 and named.json()["secretary_name"] == "吴越"
    added = send(
        worker,
        "post",
        "/party/members",
        {"community": world.a.place.pk, "name": "迁入党员", "kind": "registered",
         "phone": "13700000077", "org": org_id, "transferred_in_on": "2025-03-01",
         "transferred_from": "某县委组织部"},
    )  # fmt: skip
    assert added.status_code == 201
    assert added.json()["phone_masked"] == "137****0077"
    assert added.json()["transferred_in_on"] == "2025-03-01"
    twice = send(
        worker,
        "post",
        "/party/members",
        {"community": world.a.place.pk, "name": "重复", "kind": "floating", "phone": "13700000077"},
    )
    assert twice.status_code == 400 and "phone" in twice.json()["errors"]
    contact = User.objects.create_user("clinic-contact", password="x", phone="13611112222")
    # A login is named by its mobile number: an id or a username that can be walked through is not
    # enough to attach an account, and a number nobody has is a field error.
    for walked in (
        {"phone": str(contact.pk)},
        {"phone": "clinic-contact"},
        {"phone": "13699990000"},
    ):
        refused = send(worker, "post", f"/party/units/{party.unit.pk}/contacts", walked)
        assert refused.status_code == 400 and "phone" in refused.json()["errors"]
    assert send(worker, "post", f"/party/units/{party.unit.pk}/contacts", {"user_id": contact.pk}).status_code == 422  # fmt: skip
    assert not UnitContact.objects.filter(user=contact).exists()
    linked = send(
        worker, "post", f"/party/units/{party.unit.pk}/contacts", {"phone": "136 1111 2222"}
    )
    assert linked.status_code == 201
    assert UnitContact.objects.filter(user=contact, unit=party.unit).exists()
    # Out of scope or only seen.
    neighbour = client_for(world.neighbour)
    assert (
        send(neighbour, "post", f"/party/orgs/{org_id}/secretary", {"member_id": None}).status_code
        == 404
    )
    assert send(neighbour, "post", "/party/orgs",
                {"community": world.a.place.pk, "kind": "branch", "name": "x"}).status_code == 404  # fmt: skip
    admin = client_for(world.street_admin)
    assert send(admin, "post", "/party/members",
                {"community": world.a.place.pk, "name": "x", "kind": "floating"}).status_code == 403  # fmt: skip
    assert (
        send(admin, "post", f"/party/orgs/{org_id}/secretary", {"member_id": None}).status_code
        == 403
    )
    assert (
        send(
            admin, "post", f"/party/units/{party.unit.pk}/contacts", {"phone": "13611112222"}
        ).status_code
        == 403
    )
    assert PartyOrg.objects.get(pk=org_id).secretary_id == party.member.pk
