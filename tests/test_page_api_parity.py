"""A list that is both a page and an API endpoint shows each role the same rows.

The page and its API twin read through the same query of the owning app; this holds them to it on
the demo street, for every demo login. The page's rows are those of its paginator (every page, not
only the first); the API's are every item of every offset.
"""

from __future__ import annotations

from typing import Any

import pytest
from django.test import Client

from linli.accounts.models import User
from linli.site.management.commands.demo import DEMO_USERS
from tests.conftest import demo_loaded_once

pytestmark = pytest.mark.django_db

# page URL and API path, with the same filters
LISTS: list[tuple[str, str]] = [
    ("/cases/", "/api/v1/cases"),
    ("/cases/?state=all", "/api/v1/cases?state=all"),
    ("/network/chiefs/", "/api/v1/network/chiefs"),
    (
        "/network/chiefs/?status=formal&kind=building",
        "/api/v1/network/chiefs?status=formal&kind=building",
    ),
    # The demo's year of home visits runs to about 100,000 rows: the kinds with fewer rows.
    ("/network/contacts/?kind=patrol", "/api/v1/network/contacts?kind=patrol"),
    ("/network/contacts/?kind=reception", "/api/v1/network/contacts?kind=reception"),
    ("/network/people/", "/api/v1/network/people"),
    ("/network/associations/", "/api/v1/network/associations"),
    ("/network/teams/", "/api/v1/network/teams"),
    ("/party/members/", "/api/v1/party/members"),
    ("/party/posts/", "/api/v1/party/posts?state=open"),
    ("/party/claims/", "/api/v1/party/claims"),
    ("/party/hours/", "/api/v1/party/hours?status=pending"),
    ("/party/hours/?status=confirmed", "/api/v1/party/hours?status=confirmed"),
]

# Lists whose API also serves a party member the rows of their own page (/party/serve/).
OWN_ROWS = ("/party/posts/", "/party/hours/", "/party/claims/")

USERNAMES = [username for username, *_rest in DEMO_USERS]


@pytest.fixture(scope="module")
def demo(django_db_setup, django_db_blocker):
    yield from demo_loaded_once(django_db_blocker)


def page_ids(client: Client, url: str) -> set[int] | None:
    """The ids of every row the page lists, on every page, or None when the page is not the
    user's (404)."""
    ids: set[int] = set()
    joiner = "&" if "?" in url else "?"
    number = 1
    while True:
        response = client.get(f"{url}{joiner}page={number}")
        if response.status_code == 404:
            return None
        assert response.status_code == 200, (url, response.status_code)
        page = response.context["page"]  # linli.core.paging.Page
        ids |= {row.pk for row in page.rows}
        if not page.has_next:
            return ids
        number += 1


def api_ids(client: Client, path: str) -> set[int] | None:
    ids: set[int] = set()
    offset = 0
    joiner = "&" if "?" in path else "?"
    while True:
        response = client.get(f"{path}{joiner}limit=100&offset={offset}")
        if response.status_code == 404:
            return None
        assert response.status_code == 200, (path, response.status_code, response.content[:300])
        body: dict[str, Any] = response.json()
        ids |= {item["id"] for item in body["items"]}
        offset += 100
        if offset >= body["count"]:
            return ids


@pytest.mark.parametrize("page_url,api_path", LISTS, ids=[page for page, _api in LISTS])
def test_page_and_api_list_the_same_rows_for_every_role(demo, page_url, api_path):
    seen_any = False
    for username in USERNAMES:
        client = Client()
        client.force_login(User.objects.get(username=username))
        on_page = page_ids(client, page_url)
        by_api = api_ids(client, api_path)
        if on_page is None:
            # A worker's list that this role may not open: the API answers 404 or an empty list,
            # except that it gives a party member their community's open posts and their own
            # claims and hours, which their own page (/party/serve/) shows.
            assert not by_api or page_url.startswith(OWN_ROWS), (username, by_api)
            continue
        assert on_page == by_api, (username, len(on_page), by_api and len(by_api))
        seen_any = seen_any or bool(on_page)
    assert seen_any  # the demo gives some role rows in this list
