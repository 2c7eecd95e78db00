"""The case workflow: intake, every step, the illegal ones, the sweep and the three rates."""

from __future__ import annotations

import datetime
from typing import Any

import pytest
from django.core.exceptions import PermissionDenied, ValidationError
from django.utils import timezone
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from linli.accounts.roles import Cap
from linli.accounts.scope import scope_for
from linli.cases import workflow
from linli.cases.models import Case, CaseEvent, Category, Channel, Notification, State
from linli.cases.rates import rates, rates_by_child
from linli.cases.workflow import TRANSITIONS, IllegalTransition, Intake
from linli.core import outbox
from linli.core.models import AuditEntry, OutboxMessage

T0 = datetime.datetime(2026, 3, 2, 9, 0, tzinfo=datetime.UTC)


def category(code: str = "lift") -> Category:
    return Category.objects.get(code=code)


def new_case(
    world: Any, actor: Any = None, *, place: Any = None, now: Any = None, **kw: Any
) -> Case:
    data = Intake(
        channel=kw.pop("channel", Channel.PHONE),
        category=kw.pop("category", category()),
        place=place or world.a.building,
        description=kw.pop("description", "3号电梯停在5楼不动，有老人被困过。"),
        **kw,
    )
    return workflow.take_in(actor if actor is not None else world.worker, data, now=now or T0)


def deliver() -> None:
    for message in outbox.claim("test", 100):
        assert outbox.process(message)


def test_intake_copies_the_place_and_sets_the_answer_deadline(world):
    case = new_case(world, reporter_phone="138 0013 8000", reporter_name="李阿姨")
    assert case.state == State.RECEIVED
    assert len(case.code) == 8 and case.code.isalnum()
    assert case.path == world.a.building.path
    assert case.grid_id == world.a.grid.pk and case.lane_id == world.a.lane.pk
    assert case.respond_by == T0 + datetime.timedelta(hours=4)  # the lift category's deadline
    assert case.title.startswith("3号电梯")
    # The phone number is stored encrypted, with a blind index.
    case.refresh_from_db()
    assert case.reporter_phone == "+8613800138000"
    assert case.reporter_phone_index
    assert CaseEvent.objects.filter(case=case, to_state=State.RECEIVED).count() == 1
    assert AuditEntry.objects.filter(action="case.create", target_id=str(case.pk)).exists()
    assert OutboxMessage.objects.filter(kind="cases.notify").count() == 1


def test_the_phone_number_is_not_stored_in_clear(world):
    from django.db import connection

    case = new_case(world, reporter_phone="13800138000")
    with connection.cursor() as cursor:
        cursor.execute("SELECT reporter_phone FROM cases_case WHERE id = %s", [case.pk])
        stored = cursor.fetchone()[0]
    assert "13800138000" not in stored


def test_anonymous_intake_keeps_no_name(world):
    case = new_case(world, reporter_name="王先生", anonymous=True)
    assert case.reporter_name == "" and case.anonymous


@pytest.mark.parametrize(
    ("field", "kw"),
    [
        ("description", {"description": "坏"}),
        ("reporter_phone", {"reporter_phone": "12345"}),
        ("priority", {"priority": "now!"}),
    ],
)
def test_bad_intake_is_refused_and_writes_nothing(world, field, kw):
    with pytest.raises(ValidationError) as exc:
        new_case(world, **kw)
    assert field in exc.value.message_dict
    assert Case.objects.count() == 0 and OutboxMessage.objects.count() == 0


def test_a_case_belongs_to_a_building_or_compound(world):
    with pytest.raises(ValidationError) as exc:
        new_case(world, place=world.a.dwelling)
    assert "place" in exc.value.message_dict
    assert new_case(world, place=world.a.compound).path == world.a.compound.path


def test_intake_needs_the_place_in_scope(world):
    assert new_case(world, world.chief).created_by == world.chief  # the chief's own building
    for user in (world.chief, world.outsider, world.neighbour, world.property):
        with pytest.raises(PermissionDenied):
            new_case(world, user, place=world.a.other_building)
    assert Case.objects.count() == 1


def test_the_whole_way_to_a_satisfied_resident(world):
    case = new_case(world)
    t = T0 + datetime.timedelta(hours=1)
    workflow.accept(world.worker, case.pk, now=t)
    workflow.assign(world.worker, case.pk, world.property, now=t)
    # The property company, as assignee, starts and resolves it; it may not accept or close.
    workflow.start(world.property, case.pk, now=t)
    workflow.resolve(world.property, case.pk, "已联系维保公司更换控制板。", now=t)
    case = workflow.rate(None, case.pk, 5, "师傅很快", now=t)
    assert case.state == State.RATED and case.rating == 5
    case = workflow.close(world.worker, case.pk, now=t)
    assert case.state == State.CLOSED
    assert case.assignee_kind == "property"
    assert case.responded_at == t and case.accepted_at == t and case.resolved_at == t
    assert case.resolve_by == t + datetime.timedelta(days=3)
    states = list(
        CaseEvent.objects.filter(case=case, kind="state").values_list("to_state", flat=True)
    )
    assert states == [
        "received",
        "accepted",
        "assigned",
        "in_progress",
        "resolved",
        "rated",
        "closed",
    ]
    deliver()
    # The property staff hear of the worker's steps; the worker (who took it in) of theirs.
    assert Notification.objects.filter(user=world.property).count() >= 3
    assert Notification.objects.filter(user=world.worker).count() >= 3
    deliver()  # nothing due twice


def test_notifications_are_written_once_even_if_the_handler_runs_twice(world):
    case = new_case(world)
    workflow.accept(world.grid_worker, case.pk)
    messages = list(OutboxMessage.objects.filter(kind="cases.notify"))
    from linli.cases.notify import notify

    for message in messages:
        notify(message.payload)
        notify(message.payload)
    # The intake (by the worker himself) tells nobody; the grid worker's accept tells the worker.
    assert Notification.objects.filter(user=world.worker).count() == 1
    assert Notification.objects.count() == 1


def test_the_assignee_may_only_start_and_resolve(world):
    case = new_case(world)
    workflow.accept(world.worker, case.pk)
    with pytest.raises(PermissionDenied):
        workflow.start(world.property, case.pk)  # not theirs yet
    workflow.assign(world.worker, case.pk, world.party_member)
    with pytest.raises(PermissionDenied):
        workflow.start(world.property, case.pk)
    workflow.start(world.party_member, case.pk)
    for step in (
        lambda u: workflow.close(u, case.pk),
        lambda u: workflow.reopen(u, case.pk, "再看看"),
        lambda u: workflow.escalate(u, case.pk, "需要街道协调"),
    ):
        with pytest.raises(PermissionDenied):
            step(world.party_member)
    assert Case.objects.get(pk=case.pk).state == State.IN_PROGRESS


def test_only_people_holding_a_role_there_can_be_assigned(world):
    case = new_case(world)
    workflow.accept(world.worker, case.pk)
    names = {u.username for u in workflow.assignable(case)}
    assert {"worker", "grid_worker", "property", "party_member", "partner"} <= names
    assert not names & {"neighbour", "outsider", "volunteer", "chief", "street_admin"}
    with pytest.raises(ValidationError):
        workflow.assign(world.worker, case.pk, world.neighbour)
    assert Case.objects.get(pk=case.pk).state == State.ACCEPTED


def test_outsiders_and_neighbours_can_take_no_step(world):
    case = new_case(world)
    for user in (world.outsider, world.neighbour, world.chief, world.volunteer):
        with pytest.raises(PermissionDenied):
            workflow.accept(user, case.pk)
        with pytest.raises(PermissionDenied):
            workflow.reject(user, case.pk, "不归我们管")
    assert Case.objects.get(pk=case.pk).state == State.RECEIVED


def test_the_street_may_handle_an_escalated_case(world):
    case = new_case(world)
    workflow.escalate(world.worker, case.pk, "涉及多个部门")
    with pytest.raises(IllegalTransition):
        workflow.escalate(world.worker, case.pk, "再次上报")
    workflow.accept(world.street_admin, case.pk)
    assert Case.objects.get(pk=case.pk).escalated_at is not None


def test_reject_needs_a_reason_and_is_final(world):
    case = new_case(world)
    with pytest.raises(ValidationError):
        workflow.reject(world.worker, case.pk, " ")
    case = workflow.reject(world.worker, case.pk, "属于市政管辖，已告知拨打12345。")
    assert case.state == State.REJECTED and case.responded_at is not None
    for action in ("accept", "assign", "start", "resolve", "rate", "close", "reopen", "merge"):
        assert State.REJECTED not in TRANSITIONS[action][0]


def test_a_dissatisfied_rating_reopens_the_case(world):
    case = new_case(world)
    workflow.accept(world.worker, case.pk)
    workflow.assign(world.worker, case.pk, world.grid_worker)
    workflow.resolve(world.grid_worker, case.pk, "已处理")
    case = workflow.rate(None, case.pk, 2, "还是坏的")
    assert case.state == State.ASSIGNED
    assert case.rating == 2 and case.resolved_at is None
    assert case.assignee == world.grid_worker


def test_merge_follows_the_primary(world):
    primary = new_case(world)
    other = new_case(world, description="电梯又停了，5楼。")
    with pytest.raises(ValidationError):
        workflow.merge(world.worker, other.pk, other.pk)
    merged = workflow.merge(world.worker, other.pk, primary.pk)
    assert merged.state == State.MERGED and merged.merged_into_id == primary.pk
    assert CaseEvent.objects.filter(case=primary, kind="merge", note=other.code).exists()
    third = new_case(world, description="电梯故障第三次反映")
    with pytest.raises(ValidationError):
        workflow.merge(world.worker, third.pk, other.pk)  # not into a merged case


def test_rating_levels_are_checked(world):
    case = new_case(world)
    workflow.accept(world.worker, case.pk)
    workflow.assign(world.worker, case.pk, world.worker)
    workflow.resolve(world.worker, case.pk, "修好了")
    for bad in (0, 6, -1):
        with pytest.raises(ValidationError):
            workflow.rate(None, case.pk, bad)
    assert Case.objects.get(pk=case.pk).state == State.RESOLVED


# --- every sequence of steps, legal or not ------------------------------------------------------

STEPS = [
    "accept",
    "reject",
    "assign",
    "start",
    "resolve",
    "rate_good",
    "rate_bad",
    "close",
    "reopen",
    "merge",
]


def _expected(state: str, step: str) -> str | None:
    action = {"rate_good": "rate", "rate_bad": "rate"}.get(step, step)
    sources, target = TRANSITIONS[action]
    if state not in sources:
        return None
    if step == "rate_bad":
        return State.ASSIGNED
    return target


def _do(world: Any, case: Case, step: str, primary: Case) -> None:
    w = world.worker
    {
        "accept": lambda: workflow.accept(w, case.pk),
        "reject": lambda: workflow.reject(w, case.pk, "不受理"),
        "assign": lambda: workflow.assign(w, case.pk, world.grid_worker),
        "start": lambda: workflow.start(world.grid_worker, case.pk),
        "resolve": lambda: workflow.resolve(world.grid_worker, case.pk, "已处理"),
        "rate_good": lambda: workflow.rate(None, case.pk, 4),
        "rate_bad": lambda: workflow.rate(None, case.pk, 1),
        "close": lambda: workflow.close(w, case.pk),
        "reopen": lambda: workflow.reopen(w, case.pk, "居民再次反映"),
        "merge": lambda: workflow.merge(w, case.pk, primary.pk),
    }[step]()


@settings(
    max_examples=25, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)
@given(st.lists(st.sampled_from(STEPS), min_size=1, max_size=12))
def test_any_sequence_of_steps_follows_the_table(world, steps):
    primary = new_case(world)
    case = new_case(world)
    state: str = State.RECEIVED
    for step in steps:
        before = Case.objects.get(pk=case.pk)
        events = CaseEvent.objects.filter(case=case).count()
        expected = _expected(state, step)
        if expected is None:
            with pytest.raises(IllegalTransition):
                _do(world, case, step, primary)
            after = Case.objects.get(pk=case.pk)
            # Refused: nothing changed, nothing written.
            assert after.state == before.state and after.updated_at == before.updated_at
            assert CaseEvent.objects.filter(case=case).count() == events
        else:
            _do(world, case, step, primary)
            state = expected
            assert Case.objects.get(pk=case.pk).state == state
            assert CaseEvent.objects.filter(case=case).count() > events


# --- the sweep ----------------------------------------------------------------------------------


def test_the_sweep_flags_late_cases_once(world):
    late = new_case(world)  # the lift: answer within 4 hours
    on_time = new_case(world, category=category("suggestion"))  # within 48 hours
    accepted = new_case(world)
    workflow.accept(world.worker, accepted.pk, now=T0 + datetime.timedelta(hours=1))
    counts = workflow.sweep(T0 + datetime.timedelta(hours=5))
    assert counts["late_answer"] == 1
    assert Case.objects.get(pk=late.pk).overdue
    assert not Case.objects.get(pk=on_time.pk).overdue
    assert not Case.objects.get(pk=accepted.pk).overdue
    assert workflow.sweep(T0 + datetime.timedelta(hours=6))["late_answer"] == 0  # once
    # The accepted lift case must be resolved within 3 days.
    counts = workflow.sweep(T0 + datetime.timedelta(days=3, hours=2))
    assert counts == {"late_answer": 1, "late_resolution": 1, "closed_unrated": 0}
    assert Case.objects.get(pk=accepted.pk).overdue and Case.objects.get(pk=on_time.pk).overdue


def test_answering_a_late_case_clears_the_flag_for_the_next_deadline(world):
    case = new_case(world)
    workflow.sweep(T0 + datetime.timedelta(hours=5))
    case = workflow.accept(world.worker, case.pk, now=T0 + datetime.timedelta(hours=6))
    assert not case.overdue
    assert case.responded_at is not None
    assert case.responded_at > case.respond_by  # still counted as answered late in the rates


def test_the_sweep_closes_cases_left_unrated_for_a_week(world):
    case = new_case(world)
    workflow.accept(world.worker, case.pk, now=T0)
    workflow.assign(world.worker, case.pk, world.worker, now=T0)
    workflow.resolve(world.worker, case.pk, "已修复", now=T0)
    assert workflow.sweep(T0 + datetime.timedelta(days=6))["closed_unrated"] == 0
    assert workflow.sweep(T0 + datetime.timedelta(days=8))["closed_unrated"] == 1
    assert Case.objects.get(pk=case.pk).state == State.CLOSED


# --- the three rates ----------------------------------------------------------------------------


def test_the_three_rates(world):
    hour = datetime.timedelta(hours=1)
    cases = [new_case(world, now=T0 + i * hour) for i in range(6)]
    # 0: answered in time, resolved, very satisfied
    # 1: answered in time, resolved, dissatisfied (reopened, then resolved again, unrated)
    # 2: answered late (after 4 h), resolved, satisfied
    # 3: rejected in time
    # 4: never answered, past its deadline
    # 5: merged into 0 — left out of every count
    c = cases
    workflow.accept(world.worker, c[0].pk, now=c[0].received_at + hour)
    workflow.accept(world.worker, c[1].pk, now=c[1].received_at + hour)
    workflow.accept(world.worker, c[2].pk, now=c[2].received_at + 5 * hour)
    workflow.reject(world.worker, c[3].pk, "重复", now=c[3].received_at + hour)
    workflow.merge(world.worker, c[5].pk, c[0].pk, now=c[5].received_at + hour)
    for i in (0, 1, 2):
        workflow.assign(world.worker, c[i].pk, world.worker)
        workflow.resolve(world.worker, c[i].pk, "处理完毕")
    workflow.rate(None, c[0].pk, 5)
    workflow.rate(None, c[1].pk, 1)
    workflow.rate(None, c[2].pk, 4)
    now = T0 + datetime.timedelta(days=1)
    r = rates(
        scope_for(world.worker, Cap.CASES_VIEW).q(), T0, T0 + datetime.timedelta(days=1), now=now
    )
    assert r.received == 5
    assert r.answer_due == 5 and r.answered_in_time == 3  # 0, 1, 3
    assert r.accepted == 3 and r.resolved == 2  # 1 was reopened
    assert r.rated == 3 and r.satisfied == 2
    assert r.response == pytest.approx(3 / 5)
    assert r.resolution == pytest.approx(2 / 3)
    assert r.satisfaction == pytest.approx(2 / 3)
    # A case still inside its answer deadline counts for neither side.
    fresh = new_case(world, now=now - hour)
    r2 = rates(scope_for(world.worker, Cap.CASES_VIEW).q(), T0, now + hour, now=now)
    assert r2.received == 6 and r2.answer_due == 5
    assert fresh.pk
    # The neighbouring community's worker sees none of it.
    assert rates(scope_for(world.neighbour, Cap.CASES_VIEW).q(), T0, now, now=now).received == 0
    assert rates(scope_for(world.outsider, Cap.CASES_VIEW).q(), T0, now, now=now).received == 0


def test_rates_per_community_for_the_street(world):
    new_case(world)
    new_case(world, world.neighbour, place=world.b.building)
    new_case(world, world.neighbour, place=world.b.other_building)
    by = rates_by_child(
        scope_for(world.street_admin, Cap.CASES_VIEW).q(),
        world.street.path,
        T0,
        T0 + datetime.timedelta(days=1),
        now=T0,
    )
    assert {k: v.received for k, v in by.items()} == {world.a.place.path: 1, world.b.place.path: 2}
    assert all(v.answer_due == 0 and v.response is None for v in by.values())


def test_closed_cases_keep_resolution_counted(world):
    case = new_case(world)
    workflow.accept(world.worker, case.pk)
    workflow.assign(world.worker, case.pk, world.worker)
    workflow.resolve(world.worker, case.pk, "已处理")
    workflow.close(world.worker, case.pk)
    r = rates(scope_for(world.worker, Cap.CASES_VIEW).q(), T0, timezone.now())
    assert r.resolved == 1 and r.accepted == 1


def test_the_worker_runs_the_sweep_and_delivers_notifications(live_world):
    """``linli worker --once`` (which closes stale connections, so committed data is used)."""
    import io

    world = live_world

    from django.core.management import call_command

    case = new_case(world, now=timezone.now() - datetime.timedelta(hours=10))  # lift: 4 hours
    workflow.comment(world.grid_worker, case.pk, "已电话联系电梯公司")
    call_command("worker", "--once", stdout=io.StringIO(), stderr=io.StringIO())
    assert Case.objects.get(pk=case.pk).overdue
    # The grid worker's note reached the worker who took the case in.
    assert Notification.objects.filter(user=world.worker).count() == 1


def test_a_taken_tracking_code_is_drawn_again(world, monkeypatch):
    first = new_case(world)
    codes = iter([first.code, "ZZZZ2222"])
    monkeypatch.setattr(workflow, "new_code", lambda: next(codes))
    second = new_case(world, description="另一件事，换个查询码")
    assert second.code == "ZZZZ2222" and Case.objects.count() == 2
