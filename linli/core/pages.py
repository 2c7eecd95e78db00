"""What the pages of every app share."""

from __future__ import annotations

from django.contrib import messages
from django.core.exceptions import ValidationError
from django.http import HttpRequest


def flash_errors(request: HttpRequest, exc: ValidationError) -> None:
    """An action's refusal as messages on the next page (a form that redirects back)."""
    for message in exc.messages:
        messages.error(request, message)
