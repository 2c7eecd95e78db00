"""Moments typed by other programs (Open311's ``start_date`` and ``end_date``, a ``datetime``
attribute): ISO 8601 text turned into an aware datetime that both databases can store.

Python's datetime holds the years 1 to 9999, but a moment near either end can fall outside them
once moved to UTC (``0001-01-01T00:00:00+14:00`` is in year 0) or once a window is added to it.
So a moment is accepted only between ``LOWEST`` and ``HIGHEST`` (a day inside Python's range), and
windows are moved with ``shift``, which stops at those bounds instead of overflowing.
"""

from __future__ import annotations

import datetime
import re

from django.utils import timezone
from django.utils.dateparse import parse_date, parse_datetime

LOWEST = datetime.datetime(1, 1, 2, tzinfo=datetime.UTC)
HIGHEST = datetime.datetime(9999, 12, 30, tzinfo=datetime.UTC)
LONGEST = 40  # characters: the longest ISO 8601 moment with microseconds and an offset is 32


class NotAMoment(ValueError):
    """The text is not an ISO 8601 date or date and time."""


class OutOfRange(ValueError):
    """A real date, but outside the years Linli can store."""


def parse_moment(raw: str, *, end: bool = False) -> datetime.datetime:
    """The moment ``raw`` names, in UTC. A bare date is its first moment, or its last with
    ``end``; a moment without an offset is China time."""
    raw = raw.strip()
    # "+08:00" sent unencoded in a query string or form arrives as " 08:00".
    raw = re.sub(r" (\d{2}:?\d{2})$", r"+\1", raw)
    if not raw or len(raw) > LONGEST or not raw.isascii():
        raise NotAMoment(raw)
    try:
        # A bare date first: parse_datetime would read it as midnight.
        day = parse_date(raw) if len(raw) <= 10 else None
        value = None if day is not None else parse_datetime(raw)
    except ValueError as exc:  # a day or an offset that does not exist (2026-02-30, +25:00)
        raise NotAMoment(raw) from exc
    if value is None:
        if day is None:
            raise NotAMoment(raw)
        value = datetime.datetime.combine(day, datetime.time())
        if end:
            value = value.replace(hour=23, minute=59, second=59, microsecond=999999)
    try:
        if timezone.is_naive(value):
            value = timezone.make_aware(value)
        value = value.astimezone(datetime.UTC)
    except (OverflowError, ValueError) as exc:
        raise OutOfRange(raw) from exc
    if not LOWEST <= value <= HIGHEST:
        raise OutOfRange(raw)
    return value


def shift(moment: datetime.datetime, by: datetime.timedelta) -> datetime.datetime:
    """``moment + by``, kept between ``LOWEST`` and ``HIGHEST``."""
    if by >= datetime.timedelta(0):
        return moment + by if HIGHEST - moment >= by else HIGHEST
    return moment + by if moment - LOWEST >= -by else LOWEST
