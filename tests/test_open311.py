"""Open311 GeoReport v2: discovery, services, filing with a key, reading without personal data."""

from __future__ import annotations

import datetime
import io
import re

import pytest
from django.core.management import CommandError, call_command
from django.test import Client
from django.utils import timezone

from linli.cases import open311, open311_keys, workflow
from linli.cases.models import OPEN_STATES, Case, Category, Channel, Open311Client, State
from linli.core.models import AuditEntry
from linli.places.models import Place
from tests.conftest import square
from tests.helpers.open311 import JSON, english_api, errors_of, file, xml_of

pytestmark = pytest.mark.django_db


@pytest.fixture
def api() -> Client:
    # CSRF checks on, as for a real client: filing must not need a CSRF token.
    return english_api()


@pytest.fixture
def key(world) -> str:
    _client, secret = open311_keys.issue_key(None, "邻里小程序", world.a.place)
    return secret


def take_in(world, *, code: str = "lift", place=None, now=None, actor=None) -> Case:
    return workflow.take_in(
        actor or world.worker,
        workflow.Intake(
            channel=Channel.PHONE,
            category=Category.objects.get(code=code),
            place=place or world.a.building,
            description="楼道的灯坏了好几天",
            reporter_name="张三",
            reporter_phone="13700000001",
        ),
        now=now,
    )


# --- discovery and services -------------------------------------------------------------------


def test_discovery_names_the_v2_endpoint_in_both_formats(api):
    response = api.get("/open311/discovery.json")
    assert response.status_code == 200 and response["Content-Type"] == JSON
    body = response.json()
    (endpoint,) = body["endpoints"]
    assert endpoint["specification"] == "http://wiki.open311.org/GeoReport_v2"
    assert endpoint["url"] == "http://testserver/open311/v2"
    assert set(endpoint["formats"]) == {"text/xml", "application/json"}
    assert body["changeset"] and body["contact"] and body["key_service"]

    root = xml_of(api.get("/open311/discovery.xml"))
    assert root.tag == "discovery"
    endpoints = root.findall("endpoints/endpoint")
    assert len(endpoints) == 1
    assert endpoints[0].findtext("url") == "http://testserver/open311/v2"
    assert {f.text for f in endpoints[0].findall("formats/format")} == {
        "text/xml",
        "application/json",
    }


def test_services_list_every_active_category_with_its_group(world, api):
    Category.objects.filter(code="parking").update(active=False)
    response = api.get("/open311/v2/services.json")
    assert response.status_code == 200 and response["Content-Type"] == JSON
    services = {s["service_code"]: s for s in response.json()}
    active = set(Category.objects.filter(active=True).values_list("code", flat=True))
    assert set(services) == active and "parking" not in services and "lift" in services
    lift = services["lift"]
    assert lift["service_name"] == "Lift"
    assert lift["group"] == "Facilities and repairs"  # its parent's label
    assert lift["metadata"] is False and lift["type"] == "realtime"
    assert "4 hours" in lift["description"] and "3 days" in lift["description"]
    assert {"lift", "repairs"} <= set(lift["keywords"].split(", "))
    assert services["repairs"]["group"] == "Facilities and repairs"
    assert "lift" in services["repairs"]["keywords"]

    root = xml_of(api.get("/open311/v2/services.xml"))
    assert root.tag == "services"
    by_code = {s.findtext("service_code"): s for s in root.findall("service")}
    assert set(by_code) == active
    assert by_code["lift"].findtext("service_name") == "Lift"
    assert by_code["lift"].findtext("metadata") == "false"
    assert by_code["lift"].findtext("type") == "realtime"
    assert by_code["lift"].findtext("group") == "Facilities and repairs"


def test_service_names_are_translated(world):
    chinese = Client().get("/open311/v2/services.json").json()  # no cookie: Chinese
    assert {s["service_code"]: s["service_name"] for s in chinese}["lift"] == "电梯"


def test_service_definition_has_no_attributes_and_unknown_codes_are_404(world, api):
    response = api.get("/open311/v2/services/lift.json")
    assert response.status_code == 200
    assert response.json() == {"service_code": "lift", "attributes": []}
    root = xml_of(api.get("/open311/v2/services/lift.xml"))
    assert root.tag == "service_definition"
    assert root.findtext("service_code") == "lift"
    attributes = root.find("attributes")
    assert attributes is not None and list(attributes) == []
    errors_of(api.get("/open311/v2/services/nope.json"), 404)
    errors_of(api.get("/open311/v2/services/nope.xml"), 404)
    errors_of(api.get("/open311/v2/services/%01%0Bnope.xml"), 404)  # still well-formed XML
    Category.objects.filter(code="lift").update(active=False)
    errors_of(api.get("/open311/v2/services/lift.json"), 404)


def test_unknown_formats_paths_and_methods_answer_in_the_error_form(world, api):
    assert "html" in errors_of(api.get("/open311/v2/services.html"), 404)[0]
    errors_of(api.get("/open311/discovery.yaml"), 404)
    errors_of(api.get("/open311/v2/services/lift"), 404)
    errors_of(api.get("/open311/v2/elsewhere.xml"), 404)  # XML, by the extension asked for
    errors_of(api.get("/open311/"), 404)
    errors_of(api.get("/open311/v2/requests/ABC.pdf"), 404)
    errors_of(Client().post("/open311/v2/services.json"), 405)  # (only filing skips CSRF)
    response = api.put("/open311/v2/requests.xml")
    errors_of(response, 405)
    assert set(response["Allow"].split(", ")) == {"GET", "HEAD", "POST"}


# --- filing -----------------------------------------------------------------------------------


def test_filing_by_address_id_creates_a_case_through_the_intake(world, api, key):
    response = file(
        api,
        key,
        address_id=str(world.a.building.pk),
        phone="138 0013 8000",
        first_name="小明",
        last_name="王",
        email="wang@example.com",
        media_url="https://img.example.com/lift.jpg",
        jurisdiction_id="linli",
    )
    assert response.status_code == 200 and response["Content-Type"] == JSON
    (answer,) = response.json()
    assert set(answer) == {"service_request_id", "token", "service_notice", "account_id"}
    assert answer["account_id"] is None and "4 hours" in answer["service_notice"]
    case = Case.objects.get(public_id=answer["service_request_id"])
    assert answer["token"] == case.code != case.public_id  # the code, for the filing client only
    assert case.channel == Channel.OPEN311 and case.state == State.RECEIVED
    assert case.place == world.a.building and case.category.code == "lift"
    assert case.path == world.a.building.path and case.grid_id == world.a.grid.pk
    assert case.created_by is None
    assert case.reporter_phone == "+8613800138000" and case.reporter_name == "王小明"
    assert case.description.startswith("电梯停在三楼不动了")
    assert "https://img.example.com/lift.jpg" in case.description
    assert "wang@example.com" not in case.description
    client = Open311Client.objects.get()
    assert client.window_count == 1 and client.last_used_at is not None
    entry = AuditEntry.objects.get(action="open311.file", target_id=str(case.pk))
    assert entry.data["client"] == client.pk and entry.place_path == case.path


def test_filing_answers_in_xml_too(world, api, key):
    root = xml_of(file(api, key, "xml", address_id=str(world.a.compound.pk)))
    assert root.tag == "service_requests"
    code = root.findtext("request/service_request_id")
    assert Case.objects.get(public_id=code).place == world.a.compound  # a compound is a place too


def test_filing_by_position_picks_the_nearest_building_of_the_grid(world, api, key):
    # Grid 1 of community a is the square from (114.0, 23.0) to (114.01, 23.01); building 1 stands
    # at (114.005, 23.005). Put the old building in its north-east corner.
    assert world.a.grid.polygon == square(114.0, 23.0)
    Place.objects.filter(pk=world.a.loose_building.pk).update(lon=114.009, lat=23.009)
    near_one = file(api, key, lat="23.004", long="114.004")
    assert (
        Case.objects.get(public_id=near_one.json()[0]["service_request_id"]).place
        == world.a.building
    )
    near_old = file(api, key, lat="23.0085", long="114.0085")
    placed = Case.objects.get(public_id=near_old.json()[0]["service_request_id"]).place
    assert placed == world.a.loose_building


def test_filing_by_position_outside_the_community_is_refused(world, api, key):
    # Inside grid 1 of community b: another community's ground.
    errors_of(file(api, key, lat="23.005", long="115.005"), 403)
    # Inside no grid at all.
    errors_of(file(api, key, lat="30.0", long="100.0"), 400)
    errors_of(file(api, key, lat="23.005"), 400)  # long missing
    errors_of(file(api, key, lat="north", long="114.005"), 400)
    errors_of(file(api, key, lat="95", long="114.005"), 400)
    errors_of(file(api, key, lat="nan", long="114.005"), 400)
    assert not Case.objects.exists()


def test_filing_by_position_needs_a_building_with_a_position(world, api, key):
    Place.objects.filter(pk=world.a.building.pk).update(lat=None, lon=None)
    errors_of(file(api, key, lat="23.004", long="114.004"), 400)
    assert not Case.objects.exists()


def test_filing_by_address_string_matches_a_building_name(world, api, key):
    cases = []
    for text in ("甲社区1栋", "广州市测试区 甲社区旧楼 门口", "甲社区花园", "甲社区花园甲社区2栋"):
        response = file(api, key, address_string=text)
        assert response.status_code == 200, (text, response.content)
        cases.append(Case.objects.get(public_id=response.json()[0]["service_request_id"]))
    assert [c.place for c in cases] == [
        world.a.building,
        world.a.loose_building,
        world.a.compound,
        world.a.other_building,
    ]
    # A building of the neighbouring community is not found from community a's key.
    errors_of(file(api, key, address_string="乙社区1栋"), 400)
    errors_of(file(api, key, address_string="月球基地"), 400)
    Place.objects.filter(pk=world.a.other_building.pk).update(name="甲社区1栋")
    assert "address_id" in errors_of(file(api, key, address_string="甲社区1栋"), 400)[0]


def test_filing_without_a_valid_key_is_refused(world, api):
    _b_client, b_key = open311_keys.issue_key(None, "乙社区应用", world.b.place)
    revoked, revoked_key = open311_keys.issue_key(None, "旧应用", world.a.place)
    open311_keys.revoke_key(None, revoked)
    building = str(world.a.building.pk)
    assert "api_key" in errors_of(file(api, None, address_id=building), 403)[0]
    errors_of(file(api, "", address_id=building), 403)
    errors_of(file(api, "o311_not-a-key", address_id=building), 403)
    errors_of(file(api, revoked_key, address_id=building), 403)
    errors_of(file(api, revoked_key, "xml", address_id=building), 403)
    # A valid key, but for community b.
    assert world.a.place.name not in errors_of(file(api, b_key, address_id=building), 403)[0]
    assert not Case.objects.exists()
    assert AuditEntry.objects.filter(action="open311.revoke", target_id=str(revoked.pk)).exists()


def test_filing_with_bad_parameters_is_400_or_404(world, api, key):
    building = str(world.a.building.pk)
    assert "service_code" in errors_of(file(api, key, service_code="", address_id=building), 400)[0]
    errors_of(file(api, key, service_code="nope", address_id=building), 404)
    Category.objects.filter(code="noise").update(active=False)
    errors_of(file(api, key, service_code="noise", address_id=building), 404)
    errors_of(file(api, key), 400)  # no location
    errors_of(file(api, key, address_id="999999"), 400)
    errors_of(file(api, key, address_id="abc"), 400)
    errors_of(file(api, key, address_id=str(world.a.dwelling.pk)), 400)  # not a building
    (message,) = errors_of(file(api, key, address_id=building, description="坏"), 400)
    assert message.startswith("description:")
    (message,) = errors_of(file(api, key, address_id=building, phone="12345"), 400)
    assert message.startswith("phone:")
    as_json = api.post(
        "/open311/v2/requests.json",
        {"api_key": key, "service_code": "lift", "address_id": building},
        content_type="application/json",
    )
    assert "form-encoded" in errors_of(as_json, 400)[0]
    assert not Case.objects.exists()
    assert Open311Client.objects.get().window_count == 0  # refused filings do not count


def test_filing_is_limited_per_key_and_hour(world, api):
    client, limited = open311_keys.issue_key(None, "小应用", world.a.place, hourly_limit=2)
    _other, other = open311_keys.issue_key(None, "另一个应用", world.a.place, hourly_limit=2)
    building = str(world.a.building.pk)
    assert file(api, limited, address_id=building).status_code == 200
    assert file(api, limited, address_id=building).status_code == 200
    refused = file(api, limited, address_id=building)
    errors_of(refused, 429)
    assert 1 <= int(refused["Retry-After"]) <= 3600
    assert file(api, other, address_id=building).status_code == 200  # per key
    assert Case.objects.count() == 3
    Open311Client.objects.filter(pk=client.pk).update(
        window_started_at=timezone.now() - datetime.timedelta(minutes=61)
    )
    assert file(api, limited, address_id=building).status_code == 200


# --- reading ----------------------------------------------------------------------------------


@pytest.fixture
def progress(world):
    """Cases of community a in every state, and one of community b."""
    now = timezone.now()
    cases = {name: take_in(world) for name in ("received", "accepted", "assigned", "started")}
    for name in ("resolved", "rated", "closed", "rejected", "merged"):
        cases[name] = take_in(world, code="lighting")
    cases["elsewhere"] = take_in(world, place=world.b.building, actor=world.neighbour)
    worker = world.worker
    for name in ("accepted", "assigned", "started", "resolved", "rated", "closed"):
        workflow.accept(worker, cases[name].pk)
    for name in ("assigned", "started", "resolved", "rated", "closed"):
        workflow.assign(worker, cases[name].pk, worker)
    workflow.start(worker, cases["started"].pk)
    for name in ("resolved", "rated", "closed"):
        workflow.resolve(worker, cases[name].pk, "换了新灯管")
    workflow.rate(None, cases["rated"].pk, 5)
    workflow.close(worker, cases["closed"].pk)
    workflow.reject(worker, cases["rejected"].pk, "不属于社区管理范围")
    workflow.merge(worker, cases["merged"].pk, cases["received"].pk)
    cases["old"] = take_in(world, now=now - datetime.timedelta(days=100))
    for name in cases:
        cases[name].refresh_from_db()
    assert cases["started"].state == State.IN_PROGRESS and cases["rated"].state == State.RATED
    return cases


def test_requests_map_our_states_to_open_and_closed(
    world, api, progress, django_assert_max_num_queries
):
    with django_assert_max_num_queries(2):
        response = api.get("/open311/v2/requests.json")
    assert response.status_code == 200 and response["Content-Type"] == JSON
    listed = {r["service_request_id"]: r for r in response.json()}
    recent = {n: c for n, c in progress.items() if n != "old"}
    assert set(listed) == {c.public_id for c in recent.values()}  # the last 90 days by default
    status = {name: listed[case.public_id]["status"] for name, case in recent.items()}
    assert status == {
        "received": "open",
        "accepted": "open",
        "assigned": "open",
        "started": "open",
        "resolved": "closed",
        "rated": "closed",
        "closed": "closed",
        "rejected": "closed",
        "merged": "closed",
        "elsewhere": "open",
    }
    notes = {name: listed[case.public_id]["status_notes"] for name, case in recent.items()}
    assert notes["rejected"] == "不属于社区管理范围"
    assert notes["resolved"] == notes["closed"] == "换了新灯管"
    assert progress["received"].public_id in notes["merged"]
    assert progress["received"].code not in notes["merged"]
    assert notes["received"] == notes["started"] == ""

    received = listed[progress["received"].public_id]
    assert received["agency_responsible"] == world.a.place.name
    assert listed[progress["elsewhere"].public_id]["agency_responsible"] == world.b.place.name
    assert received["address"] == world.a.building.name
    assert received["address_id"] == str(world.a.building.pk)
    assert (received["lat"], received["long"]) == (
        pytest.approx(world.a.building.lat),
        pytest.approx(world.a.building.lon),
    )
    assert received["service_code"] == "lift" and received["service_name"] == "Lift"
    assert received["media_url"] == ""
    received_at = datetime.datetime.fromisoformat(received["requested_datetime"])
    assert received_at == progress["received"].received_at.replace(microsecond=0)
    assert received["requested_datetime"].endswith("+08:00")
    expected = datetime.datetime.fromisoformat(received["expected_datetime"])
    assert expected == progress["received"].respond_by.replace(microsecond=0)
    accepted = listed[progress["accepted"].public_id]
    resolve_by = progress["accepted"].resolve_by
    assert resolve_by is not None
    assert datetime.datetime.fromisoformat(accepted["expected_datetime"]) == resolve_by.replace(
        microsecond=0
    )
    assert datetime.datetime.fromisoformat(accepted["updated_datetime"]) >= received_at


def test_requests_filter_by_status_service_code_and_id(world, api, progress):
    def codes(query: str) -> set[str]:
        response = api.get(f"/open311/v2/requests.json?{query}")
        assert response.status_code == 200, response.content
        return {r["service_request_id"] for r in response.json()}

    recent = {n: c for n, c in progress.items() if n != "old"}
    open_ = {c.public_id for c in recent.values() if c.state in OPEN_STATES}
    assert codes("status=open") == open_ and len(open_) == 5
    assert codes("status=closed") == {c.public_id for c in recent.values()} - open_
    assert codes("status=open,closed") == {c.public_id for c in recent.values()}
    lighting = {
        progress[n].public_id for n in ("resolved", "rated", "closed", "rejected", "merged")
    }
    assert codes("service_code=lighting") == lighting
    assert codes("service_code=lighting&status=open") == set()
    assert codes("service_code=lift,lighting") == {c.public_id for c in recent.values()}
    # Ids given: the other filters (and the 90 days) do not apply.
    wanted = f"{progress['old'].public_id},{progress['rejected'].public_id.upper()}"
    assert codes(f"service_request_id={wanted}&status=open") == {
        progress["old"].public_id,
        progress["rejected"].public_id,
    }
    # A tracking code is no request id: it finds nothing.
    assert codes(f"service_request_id={progress['old'].code}") == set()
    errors_of(api.get("/open311/v2/requests.json?status=pending"), 400)
    errors_of(api.get("/open311/v2/requests.json?service_code=nope"), 404)


def test_requests_filter_by_date(world, api, progress):
    now = timezone.localtime()

    def codes(query: dict[str, str]) -> set[str]:
        response = api.get("/open311/v2/requests.json", query)
        assert response.status_code == 200, response.content
        return {r["service_request_id"] for r in response.json()}

    old = progress["old"].public_id
    start = (now - datetime.timedelta(days=101)).isoformat(timespec="seconds")
    end = (now - datetime.timedelta(days=99)).isoformat(timespec="seconds")
    assert codes({"start_date": start, "end_date": end}) == {old}
    assert codes({"start_date": start}) == {old}  # 90 days from the start
    assert old in codes({"end_date": end})
    day = (now - datetime.timedelta(days=100)).date().isoformat()
    assert codes({"start_date": day, "end_date": day}) == {old}  # a whole day
    # "+08:00" left unencoded in the query string arrives as " 08:00".
    assert "+08:00" in start
    assert old in codes_raw(api, f"start_date={start}")
    errors_of(api.get("/open311/v2/requests.json", {"start_date": "yesterday"}), 400)
    errors_of(api.get("/open311/v2/requests.json", {"start_date": end, "end_date": start}), 400)
    errors_of(
        api.get(
            "/open311/v2/requests.json", {"start_date": "2026-01-01", "end_date": "2026-06-01"}
        ),
        400,
    )


def codes_raw(api: Client, query: str) -> set[str]:
    response = api.get(f"/open311/v2/requests.json?{query}")
    assert response.status_code == 200, response.content
    return {r["service_request_id"] for r in response.json()}


def test_requests_list_in_xml(world, api, progress):
    root = xml_of(api.get("/open311/v2/requests.xml?status=closed"))
    assert root.tag == "service_requests"
    requests = {r.findtext("service_request_id"): r for r in root.findall("request")}
    rejected = requests[progress["rejected"].public_id]
    assert rejected.findtext("status") == "closed"
    assert rejected.findtext("status_notes") == "不属于社区管理范围"
    assert float(rejected.findtext("lat") or 0) == pytest.approx(23.005)
    assert float(rejected.findtext("long") or 0) == pytest.approx(114.005)
    assert rejected.findtext("media_url") in ("", None)


def test_one_request_by_its_id(world, api, progress):
    public_id = progress["started"].public_id
    (one,) = api.get(f"/open311/v2/requests/{public_id}.json").json()
    assert one["service_request_id"] == public_id and one["status"] == "open"
    assert api.get(f"/open311/v2/requests/{public_id.upper()}.json").status_code == 200
    root = xml_of(api.get(f"/open311/v2/requests/{public_id}.xml"))
    assert [r.findtext("service_request_id") for r in root.findall("request")] == [public_id]
    errors_of(api.get(f"/open311/v2/requests/{progress['started'].code}.json"), 404)
    errors_of(api.get("/open311/v2/requests/ZZZZZZZZ.json"), 404)
    errors_of(api.get("/open311/v2/requests/ZZZZZZZZ.xml"), 404)


def test_a_token_is_the_tracking_code_and_leads_to_the_request_id(world, api, key):
    (filed,) = file(api, key, address_id=str(world.a.building.pk)).json()
    code, public_id = filed["token"], filed["service_request_id"]
    assert Case.objects.get(code=code).public_id == public_id
    assert api.get(f"/open311/v2/tokens/{code}.json").json() == [
        {"service_request_id": public_id, "token": code}
    ]
    root = xml_of(api.get(f"/open311/v2/tokens/{code.lower()}.xml"))
    assert root.findtext("request/service_request_id") == public_id
    assert root.findtext("request/token") == code
    errors_of(api.get("/open311/v2/tokens/ZZZZZZZZ.json"), 404)
    errors_of(api.get(f"/open311/v2/tokens/{public_id}.json"), 404)  # the public id is no token


def test_reading_never_shows_who_filed_or_what_they_wrote(world, api, key):
    response = file(
        api,
        key,
        address_id=str(world.a.building.pk),
        phone="13812345678",
        first_name="小明",
        last_name="王",
        description="我是王小明，电话13812345678，电梯坏了",
    )
    public_id = response.json()[0]["service_request_id"]
    case = Case.objects.get(public_id=public_id)
    code = case.code
    assert case.reporter_phone == "+8613812345678"  # kept, for the workers
    bodies = [
        api.get(path).content.decode()
        for path in (
            "/open311/v2/requests.json",
            "/open311/v2/requests.xml",
            f"/open311/v2/requests/{public_id}.json",
            f"/open311/v2/requests/{public_id}.xml",
        )
    ]
    for body in bodies:
        assert public_id in body
        for secret in (code, "13812345678", "1381234", "小明", "电梯坏了", "reporter", "resident"):
            assert secret not in body, (secret, body)
    # The filing client alone gets the tracking code (as the token), and no personal data.
    filed = response.content.decode()
    assert code in filed
    for secret in ("13812345678", "1381234", "小明", "电梯坏了", "reporter", "resident"):
        assert secret not in filed, (secret, filed)
    (item,) = api.get(f"/open311/v2/requests/{public_id}.json").json()
    assert not {"description", "phone", "email", "first_name", "last_name"} & set(item)


def test_polygon_contains_respects_holes():
    outer = [[0, 0], [10, 0], [10, 10], [0, 10], [0, 0]]
    hole = [[4, 4], [6, 4], [6, 6], [4, 6], [4, 4]]
    polygon = {"type": "Polygon", "coordinates": [outer, hole]}
    assert open311.polygon_contains(polygon, 1, 1)
    assert not open311.polygon_contains(polygon, 5, 5)
    assert not open311.polygon_contains(polygon, 11, 5)
    assert open311.polygon_contains({"type": "MultiPolygon", "coordinates": [[hole]]}, 5, 5)
    assert not open311.polygon_contains({"type": "Polygon", "coordinates": [[["x"]]]}, 5, 5)
    assert not open311.polygon_contains(None, 5, 5)


# --- keys: the command and the admin ----------------------------------------------------------


def test_the_command_issues_a_key_that_works_and_revokes_it(world, api):
    out = io.StringIO()
    call_command("open311", "issue-key", "热线系统", "--community", world.a.place.code, stdout=out)
    secret = out.getvalue().strip()
    assert secret.startswith("o311_") and len(secret) > 40
    client = Open311Client.objects.get(name="热线系统")
    assert client.community == world.a.place
    assert client.key_digest == open311_keys.key_digest(secret) and secret not in client.key_digest
    building = str(world.a.building.pk)
    assert file(api, secret, address_id=building).status_code == 200

    listing = io.StringIO()
    call_command("open311", "list-keys", stdout=listing)
    assert client.key_prefix in listing.getvalue() and secret not in listing.getvalue()

    call_command("open311", "revoke-key", client.key_prefix, stdout=io.StringIO())
    client.refresh_from_db()
    assert client.revoked_at is not None
    errors_of(file(api, secret, address_id=building), 403)
    with pytest.raises(CommandError):
        call_command("open311", "revoke-key", client.key_prefix)  # no active key left
    with pytest.raises(CommandError):
        call_command("open311", "issue-key", "x", "--community", "000000000000")
    with pytest.raises(CommandError):  # a compound is not a community
        call_command("open311", "issue-key", "x", "--community", world.a.compound.code)


def test_revoking_by_name_needs_a_single_match(world):
    open311_keys.issue_key(None, "同名", world.a.place)
    open311_keys.issue_key(None, "同名", world.a.place)
    with pytest.raises(CommandError):
        call_command("open311", "revoke-key", "同名")
    open311_keys.issue_key(None, "独一", world.a.place)
    call_command("open311", "revoke-key", "独一", stdout=io.StringIO())
    assert Open311Client.objects.get(name="独一").revoked_at is not None


def test_the_admin_issues_a_key_once_and_revokes_it(world, api):
    from linli.accounts.models import User

    operator = Client()
    operator.force_login(User.objects.create_superuser("operator", password="x" * 12))
    response = operator.post(
        "/admin/cases/open311client/add/",
        {"name": "网格通", "community": world.a.place.pk, "hourly_limit": "30"},
        follow=True,
    )
    assert response.status_code == 200
    found = re.findall(r"o311_[A-Za-z0-9_-]{30,}", response.content.decode())
    assert len(set(found)) == 1
    client = Open311Client.objects.get(name="网格通")
    assert client.hourly_limit == 30 and client.key_digest == open311_keys.key_digest(found[0])
    assert AuditEntry.objects.filter(action="open311.issue", actor_name="operator").exists()
    assert file(api, found[0], address_id=str(world.a.building.pk)).status_code == 200
    # The change page never shows the key again.
    page = operator.get(f"/admin/cases/open311client/{client.pk}/change/").content.decode()
    assert found[0] not in page and client.key_prefix in page
    refused = operator.post(
        "/admin/cases/open311client/add/",
        {"name": "错", "community": world.a.compound.pk, "hourly_limit": "0"},
    )
    assert refused.status_code == 200 and not Open311Client.objects.filter(name="错").exists()
    operator.post(
        "/admin/cases/open311client/",
        {"action": "revoke", "_selected_action": [client.pk]},
    )
    client.refresh_from_db()
    assert client.revoked_at is not None
    errors_of(file(api, found[0], address_id=str(world.a.building.pk)), 403)
