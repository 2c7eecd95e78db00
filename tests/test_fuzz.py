"""The API fuzzed against its own OpenAPI schema (schemathesis): for every operation and for each of
four callers (a street admin, a community worker, a party member and someone without a login),
requests that fit the schema and requests that do not. No answer may be a server error, and every
answer must be one the operation declares, in the declared shape.

The app is called in-process (WSGI), on the test database with the usual world: its roster, a case,
a contact record, a chief, and the party's organisations, members and task. Path parameters and the
ids in bodies and filters are often small numbers, so that many requests reach real rows. Writes
stay: later requests see what earlier ones made.

``LINLI_FUZZ_EXAMPLES`` (default 10) is the number of examples per operation, caller and mode; a
longer run (``make fuzz``) uses 100. The examples are derandomized, so a run is repeatable.
"""

from __future__ import annotations

import json
import os
from collections import Counter
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pytest
import schemathesis
from django.conf import settings as django_settings
from django.core.handlers.wsgi import WSGIHandler
from django.core.signals import request_finished, request_started
from django.db import close_old_connections
from hypothesis import HealthCheck, Phase, given, settings
from hypothesis import strategies as st
from schemathesis import GenerationMode
from schemathesis.checks import not_a_server_error
from schemathesis.core.failures import FailureGroup
from schemathesis.specs.openapi.checks import (
    content_type_conformance,
    response_schema_conformance,
    status_code_conformance,
)

from linli.accounts.actions import issue_token
from linli.api import api
from tests.helpers.party import build_party
from tests.helpers.routes import w

__all__ = ["w"]  # a fixture, imported for this module's test

EXAMPLES = int(os.environ.get("LINLI_FUZZ_EXAMPLES", "10"))
CHECKS = [
    not_a_server_error,
    status_code_conformance,
    content_type_conformance,
    response_schema_conformance,
]
# Fields that name a row: often a small number, so that the request finds one.
ID_FIELDS = {
    "place",
    "community",
    "home",
    "person",
    "grid",
    "lane",
    "building",
    "compound",
    "parent",
    "org",
    "resident",
    "user_id",
    "member_id",
}


@dataclass
class Tally:
    calls: int = 0
    statuses: Counter[int] = field(default_factory=Counter)
    failures: dict[tuple[str, str], list[str]] = field(default_factory=dict)

    def figures(self, role: str) -> dict[str, Any]:
        failing: Counter[str] = Counter()
        for (_label, title), examples in self.failures.items():
            failing[title] += len(examples)
        return {
            "caller": role,
            "examples": EXAMPLES,
            "operations": len(OPERATIONS),
            "calls": self.calls,
            "statuses": {str(k): v for k, v in sorted(self.statuses.items())},
            "failing": dict(failing),
        }

    def summary(self) -> str:
        lines = [f"{len(self.failures)} kinds of failure in {self.calls} calls:"]
        for (label, check), examples in sorted(self.failures.items()):
            lines.append(f"- {label}: {check} ({len(examples)}×)\n    {examples[0]}")
        return "\n".join(lines)


def _schema() -> Any:
    schema = schemathesis.openapi.from_dict(api.get_openapi_schema(path_prefix="/api/v1/"))
    schema.app = WSGIHandler()
    return schema


SCHEMA = _schema()
OPERATIONS = [result.ok() for result in SCHEMA.get_all_operations()]


@pytest.fixture
def in_process(db):
    # Django's own test client does the same: the request's end must not close the connection
    # that holds the test's transaction.
    request_started.disconnect(close_old_connections)
    request_finished.disconnect(close_old_connections)
    try:
        yield
    finally:
        request_started.connect(close_old_connections)
        request_finished.connect(close_old_connections)


def _with_real_ids(case: Any, ids: Any) -> None:
    """Put small numbers (rows that exist) into the path and into id fields of the body and
    query, where the generated values are integers."""
    for name in list(case.path_parameters or {}):
        case.path_parameters[name] = ids.draw()
    for part in (case.body, case.query):
        if isinstance(part, dict):
            for name, value in list(part.items()):
                if name in ID_FIELDS and isinstance(value, int) and not isinstance(value, bool):
                    part[name] = ids.draw()


def _fuzz(operation: Any, mode: GenerationMode, headers: dict[str, str], tally: Tally) -> None:
    strategy = operation.as_strategy(generation_mode=mode)

    @settings(
        max_examples=EXAMPLES,
        derandomize=True,
        database=None,
        deadline=None,
        phases=[Phase.explicit, Phase.generate],
        suppress_health_check=list(HealthCheck),
    )
    @given(case=strategy, real=st.booleans(), data=st.data())
    def run(case: Any, real: bool, data: Any) -> None:
        if real and mode == GenerationMode.POSITIVE:
            _with_real_ids(case, _Ids(data))
        response = case.call(headers=headers)
        tally.calls += 1
        tally.statuses[response.status_code] += 1
        try:
            case.validate_response(response, checks=CHECKS, headers=headers)
        except FailureGroup as group:
            for failure in group.exceptions:
                key = (operation.label, failure.title)
                sent = f"{mode.value}: path {case.path_parameters} query {case.query} body {case.body!r:.200}"
                got = f"{response.status_code} {response.text[:300]}"
                tally.failures.setdefault(key, []).append(f"{sent}\n    → {got}")

    run()


class _Ids:
    def __init__(self, data: Any) -> None:
        self.data = data

    def draw(self) -> int:
        return int(self.data.draw(st.integers(min_value=1, max_value=60)))


def test_every_operation_is_fuzzed():
    stored = Path(__file__).parent / "data" / "openapi_operations.txt"
    assert sorted(op.label for op in OPERATIONS) == sorted(
        " ".join(row.split(" ")[:2]) for row in stored.read_text().splitlines()
    )


def fuzz_as(w: Any, role: str | None) -> None:
    build_party(w)
    headers = {}
    if role is not None:
        _token, secret = issue_token(None, w.users[role], "fuzz")
        headers = {"Authorization": f"Bearer {secret}"}
    tally = Tally()
    for operation in OPERATIONS:
        for mode in (GenerationMode.POSITIVE, GenerationMode.NEGATIVE):
            _fuzz(operation, mode, headers, tally)
    out = django_settings.VAR_DIR / "fuzz"
    out.mkdir(parents=True, exist_ok=True)
    name = role or "anonymous"
    (out / f"{name}.json").write_text(json.dumps(tally.figures(name), indent=2) + "\n")
    assert not tally.failures, tally.summary()
    # Not only refusals: the callers with a role reach real rows.
    if role is not None:
        assert tally.statuses[200] > 0


# One class per caller, so that pytest-xdist (--dist loadscope) runs them side by side.
class TestStreetAdmin:
    def test_no_request_breaks_the_api_or_its_schema(self, w, in_process):
        fuzz_as(w, "street_admin")


class TestCommunityWorker:
    def test_no_request_breaks_the_api_or_its_schema(self, w, in_process):
        fuzz_as(w, "worker")


class TestPartyMember:
    def test_no_request_breaks_the_api_or_its_schema(self, w, in_process):
        fuzz_as(w, "party_member")


class TestAnonymous:
    def test_no_request_breaks_the_api_or_its_schema(self, w, in_process):
        fuzz_as(w, None)
