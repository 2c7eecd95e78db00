"""The writer: this process, inside the import's transaction, storing the workers' batches."""

from __future__ import annotations

import bisect
import datetime
from collections import defaultdict
from collections.abc import Sequence
from typing import Any

from django.db import connection, transaction
from django.utils import timezone
from django.utils.translation import gettext as _
from psycopg.errors import UniqueViolation

from linli.accounts.models import User
from linli.core import bulk
from linli.people.importer.columns import HEADER
from linli.people.importer.pgcopy import from_copy
from linli.people.importer.places import PlaceMaker, PlaceRef, Places
from linli.people.importer.results import ImportResult
from linli.people.importer.rows import Prepared
from linli.people.importer.tables import MEMBERSHIP_COLUMNS, RESIDENT_COLUMNS, TAG_COLUMNS, Existing
from linli.people.importer.updates import Updater
from linli.people.importer.workers import Batch
from linli.people.models import Resident, Status
from linli.places.models import Place


class _Bits:
    """A growing set of small non-negative integers, one bit each."""

    def __init__(self) -> None:
        self.data = bytearray()

    def add(self, n: int) -> None:
        byte = n >> 3
        if byte >= len(self.data):
            self.data.extend(bytes(max(byte + 1 - len(self.data), len(self.data))))
        self.data[byte] |= 1 << (n & 7)

    def __contains__(self, n: int) -> bool:
        byte = n >> 3
        return byte < len(self.data) and bool(self.data[byte] & (1 << (n & 7)))


class Writer(PlaceMaker, Updater):
    """Stores the workers' batches inside the import's transaction (see the package's docstring)."""

    def __init__(
        self,
        community: Place,
        actor: User | None,
        create_places: bool,
        result: ImportResult,
        now: datetime.datetime | None = None,
    ) -> None:
        self.community = PlaceRef(community.pk, community.path, None, None)
        self.actor = actor
        self.create_places = create_places
        self.result = result
        self.today = timezone.localdate()
        self.now = now or timezone.now()
        # SQLite gets dates and times as the text Django would store, skipping its adapters
        # (~5 µs a value); psycopg's own dumpers are fast.
        self.now_db: Any = self.now
        self.date_db: Any = lambda d: d
        if connection.vendor != "postgresql":
            self.now_db = str(connection.ops.adapt_datetimefield_value(self.now))
            self.date_db = lambda d: d.isoformat() if d is not None else None
        self.postgres = connection.vendor == "postgresql"
        with connection.cursor() as cursor:
            if self.postgres:
                # With statistics lagging behind the table, the planner's cost estimates balloon
                # and cross the JIT threshold: compiling took ~35 ms for queries that run in one.
                cursor.execute("SET LOCAL jit = off")
                # Foreign keys checked as each statement ends instead of all at the commit: the
                # same work, but done while the workers prepare the next chunks, not after them.
                # Every row the import writes points to rows written before it. Set back by
                # close(); a rollback undoes it too.
                cursor.execute("SET CONSTRAINTS ALL IMMEDIATE")
            else:
                # Take SQLite's write lock now: the ids handed out below must stay free.
                cursor.execute("UPDATE people_resident SET id = id WHERE id = 0")
        self.residents_seen = _Bits()  # residents who were here before and a row has matched
        self.heads_seen = _Bits()  # dwellings a row has named the head of
        self.ours: list[tuple[int, int]] = []  # the id ranges handed to this import's rows
        self.next_id: int | None = None
        self.optimistic = True  # PostgreSQL: COPY first, look up only when that fails
        self.known: dict[tuple[str, str], Existing] = {}
        self.next_child: dict[int, int] = {}
        self.places = Places(community)
        self.levels = self.places.levels
        # Dwellings whose head of household was recorded before this import: a row naming another
        # head there demotes that one first.
        with connection.cursor() as cursor:
            cursor.execute(
                "SELECT m.dwelling_id FROM people_membership m"
                " JOIN places_place p ON p.id = m.dwelling_id"
                " WHERE m.is_head AND m.until IS NULL AND p.path > %s AND p.path < %s",
                [community.path, community.path_end],
            )
            self.had_head = {r[0] for r in cursor.fetchall()}

    def close(self) -> None:
        if self.postgres:
            with connection.cursor() as cursor:
                cursor.execute("SET CONSTRAINTS ALL DEFERRED")  # Django's way, as it began

    # ids

    def allocate(self, n: int) -> Sequence[int]:
        """Ids for the residents of the next ``n`` rows, one per row whatever the row turns out to
        be (blank, bad or a resident already here leave a gap), so that the workers can write
        each new resident's rows — and their ties and tags — without asking."""
        if n <= 0:
            return range(0)
        if self.postgres:
            ids: Sequence[int] = bulk.reserve_id_block("people_resident", n)
        else:
            if self.next_id is None:
                self.next_id = bulk.reserve_ids("people_resident", 1)[0]
            ids = range(self.next_id, self.next_id + n)
            self.next_id += n
        if isinstance(ids, range):
            self.ours.append((ids[0], ids[-1]))
        else:
            self.ours.extend((pk, pk) for pk in ids)
        return ids

    def _is_ours(self, pk: int) -> bool:
        """Whether a resident was created by this import (from an earlier row of the file)."""
        at = bisect.bisect_right(self.ours, (pk, float("inf"))) - 1
        return at >= 0 and self.ours[at][0] <= pk <= self.ours[at][1]

    # residents

    def write_batch(self, batch: Batch, tagged: bool) -> None:
        """One chunk from a worker. New residents are written as they come; a row whose document
        a resident already holds (the table's unique index says so) is looked up and becomes an
        update, or an error when that resident came from an earlier row of this file."""
        result = self.result
        result.rows += batch.rows
        for failed in batch.failed:
            for key, message in failed.problems:
                result.add_error(failed.row, HEADER.get(key, key), message)
        for row, message in batch.warnings:
            result.add_warning(row, HEADER["id_number"], message)
        if batch.text is not None:
            if not batch.slow and self.optimistic and self._copy_new(batch.text[0]):
                self._tie_new(batch)
                return
            batch = batch._replace(
                residents=from_copy(batch.text[0], (0, len(RESIDENT_COLUMNS) - 1)),
                ties=from_copy(batch.text[1], (0, 1), (3,)),
                tags=from_copy(batch.text[2], (0, 1)),
                text=None,
            )
        numbers, residents, ties, tags = batch.numbers, batch.residents, batch.ties, batch.tags
        matched: list[tuple[Prepared, PlaceRef, Existing]] = []
        if batch.slow:
            numbers, residents, ties, tags = self._finish(batch, matched)
        conflicts = self._add_residents(residents)
        skip: set[int] = set()  # resident ids whose tie and tags are not to be written
        if conflicts:
            self._resolve(conflicts, numbers, residents, ties, tags, tagged, matched)
            skip.update(residents[i][0] for i in conflicts)
        result.created += len(residents) - len(conflicts)
        # Heads of household, in the order of the file, over new and matched residents alike.
        named = [(numbers[i], t[1], t[0]) for i, t in enumerate(ties) if t[3] and t[0] not in skip]
        if matched:
            named.extend((p.row, d.id, f.id) for p, d, f in matched if p.is_head)
            named.sort()
        self._heads(named, skip)
        if skip:
            ties = [t for t in ties if t[0] not in skip]
            tags = [t for t in tags if t[0] not in skip]
            matched = [m for m in matched if m[2].id not in skip]
        bulk.write_rows("people_membership", MEMBERSHIP_COLUMNS, ties)
        bulk.write_rows("people_residenttag", TAG_COLUMNS, tags)
        self._update(matched)

    def _heads(self, named: list[tuple[int, int, int]], skip: set[int]) -> None:
        """(row, dwelling, resident) for each row naming a head of household, in file order: a
        second head for a dwelling is an error (its resident joins ``skip``); a head recorded
        before this import steps down."""
        demote: dict[int, int | None] = {}
        for row, dwelling_id, resident_id in named:
            if dwelling_id in self.heads_seen:
                self.result.add_error(
                    row,
                    HEADER["is_head"],
                    _("An earlier row already names the head of this dwelling."),
                )
                skip.add(resident_id)
                continue
            self.heads_seen.add(dwelling_id)
            if dwelling_id in self.had_head:
                demote[dwelling_id] = resident_id
        self._demote_heads(demote)

    def _copy_new(self, residents: bytes | list[tuple[Any, ...]]) -> bool:
        """PostgreSQL: COPY new residents (as COPY text from a worker, or as rows) in a savepoint;
        False (nothing written, and look-ups first from now on) when a resident already holds one
        of their documents."""
        savepoint = transaction.savepoint()
        try:
            if isinstance(residents, bytes):
                bulk.copy_text("people_resident", RESIDENT_COLUMNS, residents)
            else:
                bulk.write_rows("people_resident", RESIDENT_COLUMNS, residents)
        except UniqueViolation:
            transaction.savepoint_rollback(savepoint)
            self.optimistic = False
            return False
        transaction.savepoint_commit(savepoint)
        return True

    def _tie_new(self, batch: Batch) -> None:
        """After ``_copy_new``: the heads checked, then the ties and tags written as they came."""
        assert batch.text is not None and batch.heads is not None
        self.result.created += len(batch.numbers)
        skip: set[int] = set()
        self._heads(batch.heads, skip)
        _residents, ties, tags = batch.text
        if not skip:
            bulk.copy_text("people_membership", MEMBERSHIP_COLUMNS, ties)
            bulk.copy_text("people_residenttag", TAG_COLUMNS, tags)
            return
        rows = [t for t in from_copy(ties, (0, 1), (3,)) if t[0] not in skip]
        bulk.write_rows("people_membership", MEMBERSHIP_COLUMNS, rows)
        rows = [t for t in from_copy(tags, (0, 1)) if t[0] not in skip]
        bulk.write_rows("people_residenttag", TAG_COLUMNS, rows)

    def _finish(
        self, batch: Batch, matched: list[tuple[Prepared, PlaceRef, Existing]]
    ) -> tuple[list[int], list[tuple[Any, ...]], list[tuple[Any, ...]], list[tuple[Any, ...]]]:
        """The rows a worker could not finish: their places found or made here, residents without
        a document matched by name and dwelling. Returns the batch's rows with them merged in, in
        the order of the file."""
        placed = self._dwellings(self._holders(batch.slow))
        found = self._undocumented([(p, d) for p, d in placed if not p.id_index])
        today = self.date_db(self.today)
        seen: set[tuple[str, int]] = set()
        extra: list[tuple[int, tuple[Any, ...], tuple[Any, ...]]] = []
        tags = list(batch.tags)
        for p, d in placed:
            if not p.id_index:
                f = found.get((p.name, d.id))
                if (p.name, d.id) in seen or (
                    f is not None and (f.id in self.residents_seen or self._is_ours(f.id))
                ):
                    self.result.add_error(
                        p.row,
                        HEADER["name"],
                        _("This person is already on an earlier row of the file."),
                    )
                    continue
                seen.add((p.name, d.id))
                if f is not None:
                    if f.status == Status.DECEASED:
                        self._deceased(p.row)
                        continue
                    self.residents_seen.add(f.id)
                    matched.append((p, d, f))
                    continue
            extra.append(
                (
                    p.row,
                    (p.pk, *p.values, d.id),
                    (p.pk, d.id, p.relation, p.is_head, None, None),
                )
            )
            if p.tags:
                tags.extend((p.pk, tag_id, today) for tag_id in p.tags)
        rows = sorted(
            [*zip(batch.numbers, batch.residents, batch.ties, strict=True), *extra],
            key=lambda r: r[0],
        )
        return [r[0] for r in rows], [r[1] for r in rows], [r[2] for r in rows], tags

    def _deceased(self, row: int) -> None:
        self.result.add_error(
            row,
            HEADER["name"],
            _("This person is recorded as deceased; correct it on their page first."),
        )

    def _add_residents(self, residents: list[tuple[Any, ...]]) -> list[int]:
        """Write new residents; returns the positions of those not written because a resident
        already holds their document. SQLite skips them itself (ON CONFLICT DO NOTHING). COPY on
        PostgreSQL cannot: it is tried in a savepoint, and when it fails (a re-import) the batch
        is looked up first, as are the next ones until a batch finds nobody it already knew."""
        if not residents:
            return []
        if not self.postgres:
            marks = ", ".join(["%s"] * len(RESIDENT_COLUMNS))
            with connection.cursor() as cursor:
                cursor.executemany(
                    f"INSERT INTO people_resident ({', '.join(RESIDENT_COLUMNS)})"  # noqa: S608
                    f" VALUES ({marks}) ON CONFLICT DO NOTHING",
                    residents,
                )
                if cursor.rowcount == len(residents):
                    return []
                ids = [r[0] for r in residents]
                cursor.execute(
                    "SELECT id FROM people_resident WHERE id BETWEEN %s AND %s",
                    [min(ids), max(ids)],
                )
                written = {r[0] for r in cursor.fetchall()}
            return [i for i, pk in enumerate(ids) if pk not in written]
        if self.optimistic and self._copy_new(residents):
            return []
        self.known = self._documents([(r[7], r[9]) for r in residents])
        conflicts: list[int] = []
        fresh: list[tuple[Any, ...]] = []
        seen: set[tuple[str, str]] = set()
        for i, r in enumerate(residents):
            key = (r[7], r[9])
            if key in self.known or key in seen:
                conflicts.append(i)
            else:
                seen.add(key)
                fresh.append(r)
        bulk.write_rows("people_resident", RESIDENT_COLUMNS, fresh)
        self.optimistic = not self.known
        return conflicts

    def _resolve(
        self,
        conflicts: list[int],
        numbers: list[int],
        residents: list[tuple[Any, ...]],
        ties: list[tuple[Any, ...]],
        tags: list[tuple[Any, ...]],
        tagged: bool,
        matched: list[tuple[Prepared, PlaceRef, Existing]],
    ) -> None:
        """Rows whose document a resident already holds: an update of that resident, or an error
        when an earlier row of this file brought them (or they are recorded as deceased)."""
        keys = [(residents[i][7], residents[i][9]) for i in conflicts]
        found = {k: self.known[k] for k in keys if k in self.known}
        found.update(self._documents([k for k in keys if k not in found]))
        self.known = {}
        tag_ids: dict[int, list[int]] = defaultdict(list)
        for resident_id, tag_id, _since in tags:
            tag_ids[resident_id].append(tag_id)
        for i, key in zip(conflicts, keys, strict=True):
            r, row, f = residents[i], numbers[i], found.get(key)
            if f is None:
                raise RuntimeError(f"row {row}: not written, and nobody holds its document")
            if f.id in self.residents_seen or self._is_ours(f.id):
                self.result.add_error(
                    row,
                    HEADER["id_number"],
                    _("This person is already on an earlier row of the file."),
                )
                continue
            if f.status == Status.DECEASED:
                self._deceased(row)
                continue
            self.residents_seen.add(f.id)
            birth = r[5]
            if isinstance(birth, str):
                birth = datetime.date.fromisoformat(birth)
            p = Prepared(
                row=row,
                name=r[1],
                gender=r[4],
                birth_date=birth,
                ethnicity=r[6],
                id_type=r[7],
                id_number="",  # decrypted only if the resident is to change (_save_residents)
                id_enc=r[8],
                id_index=r[9],
                phone="",
                phone_enc=r[10],
                phone_index=r[11],
                residence_type=r[12],
                pinyin=r[2],
                initials=r[3],
                compound="",
                building="",
                unit="",
                dwelling="",
                relation=ties[i][2],
                is_head=ties[i][3],
                tags=tuple(sorted(tag_ids.get(r[0], ()))) if tagged else None,
                warnings=(),
                values=r[1:-1],
                pk=r[0],
            )
            matched.append((p, PlaceRef(r[-1], "", None, None), f))

    _FIELDS = (
        "id, name, gender, birth_date, ethnicity, phone_index, residence_type, home_id, status"
    )

    def _documents(self, keys: list[tuple[str, str]]) -> dict[tuple[str, str], Existing]:
        """The residents holding these documents, by (type, blind index)."""
        out: dict[tuple[str, str], Existing] = {}
        by_type: dict[str, list[str]] = defaultdict(list)
        for id_type, index in keys:
            by_type[id_type].append(index)
        fields = self._FIELDS
        with connection.cursor() as cursor:
            for id_type, indexes in by_type.items():
                for i in range(0, len(indexes), 1000):
                    part = indexes[i : i + 1000]
                    # The condition on id_index repeats the partial unique index's, so both
                    # databases use that index. On PostgreSQL one probe per key (LATERAL …
                    # LIMIT 1): while this import fills the table its statistics are stale, and
                    # with "= ANY" the planner then scans every row of the type (~45 µs a key).
                    if self.postgres:
                        cursor.execute(
                            "SELECT x.* FROM unnest(%s::text[]) AS k(key), LATERAL ("  # noqa: S608
                            f" SELECT id_index, {fields} FROM people_resident WHERE id_type = %s"
                            " AND id_index = k.key AND NOT (id_index = '') LIMIT 1) AS x",
                            [part, id_type],
                        )
                    else:
                        marks = ",".join(["%s"] * len(part))
                        cursor.execute(
                            f"SELECT id_index, {fields} FROM people_resident WHERE id_type = %s"  # noqa: S608
                            f" AND id_index IN ({marks}) AND NOT (id_index = '')",
                            [id_type, *part],
                        )
                    for row in cursor.fetchall():
                        out[(id_type, row[0])] = Existing(*row[1:])
        return out

    def _undocumented(
        self, placed: list[tuple[Prepared, PlaceRef]]
    ) -> dict[tuple[str, int], Existing]:
        """Residents without a document, by (name, home), for rows without one."""
        names: dict[int, set[str]] = defaultdict(set)
        for p, d in placed:
            names[d.id].add(p.name)
        homes = sorted(names)
        out: dict[tuple[str, int], Existing] = {}
        for i in range(0, len(homes), 500):
            for r in Resident.objects.filter(
                home_id__in=homes[i : i + 500], id_index=""
            ).values_list(
                "id",
                "name",
                "gender",
                "birth_date",
                "ethnicity",
                "phone_index",
                "residence_type",
                "home_id",
                "status",
            ):
                if r[1] in names.get(r[7], ()):
                    out.setdefault((r[1], r[7]), Existing(*r))
        return out
