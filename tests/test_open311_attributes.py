"""Open311 service attributes: a category asks more than the description (楼层, 是否影响出行);
its service definition publishes them with the specification's fields, a filing is checked
against them (the specification's 400 error list), and the case keeps the answers for the worker.
"""

from __future__ import annotations

from typing import Any

import pytest
from django.test import Client

from linli.accounts.models import User
from linli.cases import attributes, open311_keys, workflow
from linli.cases.models import Case, Category, CategoryAttribute, Channel, Open311Client
from linli.core.models import AuditEntry
from tests.helpers.open311 import define_lift_attributes, english_api, errors_of, file, xml_of

pytestmark = pytest.mark.django_db

GOOD: dict[str, Any] = {
    "attribute[floor]": "3",
    "attribute[blocks]": "yes",
    "attribute[since]": "2026-11-30T07:30:00+08:00",
    "attribute[doors][]": ["front", "side"],
    "attribute[more]": "按钮没有反应\n门也关不上",
}


@pytest.fixture
def api() -> Client:
    return english_api()


@pytest.fixture
def key(world) -> str:
    define_lift_attributes()
    return open311_keys.issue_key(None, "邻里小程序", world.a.place)[1]


def test_services_with_attributes_say_metadata_true(world, api, key):
    services = {s["service_code"]: s for s in api.get("/open311/v2/services.json").json()}
    assert services["lift"]["metadata"] is True
    assert services["leak"]["metadata"] is False and services["repairs"]["metadata"] is False
    root = xml_of(api.get("/open311/v2/services.xml"))
    by_code = {s.findtext("service_code"): s for s in root.findall("service")}
    assert by_code["lift"].findtext("metadata") == "true"
    assert by_code["leak"].findtext("metadata") == "false"


def test_the_service_definition_lists_the_attributes_with_the_specifications_fields(
    world, api, key, django_assert_max_num_queries
):
    with django_assert_max_num_queries(3):
        response = api.get("/open311/v2/services/lift.json")
    assert response.status_code == 200
    body = response.json()
    assert body["service_code"] == "lift"
    attributes = body["attributes"]
    assert [a["code"] for a in attributes] == [
        "notice",
        "floor",
        "blocks",
        "since",
        "doors",
        "more",
    ]
    by_code = {a["code"]: a for a in attributes}
    assert by_code["floor"] == {
        "variable": True,
        "code": "floor",
        "datatype": "number",
        "required": True,
        "datatype_description": "停在几楼，填数字",
        "order": 1,
        "description": "楼层",
    }
    assert by_code["blocks"]["datatype"] == "singlevaluelist" and by_code["blocks"]["required"]
    assert by_code["blocks"]["values"] == [
        {"key": "yes", "name": "是"},
        {"key": "no", "name": "否"},
    ]
    assert [v["key"] for v in by_code["doors"]["values"]] == ["front", "back", "side"]
    assert by_code["doors"]["datatype"] == "multivaluelist" and not by_code["doors"]["required"]
    assert by_code["since"]["datatype"] == "datetime" and "values" not in by_code["since"]
    assert by_code["since"]["datatype_description"] is None
    assert by_code["more"]["datatype"] == "text"
    assert by_code["notice"]["variable"] is False and by_code["notice"]["datatype"] == "string"

    root = xml_of(api.get("/open311/v2/services/lift.xml"))
    assert root.tag == "service_definition" and root.findtext("service_code") == "lift"
    items = root.findall("attributes/attribute")
    assert [a.findtext("code") for a in items] == [a["code"] for a in attributes]
    blocks = items[2]
    assert blocks.findtext("variable") == "true" and blocks.findtext("required") == "true"
    assert blocks.findtext("order") == "2" and blocks.findtext("description") == "是否影响出行"
    assert [(v.findtext("key"), v.findtext("name")) for v in blocks.findall("values/value")] == [
        ("yes", "是"),
        ("no", "否"),
    ]


def test_a_filing_keeps_the_answers_on_the_case(world, api, key):
    response = file(api, key, address_id=str(world.a.building.pk), **GOOD)
    assert response.status_code == 200, response.content
    case = Case.objects.get(public_id=response.json()[0]["service_request_id"])
    assert case.attributes == {
        "floor": "3",
        "blocks": "yes",
        "since": "2026-11-30T07:30:00+08:00",
        "doors": ["front", "side"],
        "more": "按钮没有反应\n门也关不上",
    }
    # Answers may hold personal data, like the description: the public reading shows none.
    for path in (f"/open311/v2/requests/{case.public_id}.json", "/open311/v2/requests.xml"):
        body = api.get(path).content.decode()
        assert case.public_id in body and "按钮没有反应" not in body and "front" not in body
    # Only what is required, and several doors as repeated attribute[doors] too.
    response = file(
        api,
        key,
        "xml",
        address_id=str(world.a.building.pk),
        **{
            "attribute[floor]": "+12.5",
            "attribute[blocks]": "no",
            "attribute[doors]": ["back", "front", "back"],
        },
    )
    public_id = xml_of(response).findtext("request/service_request_id")
    kept = Case.objects.get(public_id=public_id).attributes
    assert kept == {"floor": "12.5", "blocks": "no", "doors": ["front", "back"]}


def test_the_worker_sees_the_answers_on_the_case_page(world, api, key):
    response = file(api, key, address_id=str(world.a.building.pk), **GOOD)
    case = Case.objects.get(public_id=response.json()[0]["service_request_id"])
    worker = Client()
    worker.force_login(world.worker)
    page = worker.get(f"/cases/{case.pk}/").content.decode()
    for shown in ("楼层", "是否影响出行", "是", "前门、侧门", "2026-11-30 07:30", "门也关不上"):
        assert shown in page, shown
    assert case.public_id in page and case.code in page
    # The case API gives the same answers as the page, in the same order.
    api_answers = worker.get(f"/api/v1/cases/{case.pk}").json()["answers"]
    assert [(a["question"], a["answer"]) for a in api_answers] == attributes.answers(case)
    assert {"question": "是否影响出行", "answer": "是"} in api_answers
    outsider = Client()
    outsider.force_login(world.outsider)
    assert outsider.get(f"/cases/{case.pk}/").status_code == 404
    # An attribute removed later: its answer stays, under its code.
    CategoryAttribute.objects.filter(code="floor").delete()
    page = worker.get(f"/cases/{case.pk}/").content.decode()
    assert "<dt>floor</dt><dd>3</dd>" in page.replace("\n", "").replace("  ", "")


@pytest.mark.parametrize(
    ("change", "field", "words"),
    [
        ({"attribute[floor]": None}, "attribute[floor]", "楼层"),
        ({"attribute[floor]": "  "}, "attribute[floor]", "楼层"),
        ({"attribute[blocks]": None}, "attribute[blocks]", "是否影响出行"),
        ({"attribute[floor]": "三"}, "attribute[floor]", "number"),
        ({"attribute[floor]": "３"}, "attribute[floor]", "number"),  # a full-width digit
        ({"attribute[floor]": "1" * 19}, "attribute[floor]", "18 digits"),
        ({"attribute[floor]": "1e3"}, "attribute[floor]", "number"),
        ({"attribute[floor]": "NaN"}, "attribute[floor]", "number"),
        ({"attribute[floor]": ["3", "4"]}, "attribute[floor]", "one value"),
        ({"attribute[blocks]": "maybe"}, "attribute[blocks]", "yes, no"),
        ({"attribute[blocks]": ["yes", "no"]}, "attribute[blocks]", "one value"),
        ({"attribute[doors][]": ["front", "roof"]}, "attribute[doors]", "roof"),
        ({"attribute[since]": "yesterday"}, "attribute[since]", "ISO 8601"),
        ({"attribute[since]": "0001-01-01T00:00:00+14:00"}, "attribute[since]", "9999"),
        ({"attribute[more]": "很" * 2001}, "attribute[more]", "2000"),
        ({"attribute[colour]": "red"}, "attribute[colour]", "lift"),
    ],
)
def test_a_filing_with_wrong_answers_is_400(world, api, key, change, field, words):
    data = {**GOOD, **change}
    data = {k: v for k, v in data.items() if v is not None}
    (message,) = errors_of(file(api, key, address_id=str(world.a.building.pk), **data), 400)
    assert message.startswith(f"{field}: ") and words in message, message
    assert not Case.objects.exists()
    assert Open311Client.objects.get().window_count == 0


def test_every_wrong_answer_is_listed_at_once_in_xml_too(world, api, key):
    response = file(
        api, key, "xml", address_id=str(world.a.building.pk), **{"attribute[floor]": "x"}
    )
    messages = errors_of(response, 400)
    assert sorted(m.split(":")[0] for m in messages) == ["attribute[blocks]", "attribute[floor]"]


def test_a_notice_asks_nothing_and_staff_intake_asks_no_attributes(world, api, key):
    response = file(
        api, key, address_id=str(world.a.building.pk), **GOOD, **{"attribute[notice]": "好"}
    )
    case = Case.objects.get(public_id=response.json()[0]["service_request_id"])
    assert "notice" not in case.attributes
    # A worker taking a call files no attributes: the required ones do not block the intake.
    taken = workflow.take_in(
        world.worker,
        workflow.Intake(
            channel=Channel.PHONE,
            category=case.category,
            place=world.a.building,
            description="电话反映电梯停了",
        ),
    )
    assert taken.attributes == {}


def test_the_operator_defines_attributes_in_the_admin(world, api):
    operator = Client()
    operator.force_login(User.objects.create_superuser("operator", password="x" * 12))
    assert "lift" in operator.get("/admin/cases/category/").content.decode()
    category_id = Category.objects.get(code="lift").pk
    change = f"/admin/cases/category/{category_id}/change/"
    page = operator.get(change)
    assert page.status_code == 200
    form = {
        "name": "电梯",
        "response_hours": "4",
        "resolve_days": "3",
        "active": "on",
        "order": "100",
        "attributes-TOTAL_FORMS": "1",
        "attributes-INITIAL_FORMS": "0",
        "attributes-MIN_NUM_FORMS": "0",
        "attributes-MAX_NUM_FORMS": "1000",
        "attributes-0-order": "1",
        "attributes-0-code": "blocks",
        "attributes-0-description": "是否影响出行",
        "attributes-0-datatype": "singlevaluelist",
        "attributes-0-required": "on",
        "attributes-0-variable": "on",
    }
    response = operator.post(change, form)
    assert response.status_code == 302, response.content.decode()[-3000:]
    attribute = CategoryAttribute.objects.get(category_id=category_id, code="blocks")
    # Its choices, on the attribute's own page.
    response = operator.post(
        f"/admin/cases/categoryattribute/{attribute.pk}/change/",
        {
            "category": str(category_id),
            "order": "1",
            "code": "blocks",
            "description": "是否影响出行",
            "datatype": "singlevaluelist",
            "required": "on",
            "variable": "on",
            "values-TOTAL_FORMS": "2",
            "values-INITIAL_FORMS": "0",
            "values-MIN_NUM_FORMS": "0",
            "values-MAX_NUM_FORMS": "1000",
            "values-0-order": "1",
            "values-0-key": "yes",
            "values-0-name": "是",
            "values-1-order": "2",
            "values-1-key": "no",
            "values-1-name": "否",
        },
    )
    assert response.status_code == 302, response.content.decode()[-3000:]
    (published,) = api.get("/open311/v2/services/lift.json").json()["attributes"]
    assert published["code"] == "blocks" and [v["name"] for v in published["values"]] == [
        "是",
        "否",
    ]
    changes = AuditEntry.objects.filter(action="category.change", actor_name="operator")
    # The category and its new attribute, then the attribute again with its two new choices.
    assert sorted((e.data["kind"], e.data["created"]) for e in changes) == [
        ("attributevalue", True),
        ("attributevalue", True),
        ("category", False),
        ("categoryattribute", False),
        ("categoryattribute", True),
    ]
    assert {e.data["category"] for e in changes} == {"lift"}
    # A required attribute that asks nothing is refused, beside its field.
    refused = operator.post(
        "/admin/cases/categoryattribute/add/",
        {
            "category": str(category_id),
            "order": "2",
            "code": "odd",
            "description": "奇怪",
            "datatype": "string",
            "required": "on",
            "values-TOTAL_FORMS": "0",
            "values-INITIAL_FORMS": "0",
            "values-MIN_NUM_FORMS": "0",
            "values-MAX_NUM_FORMS": "1000",
        },
    )
    assert refused.status_code == 200
    assert not CategoryAttribute.objects.filter(code="odd").exists()
    # Removing it is audited too; categories themselves are never deleted.
    operator.post(f"/admin/cases/categoryattribute/{attribute.pk}/delete/", {"post": "yes"})
    assert not CategoryAttribute.objects.filter(pk=attribute.pk).exists()
    assert AuditEntry.objects.filter(action="category.remove", actor_name="operator").exists()
    assert operator.get(f"/admin/cases/category/{category_id}/delete/").status_code == 403
