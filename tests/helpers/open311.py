"""Talking to the Open311 endpoints from a test: the specification's error list, XML answers,
a filing with a key."""

from __future__ import annotations

import xml.etree.ElementTree as ET
from typing import Any

from django.test import Client

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
