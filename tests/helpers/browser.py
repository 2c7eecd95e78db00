"""Headless Chromium for the end-to-end tests (Debian's /usr/bin/chromium driven by Playwright).

A test module uses the fixtures by importing them (``from tests.helpers.browser import browser,
phone``): ``browser`` is started once per module, ``phone`` is a fresh 360 px phone per test that
fails the test on any script error, CSP violation or missing asset.
"""

from __future__ import annotations

import os
from pathlib import Path

import pytest

from tests.conftest import PASSWORD

# Playwright's sync API runs an event loop in this thread; the ORM calls made by fixtures of the
# browser tests are ordinary synchronous ones, so Django's async-safety guard is lifted for them.
os.environ.setdefault("DJANGO_ALLOW_ASYNC_UNSAFE", "true")

CHROMIUM = "/usr/bin/chromium"
SHOTS = Path(__file__).resolve().parent.parent.parent / "test-results"
PHONE = {"width": 360, "height": 740}


@pytest.fixture(scope="module")
def browser():
    from playwright.sync_api import sync_playwright

    assert Path(CHROMIUM).exists(), "install Debian's chromium (make test does it as root)"
    with sync_playwright() as p:
        browser = p.chromium.launch(
            executable_path=CHROMIUM,
            args=[
                "--no-sandbox",
                "--disable-gpu",
                "--disable-background-networking",
                "--disable-component-update",
                "--disable-sync",
                "--no-first-run",
            ],
        )
        yield browser
        browser.close()


def new_phone(browser, errors: list[str]):
    """A 360 px phone (its context and page) that notes script errors, console errors and failed
    assets in ``errors``. The browser's note about a page answering 404 is not noted (some tests
    expect exactly that); a missing stylesheet, script or icon is caught by the response check."""
    context = browser.new_context(
        viewport=PHONE, device_scale_factor=2, is_mobile=True, has_touch=True
    )
    page = context.new_page()
    page.on("pageerror", lambda exc: errors.append(str(exc)))
    page.on(
        "console",
        lambda m: (
            errors.append(m.text)
            if m.type == "error" and "Failed to load resource" not in m.text
            else None
        ),
    )
    page.on(
        "response",
        lambda r: (
            errors.append(f"{r.status} {r.url}")
            if r.status >= 400 and r.request.resource_type != "document"
            else None
        ),
    )
    return context, page


@pytest.fixture
def phone(browser):
    errors: list[str] = []
    context, page = new_phone(browser, errors)
    yield page
    context.close()
    # No script errors and no CSP violations on any page we visited.
    assert errors == []


def log_in(page, base: str, login: str, password: str = PASSWORD) -> None:
    """Log in from the home page, checking that an anonymous visitor is sent to log in."""
    page.goto(base + "/")
    assert "/accounts/login/" in page.url  # anonymous visitors are sent to log in
    page.fill("input[name=login]", login)
    page.fill("input[name=password]", password)
    page.click("button.primary")
    page.wait_for_load_state()


def fits_the_screen(page) -> bool:
    return page.evaluate("document.documentElement.scrollWidth") <= PHONE["width"]
