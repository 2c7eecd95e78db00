"""Writing many rows at once, the one way every bulk writer does it (the roster import, the demos).

- ``reserve_ids(table, n)``: ids for rows written with explicit keys, so that the rows referring to
  them go in the same pass. On PostgreSQL they come from the table's sequence, so nobody else can
  take them; on SQLite the writing transaction holds the lock, and they follow both the largest id
  and the table's AUTOINCREMENT counter (which a deleted row leaves behind).
- ``reserve_id_block(table, n)``: the same as a ``range`` when nobody else took ids meanwhile
  (nearly always), so that only two numbers cross the wire.
- ``write_rows(table, columns, rows)``: COPY on PostgreSQL, ``executemany`` elsewhere.
- ``copy_text(table, columns, text)``: PostgreSQL only, rows already in COPY's text format.

Names of tables and columns are our own (a model's ``db_table``, its fields' columns), never input.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from django.db import connection

_sequences: dict[str, str] = {}


def _postgres() -> bool:
    return connection.vendor == "postgresql"


def _sequence(table: str) -> str:
    """PostgreSQL: the sequence behind a table's id, looked up once."""
    if table not in _sequences:
        with connection.cursor() as cursor:
            cursor.execute("SELECT pg_get_serial_sequence(%s, 'id')", [table])
            _sequences[table] = cursor.fetchone()[0]
    return _sequences[table]


def reserve_ids(table: str, n: int) -> list[int]:
    with connection.cursor() as cursor:
        if _postgres():
            cursor.execute(
                "SELECT nextval(%s::regclass) FROM generate_series(1, %s)", [_sequence(table), n]
            )
            return [row[0] for row in cursor.fetchall()]
        cursor.execute(
            f"SELECT max(coalesce((SELECT max(id) FROM {table}), 0),"  # noqa: S608
            " coalesce((SELECT seq FROM sqlite_sequence WHERE name = %s), 0))",
            [table],
        )
        start = int(cursor.fetchone()[0]) + 1
        return list(range(start, start + n))


def reserve_id_block(table: str, n: int) -> Sequence[int]:
    if not _postgres():
        return reserve_ids(table, n)
    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT min(v), max(v) FROM (SELECT nextval(%s::regclass) AS v"
            " FROM generate_series(1, %s)) AS s",
            [_sequence(table), n],
        )
        low, high = cursor.fetchone()
    if high - low == n - 1:
        return range(low, high + 1)
    return reserve_ids(table, n)  # interleaved with another session's: these are ours


def write_rows(table: str, columns: Sequence[str], rows: Sequence[Sequence[Any]]) -> None:
    if not rows:
        return
    names = ", ".join(columns)
    with connection.cursor() as cursor:
        if _postgres():
            with cursor.cursor.copy(f"COPY {table} ({names}) FROM STDIN") as copy:
                for row in rows:
                    copy.write_row(row)
        else:
            marks = ", ".join(["%s"] * len(columns))
            cursor.executemany(f"INSERT INTO {table} ({names}) VALUES ({marks})", rows)  # noqa: S608


def copy_text(table: str, columns: Sequence[str], text: bytes) -> None:
    if not text:
        return
    sql = f"COPY {table} ({', '.join(columns)}) FROM STDIN"
    with connection.cursor() as cursor, cursor.cursor.copy(sql) as copy:
        copy.write(text)
