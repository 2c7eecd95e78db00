"""The invented cases: every state, honest timestamps, assignees who hold a role there."""

from __future__ import annotations

import datetime

import pytest

from linli.accounts.roles import Cap
from linli.accounts.scope import scope_for
from linli.cases import demo
from linli.cases.models import Case, CaseEvent, State
from linli.cases.rates import rates
from linli.places.models import Place, PlaceKind
from tests.conftest import demo_loaded_once

pytestmark = pytest.mark.django_db

NOW = datetime.datetime(2026, 11, 1, 12, 0, tzinfo=datetime.UTC)


@pytest.fixture(scope="class")
def demo_loaded(django_db_setup, django_db_blocker):
    """Class-scoped: only the tests of ``TestTheDemoStreet`` below share the loaded demo."""
    yield from demo_loaded_once(django_db_blocker)


class TestTheDemoStreet:
    """The tests that read the demo street: it is loaded once for the class (see conftest)."""

    @pytest.fixture
    def demo_street(self, demo_loaded):
        return Place.objects.get(kind=PlaceKind.STREET, code__startswith="440199001")

    def test_the_demo_street_has_a_year_of_cases_in_every_state(self, demo_street):
        cases = Case.objects.filter(path__startswith=demo_street.path)
        dwellings = Place.objects.filter(
            kind=PlaceKind.DWELLING, path__startswith=demo_street.path
        ).count()
        assert 0.7 * dwellings <= cases.count() <= 0.9 * dwellings
        states = set(cases.values_list("state", flat=True))
        assert states == {s.value for s in State} - {State.MERGED}
        assert cases.filter(overdue=True).exists()
        assert len(set(cases.values_list("code", flat=True))) == cases.count()

    def test_demo_cases_are_consistent(self, demo_street):
        for case in Case.objects.filter(path__startswith=demo_street.path).select_related("place")[
            :400
        ]:
            assert case.path == case.place.path and case.place.kind == PlaceKind.BUILDING
            events = list(CaseEvent.objects.filter(case=case).order_by("at", "id"))
            assert events[0].to_state == State.RECEIVED and events[0].at == case.received_at
            assert events[-1].to_state == case.state or case.state == State.RECEIVED
            if case.state in (State.ASSIGNED, State.IN_PROGRESS, State.RESOLVED, State.RATED):
                assert case.accepted_at is not None and case.assignee_kind
            if case.assignee_id is not None:
                # The assignee holds a role covering the building.
                scope = scope_for(case.assignee, Cap.PLACES_VIEW)
                assert scope.contains(case), (case.pk, case.assignee)
            if case.rating is not None:
                assert case.state in (State.RATED, State.CLOSED)
                assert case.rated_at is not None and case.resolved_at is not None
                assert case.rated_at >= case.resolved_at

    def test_the_demo_lift_service_asks_its_details(self, demo_street, client):
        """An Open311 client trying the demo sees a service with attributes, and must answer them."""
        definition = client.get("/open311/v2/services/lift.json").json()
        asked = [(a["code"], a["datatype"], a["required"]) for a in definition["attributes"]]
        assert asked == [("floor", "number", True), ("blocks", "singlevaluelist", True)]
        assert [v["name"] for v in definition["attributes"][1]["values"]] == ["是", "否"]
        services = client.get("/open311/v2/services.json").json()
        assert {s["service_code"]: s["metadata"] for s in services}["lift"] is True

    def test_demo_rates_look_like_a_working_community(self, demo_street):
        from django.db.models import Q

        r = rates(
            Q(path__gte=demo_street.path, path__lt=demo_street.path + ":"),
            datetime.datetime(2000, 1, 1, tzinfo=datetime.UTC),
            datetime.datetime(2100, 1, 1, tzinfo=datetime.UTC),
        )
        assert r.response is not None and 0.75 <= r.response <= 0.98
        assert r.resolution is not None and 0.6 <= r.resolution <= 0.99
        assert r.satisfaction is not None and 0.6 <= r.satisfaction <= 0.9


def test_populate_is_seeded(world):
    first = demo.populate([world.a.place], seed=5, now=NOW)
    codes = sorted(Case.objects.values_list("title", "received_at"))
    Case.objects.all().delete()
    second = demo.populate([world.a.place], seed=5, now=NOW)
    assert first.cases == second.cases > 0
    assert sorted(Case.objects.values_list("title", "received_at")) == codes
