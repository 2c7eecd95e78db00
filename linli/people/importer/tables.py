"""The tables an import writes: their columns, and the plain SQL (no ORM) that reads ids and rows
and writes rows in bulk."""

from __future__ import annotations

import datetime
from collections.abc import Sequence
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

    def _sequence(self, table: str) -> str:
        """PostgreSQL: the sequence behind a table's id, looked up once."""
        names: dict[str, str] = self.__dict__.setdefault("_sequences", {})
        if table not in names:
            with connection.cursor() as cursor:
                cursor.execute("SELECT pg_get_serial_sequence(%s, 'id')", [table])
                names[table] = cursor.fetchone()[0]
        return names[table]

    def _id_block(self, table: str, n: int) -> Sequence[int]:
        """PostgreSQL: ``n`` ids from the table's sequence, as a range when nobody else took one
        meanwhile (nearly always), so that only two numbers cross the wire."""
        with connection.cursor() as cursor:
            cursor.execute(
                "SELECT min(v), max(v) FROM (SELECT nextval(%s::regclass) AS v"
                " FROM generate_series(1, %s)) AS s",
                [self._sequence(table), n],
            )
            low, high = cursor.fetchone()
        if high - low == n - 1:
            return range(low, high + 1)
        return self.new_ids(table, n)  # interleaved with another session's: these are ours

    def new_ids(self, table: str, n: int) -> list[int]:
        """Ids for rows written with explicit keys, so the rows that refer to them can be written
        in the same pass."""
        with connection.cursor() as cursor:
            if self.postgres:
                cursor.execute(
                    "SELECT nextval(%s::regclass) FROM generate_series(1, %s)",
                    [self._sequence(table), n],
                )
                return [r[0] for r in cursor.fetchall()]
            # SQLite: our transaction holds the write lock, so nobody else takes ids meanwhile.
            cursor.execute(
                f"SELECT max(coalesce((SELECT max(id) FROM {table}), 0),"  # noqa: S608
                " coalesce((SELECT seq FROM sqlite_sequence WHERE name = %s), 0))",
                [table],
            )
            start = int(cursor.fetchone()[0]) + 1
            return list(range(start, start + n))

    def _copy_raw(self, table: str, columns: tuple[str, ...], text: bytes) -> None:
        """PostgreSQL: COPY rows already in COPY's text format."""
        if not text:
            return
        sql = f"COPY {table} ({', '.join(columns)}) FROM STDIN"
        with connection.cursor() as cursor, cursor.cursor.copy(sql) as copy_:
            copy_.write(text)

    def copy_rows(self, table: str, columns: tuple[str, ...], rows: list[tuple[Any, ...]]) -> None:
        """Write ``rows`` into ``table``'s ``columns``: COPY on PostgreSQL, executemany elsewhere."""
        if not rows:
            return
        with connection.cursor() as cursor:
            if self.postgres:
                sql = f"COPY {table} ({', '.join(columns)}) FROM STDIN"
                with cursor.cursor.copy(sql) as copy_:
                    for row in rows:
                        copy_.write_row(row)
            else:
                marks = ", ".join(["%s"] * len(columns))
                cursor.executemany(
                    f"INSERT INTO {table} ({', '.join(columns)}) VALUES ({marks})",  # noqa: S608
                    rows,
                )
