"""The roster API: scoped like the pages, masked by default, reveals audited, writes validated."""

from __future__ import annotations

import datetime
import json
from typing import Any

import pytest
from django.db import connection
from django.test import Client
from django.test.utils import CaptureQueriesContext

from linli.accounts.actions import issue_token
from linli.core.models import AuditEntry
from linli.people import demo
from linli.people.models import Membership, Resident, Status
from tests.conftest import ID_A, valid_id
from tests.helpers.api import send

pytestmark = pytest.mark.django_db

API = "/api/v1"


def endpoints(world, roster) -> list[tuple[str, str, Any]]:
    """Every roster endpoint, aimed at community a."""
    r = roster.grandma.pk
    return [
        ("get", f"{API}/residents", None),
        ("get", f"{API}/residents/{r}", None),
        ("post", f"{API}/residents/{r}/reveal", {"field": "phone", "reason": "回访核实号码"}),
        (
            "post",
            f"{API}/residents",
            {"name": "新住户", "id_type": "none", "home": world.a.dwelling.pk},
        ),
        ("patch", f"{API}/residents/{r}", {"ethnicity": "汉族"}),
        ("post", f"{API}/residents/{r}/move-out", {"on": "2026-01-05"}),
        ("post", f"{API}/residents/{r}/death", {"on": "2026-01-05"}),
        ("put", f"{API}/residents/{r}/tags", {"tags": ["veteran"]}),
        ("get", f"{API}/places/{world.a.building.pk}/households", None),
        ("get", f"{API}/care-tags", None),
    ]


def test_the_outsider_gets_404_everywhere_and_nothing_changes(world, roster, as_user):
    client = as_user(world.outsider)
    for method, url, body in endpoints(world, roster):
        assert send(client, method, url, body).status_code == 404, (method, url)
    grandma = Resident.objects.get(pk=roster.grandma.pk)
    assert grandma.status == Status.ACTIVE and grandma.ethnicity == ""
    assert Resident.objects.count() == 3
    assert not AuditEntry.objects.filter(action__in=["resident.reveal", "resident.view"]).exists()


def test_anonymous_gets_401_everywhere(world, roster, client):
    for method, url, body in endpoints(world, roster):
        assert send(client, method, url, body).status_code == 401, (method, url)


def test_the_neighbouring_worker_gets_404_on_community_a(world, roster, as_user):
    client = as_user(world.neighbour)
    for method, url, body in endpoints(world, roster)[1:-1]:
        assert send(client, method, url, body).status_code == 404, (method, url)
    # Their list holds their own community only; a place of community a is out of sight.
    names = [r["name"] for r in client.get(f"{API}/residents").json()["items"]]
    assert names == ["王小红"]
    assert client.get(f"{API}/residents?place={world.a.place.pk}").status_code == 404
    assert client.get(f"{API}/residents?q=单桂芳").json()["items"] == []
    assert client.get(f"{API}/residents?q={ID_A}").json()["items"] == []


def test_list_is_masked_and_hides_sensitive_tags_from_the_chief(world, roster, as_user):
    items = as_user(world.chief).get(f"{API}/residents").json()["items"]
    by_name = {r["name"]: r for r in items}
    assert set(by_name) == {"单桂芳", "曾志明"}
    grandma = by_name["单桂芳"]
    assert grandma["id_number_masked"] == "1101**********002X"
    assert grandma["phone_masked"] == "138****5678"
    assert grandma["tags"] == ["living_alone"]  # hardship is sensitive
    assert grandma["derived_tags"] == ["aged_60"]
    assert grandma["birth_date"] == "1949-12-31" and grandma["gender"] == "F"
    body = json.dumps(items)
    assert ID_A not in body and "13812345678" not in body and "hardship" not in body
    worker_view = as_user(world.worker).get(f"{API}/residents?q=单桂芳").json()["items"]
    assert worker_view[0]["tags"] == ["living_alone", "hardship"]


def test_street_admin_sees_the_street_masked_without_sensitive_tags(world, roster, as_user):
    client = as_user(world.street_admin)
    items = client.get(f"{API}/residents").json()["items"]
    assert {r["name"] for r in items} == {"单桂芳", "曾志明", "王小红"}
    assert all("hardship" not in r["tags"] for r in items)
    url = f"{API}/residents/{roster.grandma.pk}/reveal"
    assert (
        send(client, "post", url, {"field": "phone", "reason": "核对联系方式"}).status_code == 403
    )


def test_filters_place_search_tag_status(world, roster, as_user):
    client = as_user(world.worker)

    def names(query: str) -> set[str]:
        response = client.get(f"{API}/residents?{query}")
        assert response.status_code == 200, response.content
        return {r["name"] for r in response.json()["items"]}

    assert names(f"place={world.a.building.pk}") == {"单桂芳", "曾志明"}
    assert names(f"place={world.a.other_building.pk}") == set()
    assert names("q=sgf") == names("q=dgf") == {"单桂芳"}  # 单: shan or dan
    assert names("q=zzm") == names("q=czm") == {"曾志明"}  # 曾: zeng or ceng
    assert names("q=138 1234 5678") == {"单桂芳"}
    assert names("tag=aged_60") == {"单桂芳"}
    assert names("tag=living_alone") == {"单桂芳"}
    assert names("tag=hardship") == {"单桂芳"}
    assert names("status=active") == {"单桂芳", "曾志明"}
    assert names("status=moved_out") == set()
    assert names(f"q=曾&place={world.a.dwelling.pk}") == {"曾志明"}


def test_bad_filters_get_a_clear_422(world, roster, as_user):
    chief = as_user(world.chief)
    for query in ("status=gone", "tag=castle", "place=abc"):
        response = chief.get(f"{API}/residents?{query}")
        assert response.status_code == 422, query
        assert response.json()["detail"][0]["loc"]
    # A sensitive tag does not exist for someone who may see sensitive tags nowhere.
    response = chief.get(f"{API}/residents?tag=hardship")
    assert response.status_code == 422
    assert "hardship" in response.json()["detail"][0]["msg"]


def test_lists_are_paginated(world, roster, as_user):
    client = as_user(world.worker)
    first = client.get(f"{API}/residents?limit=1").json()
    second = client.get(f"{API}/residents?limit=1&offset=1").json()
    assert first["count"] == second["count"] == 2
    assert len(first["items"]) == len(second["items"]) == 1
    assert first["items"][0]["id"] != second["items"][0]["id"]
    tags = client.get(f"{API}/care-tags?limit=3").json()
    assert len(tags["items"]) == 3 and tags["count"] == 11


def test_detail_is_masked_and_records_the_view(world, roster, as_user):
    response = as_user(world.chief).get(f"{API}/residents/{roster.grandma.pk}")
    assert response.status_code == 200
    data = response.json()
    assert (
        data["id_number_masked"] == "1101**********002X" and ID_A not in response.content.decode()
    )
    assert data["tags"] == ["living_alone"]
    assert data["may_reveal"] is False and data["may_edit"] is False
    assert data["memberships"] == [
        {
            "dwelling_id": world.a.dwelling.pk,
            "dwelling_name": world.a.dwelling.name,
            "relation": "owner",
            "is_head": True,
            "since": None,
            "until": None,
        }
    ]
    entry = AuditEntry.objects.get(action="resident.view")
    assert entry.actor == world.chief and entry.target_id == str(roster.grandma.pk)
    worker = as_user(world.worker).get(f"{API}/residents/{roster.grandma.pk}").json()
    assert worker["may_reveal"] is True and worker["tags"] == ["living_alone", "hardship"]


def test_reveal_works_for_the_worker_and_is_audited(world, roster, as_user):
    _token, secret = issue_token(world.worker, world.worker, "台账同步")
    client = Client(HTTP_AUTHORIZATION=f"Bearer {secret}")
    url = f"{API}/residents/{roster.grandma.pk}/reveal"
    response = send(client, "post", url, {"field": "id_number", "reason": "办理高龄补贴"})
    assert response.status_code == 200
    assert response.json() == {"field": "id_number", "value": ID_A}
    phone = send(client, "post", url, {"field": "phone", "reason": "电话回访"}).json()
    assert phone["value"] == "+8613812345678"
    entries = AuditEntry.objects.filter(action="resident.reveal").order_by("id")
    assert [(e.actor, e.data["field"], e.data["reason"]) for e in entries] == [
        (world.worker, "id_number", "办理高龄补贴"),
        (world.worker, "phone", "电话回访"),
    ]
    assert all(ID_A not in json.dumps(e.data) for e in entries)


def test_reveal_refused_without_the_right_or_a_reason(world, roster, as_user):
    url = f"{API}/residents/{roster.grandma.pk}/reveal"
    chief = send(as_user(world.chief), "post", url, {"field": "phone", "reason": "想看看号码"})
    assert chief.status_code == 403 and "detail" in chief.json()
    worker = as_user(world.worker)
    short = send(worker, "post", url, {"field": "phone", "reason": " 看 "})
    assert short.status_code == 400
    assert set(short.json()["errors"]) == {"reason"} and short.json()["detail"]
    assert send(worker, "post", url, {"field": "phone"}).status_code == 422
    assert send(worker, "post", url, {"field": "note", "reason": "办理业务"}).status_code == 422
    assert not AuditEntry.objects.filter(action="resident.reveal").exists()


def test_create_a_resident(world, roster, as_user):
    body = {
        "name": "  欧阳 小明 ",
        "id_number": valid_id("44010620150601003"),
        "phone": "199 0000 0001",
        "home": world.a.dwelling.pk,
        "relation": "family",
    }
    response = send(as_user(world.grid_worker), "post", f"{API}/residents", body)
    assert response.status_code == 201, response.content
    data = response.json()
    assert data["name"] == "欧阳 小明" and data["gender"] == "M"  # 17th digit odd
    assert data["birth_date"] == "2015-06-01" and data["derived_tags"] == ["child_14"]
    assert data["phone_masked"] == "199****0001" and data["home_id"] == world.a.dwelling.pk
    resident = Resident.objects.get(pk=data["id"])
    assert resident.phone == "+8619900000001"
    assert Membership.objects.get(resident=resident).relation == "family"
    assert AuditEntry.objects.filter(action="resident.create", target_id=str(resident.pk)).exists()


def test_create_is_refused_outside_the_edit_scope(world, roster, as_user):
    body = {"name": "新住户", "id_type": "none", "home": world.a.dwelling.pk}
    assert send(as_user(world.chief), "post", f"{API}/residents", body).status_code == 403
    assert send(as_user(world.neighbour), "post", f"{API}/residents", body).status_code == 404
    # The grid worker edits their grid only: the other building is in grid 2.
    other = world.a.other_building.descendants().filter(kind="dwelling").first()
    body["home"] = other.pk
    assert send(as_user(world.grid_worker), "post", f"{API}/residents", body).status_code == 404
    assert Resident.objects.count() == 3


def test_create_reports_every_bad_field(world, roster, as_user):
    client = as_user(world.worker)
    bad = {
        "name": " ",
        "id_number": ID_A[:-1] + "3",
        "phone": "12345",
        "home": world.a.dwelling.pk,
    }
    response = send(client, "post", f"{API}/residents", bad)
    assert response.status_code == 400
    errors = response.json()["errors"]
    assert set(errors) == {"name", "id_number", "phone"}
    assert all(isinstance(m, str) and m for ms in errors.values() for m in ms)
    # The same ID twice, a building as a home, a second head: refused with a reason.
    dup = {"name": "冒名", "id_number": ID_A, "home": world.a.dwelling.pk}
    assert send(client, "post", f"{API}/residents", dup).status_code == 400
    building = {"name": "某人", "id_type": "none", "home": world.a.building.pk}
    response = send(client, "post", f"{API}/residents", building)
    assert response.status_code == 400 and "home" in response.json()["errors"]
    head = {"name": "某人", "id_type": "none", "home": world.a.dwelling.pk, "is_head": True}
    assert send(client, "post", f"{API}/residents", head).status_code == 400
    # Not the schema at all: 422.
    assert (
        send(client, "post", f"{API}/residents", {"home": world.a.dwelling.pk}).status_code == 422
    )
    wrong = {"name": "某人", "gender": "X", "home": world.a.dwelling.pk}
    assert send(client, "post", f"{API}/residents", wrong).status_code == 422
    assert Resident.objects.count() == 3


def test_patch_changes_only_what_was_sent(world, roster, as_user):
    client = as_user(world.worker)
    url = f"{API}/residents/{roster.son.pk}"
    response = send(client, "patch", url, {"phone": "13700001111"})
    assert response.status_code == 200, response.content
    assert response.json()["changed"] == ["phone"]
    assert response.json()["phone_masked"] == "137****1111"
    son = Resident.objects.get(pk=roster.son.pk)
    assert son.phone == "+8613700001111" and son.name == "曾志明"
    entry = AuditEntry.objects.get(action="resident.update")
    assert entry.data["fields"] == ["phone"] and "1370000" not in json.dumps(entry.data)
    # A new citizen ID brings its own birth date and gender.
    new_id = valid_id("44010619850215004")
    response = send(client, "patch", url, {"id_number": new_id})
    assert response.status_code == 200
    assert set(response.json()["changed"]) == {"id_number", "birth_date", "gender"}
    assert response.json()["birth_date"] == "1985-02-15" and response.json()["gender"] == "F"
    assert send(client, "patch", url, {}).json()["changed"] == []


def test_patch_refusals(world, roster, as_user):
    url = f"{API}/residents/{roster.son.pk}"
    assert send(as_user(world.chief), "patch", url, {"name": "改名"}).status_code == 403
    assert send(as_user(world.street_admin), "patch", url, {"name": "改名"}).status_code == 403
    client = as_user(world.worker)
    response = send(client, "patch", url, {"birth_date": "1991-01-01"})
    assert response.status_code == 400 and "birth_date" in response.json()["errors"]
    assert send(client, "patch", url, {"name": ""}).status_code == 400
    assert send(client, "patch", url, {"birth_date": "yesterday"}).status_code == 422
    assert Resident.objects.get(pk=roster.son.pk).name == "曾志明"


def test_move_out_and_death_keep_the_record(world, roster, as_user):
    client = as_user(world.worker)
    moved = send(client, "post", f"{API}/residents/{roster.son.pk}/move-out", {"on": "2026-01-05"})
    assert moved.status_code == 200
    assert moved.json()["status"] == "moved_out" and moved.json()["status_date"] == "2026-01-05"
    assert moved.json()["memberships"][0]["until"] == "2026-01-05"
    died = send(client, "post", f"{API}/residents/{roster.grandma.pk}/death", {"on": "2026-02-01"})
    assert died.status_code == 200 and died.json()["status"] == "deceased"
    assert Resident.objects.filter(pk__in=[roster.son.pk, roster.grandma.pk]).count() == 2
    assert not Membership.objects.filter(dwelling=world.a.dwelling, until__isnull=True).exists()
    assert {r["name"] for r in client.get(f"{API}/residents?status=deceased").json()["items"]} == {
        "单桂芳"
    }
    future = (datetime.date.today() + datetime.timedelta(days=30)).isoformat()
    url = f"{API}/residents/{roster.son.pk}/death"
    response = send(client, "post", url, {"on": future})
    assert response.status_code == 400 and "status_date" in response.json()["errors"]
    assert send(client, "post", url, {}).status_code == 422
    assert send(as_user(world.chief), "post", url, {"on": "2026-01-05"}).status_code == 403


def test_tags_are_set_and_sensitive_ones_guarded(world, roster, as_user):
    client = as_user(world.worker)
    url = f"{API}/residents/{roster.grandma.pk}/tags"
    response = send(client, "put", url, {"tags": ["veteran", "living_alone", "veteran"]})
    assert response.status_code == 200
    assert response.json() == {"tags": ["living_alone", "veteran"]}  # hardship dropped
    assert AuditEntry.objects.filter(action="resident.tags", actor=world.worker).count() == 1
    bad = send(client, "put", url, {"tags": ["aged_60", "castle"]})
    assert bad.status_code == 400 and "tags" in bad.json()["errors"]
    assert send(client, "put", url, {"tags": "veteran"}).status_code == 422
    assert send(as_user(world.chief), "put", url, {"tags": []}).status_code == 403


def test_households_of_a_building(world, roster, as_user):
    url = f"{API}/places/{world.a.building.pk}/households"
    data = as_user(world.chief).get(url).json()
    assert data["place_id"] == world.a.building.pk
    dwellings = {d["id"]: d for d in data["dwellings"]}
    assert len(dwellings) == 2  # two floors of unit 1; empty ones listed too
    members = dwellings[world.a.dwelling.pk]["members"]
    assert [(m["name"], m["is_head"], m["relation"]) for m in members] == [
        ("单桂芳", True, "owner"),
        ("曾志明", False, "tenant"),
    ]
    assert members[0]["phone_masked"] == "138****5678" and members[0]["tags"] == ["living_alone"]
    assert "13812345678" not in json.dumps(data) and ID_A not in json.dumps(data)
    worker = as_user(world.worker).get(url).json()
    first = next(d for d in worker["dwellings"] if d["id"] == world.a.dwelling.pk)
    assert first["members"][0]["tags"] == ["living_alone", "hardship"]
    community = as_user(world.worker).get(f"{API}/places/{world.a.place.pk}/households")
    assert community.status_code == 400 and community.json()["detail"]
    assert as_user(world.neighbour).get(url).status_code == 404
    # Places may be seen by roles that may not see people: the roster stays closed to them.
    assert as_user(world.volunteer).get(url).status_code == 404


def test_care_tags_hide_sensitive_ones_from_those_who_may_not_see_them(world, as_user):
    def codes(user) -> dict[str, bool]:
        items = as_user(user).get(f"{API}/care-tags").json()["items"]
        return {t["code"]: t["sensitive"] for t in items}

    worker = codes(world.worker)
    assert worker["hardship"] is True and worker["living_alone"] is False
    assert {"aged_60", "child_14"} <= set(worker)
    chief = codes(world.chief)
    assert chief and not any(chief.values()) and "hardship" not in chief
    assert as_user(world.volunteer).get(f"{API}/care-tags").status_code == 404


def _count_queries(client: Client, url: str) -> int:
    with CaptureQueriesContext(connection) as ctx:
        response = client.get(url)
    assert response.status_code == 200, response.content
    return len(ctx)


def test_list_query_counts_do_not_grow_with_rows(world, roster, as_user):
    client = as_user(world.worker)
    urls = [
        f"{API}/residents?limit=100",
        f"{API}/residents?limit=100&tag=hardship",
        f"{API}/places/{world.a.building.pk}/households",
        f"{API}/care-tags",
    ]
    before = [_count_queries(client, url) for url in urls]
    made = demo.populate(demo.dwellings_under(world.a.place), seed=11)
    assert made.residents >= 8 and made.dwellings == 5  # the sixth was lived in already
    after = [_count_queries(as_user(world.worker), url) for url in urls]
    assert after == before
    page = as_user(world.worker).get(urls[0]).json()
    assert page["count"] == 2 + made.residents


def test_openapi_declares_the_roster_errors(client):
    schema = client.get(f"{API}/openapi.json").json()
    roster = {
        (path, method): set(op["responses"])
        for path, methods in schema["paths"].items()
        for method, op in methods.items()
        if "roster" in op.get("tags", [])
    }
    assert len(roster) == 10
    for (path, method), codes in roster.items():
        assert {"401", "404", "422"} <= codes, (path, method)
        if method != "get":
            assert {"400", "403"} <= codes, (path, method)
