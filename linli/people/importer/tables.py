"""The tables an import writes: their columns, and the plain SQL (no ORM) that reads ids and rows
and writes rows in bulk."""

from __future__ import annotations

import datetime
from typing import Any, NamedTuple

from django.db import connection


class Existing(NamedTuple):
    """A resident already in the table, with the fields a row is compared to."""

    id: int
    name: str
    gender: str
    birth_date: datetime.date | None
    ethnicity: str
    phone_index: str
    residence_type: str
    home_id: int | None
    status: str


RESIDENT_COLUMNS = (
    "id",
    "name",
    "name_pinyin",
    "name_initials",
    "gender",
    "birth_date",
    "ethnicity",
    "id_type",
    "id_number",
    "id_index",
    "phone",
    "phone_index",
    "residence_type",
    "status",
    "status_date",
    "note",
    "created_at",
    "updated_at",
    "home_id",
)
MEMBERSHIP_COLUMNS = ("resident_id", "dwelling_id", "relation", "is_head", "since", "until")


class Tie(NamedTuple):
    """A household tie (``people_membership``) as read back from the table."""

    id: int
    resident_id: int
    dwelling_id: int
    relation: str
    is_head: bool
    since: datetime.date | None
    until: datetime.date | None


TAG_COLUMNS = ("resident_id", "tag_id", "since")


class Tables:
    """The writer's plain SQL: look-ups by key, ids handed out in advance, rows written in bulk."""

    postgres: bool

    def _rows_by(
        self, table: str, column: str, keys: list[int], fields: tuple[str, ...]
    ) -> list[Any]:
        """Every row of ``table`` whose ``column`` is one of ``keys``, one index probe per key.

        On PostgreSQL the probes are spelled out (LATERAL … OFFSET 0): a big import leaves the
        planner's statistics far behind the table, and with "IN (…)" it then reads the whole table
        (~100 ms for 500 keys against 0.5 ms).
        """
        out: list[Any] = []
        names = ", ".join(fields)
        with connection.cursor() as cursor:
            for i in range(0, len(keys), 500):
                part = keys[i : i + 500]
                if self.postgres:
                    cursor.execute(
                        f"SELECT x.* FROM unnest(%s::bigint[]) AS k(key), LATERAL (SELECT {names}"  # noqa: S608
                        f" FROM {table} WHERE {column} = k.key OFFSET 0) AS x",
                        [part],
                    )
                else:
                    marks = ", ".join(["%s"] * len(part))
                    cursor.execute(
                        f"SELECT {names} FROM {table} WHERE {column} IN ({marks})",  # noqa: S608
                        part,
                    )
                out.extend(cursor.fetchall())
        return out

    def _ties(self, column: str, keys: list[int]) -> list[Tie]:
        """The active household ties of these residents or dwellings."""
        return [
            tie
            for tie in map(Tie._make, self._rows_by("people_membership", column, keys, Tie._fields))
            if tie.until is None
        ]
