"""Roster pages: a resident's page (masked, logged, reveal with a reason), search, care lists,
the building drawn with its households, and editing — each against the roles that may not."""

from __future__ import annotations

import datetime

import pytest

from linli.core.models import AuditEntry
from linli.people.models import Resident, Status
from tests.conftest import ID_A

pytestmark = pytest.mark.django_db


def test_resident_page_is_masked_and_every_view_is_logged(roster, world, as_user):
    body = as_user(world.chief).get(f"/people/{roster.grandma.pk}/").content.decode()
    assert "单桂芳" in body and "1101**********002X" in body and "138****5678" in body
    assert ID_A not in body and "13812345678" not in body
    assert "困难" not in body and "独居" in body  # the sensitive tag is hidden from a chief
    assert "reveal" not in body  # no reveal form for a chief
    assert AuditEntry.objects.filter(action="resident.view", actor=world.chief).count() == 1
    worker_body = as_user(world.worker).get(f"/people/{roster.grandma.pk}/").content.decode()
    assert "困难" in worker_body and "/reveal/id_number/" in worker_body


def test_reveal_with_a_reason_shows_the_number_once_and_is_audited(roster, world, as_user):
    client = as_user(world.worker)
    url = f"/people/{roster.grandma.pk}/reveal/id_number/"
    refused = client.post(url, {"reason": ""}, HTTP_HX_REQUEST="true")
    assert refused.status_code == 400 and ID_A not in refused.content.decode()
    shown = client.post(url, {"reason": "办理高龄津贴"}, HTTP_HX_REQUEST="true")
    assert shown.status_code == 200 and ID_A in shown.content.decode()
    assert "<html" not in shown.content.decode()
    entry = AuditEntry.objects.get(action="resident.reveal")
    assert entry.data["reason"] == "办理高龄津贴" and entry.actor == world.worker
    full = client.post(f"/people/{roster.grandma.pk}/reveal/phone/", {"reason": "联系家属"})
    assert full.status_code == 200 and "+8613812345678" in full.content.decode()


@pytest.mark.parametrize("name", ["chief", "street_admin"])
def test_roles_that_may_not_reveal_get_404(roster, world, as_user, name):
    response = as_user(world.users[name]).post(
        f"/people/{roster.grandma.pk}/reveal/id_number/", {"reason": "只是看看"}
    )
    assert response.status_code == 404
    assert not AuditEntry.objects.filter(action="resident.reveal").exists()


def test_building_page_shows_households_to_those_who_may_see_them(roster, world, as_user):
    url = f"/places/{world.a.building.pk}/"
    chief = as_user(world.chief).get(url).content.decode()
    assert "单桂芳" in chief and "+1" in chief  # the head, and one more member
    volunteer = as_user(world.volunteer).get(url).content.decode()
    assert "单桂芳" not in volunteer  # places yes, people no


def test_dwelling_page_lists_its_household(roster, world, as_user):
    body = as_user(world.worker).get(f"/places/{world.a.dwelling.pk}/").content.decode()
    assert "单桂芳" in body and "曾志明" in body and f"/people/new/{world.a.dwelling.pk}/" in body
    chief = as_user(world.chief).get(f"/places/{world.a.dwelling.pk}/").content.decode()
    assert "单桂芳" in chief and "/people/new/" not in chief


def test_search_page(roster, world, as_user):
    body = as_user(world.worker).get("/people/?q=sgf").content.decode()
    assert "单桂芳" in body
    partial = as_user(world.worker).get("/people/?q=zzm", HTTP_HX_REQUEST="true").content.decode()
    assert "曾志明" in partial and "<html" not in partial
    assert "单桂芳" not in as_user(world.neighbour).get("/people/?q=sgf").content.decode()


def test_care_list_by_tag_and_age(roster, world, as_user):
    client = as_user(world.worker)
    assert "单桂芳" in client.get(f"/people/care/{world.a.building.pk}/").content.decode()
    assert "曾志明" not in client.get(f"/people/care/{world.a.building.pk}/").content.decode()
    hardship = client.get(f"/people/care/{world.a.place.pk}/?tag=hardship").content.decode()
    assert "单桂芳" in hardship
    # A chief may not filter by a sensitive tag: as if it did not exist.
    chief = as_user(world.chief)
    assert chief.get(f"/people/care/{world.a.building.pk}/?tag=hardship").status_code == 404


def test_edit_a_resident(roster, world, as_user):
    client = as_user(world.worker)
    url = f"/people/{roster.son.pk}/edit/"
    form = client.get(url)
    assert form.status_code == 200
    response = client.post(
        url,
        {
            "name": "曾志明",
            "id_type": "citizen_id",
            "id_number": roster.son.id_number,
            "phone": "137 0000 2222",
            "residence_type": "floating",
            "tags": [],
        },
    )
    assert response.status_code == 302
    son = Resident.objects.get(pk=roster.son.pk)
    assert son.phone == "+8613700002222" and son.residence_type == "floating"
    bad = client.post(
        url,
        {
            "name": "曾志明",
            "id_type": "citizen_id",
            "id_number": "110105194912310021",
            "residence_type": "floating",
        },
    )
    assert bad.status_code == 400 and "校验位" in bad.content.decode()
    assert Resident.objects.get(pk=roster.son.pk).id_number == son.id_number


def test_chief_cannot_edit(roster, world, as_user):
    assert as_user(world.chief).get(f"/people/{roster.son.pk}/edit/").status_code == 404
    assert as_user(world.chief).get(f"/people/new/{world.a.dwelling.pk}/").status_code == 404


def test_add_a_resident_to_a_dwelling(world, as_user):
    client = as_user(world.worker)
    response = client.post(
        f"/people/new/{world.a.dwelling.pk}/",
        {
            "name": "Anna Schmidt",
            "id_type": "passport",
            "id_number": "C01X00T47",
            "gender": "F",
            "residence_type": "floating",
            "relation": "tenant",
        },
    )
    assert response.status_code == 302
    anna = Resident.objects.get(name="Anna Schmidt")
    assert anna.home_id == world.a.dwelling.pk


def test_moving_out_from_the_page(roster, world, as_user):
    client = as_user(world.worker)
    response = client.post(
        f"/people/{roster.son.pk}/leave/", {"what": "moved_out", "on": "2026-10-01"}
    )
    assert response.status_code == 302
    son = Resident.objects.get(pk=roster.son.pk)
    assert son.status == Status.MOVED_OUT and son.status_date == datetime.date(2026, 10, 1)
    page = client.get(f"/people/{roster.son.pk}/").content.decode()
    assert "已迁出" in page


def test_resident_page_answers_in_constant_queries(roster, world, as_user):
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    from linli.people import actions

    client = as_user(world.worker)

    def count() -> int:
        with CaptureQueriesContext(connection) as ctx:
            assert client.get(f"/people/{roster.grandma.pk}/").status_code == 200
        return len(ctx.captured_queries)

    before = count()
    for n in range(5):
        actions.update_resident(
            None, roster.grandma, {"name": "单桂芳", "id_number": ID_A, "phone": f"1381234567{n}"}
        )
    assert count() == before
