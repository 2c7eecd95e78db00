"""No query parameter makes a page fail: every page a demo login reaches, with hostile values.

The pages are found as a person finds them: each login follows the links from its home page and
notes the names of the fields of the search forms (GET). Then each page is asked again with every
parameter name seen anywhere set to values a person or a script may send: numbers past 64 bits,
negative and non-ASCII digits, dates outside what can be stored, a NUL character, a long text.
A page may refuse, ignore or correct them (a 200, a 302, a 400 or a 404), never answer 500.
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass, field
from html.parser import HTMLParser
from urllib.parse import urlencode, urlsplit

import pytest
from django.test import Client
from django.urls import Resolver404, resolve

from linli.accounts.models import User
from tests.conftest import demo_loaded_once

pytestmark = pytest.mark.django_db

LOGINS = ("jiedao", "shequ", "louzhang", "dangyuan", "wuye")

# Pages that change something when opened, or whose download costs seconds (each has tests of its own).
NOT_CRAWLED = {
    "accounts:logout",
    "people:export",
    "people:import_template",
    "party:record_file",
    "set_language",
}

HOSTILE = (
    "99999999999999999999",
    "-1",
    "²",  # str.isdigit() says yes, int() says no
    "١٢",  # Arabic-Indic digits: int() reads them
    "abc",
    "\x00",
    "0001-01-01",
    "9999-12-31T23:59:59-14:00",
    "2026-Q9",
    "x" * 5000,
)


@dataclass
class Form:
    action: str
    fields: dict[str, str] = field(default_factory=dict)  # name -> the value the page offers


class _Links(HTMLParser):
    def __init__(self, url: str) -> None:
        super().__init__()
        self.url = url
        self.hrefs: list[str] = []
        self.fields: set[str] = set()  # of the GET forms
        self.posts: list[Form] = []
        self._get_form = False
        self._post: Form | None = None
        self._select: str | None = None

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        found = {k: v or "" for k, v in attrs}
        name = found.get("name", "")
        if tag == "a" and found.get("href"):
            self.hrefs.append(found["href"])
        elif tag == "form":
            if found.get("method", "get").lower() == "post":
                self._post = Form(urlsplit(found.get("action") or self.url).path)
            else:
                self._get_form = True
        elif tag in ("input", "select", "textarea") and name:
            if self._get_form:
                self.fields.add(name)
            elif self._post is not None and name != "csrfmiddlewaretoken":
                self._post.fields.setdefault(name, found.get("value", ""))
                self._select = name if tag == "select" else None
        elif tag == "option" and self._post is not None and self._select:
            self._post.fields[self._select] = self._post.fields.get(self._select) or found.get(
                "value", ""
            )

    def handle_endtag(self, tag: str) -> None:
        if tag == "form":
            if self._post is not None:
                self.posts.append(self._post)
            self._get_form, self._post = False, None
        elif tag == "select":
            self._select = None


def _url_name(path: str) -> str | None:
    try:
        match = resolve(path)
    except Resolver404:
        return None
    return match.view_name


@dataclass
class Site:
    pages: dict[str, str] = field(default_factory=dict)  # url name -> one URL of it
    params: dict[str, set[str]] = field(default_factory=dict)  # url name -> parameter names
    forms: dict[tuple[str, ...], Form] = field(default_factory=dict)  # the POST forms, one a kind


def crawl(client: Client, limit: int = 150) -> Site:
    """One URL per page (by url name) reachable from home, the parameter names seen for each page
    (in the links to it and in its search forms), and the forms that post."""
    site = Site()
    pages, params = site.pages, site.params
    queue, seen = ["/"], {"/"}
    while queue and len(seen) < limit:
        url = queue.pop(0)
        response = client.get(url)
        if response.status_code != 200 or "html" not in response.get("Content-Type", ""):
            continue
        parser = _Links(url)
        parser.feed(response.content.decode())
        for form in parser.posts:
            kind = _url_name(form.action)
            if kind and kind not in NOT_CRAWLED:
                site.forms.setdefault((kind, *sorted(form.fields)), form)
        here = _url_name(urlsplit(url).path)
        if here:
            params.setdefault(here, set()).update(parser.fields)
        for href in parser.hrefs:
            parts = urlsplit(href)
            if parts.scheme or parts.netloc or not parts.path.startswith("/"):
                continue
            if parts.path.startswith(("/api/", "/admin/", "/static/", "/media/")):
                continue
            name = _url_name(parts.path)
            if name is None or name in NOT_CRAWLED:
                continue
            names = {pair.split("=", 1)[0] for pair in parts.query.split("&") if pair}
            params.setdefault(name, set()).update(names)
            pages.setdefault(name, parts.path)
            full = parts.path + (f"?{parts.query}" if parts.query else "")
            if full not in seen:
                seen.add(full)
                queue.append(full)
    return site


@pytest.fixture(scope="module")
def demo(django_db_setup, django_db_blocker) -> Iterator[str]:
    yield from demo_loaded_once(django_db_blocker)


def _failures(client: Client, url: str, query: dict[str, str], post: bool = False) -> list[str]:
    response = client.post(url, query) if post else client.get(url + "?" + urlencode(query))
    if response.status_code < 500:
        return []
    exc = getattr(response, "exc_info", None)
    what = f"{exc[0].__name__}: {exc[1]}"[:200] if exc else ""
    return [
        f"{response.status_code} {url}?{sorted(query)[:3]}…={next(iter(query.values()))[:30]!r} {what}"
    ]


@pytest.mark.parametrize("username", LOGINS)
def test_no_parameter_value_makes_a_page_fail(demo, username):
    client = Client(raise_request_exception=False)
    client.force_login(User.objects.get(username=username))
    site = crawl(client)
    pages, params = site.pages, site.params
    assert len(pages) >= 5, pages  # the crawl found the login's pages
    every = {"page"}.union(*params.values())
    if username == "shequ":
        assert {"q", "page", "category", "state", "kind"} <= every, every
    failures: list[str] = []
    for name, url in pages.items():
        # Every name seen anywhere at once, with each value.
        for value in HOSTILE:
            failures += _failures(client, url, dict.fromkeys(every, value))
        # The page's own ones one at a time: a parameter read first could hide the others.
        for param in params.get(name, set()) | {"page"}:
            for value in HOSTILE[:3]:
                failures += _failures(client, url, {param: value})
    assert failures == [], "\n".join(failures[:40])


# What a form field may be sent instead of what the page offers.
FORM_HOSTILE = ("99999999999999999999", "-1", "0001-01-01", "9999-12-31", "9999-12-31T23:59", "²")


@pytest.mark.parametrize("username", LOGINS)
def test_no_form_value_makes_a_page_fail(demo, username):
    """Each form that posts, with one field at a time replaced by a hostile value, then all."""
    client = Client(raise_request_exception=False)
    client.force_login(User.objects.get(username=username))
    forms = crawl(client).forms.values()
    if username == "shequ":
        assert len(forms) >= 10, [f.action for f in forms]
    failures: list[str] = []
    for form in forms:
        for name in form.fields:
            for value in FORM_HOSTILE:
                failures += _failures(client, form.action, {**form.fields, name: value}, post=True)
        for value in HOSTILE:
            failures += _failures(client, form.action, dict.fromkeys(form.fields, value), post=True)
    assert failures == [], "\n".join(failures[:40])
