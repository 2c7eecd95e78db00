"""No list adds queries as it grows (no N+1): each list of ``ROUTES`` (and the other list-like
pages and API lists below) is read, more rows of the kind it shows are added through the apps'
own actions, and it is read again with the same number of queries.

A list whose rows each read a relation not fetched with them (a ``select_related`` or
``prefetch_related`` left out) answers with one more query for every row added, and fails here.
"""

from __future__ import annotations

import datetime
from collections.abc import Callable
from dataclasses import dataclass
from itertools import count
from typing import Any

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.utils import timezone

from tests.helpers.party import build_party
from tests.helpers.routes import ROUTES, w

__all__ = ["w"]  # a fixture, imported for this module's tests

pytestmark = pytest.mark.django_db

NEW = "新增"  # the names of the rows added here start with it
_numbers = count(1)


# --- adding rows, through the apps' actions ---------------------------------------------------------


def _dwelling(w) -> Any:
    """A new dwelling in unit 1 of building 1 of community a (grid 1, lane 1)."""
    from linli.places import actions
    from linli.places.models import PlaceKind

    n = next(_numbers)
    return actions.create_place(
        None,
        kind=PlaceKind.DWELLING,
        code=f"9{n:02d}",
        name=f"{NEW}{n}室",
        parent=w.a.unit,
        floor=9,
    )


def residents(w, n: int) -> None:
    """Residents living alone, each the head of a new household in building 1."""
    from linli.people import actions as people

    for _ in range(n):
        resident = people.create_resident(
            None,
            {"name": f"{NEW}住户{next(_numbers)}", "id_type": "none", "phone": "13811112222"},
            home=_dwelling(w),
            relation="owner",
            is_head=True,
        )
        people.set_tags(None, resident, ["living_alone"], sensitive_allowed=True)


def cases(w, n: int) -> None:
    """Cases in building 1, taken in by the worker and given to the grid worker, all overdue."""
    from linli.cases import workflow
    from linli.cases.models import Category

    lift = Category.objects.get(code="lift")
    for _ in range(n):
        case = workflow.take_in(
            w.worker,
            workflow.Intake(
                channel="phone",
                category=lift,
                place=w.a.building,
                description=f"{NEW}工单{next(_numbers)}",
                reporter_phone="13800138000",
            ),
        )
        workflow.accept(w.worker, case.pk)
        workflow.assign(w.worker, case.pk, w.grid_worker)
    workflow.sweep(now=timezone.now() + datetime.timedelta(days=60))


def contacts(w, n: int) -> None:
    """Home visits by the worker to new households."""
    from linli.network import actions as network

    for _ in range(n):
        network.log_contact(
            w.worker,
            network.ContactInput(
                kind="visit", place=_dwelling(w), method="home", summary=f"{NEW}走访"
            ),
        )


def people(w, n: int) -> None:
    """People of the network in community a."""
    from linli.network import actions as network

    for _ in range(n):
        network.add_person(w.worker, w.a.place, name=f"{NEW}志愿者{next(_numbers)}")


def chiefs(w, n: int) -> None:
    """Candidate building chiefs, recruited from new people of community a."""
    from linli.network import actions as network

    for _ in range(n):
        person = network.add_person(w.worker, w.a.place, name=f"{NEW}楼长{next(_numbers)}")
        network.recruit_chief(w.worker, person, "building")


def areas(w, n: int) -> None:
    """Grids and lanes of community a."""
    from linli.places import actions

    for _ in range(n):
        k = next(_numbers)
        actions.create_grid(
            None, community=w.a.place, code=f"{w.a.place.code}{k + 100:03d}", name=f"{NEW}网格{k}"
        )
        actions.create_lane(
            None, community=w.a.place, kind="lane", code=f"N{k}", name=f"{NEW}巷{k}"
        )


def grants(w, n: int) -> None:
    """More grids and lanes for the grid worker: a grid worker's grant on a new grid of community
    a, a chief's on a new lane."""
    from linli.accounts.actions import grant_role
    from linli.accounts.roles import Role
    from linli.places import actions

    for _ in range(n):
        k = next(_numbers)
        grid = actions.create_grid(
            None, community=w.a.place, code=f"{w.a.place.code}{k + 100:03d}", name=f"{NEW}网格{k}"
        )
        lane = actions.create_lane(
            None, community=w.a.place, kind="lane", code=f"N{k}", name=f"{NEW}巷{k}"
        )
        grant_role(w.worker, w.grid_worker, Role.GRID_WORKER, grid=grid)
        grant_role(w.worker, w.grid_worker, Role.CHIEF, lane=lane)


def communities(w, n: int) -> None:
    """New communities of the street, each with the worker's grant."""
    from linli.accounts.actions import grant_role
    from linli.accounts.roles import Role
    from linli.places import actions
    from linli.places.models import PlaceKind

    for _ in range(n):
        k = next(_numbers)
        place = actions.create_place(
            None,
            kind=PlaceKind.COMMUNITY,
            code=f"{w.street.code[:9]}{k + 100:03d}",
            name=f"{NEW}社区{k}",
            parent=w.street,
        )
        grant_role(w.street_admin, w.worker, Role.COMMUNITY_WORKER, place=place)


def buildings(w, n: int) -> None:
    """Buildings in community a's compound."""
    from linli.places import actions
    from linli.places.models import PlaceKind

    for _ in range(n):
        k = next(_numbers)
        actions.create_place(
            None,
            kind=PlaceKind.BUILDING,
            code=f"N{k}",
            name=f"{NEW}楼{k}",
            parent=w.a.compound,
            floors=6,
        )


def party_members(w, n: int) -> None:
    """Registered party members of community a, in the compound's branch."""
    from linli.party import actions
    from linli.party.models import MemberKind

    party = w.__dict__.get("party") or w.__dict__.setdefault("party", build_party(w))
    for _ in range(n):
        k = next(_numbers)
        actions.add_member(
            w.worker,
            community=w.a.place,
            name=f"{NEW}党员{k}",
            kind=MemberKind.REGISTERED,
            phone=f"1370001{k:04d}",
            org=party.branch,
        )


def _party(w) -> Any:
    return w.__dict__.get("party") or w.__dict__.setdefault("party", build_party(w))


def posts(w, n: int) -> None:
    """Open tasks of community a, two places each."""
    from linli.party import actions

    _party(w)
    for _ in range(n):
        actions.publish(
            w.worker, w.a.place, kind="task", title=f"{NEW}任务{next(_numbers)}", capacity=2
        )


def claims(w, n: int) -> None:
    """New tasks, each claimed by the party member of the world."""
    from linli.party import actions
    from linli.party.models import Post

    posts(w, n)
    for post in Post.objects.filter(title__startswith=NEW, claims__isnull=True):
        actions.claim(w.party_member, post.pk)


def hours(w, n: int) -> None:
    """Hours the party member logs against new claims; they wait for a worker."""
    from linli.party import actions
    from linli.party.models import Claim

    claims(w, n)
    for claim in Claim.objects.filter(post__title__startswith=NEW, hours__isnull=True):
        actions.log_hours(
            w.party_member, claim.pk, served_on=timezone.localdate(), hours="2", note=NEW
        )


def associations(w, n: int) -> None:
    from linli.network import actions

    for _ in range(n):
        actions.create_association(w.worker, w.a.place, f"{NEW}街坊会{next(_numbers)}")


def teams(w, n: int) -> None:
    from linli.network import actions

    for _ in range(n):
        actions.create_team(w.worker, w.a.place, f"{NEW}服务队{next(_numbers)}", "chiefs")


# --- what the list shows ------------------------------------------------------------------------------


def named(response) -> int:
    """The rows added here that the page (or the API) shows."""
    return response.content.decode().count(NEW)


def list_rows(response) -> int:
    return response.content.decode().count('class="row"')


def api_items(response) -> int:
    body = response.json()
    return len(body["items"] if isinstance(body, dict) else body)


@dataclass(frozen=True)
class Growing:
    route: str  # its name in ROUTES
    user: str
    grow: Callable[[Any, int], None]
    query: str = ""  # the list's parameters
    url: Callable[[Any], str] | None = None  # for routes ROUTES lists without a URL
    shown: Callable[[Any], int] = named
    # Queries a longer list may add, with the reason. None needs any: the pagers fetch one row
    # more than a page instead of counting, and a counted list (party members) counts once.
    slack: int = 0

    @property
    def id(self) -> str:
        return f"{self.route}{self.query}-{self.grow.__name__}"


LISTS = [
    # Every list of ROUTES (kind "list").
    Growing("site:audit", "worker", residents, shown=list_rows),
    Growing("places:index", "grid_worker", grants),
    Growing("places:index", "worker", communities),
    Growing("places:index", "worker", buildings, query="?q=" + NEW),
    Growing("people:search", "worker", residents, query="?q=" + NEW),
    Growing("people:export", "worker", buildings),
    Growing("cases:inbox", "worker", cases),
    Growing("cases:inbox", "grid_worker", cases, query="?who=mine"),
    Growing("cases:new", "worker", buildings),
    Growing("cases:rates", "worker", cases),
    Growing("network:home", "grid_worker", grants),
    Growing("network:home", "worker", communities),
    Growing("network:mine", "chief", cases),
    Growing("network:contacts", "worker", contacts),
    Growing("network:contact_new", "worker", buildings),
    Growing("network:chiefs", "worker", chiefs),
    Growing("/places", "worker", buildings, query="?q=" + NEW, shown=api_items),
    Growing("/grids", "worker", areas, shown=api_items),
    Growing("/lanes", "worker", areas, shown=api_items),
    Growing("site:home", "grid_worker", grants),
    Growing("site:home", "worker", communities),
    # Other lists: scoped ones (a building's, a grid's) and those of the apps' own route kinds.
    Growing("people:care", "chief", residents),
    Growing("cases:board", "chief", cases),
    Growing("network:building", "chief", residents),
    Growing("network:unreached", "grid_worker", residents),
    Growing("places:detail", "chief", residents, url=lambda w: f"/places/{w.a.unit.pk}/"),
    Growing("/residents", "worker", residents, query="?q=" + NEW, shown=api_items),
    Growing("/cases", "worker", cases, shown=api_items),
    Growing("network:people", "worker", people, url=lambda w: "/network/people/"),
    Growing("/network/people", "worker", people, shown=api_items),
    Growing("/network/chiefs", "worker", chiefs, shown=api_items),
    Growing("/network/contacts", "worker", contacts, shown=api_items),
    Growing("party:members", "worker", party_members, url=lambda w: "/party/members/"),
    Growing("/party/members", "worker", party_members, shown=api_items),
    Growing("party:posts", "worker", posts, url=lambda w: "/party/posts/"),
    Growing("/party/posts", "worker", posts, shown=api_items),
    Growing("party:claims", "worker", claims, url=lambda w: "/party/claims/"),
    Growing("/party/claims", "worker", claims, shown=api_items),
    Growing("party:hours", "worker", hours, url=lambda w: "/party/hours/"),
    Growing("/party/hours", "worker", hours, shown=api_items),
    Growing("network:associations", "worker", associations, url=lambda w: "/network/associations/"),
    Growing("/network/associations", "worker", associations, shown=api_items),
    Growing("network:teams", "worker", teams, url=lambda w: "/network/teams/"),
    Growing("/network/teams", "worker", teams, shown=api_items),
]
BY_NAME = {r.name: r for r in ROUTES}


def test_every_list_of_routes_is_checked():
    lists = {r.name for r in ROUTES if r.kind == "list"}
    # Not lists of rows: a form with nothing to list, a file to download.
    not_lists = {"people:import", "people:import_template"}
    assert lists - not_lists <= {g.route for g in LISTS}
    assert {g.route for g in LISTS} <= set(BY_NAME)
    assert len({g.id for g in LISTS}) == len(LISTS)


def url_of(growing: Growing, w) -> str:
    route = BY_NAME[growing.route]
    if growing.url:
        base = growing.url(w)
    else:  # the API's lists have their path for a name
        base = route.url(w) or ("/api/v1" + route.name if route.api else "")
    assert base and "{" not in base, growing.route
    return base + growing.query


def queries_for(client, url: str):
    with CaptureQueriesContext(connection) as queries:
        response = client.get(url)
    assert response.status_code == 200, (url, response.status_code)
    return response, [q["sql"] for q in queries.captured_queries]


@pytest.mark.parametrize("growing", LISTS, ids=lambda g: g.id)
def test_a_list_does_not_add_queries_as_it_grows(w, as_user, growing):
    client = as_user(w.users[growing.user])
    url = url_of(growing, w)
    growing.grow(w, 1)  # at least one row, so that what is read for each row is read
    queries_for(client, url)  # the session, the caches
    response, before = queries_for(client, url)
    shown = growing.shown(response)
    growing.grow(w, 4)
    response, after = queries_for(client, url)
    assert growing.shown(response) > shown, "the list did not grow"
    assert len(after) <= len(before) + growing.slack, "\n".join(q for q in after if q not in before)
