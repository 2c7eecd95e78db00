"""What the pages of every app share."""

from __future__ import annotations

from django.contrib import messages
from django.core.exceptions import ValidationError
from django.http import HttpRequest

from linli.core.bounds import MAX_ID


def flash_errors(request: HttpRequest, exc: ValidationError) -> None:
    """An action's refusal as messages on the next page (a form that redirects back)."""
    for message in exc.messages:
        messages.error(request, message)


def whole_number(raw: str | None, *, low: int = 1, high: int = MAX_ID) -> int | None:
    """A query parameter read as a whole number from ``low`` to ``high``, or None.

    Only ASCII digits count: ``str.isdigit()`` also accepts "²", which ``int()`` refuses, and a
    number past 64 bits would fail in the database. A page treats None as "no such filter".
    """
    text = (raw or "").strip()
    if not (text.isascii() and text.isdigit()) or len(text) > len(str(high)):
        return None
    value = int(text)
    return value if low <= value <= high else None


def number_param(request: HttpRequest, name: str, **bounds: int) -> int | None:
    """``whole_number`` of the request's ``?name=``."""
    return whole_number(request.GET.get(name), **bounds)


def posted_number(request: HttpRequest, name: str, **bounds: int) -> int | None:
    """``whole_number`` of a posted field that is not part of a form class (an id in a button)."""
    return whole_number(request.POST.get(name), **bounds)
