"""The one error layer of the API: the error schemas every router declares, and the exception
handlers ``linli.api`` installs on the NinjaAPI.

An endpoint calls the query and the action and lets their errors propagate:

- ``Http404`` → 404 ``{"detail": "Not Found"}``: outside the user's scope, as if it did not exist;
- ``PermissionDenied`` → 403 ``{"detail": …}``: seen, but not theirs to do;
- ``Conflict`` → 409 ``{"detail": …, <facts>}``: the current state forbids it, nothing changed;
- ``ValidationError`` → 400 ``FieldErrors``: the data was refused, a message per field;
- ``TooManyAttempts`` → 429 ``{"detail": …}`` with ``Retry-After``: locked for a while;
- a body that is not JSON (ninja's "Cannot parse request body") → 400 ``FieldErrors`` too, the
  message under ``__all__``;
- ninja's own schema errors stay 422 ``Invalid``, except in the path: a path parameter that is no
  id (``/places/abc``, a number past 64 bits) names nothing, so 404 like an id nobody has;
- text with a NUL character (which PostgreSQL cannot store) or a lone surrogate is refused by
  ``Parser`` before any schema sees it: 400 in a body, 422 in form data. A NUL in the query
  string never arrives: ``core.middleware.QueryWithoutNulMiddleware`` drops it for every page.

``responses(...)`` builds the ``response=`` mapping so that every declared error carries its
schema, and the OpenAPI document has one ``FieldErrors``, one ``Error`` and one ``Invalid``.
"""

from __future__ import annotations

import json
from collections.abc import Iterator, Mapping
from contextlib import contextmanager
from typing import Any

from django.core.exceptions import PermissionDenied, ValidationError
from django.http import HttpRequest, HttpResponse
from django.utils.datastructures import MultiValueDict
from django.utils.translation import gettext as _
from ninja import NinjaAPI, Schema
from ninja.errors import HttpError
from ninja.errors import ValidationError as SchemaError
from ninja.parser import Parser as NinjaParser

from linli.core.errors import Conflict, TooManyAttempts


class Error(Schema):
    detail: str


class FieldErrors(Schema):
    """The data was refused and nothing was written: ``errors`` holds the messages per field, in
    the user's language — ``__all__`` for the record as a whole, a dotted path for a field inside
    a list (``needs.0.category`` for the first need's category)."""

    detail: str
    errors: dict[str, list[str]]


class Invalid(Schema):
    """The request does not fit the schema (pydantic's error list)."""

    detail: list[dict[str, Any]]


# The schema of each error status; 409 is declared by the router with the facts it carries.
_SCHEMAS: dict[int, type[Schema]] = {
    400: FieldErrors,
    401: Error,
    403: Error,
    404: Error,
    422: Invalid,
    429: Error,
}


def responses(ok: Mapping[int, Any], *errors: int, **conflict: type[Schema]) -> dict[int, Any]:
    """``response=`` for an endpoint: its success schemas, 401 (every endpoint needs a login or a
    token) and each of ``errors`` with its schema; ``conflict=ChiefConflict`` declares a 409."""
    out: dict[int, Any] = dict(ok)
    for status in (401, *errors):
        out[status] = _SCHEMAS[status]
    if "conflict" in conflict:
        out[409] = conflict["conflict"]
    return dict(sorted(out.items()))


def field_errors(exc: ValidationError) -> dict[str, Any]:
    """A refusal as the API answers it: one sentence and the messages by field."""
    errors = exc.message_dict if hasattr(exc, "error_dict") else {"__all__": exc.messages}
    return {"detail": " ".join(m for ms in errors.values() for m in ms), "errors": errors}


@contextmanager
def renamed_fields(names: Mapping[str, str]) -> Iterator[None]:
    """Report a refusal under the API's names for the fields (a model's ``assignee_kind`` is the
    request's ``kind``)."""
    try:
        yield
    except Conflict:
        raise
    except ValidationError as exc:
        if not hasattr(exc, "error_dict"):
            raise
        raise ValidationError(
            {names.get(key, key): errors for key, errors in exc.error_dict.items()}
        ) from exc


def refuse(**errors: str) -> ValidationError:
    """A refusal decided at the edge, by field: ``raise refuse(on=_("The date is in the future."))``."""
    return ValidationError({name: [message] for name, message in errors.items()})


def query_error(name: str, message: str) -> SchemaError:
    """A query parameter that fits the schema but not the data (an unknown category code): the
    same 422 as one that does not fit, located at the parameter."""
    return SchemaError([{"type": "value_error", "loc": ["query", name], "msg": message}])


def _readable(text: str) -> bool:
    """Text the databases can store: no NUL character, no lone surrogate."""
    if "\x00" in text:
        return False
    try:
        text.encode("utf-8")
    except UnicodeEncodeError:
        return False
    return True


def _all_readable(value: Any) -> bool:
    if isinstance(value, str):
        return _readable(value)
    if isinstance(value, list):
        return all(_all_readable(v) for v in value)
    if isinstance(value, dict):
        return all(_all_readable(k) and _all_readable(v) for k, v in value.items())
    return True


class UnreadableBody(ValueError):
    pass


class Parser(NinjaParser):
    """ninja's JSON parser, refusing text the databases cannot store (see the module's doc)."""

    def parse_body(self, request: HttpRequest) -> dict[str, Any]:
        data = json.loads(request.body)
        if not _all_readable(data):
            raise UnreadableBody
        return data  # type: ignore[no-any-return]

    def parse_querydict(
        self, data: MultiValueDict[str, Any], list_fields: list[str], request: HttpRequest
    ) -> dict[str, Any]:
        for key, values in data.lists():
            if not _all_readable([key, *values]):
                raise query_error(key, _("The text has a character that cannot be stored."))
        return super().parse_querydict(data, list_fields, request)


def install_error_handlers(api: NinjaAPI) -> None:
    # ninja types a handler's exception as "the exception or its class"; it always passes an
    # instance, which each handler checks before reading it.
    def refused(request: HttpRequest, exc: ValidationError | type[ValidationError]) -> HttpResponse:
        assert isinstance(exc, ValidationError)
        return api.create_response(request, field_errors(exc), status=400)

    def forbidden(
        request: HttpRequest, exc: PermissionDenied | type[PermissionDenied]
    ) -> HttpResponse:
        detail = str(exc) if isinstance(exc, PermissionDenied) else ""
        body = {"detail": detail or _("You may see this but not do this here.")}
        return api.create_response(request, body, status=403)

    def conflict(request: HttpRequest, exc: Conflict | type[Conflict]) -> HttpResponse:
        assert isinstance(exc, Conflict)
        body = {"detail": " ".join(exc.messages), **exc.facts}
        return api.create_response(request, body, status=409)

    def throttled(
        request: HttpRequest, exc: TooManyAttempts | type[TooManyAttempts]
    ) -> HttpResponse:
        assert isinstance(exc, TooManyAttempts)
        response = api.create_response(request, {"detail": exc.message}, status=429)
        response["Retry-After"] = str(exc.retry_after)
        return response

    def unreadable(request: HttpRequest, exc: HttpError | type[HttpError]) -> HttpResponse:
        assert isinstance(exc, HttpError)
        if exc.status_code != 400:
            return api.create_response(request, {"detail": str(exc)}, status=exc.status_code)
        # The only 400 ninja raises itself: a body that is not JSON (or not text we store).
        message = _("The request body is not JSON text that can be stored.")
        return api.create_response(
            request, {"detail": message, "errors": {"__all__": [message]}}, status=400
        )

    def invalid(request: HttpRequest, exc: SchemaError | type[SchemaError]) -> HttpResponse:
        assert isinstance(exc, SchemaError)
        if exc.errors and all((e.get("loc") or ("",))[0] == "path" for e in exc.errors):
            return api.create_response(request, {"detail": "Not Found"}, status=404)
        return api.create_response(request, {"detail": exc.errors}, status=422)

    api.add_exception_handler(ValidationError, refused)
    api.add_exception_handler(HttpError, unreadable)
    api.add_exception_handler(SchemaError, invalid)
    api.add_exception_handler(PermissionDenied, forbidden)
    api.add_exception_handler(Conflict, conflict)
    api.add_exception_handler(TooManyAttempts, throttled)
