"""The one pager of the pages (linli.core.paging)."""

from __future__ import annotations

import pytest
from django.test import RequestFactory

from linli.core.paging import LAST_PAGE, page_of

ROWS = list(range(120))


def page(query: str, **kwargs):
    return page_of(RequestFactory().get(f"/list/?{query}"), ROWS, **kwargs)


@pytest.mark.parametrize("raw", ["", "page=0", "page=-3", "page=abc", "page=1.5", "page=%00"])
def test_a_page_number_that_is_not_a_positive_integer_is_the_first_page(raw):
    first = page(raw)
    assert first.number == 1 and first.rows == ROWS[:50]
    assert first.has_next and not first.has_previous


def test_pages_follow_one_another_without_counting():
    second, last = page("page=2"), page("page=3")
    assert second.rows == ROWS[50:100] and second.has_previous and second.has_next
    assert last.rows == ROWS[100:] and not last.has_next
    assert second.pages is None  # nothing was counted
    assert page(f"page={LAST_PAGE * 10}").number == LAST_PAGE


def test_a_counted_list_knows_its_pages_and_stops_at_the_last():
    beyond = page("page=9", counted=True)
    assert beyond.pages == 3 and beyond.number == 3 and beyond.rows == ROWS[100:]
    assert page_of(RequestFactory().get("/"), [], counted=True).pages == 1


def test_the_links_keep_the_other_parameters():
    found = page("status=pending&page=2&kind=visit")
    assert found.query == "status=pending&kind=visit"
    assert (found.previous_page_number, found.next_page_number) == (1, 3)
