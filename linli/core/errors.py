"""The errors an action raises, understood by every caller: a page shows them beside the form, the
API turns them into its answers (``core.api``).

- ``django.core.exceptions.ValidationError``: the data is refused (a message per field).
- ``django.core.exceptions.PermissionDenied``: the user may see the object but not do this; its
  message, when it has one, says what they may not do.
- ``Conflict``: the request is fine but the object's current state forbids it (an illegal step, a
  full activity, a repeat that cannot be answered as done). Nothing was changed. It carries the
  state the caller needs to understand why (``state="resolved"``).

- ``TooManyAttempts``: refused for a while after too many failures (a locked login); the page
  shows its message, the API answers 429 with ``Retry-After``.

``Conflict`` is a ``ValidationError`` so that a form shows it like any refusal.
"""

from __future__ import annotations

from typing import Any

from django.core.exceptions import ValidationError


class Conflict(ValidationError):
    """The object's current state forbids the step; nothing was changed."""

    def __init__(self, message: Any, code: str | None = None, **facts: str) -> None:
        super().__init__(message, code=code)
        self.facts = facts  # e.g. {"state": "resolved"}: sent beside the message in a 409


class TooManyAttempts(Exception):
    """Refused for now, whatever the request says, after too many failures; ``retry_after`` is
    the number of seconds until it may be tried again."""

    def __init__(self, message: str, retry_after: int) -> None:
        super().__init__(message)
        self.message = message
        self.retry_after = retry_after
