"""Party rules: organisations, members, registration and approval, claims, hours, evaluations,
periods, and masking at rest."""

from __future__ import annotations

import datetime
from decimal import Decimal

import pytest
from django.core.exceptions import PermissionDenied, ValidationError
from django.db import connection
from django.utils import timezone

from linli.accounts.models import Grant, User
from linli.accounts.roles import Role
from linli.core.models import AuditEntry
from linli.party import actions
from linli.party.models import (
    Claim,
    Evaluation,
    HoursStatus,
    MemberKind,
    PartyMember,
    Post,
    Registration,
    RegistrationStatus,
    Unit,
)
from linli.party.periods import Period
from tests.helpers.party import USCC_BANK, Party, build_party

pytestmark = pytest.mark.django_db


@pytest.fixture
def party(world) -> Party:
    return build_party(world)


GOOD = {
    "name": "张在职",
    "phone": "139 1234 5678",
    "unit_name": "某银行支行",
    "uscc": USCC_BANK,
    "skills": "法律咨询",
    "availability": "周末",
    "password": "a-long-pass-phrase-9",
}


def test_org_tree_and_compound_branch(world, party):
    assert party.branch.in_compound and party.branch.path == world.a.compound.path
    assert not party.committee.in_compound and party.branch.parent == party.committee
    assert party.branch.secretary == party.registered
    # The member of a compound branch carries the compound's path.
    assert party.registered.path == world.a.compound.path
    with pytest.raises(ValidationError):
        actions.create_org(
            world.worker, kind="branch", name="x", community=world.a.place, place=world.b.compound
        )
    with pytest.raises(PermissionDenied):
        actions.create_org(world.neighbour, kind="branch", name="x", community=world.a.place)


def test_phone_encrypted_at_rest_with_a_blind_index(world, party):
    with connection.cursor() as cursor:
        cursor.execute("SELECT phone FROM party_partymember WHERE id = %s", [party.member.pk])
        stored = cursor.fetchone()[0]
    assert "13700000001" not in stored and stored.count("$") == 1
    assert PartyMember.objects.get(pk=party.member.pk).phone == "+8613700000001"
    with pytest.raises(ValidationError):
        actions.add_member(
            world.worker,
            community=world.a.place,
            name="重复",
            kind="registered",
            phone="13700000001",
        )


def test_transferred_in_member_keeps_dates(party):
    assert party.registered.transferred_in_on == datetime.date(2024, 5, 1)
    assert party.registered.transferred_from


def test_registration_validates_the_credit_code_and_phone(world):
    bad = {**GOOD, "uscc": USCC_BANK[:-1] + ("0" if USCC_BANK[-1] != "0" else "1")}
    with pytest.raises(ValidationError) as exc:
        actions.register(world.a.place, bad)
    assert "uscc" in exc.value.message_dict
    with pytest.raises(ValidationError) as exc:
        actions.register(world.a.place, {**GOOD, "phone": "12345", "password": "1"})
    assert {"phone", "password"} <= set(exc.value.message_dict)
    assert Registration.objects.count() == 0


def test_approval_makes_a_member_and_a_login_and_is_idempotent(world):
    reg = actions.register(world.a.place, GOOD)
    assert reg.password.startswith(("md5$", "argon2")) and "a-long" not in reg.password
    with pytest.raises(ValidationError):  # a second one while the first waits
        actions.register(world.a.place, GOOD)
    with pytest.raises(PermissionDenied):
        actions.approve(world.neighbour, reg.pk)
    with pytest.raises(PermissionDenied):
        actions.approve(world.street_admin, reg.pk)  # sees, but does not manage
    actions.approve(world.worker, reg.pk)
    reg.refresh_from_db()
    assert reg.status == RegistrationStatus.APPROVED and reg.password == ""
    member = reg.member
    assert member is not None and member.unit is not None
    assert member.kind == MemberKind.DUAL_REPORT and member.unit.uscc == USCC_BANK
    user = User.objects.get(phone="13912345678")
    assert user.check_password("a-long-pass-phrase-9") and member.user == user
    assert Grant.objects.filter(user=user, role=Role.PARTY_MEMBER, place=world.a.place).exists()
    # A retried approval changes nothing.
    actions.approve(world.worker, reg.pk)
    assert PartyMember.objects.filter(user=user).count() == 1
    assert User.objects.filter(phone="13912345678").count() == 1
    assert AuditEntry.objects.filter(action="party.registration.approve").count() == 1
    assert AuditEntry.objects.filter(action="party.register").count() == 1
    with pytest.raises(actions.AlreadyDecided):
        actions.reject(world.worker, reg.pk, "晚了")


def test_approval_links_an_existing_account_by_phone(world):
    reg = actions.register(world.a.place, {**GOOD, "phone": "13900000002"})  # the worker's
    actions.approve(world.worker, reg.pk)
    reg.refresh_from_db()
    assert reg.member is not None and reg.member.user == world.worker
    assert not world.worker.check_password("a-long-pass-phrase-9")


def test_rejection_keeps_the_record_with_a_reason(world):
    reg = actions.register(world.a.place, GOOD)
    with pytest.raises(ValidationError):
        actions.reject(world.worker, reg.pk, "  ")
    actions.reject(world.worker, reg.pk, "单位信息有误")
    reg.refresh_from_db()
    assert reg.status == "rejected" and reg.reason == "单位信息有误" and reg.password == ""
    assert not User.objects.filter(phone="13912345678").exists()
    # Rejected, they may register again.
    actions.register(world.a.place, GOOD)


def test_claim_withdraw_and_capacity(world, party):
    post = actions.publish(world.worker, world.a.place, kind="post", title="楼道守护岗", capacity=1)
    made = actions.claim(world.party_member, post.pk)
    post.refresh_from_db()
    assert post.claimed == 1 and made.path == world.a.place.path
    with pytest.raises(actions.AlreadyClaimed):
        actions.claim(world.party_member, post.pk)
    post.refresh_from_db()
    assert post.claimed == 1  # the failed second claim gave its increment back
    actions.withdraw(world.party_member, made.pk)
    actions.withdraw(world.party_member, made.pk)  # twice: a no-op
    post.refresh_from_db()
    assert post.claimed == 0
    again = actions.claim(world.party_member, post.pk)  # the place is free again
    assert again.pk != made.pk
    actions.close_post(world.worker, post.pk)
    actions.withdraw(world.worker, again.pk)
    with pytest.raises(actions.Full):
        actions.claim(world.party_member, post.pk)


def test_a_full_post_refuses_more(world, party):
    post = actions.publish(world.worker, world.a.place, kind="task", title="义诊", capacity=1)
    actions.claim(world.party_member, post.pk)
    other = User.objects.create_user("another", password="x")
    actions.add_member(world.worker, community=world.a.place, name="另一位", kind="registered")
    PartyMember.objects.filter(name="另一位").update(user=other)
    from linli.accounts.actions import grant_role

    grant_role(None, other, Role.PARTY_MEMBER, place=world.a.place)
    with pytest.raises(actions.Full):
        actions.claim(other, post.pk)
    assert Post.objects.get(pk=post.pk).claimed == 1


def test_only_members_of_the_community_claim(world, party):
    post_b = actions.publish(
        world.neighbour, world.b.place, kind="task", title="乙任务", capacity=5
    )
    for user in (world.party_member, world.worker, world.outsider, world.partner):
        with pytest.raises(PermissionDenied):
            actions.claim(user, post_b.pk)
    for user in (world.worker, world.outsider, world.volunteer):
        with pytest.raises(PermissionDenied):
            actions.claim(user, party.task.pk)


def test_hours_pending_until_confirmed(world, party):
    made = actions.claim(world.party_member, party.task.pk)
    today = timezone.localdate()
    with pytest.raises(ValidationError):
        actions.log_hours(world.party_member, made.pk, served_on=today, hours="25")
    with pytest.raises(ValidationError):
        actions.log_hours(
            world.party_member, made.pk, served_on=today + datetime.timedelta(days=1), hours=2
        )
    with pytest.raises(PermissionDenied):
        actions.log_hours(world.worker, made.pk, served_on=today, hours=2)
    row = actions.log_hours(world.party_member, made.pk, served_on=today, hours="2.5", note="清理")
    assert row.status == HoursStatus.PENDING and row.hours == Decimal("2.5")
    with pytest.raises(PermissionDenied):
        actions.confirm_hours(world.neighbour, row.pk)
    with pytest.raises(PermissionDenied):
        actions.confirm_hours(world.party_member, row.pk)  # not their own
    actions.confirm_hours(world.worker, row.pk)
    actions.confirm_hours(world.worker, row.pk)  # retried
    row.refresh_from_db()
    assert row.status == HoursStatus.CONFIRMED and row.decided_by == world.worker
    with pytest.raises(actions.AlreadyDecided):
        actions.reject_hours(world.worker, row.pk, "不对")
    second = actions.log_hours(world.party_member, made.pk, served_on=today, hours=1)
    actions.withdraw(world.party_member, made.pk)
    with pytest.raises(ValidationError):
        actions.log_hours(world.party_member, made.pk, served_on=today, hours=1)
    actions.reject_hours(world.worker, second.pk, "当天未到岗")
    second.refresh_from_db()
    assert second.status == HoursStatus.REJECTED and second.reason == "当天未到岗"


def test_evaluation_per_period(world, party):
    actions.evaluate(world.worker, party.member.pk, period="2026-q1", grade="good")
    actions.evaluate(
        world.worker, party.member.pk, period="2026-Q1", grade="excellent", comment="积极"
    )
    ev = Evaluation.objects.get(member=party.member)
    assert ev.period == "2026-Q1" and ev.grade == "excellent"
    with pytest.raises(ValidationError):
        actions.evaluate(world.worker, party.member.pk, period="2026-13", grade="good")
    with pytest.raises(ValidationError):
        actions.evaluate(world.worker, party.member.pk, period="2026", grade="perfect")
    with pytest.raises(PermissionDenied):
        actions.evaluate(world.neighbour, party.member.pk, period="2026", grade="good")


def test_periods():
    m = Period.parse("2026-03")
    assert (m.start, m.end) == (datetime.date(2026, 3, 1), datetime.date(2026, 4, 1))
    assert m.covering_keys() == ["2026-03", "2026-Q1", "2026"]
    q = Period.parse("2025-q4")
    assert (q.key, q.start, q.end) == (
        "2025-Q4",
        datetime.date(2025, 10, 1),
        datetime.date(2026, 1, 1),
    )
    dec = Period.parse("2025-12")
    assert dec.end == datetime.date(2026, 1, 1)
    assert dec.last_day == datetime.date(2025, 12, 31)  # what the service record prints
    y = Period.parse("2026")
    assert (y.start, y.end) == (datetime.date(2026, 1, 1), datetime.date(2027, 1, 1))
    for bad in ("", "2026-00", "2026-Q5", "26", "1999", "2026/03"):
        with pytest.raises(ValueError):
            Period.parse(bad)


def test_check_constraint_backs_the_capacity(world, party):
    from django.db import IntegrityError, transaction

    with pytest.raises(IntegrityError), transaction.atomic():
        Post.objects.filter(pk=party.task.pk).update(claimed=99)


def test_unit_is_one_per_code(world, party):
    reg = actions.register(world.b.place, {**GOOD, "unit_name": "别名"})
    actions.approve(world.neighbour, reg.pk)
    assert Unit.objects.filter(uscc=USCC_BANK).count() == 1
    assert Claim.objects.count() == 0
