"""A third-party Open311 client, over real HTTP against a running server: it discovers the
endpoint, reads the services and a service definition with attributes, files a request carrying
them, follows it by its public id; a worker then sees the answers on the case page, on a 360 px
phone in headless Chromium (a screenshot goes to ``test-results/``)."""

from __future__ import annotations

import json
import urllib.error
import urllib.parse
import urllib.request
import xml.etree.ElementTree as ET
from typing import Any

import pytest

from linli.cases import open311_keys
from linli.cases.models import Case
from tests.helpers.browser import SHOTS, browser, fits_the_screen, log_in, phone
from tests.helpers.open311 import define_lift_attributes

pytestmark = [pytest.mark.django_db(transaction=True), pytest.mark.e2e]
__all__ = ["browser", "phone"]  # fixtures, imported for this module's tests


def fetch(url: str, data: dict[str, Any] | None = None) -> tuple[int, bytes]:
    body = urllib.parse.urlencode(data, doseq=True).encode() if data is not None else None
    request = urllib.request.Request(url, data=body)  # noqa: S310  (the test's own server)
    request.add_header("Cookie", "linli_language=en")
    try:
        with urllib.request.urlopen(request, timeout=30) as response:  # noqa: S310
            return response.status, response.read()
    except urllib.error.HTTPError as exc:
        return exc.code, exc.read()


def get_json(url: str) -> Any:
    status, body = fetch(url)
    assert status == 200, body[:300]
    return json.loads(body)


def answer(attribute: dict[str, Any]) -> dict[str, Any]:
    """What a generic client fills in for an attribute, from its definition alone."""
    name = f"attribute[{attribute['code']}]"
    keys = [v["key"] for v in attribute.get("values", [])]
    filled: dict[str, dict[str, Any]] = {
        "number": {name: "7"},
        "datetime": {name: "2026-12-01T08:15:00+08:00"},
        "singlevaluelist": {name: keys[0] if keys else ""},
        "multivaluelist": {f"{name}[]": keys[-2:]},
        "string": {name: "三号电梯"},
        "text": {name: "门开了一半\n卡住了"},
    }
    return filled[attribute["datatype"]]


def test_a_third_party_client_reads_a_definition_and_files_a_request_with_attributes(
    live_server, live_world, phone
):
    define_lift_attributes()
    key = open311_keys.issue_key(None, "第三方应用", live_world.a.place)[1]

    discovery = get_json(f"{live_server.url}/open311/discovery.json")
    (endpoint,) = discovery["endpoints"]
    base = endpoint["url"]
    assert base == f"{live_server.url}/open311/v2"

    services = get_json(f"{base}/services.json")
    with_metadata = [s["service_code"] for s in services if s["metadata"]]
    assert with_metadata == ["lift"]
    definition = get_json(f"{base}/services/lift.json")
    asked = [a for a in definition["attributes"] if a["variable"]]
    assert {a["code"] for a in asked if a["required"]} == {"floor", "blocks"}
    # The XML definition says the same.
    status, xml_body = fetch(f"{base}/services/lift.xml")
    root = ET.fromstring(xml_body)  # noqa: S314  (the test's own server)
    assert status == 200
    assert [a.findtext("code") for a in root.findall("attributes/attribute")] == [
        a["code"] for a in definition["attributes"]
    ]

    form: dict[str, Any] = {
        "api_key": key,
        "service_code": "lift",
        "address_id": str(live_world.a.building.pk),
        "description": "电梯门卡住了，老人下不了楼",
    }
    # Filing without the required attributes gets the specification's error list.
    status, body = fetch(f"{base}/requests.json", form)
    assert status == 400
    assert {e["code"] for e in json.loads(body)} == {400}
    for attribute in asked:
        form.update(answer(attribute))
    status, body = fetch(f"{base}/requests.json", form)
    assert status == 200, body[:500]
    (filed,) = json.loads(body)
    public_id, token = filed["service_request_id"], filed["token"]
    assert public_id != token

    (followed,) = get_json(f"{base}/requests/{public_id}.json")
    assert followed["status"] == "open" and followed["service_code"] == "lift"
    assert token not in json.dumps(followed)
    status, _page = fetch(f"{live_server.url}/r/t/{token}/")  # the resident's tracking page
    assert status == 200

    case = Case.objects.get(public_id=public_id)
    assert case.code == token
    assert case.attributes == {
        "floor": "7",
        "blocks": "yes",
        "since": "2026-12-01T08:15:00+08:00",
        "doors": ["back", "side"],
        "more": "门开了一半\n卡住了",
    }
    log_in(phone, live_server.url, "worker")
    phone.goto(f"{live_server.url}/cases/{case.pk}/")
    details = phone.locator("h2:has-text('附加信息') + dl.facts")
    rows = dict(
        zip(
            details.locator("dt").all_inner_texts(),
            details.locator("dd").all_inner_texts(),
            strict=True,
        )
    )
    assert rows == {
        "楼层": "7",
        "是否影响出行": "是",
        "什么时候开始的": "2026-12-01 08:15",
        "哪几扇门": "后门、侧门",
        "补充说明": "门开了一半\n卡住了",
    }
    assert fits_the_screen(phone)
    SHOTS.mkdir(exist_ok=True)
    phone.screenshot(path=str(SHOTS / "open311-case-details-360.png"), full_page=True)
