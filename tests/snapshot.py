"""Build a fixture's rows once, then put the same rows back for every test that asks for it.

Most tests start from ``conftest.build_world``: some 200 rows written through the real actions
(places, grids, users, grants, their history and audit records), about 700 queries and a quarter
of a second, half a second on PostgreSQL. Built again for each of ~550 tests, that was most of the
suite. Instead, the first test that asks builds it for real, and we note which rows the build added
(the whole database is read before and after, once). Each later test gets those exact rows inserted
again inside its own transaction (one ``INSERT`` per table, before the test body runs; rolled back
after it, like anything else the test writes) and a deep copy of the objects the build returned.
This is what Django's ``TestCase.setUpTestData`` and ``loaddata`` do, kept per test so that every
test still starts from the same clean database in any order.

The snapshot is only used when it is safe, otherwise the fixture builds for real as before:

- a build that changed or deleted rows that were already there is never snapshotted (nor one
  that points to a row by a column other than its key);
- the tables the snapshot writes to or points to must hold as many rows, with the same largest
  key, as when it was captured (one query), or its rows could collide with rows already there (a
  fixture that wrote rows before this one);
- rows outside the snapshot that its rows point to (the care tags the migrations seed, the
  fixture a snapshot builds on) must be as they were at capture (a transactional test flushed the
  database and the seeds came back under new ids).

Otherwise the fixture builds for real, and that build is kept as one more snapshot.

Primary keys are restored as captured. Nothing resets sequences: PostgreSQL sequences only move
forward (a flush between tests does not restart them), so new rows never reuse a restored id; on
SQLite, inserting an explicit id moves the table's AUTOINCREMENT counter past it.
"""

from __future__ import annotations

import copy
import dataclasses
from collections.abc import Callable
from typing import Any

from django.apps import apps
from django.db import connection, models

Row = tuple[Any, ...]


@dataclasses.dataclass(frozen=True)
class _Table:
    name: str
    columns: list[str]
    pk: int  # index of the primary key in columns
    # (column index, referenced table, referenced column is its primary key)
    refs: list[tuple[int, str, bool]]


def _tables() -> list[_Table]:
    found: dict[str, _Table] = {}
    for model in apps.get_models(include_auto_created=True):
        meta = model._meta
        if meta.proxy or not meta.managed or meta.db_table in found:
            continue
        fields = [f for f in meta.local_concrete_fields if not getattr(f, "generated", False)]
        columns = [f.column for f in fields]
        refs = []
        for i, f in enumerate(fields):
            if isinstance(f, models.ForeignKey) and f.related_model is not None:
                target = f.related_model._meta  # type: ignore[union-attr]
                refs.append((i, target.db_table, f.target_field.column == target.pk.column))
        found[meta.db_table] = _Table(meta.db_table, columns, columns.index(meta.pk.column), refs)
    return list(found.values())


def _read(table: _Table, pks: list[Any] | None = None) -> dict[Any, Row]:
    qn = connection.ops.quote_name
    columns = ", ".join(qn(c) for c in table.columns)
    sql = f"SELECT {columns} FROM {qn(table.name)}"  # noqa: S608 - names from the models
    params: list[Any] = []
    if pks is not None:
        sql += f" WHERE {qn(table.columns[table.pk])} IN ({', '.join(['%s'] * len(pks))})"
        params = pks
    with connection.cursor() as cursor:
        cursor.execute(sql, params)
        return {row[table.pk]: tuple(row) for row in cursor.fetchall()}


def _pairs(old: Any, new: Any, memo: dict[int, Any]) -> None:
    """Map each model instance in ``old`` to the one at the same place in ``new``."""
    if isinstance(old, models.Model):
        memo[id(old)] = new
    elif dataclasses.is_dataclass(old) and not isinstance(old, type):
        for f in dataclasses.fields(old):
            _pairs(getattr(old, f.name), getattr(new, f.name), memo)
    elif isinstance(old, dict):
        for key, value in old.items():
            _pairs(value, new[key], memo)
    elif isinstance(old, list | tuple):
        for a, b in zip(old, new, strict=True):
            _pairs(a, b, memo)


@dataclasses.dataclass
class _Snapshot:
    added: dict[str, list[Row]]  # table name -> rows to insert
    outside: dict[str, dict[Any, Row]]  # table name -> rows referenced, as they were
    tables: list[str]  # the tables it inserts into or points to ...
    start: Row  # ... and their row counts and largest keys just before it was built
    result: Any
    base: Any  # the result of the fixture this one was built on, as it was then


class Snapshots:
    """One per fixture: ``get(build, base)`` returns what ``build()`` returns, with its rows.

    A snapshot is used only where the tables it writes to or points to are as they were when it
    was built (same row count, same largest key; its rows would collide otherwise) and the rows it
    points to are unchanged. A test that reaches ``roster`` through another fixture that wrote
    rows first gets a snapshot of its own, kept beside the first.
    """

    def __init__(self) -> None:
        self.snapshots: list[_Snapshot] = []
        self.unsafe = False  # the build changes rows it did not add: always build for real
        self.tables: dict[str, _Table] = {}

    def get(self, build: Callable[[], Any], base: Any = None) -> Any:
        if self.unsafe:
            return build()
        self.tables = self.tables or {t.name: t for t in _tables()}
        for snapshot in self.snapshots:
            if self._counts(snapshot.tables) == snapshot.start and self._still_valid(snapshot):
                return self._restore(snapshot, base)
        return self._capture(build, base)

    def _counts(self, names: list[str]) -> Row:
        """Row count and largest key of each table, in one query."""
        qn = connection.ops.quote_name
        parts = []
        for name in names:
            table, pk = qn(name), qn(self.tables[name].columns[self.tables[name].pk])
            parts.append(f"(SELECT COUNT(*) FROM {table}), (SELECT MAX({pk}) FROM {table})")  # noqa: S608
        with connection.cursor() as cursor:
            cursor.execute("SELECT " + ", ".join(parts))
            return tuple(cursor.fetchone())

    def _capture(self, build: Callable[[], Any], base: Any) -> Any:
        names = list(self.tables)
        counts = self._counts(names)
        before = {name: _read(t) for name, t in self.tables.items()}
        result = build()
        after = {name: _read(t) for name, t in self.tables.items()}
        added: dict[str, list[Row]] = {}
        for name in names:
            old, new = before[name], after[name]
            if any(pk not in new or new[pk] != row for pk, row in old.items()):
                self.unsafe = True
                return result
            rows = [row for pk, row in new.items() if pk not in old]
            if rows:
                added[name] = rows
        outside: dict[str, dict[Any, Row]] = {}
        for name, rows in added.items():
            for i, target, to_pk in self.tables[name].refs:
                mine = {r[self.tables[target].pk] for r in added.get(target, [])}
                for row in rows:
                    value = row[i]
                    if value is None or value in mine:
                        continue
                    if not to_pk:  # a reference by another column: not worth handling
                        self.unsafe = True
                        return result
                    if value in after[target]:  # else dangling (no constraint): nothing to check
                        outside.setdefault(target, {})[value] = after[target][value]
        tables = sorted(set(added) | set(outside))
        start = sum((counts[2 * names.index(n) : 2 * names.index(n) + 2] for n in tables), ())
        # Copied together, so that what the result shares with its base stays shared.
        saved_base, saved_result = copy.deepcopy((base, result))
        self.snapshots.append(_Snapshot(added, outside, tables, start, saved_result, saved_base))
        return result

    def _still_valid(self, snap: _Snapshot) -> bool:
        return all(_read(self.tables[n], list(rows)) == rows for n, rows in snap.outside.items())

    def _restore(self, snap: _Snapshot, base: Any) -> Any:
        qn = connection.ops.quote_name
        with connection.cursor() as cursor:
            for name, rows in snap.added.items():
                columns = self.tables[name].columns
                names = ", ".join(qn(c) for c in columns)
                marks = ", ".join(["%s"] * len(columns))
                sql = f"INSERT INTO {qn(name)} ({names}) VALUES ({marks})"  # noqa: S608 - as above
                cursor.executemany(sql, rows)
        memo: dict[int, Any] = {}
        if snap.base is not None and base is not None:
            _pairs(snap.base, base, memo)
        return copy.deepcopy(snap.result, memo)
