"""Talking to the Open311 endpoints from a test: the specification's error list, XML answers,
a filing with a key."""

from __future__ import annotations

import xml.etree.ElementTree as ET
from typing import Any

from django.test import Client

from linli.cases import catalogue
from linli.cases.models import AttributeValue, Category, CategoryAttribute

JSON = "application/json; charset=utf-8"
XML = "text/xml; charset=utf-8"


def xml_of(response: Any) -> ET.Element:
    assert response["Content-Type"] == XML
    return ET.fromstring(response.content)  # noqa: S314  (our own answer, not untrusted)


def errors_of(response: Any, status: int) -> list[str]:
    """The specification's error list, with the status repeated in each error."""
    assert response.status_code == status, response.content.decode()[:500]
    if response["Content-Type"] == XML:
        root = ET.fromstring(response.content)  # noqa: S314
        assert root.tag == "errors"
        codes = [int(e.findtext("code") or 0) for e in root.findall("error")]
        descriptions = [e.findtext("description") or "" for e in root.findall("error")]
    else:
        assert response["Content-Type"] == JSON
        body = response.json()
        codes = [e["code"] for e in body]
        descriptions = [e["description"] for e in body]
    assert codes and all(code == status for code in codes)
    assert all(descriptions)
    return descriptions


def file(api: Client, key: str | None, fmt: str = "json", **data: Any) -> Any:
    """POST requests.<fmt> form-encoded, with ``key`` as api_key (none if None)."""
    if key is not None:
        data["api_key"] = key
    data.setdefault("service_code", "lift")
    data.setdefault("description", "电梯停在三楼不动了")
    return api.post(f"/open311/v2/requests.{fmt}", data)


def english_api() -> Client:
    """An anonymous client reading in English, with CSRF checks on as for a real program."""
    client = Client(enforce_csrf_checks=True)
    client.cookies["linli_language"] = "en"
    return client


def define_lift_attributes() -> None:
    """What the lift service asks, through the catalogue as the admin saves it: 楼层 (a required
    number), 是否影响出行 (a required choice), when it started (a date and time), which doors
    (several choices), a long remark, and a notice that asks nothing."""
    lift = Category.objects.get(code="lift")

    def ask(code: str, description: str, datatype: str, order: int, **more: Any) -> Any:
        return catalogue.save(
            None,
            CategoryAttribute(
                category=lift,
                code=code,
                description=description,
                datatype=datatype,
                order=order,
                **more,
            ),
        )

    ask("floor", "楼层", "number", 1, required=True, datatype_description="停在几楼，填数字")
    blocks = ask("blocks", "是否影响出行", "singlevaluelist", 2, required=True)
    for order, (key, name) in enumerate([("yes", "是"), ("no", "否")], 1):
        catalogue.save(None, AttributeValue(attribute=blocks, key=key, name=name, order=order))
    ask("since", "什么时候开始的", "datetime", 3)
    doors = ask("doors", "哪几扇门", "multivaluelist", 4)
    for order, (key, name) in enumerate([("front", "前门"), ("back", "后门"), ("side", "侧门")], 1):
        catalogue.save(None, AttributeValue(attribute=doors, key=key, name=name, order=order))
    ask("more", "补充说明", "text", 5)
    ask("notice", "被困请先拨打电梯内的紧急电话", "string", 0, variable=False)
