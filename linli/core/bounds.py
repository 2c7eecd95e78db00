"""The bounded types of the API's parameters and fields, so that no value that fits the schema can
overflow the database or the calendar.

- ``Id``: a row's number, 1 to 2⁶³ − 1 (the largest that SQLite and PostgreSQL's ``bigint`` hold).
  In a path, a number outside it names nothing: 404 (``core.api``); in a filter or a body, 422.
- ``Day`` and ``Moment``: a date, or a time, in the years 1000 to 8999: a thousand years from
  either end of Python's calendar, so that no time zone (``0001-01-01T00:00:00+14:00`` is before
  year 1 in UTC) and no deadline or period added to it moves it off the calendar. Whether a date is
  sensible (not in the future, not before a birth) is for the rules to say, with their 400 by field.
  A ``Moment`` with an offset is handed on in UTC; one without is Beijing time, as before.

Numbers that the rules already bound (a contact's attendance, a rating) are left to them: the rule
is checked before the number reaches the database.

The limits are published in the OpenAPI document where JSON Schema can say them (the integers).
"""

from __future__ import annotations

import datetime
from typing import Annotated

from django.utils.translation import gettext as _
from pydantic import AfterValidator, Field

MAX_ID = 2**63 - 1
FIRST_YEAR = 1000
LAST_YEAR = 8999


def _within_years(value: datetime.date) -> datetime.date:
    if not FIRST_YEAR <= value.year <= LAST_YEAR:
        raise ValueError(
            _("Give a date in the years %(first)d to %(last)d.")
            % {"first": FIRST_YEAR, "last": LAST_YEAR}
        )
    return value


def _moment_within_years(value: datetime.datetime) -> datetime.datetime:
    _within_years(value)
    # In UTC: an offset Python allows (up to ±24 hours, -18:41) may be past what PostgreSQL takes
    # (±15:59); the moment is the same.
    return value.astimezone(datetime.UTC) if value.utcoffset() is not None else value


Id = Annotated[int, Field(ge=1, le=MAX_ID)]
Day = Annotated[datetime.date, AfterValidator(_within_years)]
Moment = Annotated[datetime.datetime, AfterValidator(_moment_within_years)]
