"""Open311 bounds every parameter: bad input gets the specification's error list with the right
status, in JSON and in XML, and never a 500, whoever sends it (reading needs no key)."""

from __future__ import annotations

import pytest
from django.test import Client
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from linli.cases import open311_keys
from linli.cases.models import Case, CategoryAttribute
from tests.helpers.open311 import (
    JSON,
    define_lift_attributes,
    english_api,
    errors_of,
    file,
    xml_of,
)

pytestmark = pytest.mark.django_db

LIST = "/open311/v2/requests"


@pytest.fixture
def api() -> Client:
    return english_api()


@pytest.fixture
def key(world) -> str:
    return open311_keys.issue_key(None, "邻里小程序", world.a.place)[1]


# Dates beyond what can be stored once moved to UTC or widened by the 90-day window: the issue's
# 0001-01-01 (China time, before the year 1 in UTC), an offset of +14:00 on the first day, the
# last day of year 9999 and beyond it, and texts that are no date at all.
BAD_DATES = [
    ("start_date", "0001-01-01"),
    ("start_date", "0001-01-01T00:00:00+14:00"),
    ("end_date", "0001-01-01T00:00:00+14:00"),
    ("start_date", "0001-01-01T00:00:00Z"),
    ("end_date", "9999-12-31"),
    ("start_date", "9999-12-31T23:59:59-14:00"),
    ("end_date", "9999-12-31T23:59:59.999999-12:00"),
    ("start_date", "10000-01-01"),
    ("start_date", "2026-02-30"),
    ("start_date", "2026-01-01T25:00:00"),
    ("start_date", "2026-01-01T00:00:00+25:00"),
    ("start_date", "２０２６-01-01"),  # full-width digits
    ("start_date", "2026-01-01" + "0" * 60),
    ("end_date", "tomorrow"),
]


@pytest.mark.parametrize("fmt", ["json", "xml"])
@pytest.mark.parametrize(("name", "value"), BAD_DATES)
def test_dates_out_of_range_or_malformed_are_400(world, api, fmt, name, value):
    (message,) = errors_of(api.get(f"{LIST}.{fmt}", {name: value}), 400)
    assert name in message


@pytest.mark.parametrize(
    "query",
    [
        {"start_date": "0001-01-03"},  # the window ends in year 1: nothing, but an answer
        {"end_date": "0001-01-03"},  # the window would start before year 1: it stops there
        {"start_date": "9999-12-29"},  # the window would pass year 9999
        {"start_date": "0001-01-02T12:00:00+08:00", "end_date": "0001-03-01"},
    ],
)
def test_dates_at_the_edges_of_the_range_answer_an_empty_list(world, api, query):
    response = api.get(f"{LIST}.json", query)
    assert response.status_code == 200 and response["Content-Type"] == JSON
    assert response.json() == []


@pytest.mark.parametrize("fmt", ["json", "xml"])
@pytest.mark.parametrize(
    ("query", "status"),
    [
        ({"status": "pending"}, 400),
        ({"status": "open;closed"}, 400),
        ({"service_code": ",".join(f"c{i}" for i in range(101))}, 400),
        ({"service_code": "lift\x01"}, 400),
        ({"service_code": "x" * 500}, 404),
        ({"service_request_id": ",".join(["0" * 16] * 1001)}, 400),
        ({"service_request_id": "\x1f"}, 400),
        ({"start_date": "2026-01-01\x0b"}, 400),
        ({"jurisdiction_id": "x" * 10001}, 400),
        ({"\x01": "x"}, 400),  # the name too
    ],
)
def test_list_parameters_are_bounded(world, api, fmt, query, status):
    errors_of(api.get(f"{LIST}.{fmt}", query), status)


def test_a_nul_in_the_query_string_is_dropped_as_on_every_page(world, api):
    # linli.core.middleware.QueryWithoutNulMiddleware: the parameter means what was meant.
    response = api.get(f"{LIST}.json", {"service_code": "li\x00ft", "status": "open\x00"})
    assert response.status_code == 200 and response.json() == []
    errors_of(api.get(f"{LIST}.json", {"service_code": "nope\x00"}), 404)


def test_ids_of_another_form_find_nothing(world, api):
    for ids in ("x", "ZZZZZZZZ", "1" * 17, "g" * 16, "９" * 16, ",,,"):
        response = api.get(f"{LIST}.json", {"service_request_id": ids})
        assert response.status_code == 200 and response.json() == [], ids


def test_too_many_parameters_are_an_error_list(world, api):
    query = "&".join(f"p{i}=1" for i in range(1200))  # past DATA_UPLOAD_MAX_NUMBER_FIELDS
    errors_of(api.get(f"{LIST}.xml?{query}"), 400)
    errors_of(api.get(f"{LIST}.json?{query}"), 400)


@pytest.mark.parametrize(
    "path",
    [
        "/open311/v2/requests/%00.json",
        "/open311/v2/requests/%00%01.xml",
        "/open311/v2/services/%00.json",
        "/open311/v2/tokens/%00.xml",
        "/open311/v2/tokens/" + "A" * 300 + ".json",
        "/open311/v2/requests/" + "f" * 300 + ".json",
    ],
)
def test_path_parameters_that_name_nothing_are_404(world, api, path):
    errors_of(api.get(path), 404)


@pytest.mark.parametrize("fmt", ["json", "xml"])
@pytest.mark.parametrize(
    ("data", "status"),
    [
        ({"address_id": "²"}, 400),  # a digit to str.isdigit, not to int()
        ({"address_id": "٣"}, 400),  # an Arabic-Indic three
        ({"address_id": "99999999999999999999"}, 400),  # past 64 bits
        ({"address_id": "-1"}, 400),
        ({"lat": "1e400", "long": "114.0"}, 400),
        ({"lat": "23.0", "long": "-inf"}, 400),
        ({"address_id": "{building}", "description": "电梯\x00坏了"}, 400),
        ({"address_id": "{building}", "phone": "1" * 5000}, 400),
        ({"address_id": "{building}", "description": "坏" * 4001}, 400),
        ({"address_id": "{building}", "service_code": "lift\x00"}, 400),
        ({"address_id": "{building}", "service_code": "x" * 300}, 404),
        ({"address_string": "甲社区1栋" * 3000}, 400),
        ({"address_id": "{building}", "api_key": "o311_" + "x" * 5000}, 403),
    ],
)
def test_filing_parameters_are_bounded(world, api, key, fmt, data, status):
    data = {k: v.replace("{building}", str(world.a.building.pk)) for k, v in data.items()}
    errors_of(file(api, data.pop("api_key", key), fmt, **data), status)
    assert not Case.objects.exists()


def test_a_body_past_the_size_limit_is_413(world, api, key, settings):
    settings.DATA_UPLOAD_MAX_MEMORY_SIZE = 10_000
    response = file(api, key, address_id=str(world.a.building.pk), description="坏" * 9000)
    errors_of(response, 413)
    assert not Case.objects.exists()


def test_a_broken_multipart_body_is_400(world, api, key):
    response = api.generic(
        "POST",
        f"{LIST}.xml",
        b'--nope\r\nContent-Disposition: form-data; name="api_key"\r\n\r\n',
        content_type="multipart/form-data; boundary=",
    )
    errors_of(response, 400)
    assert xml_of(response).tag == "errors"


# Any text in any parameter: an answer from the list of statuses the endpoints give, never a 500
# (which the test client would raise as the view's exception).
TEXT = st.text(st.characters(codec="utf-8"), max_size=40) | st.sampled_from(
    ["0001-01-01", "9999-12-31T23:59:59-14:00", "open", "lift", "0" * 16, "²", "1e999", ""]
)


@settings(
    max_examples=100, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)
@given(
    st.dictionaries(
        st.sampled_from(
            ["start_date", "end_date", "status", "service_code", "service_request_id", "x"]
        ),
        TEXT,
        max_size=4,
    ),
    st.sampled_from(["json", "xml"]),
)
def test_any_list_query_gets_an_answer_or_the_error_list(world, query, fmt):
    response = english_api().get(f"{LIST}.{fmt}", query)
    assert response.status_code in (200, 400, 404)
    if response.status_code != 200:
        errors_of(response, response.status_code)


@settings(
    max_examples=100, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)
@given(
    st.dictionaries(
        st.sampled_from(
            [
                "service_code",
                "address_id",
                "lat",
                "long",
                "address_string",
                "description",
                "phone",
                "first_name",
                "media_url",
                "attribute[floor]",
                "attribute[blocks]",
                "attribute[since]",
                "attribute[doors][]",
            ]
        ),
        TEXT,
        max_size=6,
    )
)
def test_any_filing_gets_an_answer_or_the_error_list(world, data):
    if not CategoryAttribute.objects.exists():
        define_lift_attributes()
    key = open311_keys.issue_key(None, "试验", world.a.place, hourly_limit=10_000)[1]
    response = file(english_api(), key, **data)
    assert response.status_code in (200, 400, 403, 404)
    if response.status_code != 200:
        errors_of(response, response.status_code)
