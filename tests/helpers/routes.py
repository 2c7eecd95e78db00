"""Every page and API endpoint of the project (``ROUTES``), and the world they are called on
(the ``w`` fixture): used by tests/test_endpoints_scope.py (the scope of each route, and that every
route is listed) and tests/test_query_counts.py (lists do not add queries as they grow)."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

import pytest

from tests.helpers.uploads import png_upload
from tests.snapshot import Snapshots

_extras = Snapshots()


@pytest.fixture
def w(world, roster, tmp_path, settings):
    """The world with its roster, a case with a photo in building 1 of community a, a visit to the
    grandmother's home and a building chief of building 1."""
    from linli.cases import photos
    from linli.cases.models import PhotoKind

    settings.MEDIA_ROOT = tmp_path
    world.__dict__["roster"] = roster
    # The rows are built once and put back for each test (tests/snapshot.py); the photo is a file
    # under this test's MEDIA_ROOT, so it is saved each time.
    world.__dict__.update(_extras.get(lambda: build_extras(world), base=world))
    world.__dict__["photo"] = photos.save(world.case, png_upload(), PhotoKind.INTAKE)
    return world


def build_extras(world) -> dict:
    from linli.cases import workflow
    from linli.cases.models import Category
    from linli.network import actions as network

    case = workflow.take_in(
        world.worker,
        workflow.Intake(
            channel="phone",
            category=Category.objects.get(code="lift"),
            place=world.a.building,
            description="电梯停运两天了",
            reporter_phone="13800138000",
        ),
    )
    contact = network.log_contact(
        world.worker,
        network.ContactInput(kind="visit", place=world.a.dwelling, method="home"),
    ).contact
    person = network.add_person(world.worker, world.a.place, name="黄婶")
    chief_record = network.recruit_chief(world.worker, person, "building")
    return {"case": case, "contact": contact, "chief_record": chief_record}


@dataclass(frozen=True)
class Route:
    name: str  # url name (namespace:name) or api path template
    url: Callable  # world -> URL of an object in community a
    kind: str  # "scoped": 404 for outsider and neighbour; "own": the user's own page;
    # "public": no login; "list": 404 for the outsider, the neighbour's own data for the neighbour
    api: bool = False
    owner: str = "worker"
    allowed: tuple[str, ...] = ()  # who gets 200; by default the owner, the worker, the street
    method: str = "get"
    data: dict | None = None

    def who_may(self) -> tuple[str, ...]:
        return self.allowed or (self.owner, "worker", "street_admin")

    def call(self, client, w):
        if self.method == "post":
            return client.post(self.url(w), self.data or {})
        return client.get(self.url(w))


ROUTES = [
    Route("site:home", lambda w: "/", "own"),
    Route("site:audit", lambda w: "/audit/", "list"),
    Route("site:healthz", lambda w: "/healthz", "public"),
    Route("places:index", lambda w: "/places/", "list"),
    Route("places:detail", lambda w: f"/places/{w.a.building.pk}/", "scoped", owner="chief"),
    Route("places:grid", lambda w: f"/places/grids/{w.a.grid.pk}/", "scoped", owner="grid_worker"),
    Route("places:lane", lambda w: f"/places/lanes/{w.a.lane.pk}/", "scoped", owner="lane_chief"),
    Route("accounts:login", lambda w: "/accounts/login/", "public"),
    Route("accounts:logout", lambda w: "/accounts/logout/", "own"),
    Route("accounts:profile", lambda w: "/accounts/me/", "own"),
    Route("accounts:password", lambda w: "/accounts/me/password/", "own"),
    Route("accounts:revoke_token", lambda w: "/accounts/me/tokens/{token}/revoke/", "token"),
    Route("set_language", lambda w: "/i18n/setlang/", "public"),
    Route("people:search", lambda w: "/people/", "list"),
    Route("people:detail", lambda w: f"/people/{w.roster.grandma.pk}/", "scoped", owner="chief"),
    Route(
        "people:reveal",
        lambda w: f"/people/{w.roster.grandma.pk}/reveal/phone/",
        "scoped",
        allowed=("worker", "grid_worker"),
        method="post",
        data={"reason": "联系家属"},
    ),
    Route(
        "people:edit",
        lambda w: f"/people/{w.roster.son.pk}/edit/",
        "scoped",
        allowed=("worker", "grid_worker"),
    ),
    Route(
        "people:leave",
        lambda w: f"/people/{w.roster.son.pk}/leave/",
        "scoped",
        allowed=("worker", "grid_worker"),
    ),
    Route(
        "people:new",
        lambda w: f"/people/new/{w.a.dwelling.pk}/",
        "scoped",
        allowed=("worker", "grid_worker"),
    ),
    Route("people:care", lambda w: f"/people/care/{w.a.building.pk}/", "scoped", owner="chief"),
    # Import and export: deeper checks (another community's id, each role) in
    # tests/test_people_import.py and tests/test_people_export.py.
    Route("people:import", lambda w: "/people/import/", "list"),
    Route("people:import_template", lambda w: "/people/import/template.xlsx", "list"),
    Route("people:export", lambda w: "/people/export/", "list"),
    # The roster API: every endpoint is checked against the outsider, the neighbouring worker and
    # anonymous callers in tests/test_people_api.py (with the JSON bodies they need).
    *(
        Route(path, lambda w: "", "roster-api", api=True)
        for path in (
            "/residents",
            "/residents/{resident_id}",
            "/residents/{resident_id}/reveal",
            "/residents/{resident_id}/move-out",
            "/residents/{resident_id}/death",
            "/residents/{resident_id}/tags",
            "/places/{place_id}/households",
            "/care-tags",
        )
    ),
    # The cases API: every endpoint is checked against the outsider, the neighbouring worker and
    # anonymous callers, and the roles that may use it, in tests/test_cases_api.py.
    *(
        Route(path, lambda w: "", "cases-api", api=True)
        for path in (
            "/cases",
            "/cases/rates",
            "/case-categories",
            "/cases/{case_id}",
            "/cases/{case_id}/assignable",
            *(
                f"/cases/{{case_id}}/{step}"
                for step in (
                    "accept",
                    "reject",
                    "assign",
                    "start",
                    "resolve",
                    "rate",
                    "close",
                    "reopen",
                    "merge",
                    "escalate",
                    "comment",
                )
            ),
        )
    ),
    # Cases. The workflow steps (POST, answering with a redirect) are checked against the
    # outsider, the neighbour and each role in tests/test_cases_pages.py.
    Route("cases:inbox", lambda w: "/cases/", "list"),
    Route("cases:new", lambda w: "/cases/new/", "list"),
    Route("cases:rates", lambda w: "/cases/rates/", "list"),
    Route("cases:notifications", lambda w: "/cases/notifications/", "own"),
    Route(
        "cases:qr",
        lambda w: f"/cases/qr/{w.a.building.pk}/",
        "scoped",
        allowed=("chief", "worker", "grid_worker"),
    ),
    Route("cases:detail", lambda w: f"/cases/{w.case.pk}/", "scoped", owner="chief"),
    Route("cases:board", lambda w: f"/cases/board/{w.a.building.pk}/", "scoped", owner="chief"),
    Route(
        "cases:photo", lambda w: f"/cases/{w.case.pk}/photo/{w.photo.pk}/", "scoped", owner="chief"
    ),
    Route(
        "cases:reveal_phone",
        lambda w: f"/cases/{w.case.pk}/phone/",
        "scoped",
        allowed=("worker", "grid_worker", "street_admin"),
        method="post",
        data={"reason": "回电"},
    ),
    Route("cases:step", lambda w: f"/cases/{w.case.pk}/accept/", "case-step"),
    # The residents' side, no login: a bad token or code is a 404 (tests/test_cases_pages.py).
    Route("public_cases:lookup", lambda w: "/r/", "public"),
    Route("public_cases:form", lambda w: "/r/b/x/", "public"),
    Route("public_cases:track", lambda w: f"/r/t/{w.case.code}/", "public"),
    Route("public_cases:rate", lambda w: f"/r/t/{w.case.code}/rate/", "public"),
    # Open311 GeoReport v2: reading is open and filing needs an Open311 key, not a login; the
    # key's community, the errors and the absence of personal data are in tests/test_open311.py;
    # a request is named by its public id, never by its tracking code (test_open311_public_ids).
    Route("open311:discovery", lambda w: "/open311/discovery.json", "public"),
    Route("open311:services", lambda w: "/open311/v2/services.json", "public"),
    Route("open311:service", lambda w: "/open311/v2/services/lift.json", "public"),
    Route("open311:requests", lambda w: "/open311/v2/requests.json", "public"),
    Route("open311:request", lambda w: f"/open311/v2/requests/{w.case.public_id}.json", "public"),
    Route("open311:token", lambda w: f"/open311/v2/tokens/{w.case.code}.json", "public"),
    Route("open311:not_found", lambda w: "/open311/v2/nothing.json", "public"),
    # The network. Writes (decide, assign, end an assignment) and the organisation pages are
    # checked against every role in tests/test_network.py and tests/test_network_org.py.
    Route("network:home", lambda w: "/network/", "list"),
    Route("network:mine", lambda w: "/network/mine/", "list"),
    Route(
        "network:building",
        lambda w: f"/network/buildings/{w.a.building.pk}/",
        "scoped",
        owner="chief",
    ),
    Route(
        "network:visit",
        lambda w: f"/network/visit/{w.a.dwelling.pk}/",
        "scoped",
        allowed=("chief", "worker", "grid_worker"),
    ),
    Route("network:contacts", lambda w: "/network/contacts/", "list"),
    Route("network:contact_new", lambda w: "/network/contacts/new/", "list"),
    Route(
        "network:contact",
        lambda w: f"/network/contacts/{w.contact.pk}/",
        "scoped",
        owner="chief",
    ),
    Route("network:coverage", lambda w: f"/network/coverage/place/{w.a.place.pk}/", "scoped"),
    Route(
        "network:unreached",
        lambda w: f"/network/coverage/grid/{w.a.grid.pk}/unreached/",
        "scoped",
        owner="grid_worker",
    ),
    Route("network:chiefs", lambda w: "/network/chiefs/", "list"),
    Route("network:chief", lambda w: f"/network/chiefs/{w.chief_record.pk}/", "scoped"),
    *(
        Route(f"network:{name}", lambda w: "", "network-write")
        for name in ("chief_decide", "chief_assign", "assignment_end")
    ),
    *(
        Route(f"network:{name}", lambda w: "", "network-org")
        for name in (
            "people",
            "person_new",
            "person",
            "associations",
            "association_new",
            "association",
            "association_join",
            "association_leave",
            "teams",
            "team_new",
            "team",
            "team_join",
            "team_leave",
        )
    ),
    # The network API: every endpoint against the outsider, the neighbouring worker, a chief, the
    # street admin and anonymous callers in tests/network_api/ (with the bodies it needs).
    *(
        Route(path, lambda w: "", "network-api", api=True)
        for path in (
            "/network/people",
            "/network/people/{person_id}",
            "/network/chiefs",
            "/network/chiefs/{chief_id}",
            "/network/chiefs/{chief_id}/decide",
            "/network/chiefs/{chief_id}/assign",
            "/network/assignments/{assignment_id}/end",
            "/network/associations",
            "/network/associations/{association_id}",
            "/network/associations/{association_id}/members",
            "/network/association-members/{member_id}/leave",
            "/network/teams",
            "/network/teams/{team_id}",
            "/network/teams/{team_id}/members",
            "/network/team-members/{member_id}/leave",
            "/network/contacts",
            "/network/contacts/{contact_id}",
            "/network/coverage",
            "/network/coverage/unreached",
            "/network/my-buildings",
        )
    ),
    # Party building. Every page and form (GET and POST) against the outsider, the neighbouring
    # worker, each role and anonymous callers in tests/test_party_pages.py
    # (test_every_route_is_404_for_the_outsider_and_the_neighbour, test_roles_see_what_is_theirs,
    # test_every_route_sends_the_anonymous_to_log_in); the API in tests/test_party_api.py.
    *(
        Route(f"party:{name}", lambda w: "", "party")
        for name in (
            "home",
            "orgs",
            "org_secretary",
            "members",
            "member_new",
            "member",
            "registrations",
            "decide",
            "posts",
            "post",
            "post_close",
            "claim",
            "claims",
            "withdraw",
            "log_hours",
            "serve",
            "hours",
            "hours_decide",
            "evaluations",
            "units",
            "unit",
            "record_file",
            "qr",
        )
    ),
    # The dual-report registration a community's QR code leads to (signed token; rate-limited).
    Route("public_party:register", lambda w: "/d/x/", "public"),
    Route("public_party:registered", lambda w: "/d/ok/", "public"),
    *(
        Route(path, lambda w: "", "party-api", api=True)
        for path in (
            "/party/orgs",
            "/party/orgs/{org_id}/secretary",
            "/party/members",
            "/party/members/{member_id}",
            "/party/members/{member_id}/evaluations",
            "/party/registrations",
            "/party/registrations/{registration_id}/approve",
            "/party/registrations/{registration_id}/reject",
            "/party/posts",
            "/party/posts/{post_id}",
            "/party/posts/{post_id}/close",
            "/party/posts/{post_id}/claim",
            "/party/claims",
            "/party/claims/{claim_id}/withdraw",
            "/party/claims/{claim_id}/hours",
            "/party/hours",
            "/party/hours/{hours_id}/confirm",
            "/party/hours/{hours_id}/reject",
            "/party/units",
            "/party/units/{unit_id}/contacts",
            "/party/units/{unit_id}/record",
        )
    ),
    Route("/me", lambda w: "/api/v1/me", "own", api=True),
    Route("/me/grants", lambda w: "/api/v1/me/grants", "own", api=True),
    # No login: a login and password buy a token, under the lockout (tests/test_lockout.py).
    Route("/tokens", lambda w: "/api/v1/tokens", "public", api=True, method="post"),
    Route("/places", lambda w: "/api/v1/places", "list", api=True),
    Route(
        "/places/{place_id}",
        lambda w: f"/api/v1/places/{w.a.dwelling.pk}",
        "scoped",
        api=True,
        owner="chief",
    ),
    Route("/grids", lambda w: "/api/v1/grids", "list", api=True),
    Route(
        "/grids/{grid_id}",
        lambda w: f"/api/v1/grids/{w.a.grid.pk}",
        "scoped",
        api=True,
        owner="grid_worker",
    ),
    Route("/lanes", lambda w: "/api/v1/lanes", "list", api=True),
    Route(
        "/lanes/{lane_id}",
        lambda w: f"/api/v1/lanes/{w.a.lane.pk}",
        "scoped",
        api=True,
        owner="lane_chief",
    ),
]
