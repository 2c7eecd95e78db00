"""One way for a page to list rows a page at a time, with ``core/_pager.html`` for its links.

``page_of(request, rows)`` reads ``?page=`` (bounded: a page number that is not a positive integer
is the first page, and no page is after the 1,000th), takes one row more than a page to know
whether there is a next one, and does not count the rows: a street's lists run to hundreds of
thousands. ``counted=True`` also counts them, for lists that stay short (a community's members,
its posts), so that the pager can say "page 2 of 3".

``Paging`` is the same bound for the API's lists (``@paginate(Paging)``): ``limit`` from 1 to 200
(50 by default) and ``offset`` from 0 to ``MAX_OFFSET``, both published in the OpenAPI document;
a value outside them is the 422 of any parameter that does not fit the schema.
"""

from __future__ import annotations

from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from typing import Any, Generic, TypeVar

from django.db.models import QuerySet
from django.http import HttpRequest
from ninja import Field, Schema
from ninja.pagination import LimitOffsetPagination

from linli.core.pages import whole_number

T = TypeVar("T")

PAGE_SIZE = 50
LAST_PAGE = 1000
API_PAGE_SIZE = 50
API_MAX_LIMIT = 200
# Far past any list Linli keeps (a district's residents run to millions), far below 64 bits.
MAX_OFFSET = 1_000_000_000


def page_number(request: HttpRequest) -> int:
    return min(whole_number(request.GET.get("page")) or 1, LAST_PAGE)


def other_parameters(request: HttpRequest) -> str:
    """The request's query string without ``page``, for the pager's links."""
    query = request.GET.copy()
    query.pop("page", None)
    return query.urlencode()


@dataclass(frozen=True)
class Page(Generic[T]):
    rows: list[T]
    number: int
    has_next: bool
    query: str = ""  # the other parameters of the list (its filters), urlencoded
    pages: int | None = None  # the number of pages, when the list was counted

    def __iter__(self) -> Iterator[T]:
        return iter(self.rows)

    def __len__(self) -> int:
        return len(self.rows)

    def __bool__(self) -> bool:
        return bool(self.rows)

    @property
    def has_previous(self) -> bool:
        return self.number > 1

    @property
    def has_other_pages(self) -> bool:
        return self.has_previous or self.has_next

    @property
    def previous_page_number(self) -> int:
        return self.number - 1

    @property
    def next_page_number(self) -> int:
        return self.number + 1


def page_of(
    request: HttpRequest,
    rows: QuerySet[Any, T] | Sequence[T],
    size: int = PAGE_SIZE,
    *,
    counted: bool = False,
) -> Page[T]:
    """The page of ``rows`` (already ordered) that the request asks for."""
    number = page_number(request)
    pages = None
    if counted:
        total = rows.count() if isinstance(rows, QuerySet) else len(rows)
        pages = max(1, -(-total // size))
        number = min(number, pages)
    start = (number - 1) * size
    chunk = list(rows[start : start + size + 1])
    return Page(
        rows=chunk[:size],
        number=number,
        has_next=len(chunk) > size,
        query=other_parameters(request),
        pages=pages,
    )


class Paging(LimitOffsetPagination):
    """ninja's limit and offset, bounded."""

    class Input(Schema):
        limit: int = Field(API_PAGE_SIZE, ge=1, le=API_MAX_LIMIT)
        offset: int = Field(0, ge=0, le=MAX_OFFSET)

    def __init__(self, **kwargs: Any) -> None:
        super().__init__(max_limit=API_MAX_LIMIT, **kwargs)
