"""The API's edge: values that fit no row or no calendar get the declared refusal, never a 500
(what the fuzzer in tests/test_fuzz.py found, each pinned here), and the published schema names
each schema once."""

from __future__ import annotations

import json

from django.test import Client
from ninja import Schema

from linli.api import api
from tests.helpers.api import english, send

API = "/api/v1"
HUGE = "99999999999999999999"  # past 64 bits


def test_a_path_id_that_is_no_id_is_not_found(world):
    client = english(world.worker)
    for url in (
        f"/places/{HUGE}",
        f"/places/{2**63}",
        "/places/0",
        "/places/abc",
        f"/residents/{HUGE}",
        f"/cases/{HUGE}",
        f"/network/chiefs/{HUGE}",
        f"/party/members/{HUGE}",
    ):
        response = client.get(f"{API}{url}")
        assert response.status_code == 404, url
        assert response.json() == {"detail": "Not Found"}, url
    # The largest id is still an id: nobody has it.
    assert client.get(f"{API}/places/{2**63 - 1}").status_code == 404
    assert client.get(f"{API}/places/{world.a.place.pk}").status_code == 200
    # A write to a path that names nothing is not found either.
    assert send(client, "post", f"{API}/cases/{HUGE}/accept").status_code == 404


def test_paging_and_id_filters_are_bounded(world):
    client = english(world.street_admin)
    for query, name in (
        (f"limit={HUGE}", "limit"),
        ("limit=0", "limit"),
        ("limit=201", "limit"),
        (f"offset={HUGE}", "offset"),
        ("offset=1000000001", "offset"),
        ("offset=-1", "offset"),
        (f"community={HUGE}", "community"),
        ("community=0", "community"),
    ):
        response = client.get(f"{API}/grids?{query}")
        assert response.status_code == 422, query
        assert [e["loc"] for e in response.json()["detail"]] == [["query", name]], query
    assert client.get(f"{API}/grids?limit=200&offset=1000000000").json()["items"] == []
    assert len(client.get(f"{API}/grids?limit=1").json()["items"]) == 1
    for url in (
        f"/places?parent={HUGE}",
        f"/residents?place={HUGE}",
        f"/network/people?community={HUGE}",
        f"/network/contacts?place={HUGE}",
        f"/network/coverage/unreached?place={world.a.place.pk}&offset={HUGE}",
        f"/cases?place={HUGE}",
    ):
        assert client.get(f"{API}{url}").status_code == 422, url


def test_ids_in_a_body_are_bounded(world):
    client = english(world.worker)
    response = send(client, "post", f"{API}/network/people", {"community": int(HUGE)})
    assert response.status_code == 422
    assert response.json()["detail"][0]["loc"] == ["body", "payload", "community"]
    response = send(client, "post", f"{API}/network/contacts", {"kind": "patrol", "place": 2**63})
    assert response.status_code == 422


def test_dates_are_within_the_years_linli_records(world, roster):
    client = english(world.worker)
    url = f"{API}/network/contacts"
    for moment in ("0001-01-01T00:00:00+14:00", "9999-12-31T23:59:59-12:00", "0999-12-31T23:59"):
        response = client.get(url, {"since": moment})
        assert response.status_code == 422, moment
        assert "1000" in response.json()["detail"][0]["msg"], moment
    assert client.get(url, {"since": "1000-01-01T00:00:00+14:00"}).status_code == 200
    # An offset no time zone has, which PostgreSQL would refuse, is the same moment in UTC.
    assert client.get(url, {"since": "2026-01-01T00:00:00-18:41"}).status_code == 200
    assert client.get(url, {"until": "5075-10-02T22:00:56.371071-18:41"}).status_code == 200
    move_out = f"{API}/residents/{roster.son.pk}/move-out"
    response = send(client, "post", move_out, {"on": "0001-01-01"})
    assert response.status_code == 422
    assert response.json()["detail"][0]["loc"] == ["body", "payload", "on"]
    resident = f"{API}/residents/{roster.son.pk}"
    assert send(client, "patch", resident, {"birth_date": "9000-01-01"}).status_code == 422
    assert send(client, "patch", resident, {"ethnicity": "汉族"}).status_code == 200
    assert client.get(f"{API}/cases?received_after=0001-01-01T00:00:00%2B14:00").status_code == 422


def test_a_streets_coverage_is_asked_for_the_days_it_is_kept(world):
    client = english(world.street_admin)
    url = f"{API}/network/coverage?place={world.street.pk}"
    response = client.get(f"{url}&days=7")
    assert response.status_code == 422
    [error] = response.json()["detail"]
    assert error["loc"] == ["query", "days"]
    assert "30, 90, 180, 365" in error["msg"]
    assert client.get(f"{url}&days=30").status_code == 200
    # Below the street any number of days is counted live.
    assert client.get(f"{API}/network/coverage?place={world.a.place.pk}&days=7").status_code == 200


def test_a_body_that_cannot_be_read_gets_the_declared_400(world):
    client = english(world.worker)
    url = f"{API}/network/people"
    for body in ("{not json", '{"community": 1, "name": "a\\u0000b"}', '{"name": "\\ud800"}'):
        response = client.post(url, data=body, content_type="application/json")
        assert response.status_code == 400, body
        answer = response.json()
        assert answer["errors"] == {"__all__": [answer["detail"]]}, body
        assert "JSON" in answer["detail"]
    # The same in Chinese for a client reading Chinese.
    chinese = Client()
    chinese.force_login(world.worker)
    response = chinese.post(url, data="{", content_type="application/json")
    assert response.json()["detail"] == "请求内容不是可以保存的 JSON 文本。"
    # A well-formed body is parsed as before.
    response = send(client, "post", url, {"community": world.a.place.pk, "name": "黄婶"})
    assert response.status_code == 201


def test_a_nul_in_the_query_is_dropped_before_the_api_reads_it(world):
    """core.middleware.QueryWithoutNulMiddleware, for pages and API alike: ``a%00b`` is ``ab``."""
    client = english(world.worker)
    add = {"community": world.a.place.pk, "name": "黄婶"}
    assert send(client, "post", f"{API}/network/people", add).status_code == 201
    with_nul = client.get(f"{API}/network/people?q=%E9%BB%84%00%E5%A9%B6")
    assert with_nul.status_code == 200
    assert with_nul.json() == client.get(f"{API}/network/people?q=黄婶").json()
    assert with_nul.json()["count"] == 1


def test_each_schema_has_its_own_name():
    names: dict[str, list[str]] = {}

    def walk(cls: type) -> None:
        for sub in cls.__subclasses__():
            if sub.__module__.startswith("linli."):
                names.setdefault(sub.__name__, []).append(sub.__module__)
            walk(sub)

    walk(Schema)
    assert {name: where for name, where in names.items() if len(where) > 1} == {}


def test_each_body_is_documented_with_its_own_schema():
    schema = api.get_openapi_schema()
    components = schema["components"]["schemas"]

    def body(path: str) -> dict:
        content = schema["paths"][f"{API}{path}"]["post"]["requestBody"]["content"]
        ref = content["application/json"]["schema"]["$ref"]
        return components[ref.rsplit("/", 1)[1]]["properties"]

    assert {"kind", "place", "needs", "client_key"} <= set(body("/network/contacts"))
    assert set(body("/party/units/{unit_id}/contacts")) == {"phone"}
    households = json.dumps(components["DwellingOut"])
    assert "HouseholdMemberOut" in households
    assert {"resident_id", "relation", "is_head"} <= set(
        components["HouseholdMemberOut"]["properties"]
    )
    assert {"kind_label", "unit_name", "has_login"} <= set(
        components["PartyMemberOut"]["properties"]
    )
