"""The bounded types of the API's parameters and fields, so that no value that fits the schema can
overflow the database or the calendar.

- ``Id``: a row's number, 1 to 2⁶³ − 1 (the largest that SQLite and PostgreSQL's ``bigint`` hold).
  In a path, a number outside it names nothing: 404 (``core.api``); in a filter or a body, 422.
- ``Day`` and ``Moment``: a date, or a time, in the years 1900 to 2099. Dates outside them are no
  date Linli records (a birth, a visit, a post's end), and the ends of the calendar cannot be moved
  to another time zone (``0001-01-01T00:00:00+14:00`` is before year 1 in UTC).
- ``Quantity``: a count a person enters (attendance), 0 to 1,000,000.

The limits are published in the OpenAPI document where JSON Schema can say them (the integers).
"""

from __future__ import annotations

import datetime
from typing import Annotated

from django.utils.translation import gettext as _
from pydantic import AfterValidator, Field

MAX_ID = 2**63 - 1
FIRST_YEAR = 1900
LAST_YEAR = 2099
MAX_QUANTITY = 1_000_000


def _within_years(value: datetime.date) -> datetime.date:
    if not FIRST_YEAR <= value.year <= LAST_YEAR:
        raise ValueError(
            _("Give a date in the years %(first)d to %(last)d.")
            % {"first": FIRST_YEAR, "last": LAST_YEAR}
        )
    return value


def _moment_within_years(value: datetime.datetime) -> datetime.datetime:
    _within_years(value)
    return value


Id = Annotated[int, Field(ge=1, le=MAX_ID)]
Day = Annotated[datetime.date, AfterValidator(_within_years)]
Moment = Annotated[datetime.datetime, AfterValidator(_moment_within_years)]
Quantity = Annotated[int, Field(ge=0, le=MAX_QUANTITY)]
