"""Roster writes: validation, encryption, history, moving out, tags, reveal."""

from __future__ import annotations

import datetime

import pytest
from django.core.exceptions import PermissionDenied, ValidationError
from django.db import connection

from linli.core.models import AuditEntry
from linli.people import actions
from linli.people.models import Membership, Resident, Status
from linli.people.queries import care_list, households, residents_for, search, visible_tags
from tests.conftest import ID_A, valid_id

pytestmark = pytest.mark.django_db


def test_numbers_are_encrypted_at_rest_and_read_back(roster):
    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT id_number, phone FROM people_resident WHERE id = %s", [roster.grandma.pk]
        )
        stored_id, stored_phone = cursor.fetchone()
    assert ID_A not in stored_id and "13812345678" not in stored_phone
    fresh = Resident.objects.get(pk=roster.grandma.pk)
    assert fresh.id_number == ID_A and fresh.phone == "+8613812345678"
    assert fresh.birth_date == datetime.date(1949, 12, 31) and fresh.gender == "F"


def test_the_same_document_twice_is_refused(roster, world):
    with pytest.raises(ValidationError):
        actions.create_resident(
            None, {"name": "冒名", "id_number": ID_A.lower()}, home=world.b.dwelling
        )
    assert Resident.objects.count() == 3


def test_typed_birth_date_must_agree_with_the_id(world):
    with pytest.raises(ValidationError) as info:
        actions.create_resident(
            None,
            {"name": "甲", "id_number": ID_A, "birth_date": datetime.date(1950, 1, 1)},
            home=world.a.dwelling,
        )
    assert "birth_date" in info.value.message_dict
    assert not Resident.objects.exists()


def test_a_passport_holder_is_welcome(world):
    r = actions.create_resident(
        None,
        {"name": "Anna Schmidt", "id_type": "passport", "id_number": "c01x00t47", "gender": "F"},
        home=world.a.dwelling,
    )
    assert r.id_number == "C01X00T47" and r.birth_date is None


def test_update_keeps_history_and_audits_fields_not_values(roster):
    changed = actions.update_resident(
        None,
        roster.son,
        {"name": "曾志明", "id_number": roster.son.id_number, "phone": "13700001111"},
    )
    assert changed == ["phone"]
    entry = AuditEntry.objects.get(action="resident.update")
    assert entry.data["fields"] == ["phone"] and "1370000" not in str(entry.data)
    assert Resident.history.filter(id=roster.son.pk).count() == 2
    # The history row holds the number encrypted too.
    with connection.cursor() as cursor:
        cursor.execute("SELECT phone FROM people_historicalresident WHERE id = %s", [roster.son.pk])
        assert all("1370000" not in row[0] for row in cursor.fetchall())
    assert (
        actions.update_resident(
            None,
            roster.son,
            {"name": "曾志明", "id_number": roster.son.id_number, "phone": "13700001111"},
        )
        == []
    )


def test_moving_out_keeps_the_record_and_ends_the_ties(roster, world):
    actions.move_out(None, roster.son, datetime.date(2026, 1, 5))
    son = Resident.objects.get(pk=roster.son.pk)
    assert son.status == Status.MOVED_OUT and son.home_id == world.a.dwelling.pk
    assert not Membership.objects.filter(resident=son, until__isnull=True).exists()
    with pytest.raises(ValidationError):
        actions.record_death(None, roster.grandma, datetime.date(2999, 1, 1))


def test_one_head_per_dwelling(roster, world):
    with pytest.raises(ValidationError):
        actions.add_membership(None, roster.son, world.a.dwelling, relation="family", is_head=True)


def test_tags_respect_sensitivity(roster, world):
    codes = {t.code for t in visible_tags(world.worker, roster.grandma)}
    assert codes == {"living_alone", "hardship"}
    assert {t.code for t in visible_tags(world.chief, roster.grandma)} == {"living_alone"}
    # A chief's edit of tags cannot drop the sensitive one they cannot see.
    actions.set_tags(world.chief, roster.grandma, ["veteran"], sensitive_allowed=False)
    assert {t.code for t in visible_tags(world.worker, roster.grandma)} == {"veteran", "hardship"}


def test_reveal_needs_the_right_role_a_reason_and_is_audited(roster, world):
    with pytest.raises(ValidationError):
        actions.reveal(world.worker, roster.grandma, "id_number", "")
    assert actions.reveal(world.worker, roster.grandma, "id_number", "办理高龄补贴") == ID_A
    entry = AuditEntry.objects.get(action="resident.reveal")
    assert entry.actor == world.worker and entry.data == {
        "field": "id_number",
        "reason": "办理高龄补贴",
    }
    for name in ("chief", "street_admin", "neighbour", "outsider"):
        with pytest.raises(PermissionDenied):
            actions.reveal(world.users[name], roster.grandma, "phone", "just looking")


def test_scope_of_the_roster(roster, world):
    def names(user):
        return set(residents_for(user).values_list("name", flat=True))

    assert names(world.worker) == {"单桂芳", "曾志明"}
    assert names(world.chief) == {"单桂芳", "曾志明"}
    assert names(world.grid_worker) == {"单桂芳", "曾志明"}
    assert names(world.street_admin) == {"单桂芳", "曾志明", "王小红"}
    assert names(world.neighbour) == {"王小红"}
    for name in ("outsider", "volunteer", "party_member", "partner", "property"):
        assert names(world.users[name]) == set(), name


def test_search_by_name_pinyin_and_exact_numbers(roster, world):
    def found(text, user=None):
        return {r.name for r in search(user or world.worker, text)}

    assert found("桂芳") == {"单桂芳"}
    assert found("sgf") == found("dgf") == found("shanguifang") == {"单桂芳"}
    assert found("zzm") == found("czm") == {"曾志明"}
    assert found("138 1234 5678") == {"单桂芳"}
    assert found(ID_A.lower()) == {"单桂芳"}
    assert found("13812345") == set()  # partial numbers find nothing: exact only
    assert found("王小红") == set()  # another community
    assert found(valid_id("44010620100101002"), world.neighbour) == {"王小红"}


def test_households_and_care_list(roster, world):
    members = households(world.chief, world.a.building)[world.a.dwelling.pk]
    assert next(m.resident.name for m in members) == "单桂芳"  # head first
    cared = {r.name for r in care_list(world.worker, world.a.building)}
    assert cared == {"单桂芳"}
    assert {r.name for r in care_list(world.chief, world.a.building, tag="hardship")} == set()
    assert households(world.outsider, world.a.building) == {}
