"""The cases API: scoped like the pages, phone numbers masked, every write through the workflow,
illegal steps answered 409 with nothing changed."""

from __future__ import annotations

import datetime
import json
from collections.abc import Callable
from typing import Any

import pytest
from django.db import connection
from django.test import Client
from django.test.utils import CaptureQueriesContext
from django.urls import reverse
from django.utils import timezone

from linli.accounts.actions import issue_token
from linli.cases import photos, workflow
from linli.cases.models import Case, CaseEvent, Category, PhotoKind, State
from linli.core.models import AuditEntry
from tests.helpers.api import english, send
from tests.helpers.uploads import png_upload

pytestmark = pytest.mark.django_db

API = "/api/v1"
PHONE = "13800138000"
MASKED = "138****8000"
HOUR = datetime.timedelta(hours=1)


@pytest.fixture(autouse=True)
def media(settings, tmp_path):
    settings.MEDIA_ROOT = tmp_path
    return tmp_path


def take_in(world: Any, *, actor: Any = None, now: Any = None, **kw: Any) -> Case:
    data = workflow.Intake(
        channel=kw.pop("channel", "phone"),
        category=Category.objects.get(code=kw.pop("category", "lift")),
        place=kw.pop("place", world.a.building),
        description=kw.pop("description", "电梯停运两天了，老人下不了楼"),
        **kw,
    )
    return workflow.take_in(actor or world.worker, data, now=now)


def drive(world: Any, case: Case, state: str, assignee: Any = None) -> Case:
    """Take the case along the workflow to ``state`` (as the worker; ``assignee`` works on it)."""
    assignee = assignee or world.grid_worker
    path = ["accepted", "assigned", "in_progress", "resolved", "rated", "closed"]
    steps: dict[str, Callable[[], object]] = {
        "accepted": lambda: workflow.accept(world.worker, case.pk),
        "assigned": lambda: workflow.assign(world.worker, case.pk, assignee),
        "in_progress": lambda: workflow.start(assignee, case.pk),
        "resolved": lambda: workflow.resolve(assignee, case.pk, "已联系维保修好"),
        "rated": lambda: workflow.rate(world.worker, case.pk, 5),
        "closed": lambda: workflow.close(world.worker, case.pk),
    }
    for step in path[: path.index(state) + 1] if state in path else []:
        steps[step]()
    return Case.objects.get(pk=case.pk)


@pytest.fixture
def case(world) -> Case:
    """A received case in building 1 of community a, with a phone number and a photo."""
    made = take_in(world, reporter_name="李阿姨", reporter_phone="138 0013 8000")
    photos.save(made, png_upload(), PhotoKind.INTAKE)
    return made


def intake_body(world: Any, **kw: Any) -> dict[str, Any]:
    return {
        "channel": "phone",
        "category": "leak",
        "place": world.a.building.pk,
        "description": "3楼楼道水管漏水",
        "reporter_name": "王先生",
        "reporter_phone": "139 1234 5678",
        **kw,
    }


def endpoints(world: Any, case: Case) -> list[tuple[str, str, Any]]:
    """Every cases endpoint, aimed at community a."""
    c = case.pk
    other = take_in(world, description="电梯又停了，5楼")
    return [
        ("get", f"{API}/cases", None),
        ("post", f"{API}/cases", intake_body(world)),
        ("get", f"{API}/cases/rates", None),
        ("get", f"{API}/case-categories", None),
        ("get", f"{API}/cases/{c}", None),
        ("get", f"{API}/cases/{c}/assignable", None),
        ("post", f"{API}/cases/{c}/accept", None),
        ("post", f"{API}/cases/{c}/reject", {"reason": "不属于社区职责"}),
        ("post", f"{API}/cases/{c}/assign", {"user_id": world.grid_worker.pk}),
        ("post", f"{API}/cases/{c}/start", None),
        ("post", f"{API}/cases/{c}/resolve", {"resolution": "已修好"}),
        ("post", f"{API}/cases/{c}/rate", {"rating": 5, "comment": "很好"}),
        ("post", f"{API}/cases/{c}/close", None),
        ("post", f"{API}/cases/{c}/reopen", {"reason": "又坏了"}),
        ("post", f"{API}/cases/{c}/merge", {"primary_code": other.code}),
        ("post", f"{API}/cases/{c}/escalate", {"reason": "需要街道协调"}),
        ("post", f"{API}/cases/{c}/comment", {"text": "已电话联系", "public": True}),
    ]


def snapshot() -> tuple[Any, ...]:
    return (
        list(Case.objects.order_by("pk").values_list("pk", "state", "escalated_at", "assignee")),
        CaseEvent.objects.count(),
    )


# --- scope: outsider, neighbour, anonymous -----------------------------------------------------------


def test_the_outsider_gets_404_everywhere_and_nothing_changes(world, case, as_user):
    client = as_user(world.outsider)
    calls = endpoints(world, case)
    before = snapshot()
    for method, url, body in calls:
        assert send(client, method, url, body).status_code == 404, (method, url)
    assert snapshot() == before
    assert not AuditEntry.objects.filter(actor=world.outsider).exists()


def test_anonymous_gets_401_everywhere(world, case, client):
    calls = endpoints(world, case)
    before = snapshot()
    for method, url, body in calls:
        assert send(client, method, url, body).status_code == 401, (method, url)
    assert snapshot() == before


def test_the_neighbouring_worker_gets_404_on_community_a(world, case, as_user):
    theirs = take_in(
        world, actor=world.neighbour, place=world.b.building, description="乙社区路灯不亮"
    )
    client = as_user(world.neighbour)
    calls = endpoints(world, case)
    before = snapshot()
    # Everything about community a's case, and taking in a case in community a.
    for method, url, body in [calls[1], *calls[4:]]:
        assert send(client, method, url, body).status_code == 404, (method, url)
    assert snapshot() == before
    # Their lists hold their own community only; places of community a are out of sight.
    assert [c["id"] for c in client.get(f"{API}/cases").json()["items"]] == [theirs.pk]
    assert client.get(f"{API}/cases?place={world.a.place.pk}").status_code == 404
    assert client.get(f"{API}/cases?state=all").json()["count"] == 1
    rates = client.get(f"{API}/cases/rates").json()
    assert rates["total"]["received"] == 1 and rates["place_id"] == world.b.place.pk
    assert client.get(f"{API}/cases/rates?place={world.a.place.pk}").status_code == 404
    assert client.get(f"{API}/case-categories").status_code == 200


def test_those_who_see_the_case_but_may_not_act_get_403(world, case, as_user):
    chief = as_user(world.chief)  # sees the cases of their building, takes them in, no more
    assert chief.get(f"{API}/cases/{case.pk}").status_code == 200
    calls = endpoints(world, case)
    before = snapshot()
    for method, url, body in calls[5:]:
        response = send(chief, method, url, body)
        assert response.status_code == 403, (method, url)
        assert response.json()["detail"]
    assert snapshot() == before
    # The same for the party member once the case is theirs: only start, resolve and comment.
    drive(world, case, "assigned", assignee=world.party_member)
    party = as_user(world.party_member)
    for action, body in [("close", None), ("reopen", {"reason": "再看看"}), ("accept", None)]:
        response = send(party, "post", f"{API}/cases/{case.pk}/{action}", body)
        assert response.status_code == 403, action
    assert party.get(f"{API}/cases/{case.pk}/assignable").status_code == 403
    assert Case.objects.get(pk=case.pk).state == State.ASSIGNED


def test_roles_without_cases_get_404(world, case, as_user):
    for name in ("volunteer", "property", "partner", "party_member"):
        client = as_user(world.users[name])
        assert client.get(f"{API}/cases").status_code == 404, name
        assert client.get(f"{API}/cases/{case.pk}").status_code == 404, name
        assert client.get(f"{API}/case-categories").status_code == 404, name
        assert client.get(f"{API}/cases/rates").status_code == 404, name
        assert send(client, "post", f"{API}/cases/{case.pk}/accept").status_code == 404, name


def test_intake_is_404_out_of_sight_and_403_where_only_seen(world, as_user):
    body = intake_body(world)
    assert send(as_user(world.chief), "post", f"{API}/cases", body).status_code == 201
    # The street sees community a's cases but takes none in; the property company sees none.
    response = send(as_user(world.street_admin), "post", f"{API}/cases", body)
    assert response.status_code == 403 and response.json()["detail"]
    assert send(as_user(world.property), "post", f"{API}/cases", body).status_code == 404
    # The chief's scope is their building; the grid worker's, their grid.
    other = intake_body(world, place=world.a.other_building.pk)
    assert send(as_user(world.chief), "post", f"{API}/cases", other).status_code == 404
    assert send(as_user(world.grid_worker), "post", f"{API}/cases", other).status_code == 404
    assert send(as_user(world.worker), "post", f"{API}/cases", other).status_code == 201
    assert Case.objects.count() == 2


# --- every endpoint for a role that may use it -------------------------------------------------------


def _other_code(world: Any) -> dict[str, Any]:
    return {"primary_code": take_in(world, description="同一部电梯的另一条反映").code.lower()}


# (method, step or "", the case's state first, who, body, expected status)
RIGHT: list[tuple[str, str, str, str, Any, int]] = [
    ("get", "", "received", "chief", None, 200),
    ("get", "assignable", "accepted", "grid_worker", None, 200),
    ("post", "accept", "received", "grid_worker", None, 200),
    ("post", "reject", "received", "worker", {"reason": "属于市政管辖"}, 200),
    ("post", "assign", "accepted", "street_admin", lambda w: {"user_id": w.worker.pk}, 200),
    ("post", "start", "assigned", "property", None, 200),
    ("post", "resolve", "in_progress", "property", {"resolution": "已更换电机"}, 200),
    ("post", "rate", "resolved", "worker", {"rating": 4, "comment": "电话回访"}, 200),
    ("post", "close", "rated", "street_admin", None, 200),
    ("post", "reopen", "closed", "worker", {"reason": "居民反映又坏了"}, 200),
    ("post", "merge", "received", "worker", _other_code, 200),
    ("post", "escalate", "accepted", "grid_worker", {"reason": "涉及多个部门"}, 200),
    ("post", "comment", "in_progress", "property", {"text": "配件明天到"}, 201),
]


@pytest.mark.parametrize(
    ("method", "step", "state", "who", "body", "status"),
    RIGHT,
    ids=[f"{r[1] or 'detail'}-{r[3]}" for r in RIGHT],
)
def test_each_case_endpoint_answers_a_role_that_may_use_it(
    world, case, as_user, method, step, state, who, body, status
):
    drive(world, case, state, assignee=world.property)
    url = f"{API}/cases/{case.pk}" + (f"/{step}" if step else "")
    data = body(world) if callable(body) else body
    events = CaseEvent.objects.filter(case=case).count()
    response = send(as_user(world.users[who]), method, url, data)
    assert response.status_code == status, response.content
    if method == "post":
        assert CaseEvent.objects.filter(case=case).count() == events + 1  # one step, one event
    if method == "post" and step != "comment":
        assert response.json()["state"] == Case.objects.get(pk=case.pk).state


@pytest.mark.parametrize(
    ("url", "who"),
    [("/cases", "chief"), ("/cases/rates", "street_admin"), ("/case-categories", "chief")],
)
def test_each_list_answers_a_role_that_may_use_it(world, case, as_user, url, who):
    response = as_user(world.users[who]).get(API + url)
    assert response.status_code == 200, response.content


def test_a_bearer_token_works_like_the_session(world, case):
    _token, secret = issue_token(world.worker, world.worker, "工单同步")
    client = Client(HTTP_AUTHORIZATION=f"Bearer {secret}")
    assert client.get(f"{API}/cases/{case.pk}").json()["code"] == case.code
    response = send(client, "post", f"{API}/cases/{case.pk}/accept")
    assert response.status_code == 200 and response.json()["state"] == "accepted"
    bad = Client(HTTP_AUTHORIZATION="Bearer lnl_nonsense")
    assert bad.get(f"{API}/cases").status_code == 401


# --- the workflow ------------------------------------------------------------------------------------


def test_the_whole_workflow_through_the_api(world, as_user):
    worker = as_user(world.worker)
    created = send(worker, "post", f"{API}/cases", intake_body(world, priority="urgent"))
    assert created.status_code == 201, created.content
    data = created.json()
    c = data["id"]
    assert data["state"] == "received" and data["priority"] == "urgent"
    assert data["category"] == "leak" and data["place_id"] == world.a.building.pk
    assert data["steps"] == ["accept", "reject", "merge", "escalate", "comment"]
    assert len(data["code"]) == 8 and data["title"] == "3楼楼道水管漏水"
    case = Case.objects.get(pk=c)
    assert case.created_by == world.worker and case.reporter_phone == "+8613912345678"

    assert send(worker, "post", f"{API}/cases/{c}/accept").json()["state"] == "accepted"
    people = worker.get(f"{API}/cases/{c}/assignable").json()
    kinds = {p["name"]: p["kind"] for p in people}
    assert kinds["property"] == "property" and kinds["worker"] == "worker"
    assert kinds["grid_worker"] == "grid" and "neighbour" not in kinds
    assigned = send(worker, "post", f"{API}/cases/{c}/assign", {"user_id": world.property.pk})
    assert assigned.json()["assignee_id"] == world.property.pk
    assert assigned.json()["assignee_kind"] == "property"

    # The property company has no case scope: the case reaches them through the assignment.
    prop = as_user(world.property)
    listed = prop.get(f"{API}/cases?mine=true").json()
    assert [x["id"] for x in listed["items"]] == [c]
    assert prop.get(f"{API}/cases/{c}").json()["steps"] == ["start", "resolve", "comment"]
    assert send(prop, "post", f"{API}/cases/{c}/start").json()["state"] == "in_progress"
    note = send(prop, "post", f"{API}/cases/{c}/comment", {"text": "配件明天到", "public": True})
    assert note.status_code == 201 and note.json()["actor_name"] == "property"
    assert note.json()["kind"] == "comment" and note.json()["public"] is True
    resolved = send(prop, "post", f"{API}/cases/{c}/resolve", {"resolution": "已更换水管"})
    assert resolved.json()["state"] == "resolved" and resolved.json()["resolution"] == "已更换水管"
    assert send(prop, "post", f"{API}/cases/{c}/close").status_code == 403

    rated = send(worker, "post", f"{API}/cases/{c}/rate", {"rating": 4, "comment": "电话回访"})
    assert rated.json()["state"] == "rated" and rated.json()["rating"] == 4
    assert send(worker, "post", f"{API}/cases/{c}/close").json()["state"] == "closed"
    reopened = send(worker, "post", f"{API}/cases/{c}/reopen", {"reason": "又漏水了"})
    assert reopened.json()["state"] == "assigned" and reopened.json()["closed_at"] is None

    detail = worker.get(f"{API}/cases/{c}").json()
    states = [e["to_state"] for e in detail["events"] if e["kind"] == "state"]
    assert states == [
        "received",
        "accepted",
        "assigned",
        "in_progress",
        "resolved",
        "rated",
        "closed",
        "assigned",
    ]
    assert [e["note"] for e in detail["events"] if e["kind"] == "comment"] == ["配件明天到"]
    actions = set(
        AuditEntry.objects.filter(target_id=str(c)).values_list("action", flat=True).distinct()
    )
    assert {"case.create", "case.accept", "case.assign", "case.resolve", "case.reopen"} <= actions


def test_a_dissatisfied_rating_reopens_to_the_assignee(world, case, as_user):
    drive(world, case, "resolved")
    response = send(as_user(world.worker), "post", f"{API}/cases/{case.pk}/rate", {"rating": 2})
    assert response.status_code == 200
    assert response.json()["state"] == "assigned" and response.json()["rating"] == 2
    assert response.json()["assignee_id"] == world.grid_worker.pk


def test_reject_merge_and_escalate(world, case, as_user):
    worker = as_user(world.worker)
    primary = take_in(world, description="同一部电梯，三天前已经反映过")
    merged = send(
        worker, "post", f"{API}/cases/{case.pk}/merge", {"primary_code": f" {primary.code} "}
    )
    assert merged.status_code == 200
    assert merged.json()["state"] == "merged"
    assert merged.json()["merged_into_code"] == primary.code
    assert send(worker, "post", f"{API}/cases/{primary.pk}/escalate", {"reason": "需协调"}).json()[
        "escalated"
    ]
    third = take_in(world, description="小区门口垃圾堆积", category="rubbish")
    rejected = send(worker, "post", f"{API}/cases/{third.pk}/reject", {"reason": "属于市政"})
    assert rejected.json()["state"] == "rejected" and rejected.json()["reject_reason"] == "属于市政"
    assert rejected.json()["steps"] == ["comment"]


# --- illegal steps and bad data -------------------------------------------------------------------


def test_illegal_transitions_are_409_and_change_nothing(world, case, as_user):
    client = english(world.worker)
    before = snapshot()
    for action, body in [
        ("start", None),
        ("resolve", {"resolution": "已处理"}),
        ("rate", {"rating": 5}),
        ("close", None),
        ("reopen", {"reason": "再看看"}),
        ("assign", {"user_id": world.grid_worker.pk}),
    ]:
        response = send(client, "post", f"{API}/cases/{case.pk}/{action}", body)
        assert response.status_code == 409, (action, response.content)
        assert response.json()["state"] == "received"
        assert response.json()["detail"].startswith("A case that is “Received” cannot be")
    assert snapshot() == before
    # The same button twice: one change, then a clear refusal.
    assert send(client, "post", f"{API}/cases/{case.pk}/accept").status_code == 200
    after_accept = snapshot()
    again = send(client, "post", f"{API}/cases/{case.pk}/accept")
    assert again.status_code == 409
    assert again.json() == {
        "detail": "A case that is “Accepted” cannot be accepted.",
        "state": "accepted",
    }
    escalate = {"reason": "需要街道协调"}
    assert send(client, "post", f"{API}/cases/{case.pk}/escalate", escalate).status_code == 200
    second = send(client, "post", f"{API}/cases/{case.pk}/escalate", escalate)
    assert (
        second.status_code == 409 and second.json()["detail"] == "This case is already escalated."
    )
    assert CaseEvent.objects.count() == after_accept[1] + 1
    # In the default language the message is the workflow's own, translated.
    chinese = send(as_user(world.worker), "post", f"{API}/cases/{case.pk}/accept")
    assert chinese.status_code == 409 and "诉求" in chinese.json()["detail"]


def test_a_closed_or_merged_case_cannot_be_merged_again(world, case, as_user):
    primary = take_in(world, description="同一部电梯，三天前已经反映过")
    workflow.merge(world.worker, case.pk, primary.pk)
    response = send(
        as_user(world.worker),
        "post",
        f"{API}/cases/{case.pk}/merge",
        {"primary_code": primary.code},
    )
    assert response.status_code == 409 and response.json()["state"] == "merged"


def test_bad_intake_is_400_with_a_message_per_field(world, as_user):
    client = as_user(world.worker)
    bad = intake_body(world, description=" 漏 ", reporter_phone="12345", place=world.a.dwelling.pk)
    response = send(client, "post", f"{API}/cases", bad)
    assert response.status_code == 400
    errors = response.json()["errors"]
    assert set(errors) == {"description", "reporter_phone", "place"}
    assert all(isinstance(m, str) and m for ms in errors.values() for m in ms)
    assert response.json()["detail"]
    unknown = send(client, "post", f"{API}/cases", intake_body(world, category="castle"))
    assert unknown.status_code == 400 and set(unknown.json()["errors"]) == {"category"}
    Category.objects.filter(code="leak").update(active=False)
    retired = send(client, "post", f"{API}/cases", intake_body(world))
    assert retired.status_code == 400 and set(retired.json()["errors"]) == {"category"}
    # Not the schema at all: 422.
    for wrong in (
        intake_body(world, channel="pigeon"),
        intake_body(world, priority="whenever"),
        {"channel": "phone", "category": "leak", "place": world.a.building.pk},
        intake_body(world, place="abc"),
    ):
        assert send(client, "post", f"{API}/cases", wrong).status_code == 422, wrong
    assert Case.objects.count() == 0


def test_anonymous_intake_keeps_the_number_but_not_the_name(world, as_user):
    body = intake_body(world, anonymous=True, reporter_name="不想留名")
    data = send(as_user(world.worker), "post", f"{API}/cases", body).json()
    assert data["reporter_name"] is None and data["reporter_phone_masked"] == "139****5678"
    assert Case.objects.get(pk=data["id"]).reporter_name == ""


def test_bad_step_data_is_400_and_changes_nothing(world, case, as_user):
    client = as_user(world.worker)
    url = f"{API}/cases/{case.pk}"
    before = snapshot()
    cases = [
        ("reject", {"reason": " "}, "reason"),
        ("merge", {"primary_code": "NOSUCHCD"}, "primary_code"),
        ("merge", {"primary_code": case.code}, "primary_code"),  # into itself
        ("escalate", {"reason": ""}, "reason"),
        ("comment", {"text": "  "}, "text"),
    ]
    for action, body, field in cases:
        response = send(client, "post", f"{url}/{action}", body)
        assert response.status_code == 400, (action, response.content)
        assert set(response.json()["errors"]) == {field}, action
    # A case of the neighbouring community cannot be the primary either.
    theirs = take_in(world, actor=world.neighbour, place=world.b.building)
    response = send(client, "post", f"{url}/merge", {"primary_code": theirs.code})
    assert response.status_code == 400
    workflow.accept(world.worker, case.pk)
    before = snapshot()
    for body in ({"user_id": world.neighbour.pk}, {"user_id": 999999}):
        response = send(client, "post", f"{url}/assign", body)
        assert response.status_code == 400 and set(response.json()["errors"]) == {"user_id"}
    workflow.assign(world.worker, case.pk, world.grid_worker)
    workflow.start(world.grid_worker, case.pk)
    before = snapshot()
    assert send(client, "post", f"{url}/resolve", {"resolution": ""}).status_code == 400
    assert snapshot() == before
    workflow.resolve(world.grid_worker, case.pk, "已处理")
    before = snapshot()
    for rating in (0, 6, -1):
        response = send(client, "post", f"{url}/rate", {"rating": rating})
        assert response.status_code == 400 and set(response.json()["errors"]) == {"rating"}
    assert send(client, "post", f"{url}/rate", {"rating": "great"}).status_code == 422
    assert send(client, "post", f"{url}/reopen", {}).status_code == 422
    assert snapshot() == before


# --- reading -----------------------------------------------------------------------------------------


def test_phone_numbers_are_masked_everywhere(world, case, as_user):
    client = as_user(world.chief)
    listed = client.get(f"{API}/cases")
    detail = client.get(f"{API}/cases/{case.pk}")
    for response in (listed, detail):
        body = response.content.decode()
        assert MASKED in body and PHONE not in body and "13800138000" not in body
    item = listed.json()["items"][0]
    assert item["reporter_phone_masked"] == MASKED and item["reporter_name"] == "李阿姨"
    # A list item carries nothing more about the resident than the name given and the mask.
    assert "description" not in item and "resident" not in json.dumps(item)


def test_detail_has_the_timeline_photos_and_steps(world, case, as_user):
    data = as_user(world.worker).get(f"{API}/cases/{case.pk}").json()
    assert [(e["kind"], e["to_state"]) for e in data["events"]] == [("state", "received")]
    assert data["events"][0]["actor_name"] == "worker"
    assert data["description"] == "电梯停运两天了，老人下不了楼"
    photo = case.photos.get()
    assert data["photos"] == [
        {
            "id": photo.pk,
            "kind": "intake",
            "content_type": "image/png",
            "size": photo.size,
            "uploaded_at": data["photos"][0]["uploaded_at"],
            "url": reverse("cases:photo", args=[case.pk, photo.pk]),
        }
    ]
    # The URL leads to the page view, behind the same scope check.
    assert as_user(world.chief).get(data["photos"][0]["url"]).status_code == 200
    assert as_user(world.neighbour).get(data["photos"][0]["url"]).status_code == 404
    assert data["steps"] == ["accept", "reject", "merge", "escalate", "comment"]
    assert as_user(world.chief).get(f"{API}/cases/{case.pk}").json()["steps"] == []


def test_list_filters(world, as_user):
    lift = take_in(world, description="电梯困人", priority="urgent")
    light = take_in(world, description="楼道灯不亮", category="lighting")
    rubbish = take_in(world, description="垃圾没人清", category="rubbish")
    loose = take_in(world, description="旧楼门禁坏了", place=world.a.loose_building)
    Case.objects.filter(pk=light.pk).update(overdue=True)
    drive(world, rubbish, "resolved")
    workflow.reject(world.worker, loose.pk, "重复反映")
    old = take_in(world, description="去年的事", now=timezone.now() - datetime.timedelta(days=400))
    client = as_user(world.worker)

    def ids(query: str = "") -> list[int]:
        response = client.get(f"{API}/cases?{query}")
        assert response.status_code == 200, response.content
        return [c["id"] for c in response.json()["items"]]

    # Open ones by default, overdue first, then urgent, then the oldest.
    assert ids() == [light.pk, lift.pk, old.pk]
    assert ids("state=resolved") == [rubbish.pk]
    assert ids("state=closed") == [loose.pk]
    assert set(ids("state=all")) == {lift.pk, light.pk, rubbish.pk, loose.pk, old.pk}
    # A category includes its subcategories: lift and lighting are repairs.
    assert set(ids("state=all&category=repairs")) == {lift.pk, light.pk, loose.pk, old.pk}
    assert ids("state=all&category=environment") == [rubbish.pk]
    assert ids("category=lighting") == [light.pk]
    assert ids("overdue=true") == [light.pk]
    assert ids("mine=true&state=all") == []
    assert ids(f"state=all&place={world.a.loose_building.pk}") == [loose.pk]
    assert set(ids(f"state=all&place={world.a.compound.pk}")) == {
        lift.pk,
        light.pk,
        rubbish.pk,
        old.pk,
    }
    since = (timezone.now() - datetime.timedelta(days=30)).isoformat()
    assert old.pk not in ids(f"state=all&received_after={since.replace('+', '%2B')}")
    assert ids(f"state=all&received_before={since.replace('+', '%2B')}") == [old.pk]
    # A date without an offset is Beijing time.
    assert ids("state=all&received_before=2000-01-01T00:00:00") == []
    # The assignee finds theirs with mine=true, whatever their scope.
    grid = as_user(world.grid_worker)
    assert [c["id"] for c in grid.get(f"{API}/cases?mine=true&state=all").json()["items"]] == [
        rubbish.pk
    ]
    # Out of scope places are 404, unknown values 422.
    assert client.get(f"{API}/cases?place={world.b.building.pk}").status_code == 404
    assert grid.get(f"{API}/cases?place={world.a.other_building.pk}").status_code == 404
    for query in ("state=gone", "category=castle", "place=abc", "received_after=yesterday"):
        response = client.get(f"{API}/cases?{query}")
        assert response.status_code == 422, query
        assert response.json()["detail"][0]["loc"]


def test_lists_are_paginated(world, as_user):
    made = [take_in(world, description=f"第{i}件事情需要处理") for i in range(5)]
    client = as_user(world.worker)
    first = client.get(f"{API}/cases?limit=2").json()
    second = client.get(f"{API}/cases?limit=2&offset=2").json()
    third = client.get(f"{API}/cases?limit=2&offset=4").json()
    assert first["count"] == second["count"] == 5
    pages = [c["id"] for p in (first, second, third) for c in p["items"]]
    assert pages == [c.pk for c in made]  # the oldest first
    assert len(third["items"]) == 1


def _count_queries(client: Client, url: str) -> int:
    with CaptureQueriesContext(connection) as ctx:
        response = client.get(url)
    assert response.status_code == 200, response.content
    return len(ctx)


def test_query_counts_do_not_grow_with_rows(world, case, as_user):
    drive(world, case, "assigned")
    urls = [
        f"{API}/cases?limit=100&state=all",
        f"{API}/cases/{case.pk}",
        f"{API}/cases/{case.pk}/assignable",
        f"{API}/case-categories",
        f"{API}/cases/rates",
    ]
    before = [_count_queries(as_user(world.worker), url) for url in urls]
    for i in range(6):
        more = take_in(world, description=f"第{i}件事情需要处理", category="noise")
        drive(world, more, "in_progress", assignee=world.property if i % 2 else None)
        workflow.comment(world.worker, case.pk, f"第{i}次跟进")
    photos.save(case, png_upload(), PhotoKind.RESOLUTION)
    after = [_count_queries(as_user(world.worker), url) for url in urls]
    assert after == before
    assert as_user(world.worker).get(urls[0]).json()["count"] == 7


def test_assignable_people_and_their_kinds(world, case, as_user):
    drive(world, case, "accepted")
    people = as_user(world.grid_worker).get(f"{API}/cases/{case.pk}/assignable").json()
    by_name = {p["name"]: p for p in people}
    assert {"worker", "grid_worker", "property", "party_member", "partner"} <= set(by_name)
    assert not set(by_name) & {"neighbour", "outsider", "volunteer", "chief", "street_admin"}
    assert by_name["partner"]["kind"] == "partner" and by_name["party_member"]["kind"] == "party"
    assert by_name["property"]["id"] == world.property.pk and by_name["property"]["kind_label"]


def test_the_category_tree_with_deadlines(world, as_user):
    tree = english(world.chief).get(f"{API}/case-categories").json()
    roots = {c["code"]: c for c in tree}
    assert list(roots) == list(
        Category.objects.filter(parent__isnull=True)
        .order_by("order", "code")
        .values_list("code", flat=True)
    )
    assert {"environment", "repairs", "safety", "other"} <= set(roots)
    repairs = roots["repairs"]
    assert repairs["name"] == "Facilities and repairs"
    assert [c["code"] for c in repairs["children"]] == ["lift", "lighting", "leak"]
    lift = repairs["children"][0]
    assert (lift["name"], lift["response_hours"], lift["resolve_days"]) == ("Lift", 4, 3)
    assert lift["children"] == [] and lift["active"] is True
    # Operators' own categories keep their name, under their parent.
    Category.objects.create(
        code="pets", name="宠物扰民", parent=Category.objects.get(code="neighbours")
    )
    tree = english(world.chief).get(f"{API}/case-categories").json()
    neighbours = next(c for c in tree if c["code"] == "neighbours")
    assert {c["code"]: c["name"] for c in neighbours["children"]}["pets"] == "宠物扰民"


# --- the three rates ---------------------------------------------------------------------------------


def test_rates_on_a_small_known_dataset(world, as_user):
    now = timezone.now()
    # Lift cases: the answer is due within 4 hours.
    c = [
        take_in(world, now=now - (10 - i) * HOUR, description=f"电梯故障第{i}次") for i in range(4)
    ]
    workflow.accept(world.worker, c[0].pk, now=c[0].received_at + HOUR)  # in time
    workflow.accept(world.worker, c[1].pk, now=c[1].received_at + 5 * HOUR)  # late
    workflow.reject(world.worker, c[2].pk, "重复反映", now=c[2].received_at + HOUR)  # in time
    # c[3]: never answered, past its deadline.
    for i, rating in ((0, 5), (1, 3)):
        workflow.assign(world.worker, c[i].pk, world.grid_worker)
        workflow.resolve(world.grid_worker, c[i].pk, "处理完毕")
        workflow.rate(world.worker, c[i].pk, rating)
    fresh = take_in(world, now=now - HOUR, description="刚刚收到的事")  # not due yet
    merged = take_in(world, now=now - 2 * HOUR, description="同一件事再报一次")
    workflow.merge(world.worker, merged.pk, fresh.pk)  # left out of every count
    take_in(world, now=now - 40 * 24 * HOUR, description="四十天前的事")  # outside 30 days
    take_in(world, actor=world.neighbour, place=world.b.building, now=now - HOUR)

    report = as_user(world.worker).get(f"{API}/cases/rates").json()
    total = report["total"]
    assert report["place_id"] == world.a.place.pk and report["days"] == 30
    assert (total["received"], total["answer_due"], total["answered_in_time"]) == (5, 4, 2)
    assert (total["accepted"], total["resolved"], total["rated"], total["satisfied"]) == (
        2,
        2,
        2,
        1,
    )
    assert (total["open"], total["overdue"]) == (2, 0)
    assert total["response"] == pytest.approx(0.5)
    assert total["resolution"] == pytest.approx(1.0)
    assert total["satisfaction"] == pytest.approx(0.5)
    # One row per child of the community: everything is in the compound.
    assert [(r["place_id"], r["received"]) for r in report["children"]] == [
        (world.a.compound.pk, 5)
    ]
    longer = as_user(world.worker).get(f"{API}/cases/rates?days=90").json()
    assert longer["total"]["received"] == 6 and longer["total"]["answer_due"] == 5

    street = as_user(world.street_admin).get(f"{API}/cases/rates").json()
    assert street["place_id"] == world.street.pk and street["total"]["received"] == 6
    assert {r["place_id"]: r["received"] for r in street["children"]} == {
        world.a.place.pk: 5,
        world.b.place.pk: 1,
    }
    narrowed = as_user(world.street_admin).get(f"{API}/cases/rates?place={world.b.place.pk}")
    assert narrowed.json()["total"]["received"] == 1
    # A grid worker's scope is a grid, not a place: totals only.
    grid = as_user(world.grid_worker).get(f"{API}/cases/rates").json()
    assert grid["place_id"] is None and grid["children"] == []
    assert grid["total"]["received"] == 5
    # Nothing due, nothing rated: no rate rather than 0 %.
    empty = as_user(world.worker).get(f"{API}/cases/rates?place={world.a.other_building.pk}")
    assert empty.json()["total"]["received"] == 0 and empty.json()["total"]["response"] is None
    for query in ("days=0", "days=400", "days=week", "place=abc"):
        assert as_user(world.worker).get(f"{API}/cases/rates?{query}").status_code == 422, query


# --- the schema --------------------------------------------------------------------------------------


def test_openapi_declares_the_errors_of_every_cases_endpoint():
    from linli.api import api

    # As served at /api/v1/openapi.json (status codes as strings).
    schema = json.loads(json.dumps(api.get_openapi_schema()))
    ops = {
        (path.removeprefix(API), method): op
        for path, methods in schema["paths"].items()
        for method, op in methods.items()
        if "cases" in op.get("tags", [])
    }
    assert len(ops) == 17
    with_data = {"reject", "assign", "resolve", "rate", "reopen", "merge", "escalate", "comment"}
    state_steps = set(workflow.TRANSITIONS) | {"escalate"}
    for (path, method), op in ops.items():
        codes = set(op["responses"])
        step = path.rsplit("/", 1)[1]
        assert {"401", "404"} <= codes, (path, method)
        if method == "post":
            assert "403" in codes, path
        if step in with_data or (path, method) == ("/cases", "post"):
            assert {"400", "422"} <= codes, path
        if step in state_steps:
            assert "409" in codes, path
            conflict = op["responses"]["409"]["content"]["application/json"]["schema"]
            assert conflict["$ref"].endswith("/Conflict")
    assert {"400", "403", "422", "201"} <= set(ops[("/cases", "post")]["responses"])
    assert "422" in ops[("/cases", "get")]["responses"]
    assert set(schema["components"]["schemas"]["Conflict"]["properties"]) == {"detail", "state"}
