"""A case's public id (Open311's service_request_id) is not its tracking code: the code is the
resident's secret, with which they follow and rate their case, and nothing public shows it. So a
stranger reading the public list cannot reopen cases or fill the satisfaction rate."""

from __future__ import annotations

import re

import pytest
from django.db import connection
from django.db.migrations.executor import MigrationExecutor
from django.test import Client

from linli.cases import open311_keys, workflow
from linli.cases.models import Case, Category, Channel, State
from linli.cases.public import qr_url
from tests.helpers.open311 import english_api, file

BEFORE = ("cases", "0004_inbox_and_rates_indexes")


@pytest.fixture
def api() -> Client:
    return english_api()


def take_in(world, place=None, actor=None) -> Case:
    return workflow.take_in(
        actor or world.worker,
        workflow.Intake(
            channel=Channel.PHONE,
            category=Category.objects.get(code="lift"),
            place=place or world.a.building,
            description="电梯停在三楼不动了",
        ),
    )


def resolved(world) -> Case:
    case = take_in(world)
    workflow.accept(world.worker, case.pk)
    workflow.assign(world.worker, case.pk, world.worker)
    workflow.resolve(world.worker, case.pk, "已修好")
    case.refresh_from_db()
    return case


@pytest.mark.django_db
def test_each_case_has_a_public_id_drawn_apart_from_its_code(world):
    cases = [take_in(world) for _i in range(20)]
    for case in cases:
        assert re.fullmatch(r"[0-9a-f]{16}", case.public_id)
        assert re.fullmatch(r"[2-9A-Z]{8}", case.code)
        assert case.code.lower() not in case.public_id
    assert len({c.public_id for c in cases}) == len(cases)


@pytest.mark.django_db
def test_nothing_public_shows_a_tracking_code(world, api):
    key = open311_keys.issue_key(None, "邻里小程序", world.a.place)[1]
    filed = file(api, key, address_id=str(world.a.building.pk)).json()[0]
    by_client = Case.objects.get(public_id=filed["service_request_id"])
    primary, merged = resolved(world), take_in(world)
    workflow.reopen(world.worker, primary.pk, "还是坏的")
    workflow.merge(world.worker, merged.pk, primary.pk)
    elsewhere = take_in(world, world.b.building, world.neighbour)
    cases = [by_client, primary, merged, elsewhere]
    pages = [
        "/open311/discovery.json",
        "/open311/v2/services.json",
        "/open311/v2/services/lift.xml",
        "/open311/v2/requests.json",
        "/open311/v2/requests.xml",
        "/open311/v2/requests.json?status=closed",
        *(f"/open311/v2/requests/{c.public_id}.{fmt}" for c in cases for fmt in ("json", "xml")),
        "/r/",
        qr_url(world.a.building),
    ]
    stranger = Client()
    for page in pages:
        response = stranger.get(page)
        assert response.status_code == 200, page
        body = response.content.decode()
        for case in cases:
            assert case.code not in body, (page, case.code)
    listed = {r["service_request_id"] for r in stranger.get("/open311/v2/requests.json").json()}
    assert listed == {c.public_id for c in cases}
    # The resident of the merged case follows the primary without learning its code.
    track = stranger.get(f"/r/t/{merged.code}/").content.decode()
    assert merged.code in track and primary.code not in track


@pytest.mark.django_db
def test_a_stranger_with_the_public_list_cannot_rate_or_reopen(world, api):
    case = resolved(world)
    stranger = Client()
    (listed,) = stranger.get("/open311/v2/requests.json").json()
    public_id = listed["service_request_id"]
    assert public_id == case.public_id
    for guess in (public_id, public_id.upper(), public_id[:8], public_id[:12].upper()):
        assert stranger.get(f"/r/t/{guess}/").status_code == 404
        assert stranger.post(f"/r/t/{guess}/rate/", {"rating": "1"}).status_code == 404
        assert stranger.get(f"/r/?code={guess}", follow=True).status_code == 404
    case.refresh_from_db()
    assert case.state == State.RESOLVED and case.rating is None
    # The resident, with the code they were given, still rates as before.
    resident = Client()
    assert resident.get(f"/r/t/{case.code}/").status_code == 200
    assert resident.post(f"/r/t/{case.code}/rate/", {"rating": "5"}).status_code == 302
    case.refresh_from_db()
    assert case.state == State.RATED and case.rating == 5


@pytest.mark.django_db
def test_the_filing_client_gets_the_code_to_hand_to_the_resident(world, api):
    key = open311_keys.issue_key(None, "邻里小程序", world.a.place)[1]
    (filed,) = file(api, key, address_id=str(world.a.building.pk)).json()
    case = Case.objects.get(public_id=filed["service_request_id"])
    assert filed["token"] == case.code
    assert Client().get(f"/r/t/{filed['token']}/").status_code == 200


@pytest.mark.django_db(transaction=True)
def test_the_migration_gives_existing_cases_a_public_id_and_keeps_their_codes(live_world):
    executor = MigrationExecutor(connection)
    executor.migrate([BEFORE])
    old = executor.loader.project_state([BEFORE]).apps
    OldCase = old.get_model("cases", "Case")
    lift = old.get_model("cases", "Category").objects.get(code="lift")
    building = live_world.a.building
    codes = [f"OLDCASE{n}" for n in range(2, 9)]
    for code in codes:
        OldCase.objects.create(
            code=code,
            channel="phone",
            category=lift,
            place_id=building.pk,
            path=building.path,
            title="旧的诉求",
            description="迁移之前收到的诉求",
            state="received",
            received_at="2026-01-01T08:00:00+08:00",
            respond_by="2026-01-02T08:00:00+08:00",
        )
    executor = MigrationExecutor(connection)
    executor.migrate(executor.loader.graph.leaf_nodes())
    migrated = list(Case.objects.filter(code__in=codes))
    assert sorted(c.code for c in migrated) == codes  # unchanged: residents' codes keep working
    ids = {c.public_id for c in migrated}
    assert len(ids) == len(codes) and all(re.fullmatch(r"[0-9a-f]{16}", i) for i in ids)
    assert all(c.attributes == {} for c in migrated)
    assert Client().get(f"/r/t/{codes[0]}/").status_code == 200
    (one,) = Client().get(f"/open311/v2/requests/{migrated[0].public_id}.json").json()
    assert one["service_request_id"] == migrated[0].public_id
