"""The audit log: written by every action, readable by staff of the scope, never editable."""

from __future__ import annotations

import pytest
from django.db import DatabaseError, connection, transaction

from linli.core.models import AppendOnlyError, AuditEntry
from linli.places import actions
from linli.places.models import PlaceKind

pytestmark = pytest.mark.django_db


def test_actions_record_who_what_where_and_from_where(world, as_user):
    entry = AuditEntry.objects.filter(action="place.create", target_id=str(world.a.dwelling.pk))
    assert entry.exists()
    client = as_user(world.worker)
    client.post(
        "/accounts/me/",
        {"name": "手机同步", "days": 30},
        HTTP_USER_AGENT="TestPhone/1.0",
        REMOTE_ADDR="203.0.113.7",
    )
    token = AuditEntry.objects.get(action="token.create")
    assert token.actor == world.worker and token.actor_name == "worker"
    assert token.ip == "203.0.113.7" and token.user_agent == "TestPhone/1.0"


def test_the_log_refuses_changes_in_code(world):
    entry = AuditEntry.objects.first()
    assert entry is not None
    entry.action = "forged"
    with pytest.raises(AppendOnlyError):
        entry.save()
    with pytest.raises(AppendOnlyError):
        entry.delete()
    with pytest.raises(AppendOnlyError):
        AuditEntry.objects.all().update(action="forged")
    with pytest.raises(AppendOnlyError):
        AuditEntry.objects.all().delete()


def test_the_database_refuses_an_update_even_in_raw_sql(world):
    with pytest.raises(DatabaseError), transaction.atomic(), connection.cursor() as cursor:
        cursor.execute("UPDATE core_auditentry SET action = 'forged'")
    assert not AuditEntry.objects.filter(action="forged").exists()


def test_the_database_refuses_a_delete_on_postgresql(world):
    if connection.vendor != "postgresql":
        # On SQLite only the code and the admin refuse deletes (see migration 0002 for why);
        # this asserts that the SQLite trigger for updates exists instead.
        with connection.cursor() as cursor:
            cursor.execute("SELECT name FROM sqlite_master WHERE type='trigger'")
            assert ("core_auditentry_no_update",) in cursor.fetchall()
        return
    count = AuditEntry.objects.count()
    with pytest.raises(DatabaseError), transaction.atomic(), connection.cursor() as cursor:
        cursor.execute("DELETE FROM core_auditentry")
    assert AuditEntry.objects.count() == count


def test_staff_read_the_log_of_their_scope_only(world, as_user):
    actions.rename_place(world.street_admin, world.a.building, name="甲社区一号楼")
    actions.rename_place(world.street_admin, world.b.building, name="乙社区一号楼")
    mine = as_user(world.worker).get("/audit/?action=place.update").content.decode()
    assert "甲社区一号楼" in mine and "乙社区一号楼" not in mine
    theirs = as_user(world.neighbour).get("/audit/?action=place.update").content.decode()
    assert "乙社区一号楼" in theirs and "甲社区一号楼" not in theirs
    street = as_user(world.street_admin).get("/audit/?action=place.update").content.decode()
    assert "甲社区一号楼" in street and "乙社区一号楼" in street


@pytest.mark.parametrize("name", ["chief", "grid_worker", "volunteer", "outsider"])
def test_roles_without_the_need_cannot_read_the_log(world, as_user, name):
    assert as_user(world.users[name]).get("/audit/").status_code == 404


def test_a_failed_action_leaves_no_audit_record(world):
    before = AuditEntry.objects.count()
    with pytest.raises(Exception):  # noqa: B017 - any validation error
        actions.create_place(
            world.worker, kind=PlaceKind.UNIT, code="9", name="错层", parent=world.a.compound
        )
    assert AuditEntry.objects.count() == before


def test_the_audit_page_answers_in_a_fixed_number_of_queries(world, as_user):
    from django.test.utils import CaptureQueriesContext

    client = as_user(world.worker)

    def queries_for_page() -> int:
        with CaptureQueriesContext(connection) as ctx:
            assert client.get("/audit/").status_code == 200
        return len(ctx.captured_queries)

    for i in range(5):
        actions.rename_place(world.worker, world.a.building, name=f"楼{i}")
    few = queries_for_page()
    for i in range(60):
        actions.rename_place(world.worker, world.a.building, name=f"楼{i}")
    assert queries_for_page() == few <= 10
