"""Reporting periods: a month (``2026-03``), a quarter (``2026-Q1``) or a year (``2026``)."""

from __future__ import annotations

import datetime
import re
from dataclasses import dataclass

from django.utils import timezone
from django.utils.translation import gettext as _

_MONTH = re.compile(r"^(\d{4})-(\d{2})$")
_QUARTER = re.compile(r"^(\d{4})-Q([1-4])$")
_YEAR = re.compile(r"^(\d{4})$")


@dataclass(frozen=True)
class Period:
    kind: str  # "month", "quarter" or "year"
    year: int
    number: int = 0  # the month (1-12) or the quarter (1-4)

    @classmethod
    def parse(cls, text: str) -> Period:
        text = (text or "").strip().upper()
        if m := _MONTH.match(text):
            month = int(m.group(2))
            if not 1 <= month <= 12:
                raise ValueError(text)
            period = cls("month", int(m.group(1)), month)
        elif m := _QUARTER.match(text):
            period = cls("quarter", int(m.group(1)), int(m.group(2)))
        elif m := _YEAR.match(text):
            period = cls("year", int(m.group(1)))
        else:
            raise ValueError(text)
        if not 2000 <= period.year <= 2100:
            raise ValueError(text)
        return period

    @classmethod
    def current(cls, kind: str = "quarter", today: datetime.date | None = None) -> Period:

        today = today or timezone.localdate()
        if kind == "month":
            return cls("month", today.year, today.month)
        if kind == "year":
            return cls("year", today.year)
        return cls("quarter", today.year, (today.month - 1) // 3 + 1)

    @property
    def key(self) -> str:
        if self.kind == "month":
            return f"{self.year}-{self.number:02d}"
        if self.kind == "quarter":
            return f"{self.year}-Q{self.number}"
        return f"{self.year}"

    @property
    def start(self) -> datetime.date:
        if self.kind == "month":
            return datetime.date(self.year, self.number, 1)
        if self.kind == "quarter":
            return datetime.date(self.year, 3 * self.number - 2, 1)
        return datetime.date(self.year, 1, 1)

    @property
    def end(self) -> datetime.date:
        """The first day after the period."""
        if self.kind == "month":
            year, month = divmod(self.year * 12 + self.number, 12)
            return datetime.date(year, month + 1, 1)
        if self.kind == "quarter":
            year, month = divmod(self.year * 12 + 3 * self.number, 12)
            return datetime.date(year, month + 1, 1)
        return datetime.date(self.year + 1, 1, 1)

    @property
    def last_day(self) -> datetime.date:
        """The period's last day, for people to read (``end`` is the day after)."""
        return self.end - datetime.timedelta(days=1)

    def covering_keys(self) -> list[str]:
        """This period's key, then those of the periods around it: a month's evaluation may have
        been given for its quarter or its year."""
        keys = [self.key]
        if self.kind == "month":
            keys.append(f"{self.year}-Q{(self.number - 1) // 3 + 1}")
        if self.kind != "year":
            keys.append(f"{self.year}")
        return keys

    def label(self) -> str:
        if self.kind == "month":
            return _("%(year)s, month %(month)s") % {"year": self.year, "month": self.number}
        if self.kind == "quarter":
            return _("%(year)s, quarter %(quarter)s") % {"year": self.year, "quarter": self.number}
        return _("the year %(year)s") % {"year": self.year}

    def __str__(self) -> str:
        return self.key


def recent_periods(today: datetime.date | None = None) -> list[Period]:
    """Choices for the pages: the last 12 months, the last 4 quarters and the last 2 years."""

    today = today or timezone.localdate()
    out: list[Period] = []
    for i in range(12):
        year, month = divmod(today.year * 12 + today.month - 1 - i, 12)
        out.append(Period("month", year, month + 1))
    quarter = Period.current("quarter", today)
    for i in range(4):
        year, q = divmod(quarter.year * 4 + quarter.number - 1 - i, 4)
        out.append(Period("quarter", year, q + 1))
    out.extend(Period("year", today.year - i) for i in range(2))
    return out
