"""Importing a roster file (.xlsx or .csv) into one community, all or nothing.

The file is read as a stream, in chunks of about two thousand rows. A plain CSV file (no quoted
cells, the usual case) is cut into blocks of whole lines without being parsed; anything else is
read into cells here. Each chunk goes, with the ids its rows' residents will get if they are new,
to a pool of worker processes (when the file is large), which parse it, drop blank rows, validate
each row with ``clean_resident``, encrypt it, find its dwelling in a snapshot of the community's
places taken before they forked, and hand back the rows the tables will store. The writer — this
process, inside one transaction — then does as little per row as it can, since it is the part that
cannot be spread:

- New residents are written as they come, with plain ``executemany`` (SQLite, ``INSERT … ON
  CONFLICT DO NOTHING``) or ``COPY`` (PostgreSQL, in a savepoint), bypassing the ORM. No look-up
  comes first: the unique index on the document's blind index says which rows a resident already
  holds. Only those are looked up; they become updates (through the ORM, with their history), or
  an error when the resident came from an earlier row of this file (its id is one this import
  handed out) or is recorded as deceased. On PostgreSQL a failed COPY (a re-import) is rolled back
  to its savepoint and the chunks are looked up first until one holds nobody already known.
- Household ties and tags of new residents are written the same way, after the checks on heads of
  household (one per dwelling; a head recorded before the import steps down).
- Rows the workers could not finish — a place that does not exist yet (created here when asked) or
  a resident without a document (matched by name and dwelling) — are finished here, in file order.

Any bad row, and the whole transaction is rolled back: the report lists every bad row with its row
number as Excel shows it (header = row 1).

Created residents get no "+" history row (that would be a third insert per row, and the import audit
record already says who brought them in and when). The first time an imported resident changes,
the importer first records their state before the change as a "+" row, so no earlier state is lost.

The package, by part: ``columns`` (the file format and its header), ``cells`` (one cell's value),
``reading`` (the file and its chunks), ``rows`` (one row checked and encrypted), ``workers`` (the
pool that does the rows), ``pgcopy`` (COPY's text format), and the writer: ``writer`` (batches into
the tables), ``places`` (finding and creating places), ``updates`` (residents already there) and
``tables`` (the plain SQL beneath them). ``results`` is what an import reports.
"""

from __future__ import annotations

import os
from contextlib import ExitStack
from pathlib import Path

from django.conf import settings
from django.db import connection, transaction
from django.utils import timezone, translation
from django.utils.translation import gettext as _

from linli.accounts.models import User
from linli.core import audit
from linli.core.crypto import keyring
from linli.people.importer.cells import parse_date
from linli.people.importer.columns import (
    COLUMNS,
    GENDER_LABEL,
    HEADER,
    ID_TYPE_LABEL,
    RELATION_LABEL,
    REQUIRED,
    RESIDENCE_LABEL,
    TEMPLATE_HEADERS,
)
from linli.people.importer.reading import detect_encoding, open_source, read_rows
from linli.people.importer.results import ImportFailed, ImportResult, RowIssue, report_lines
from linli.people.importer.rows import Context, prepare_row, quick_row
from linli.people.importer.tables import RESIDENT_COLUMNS
from linli.people.importer.workers import PARALLEL_FROM_BYTES, prepared_batches
from linli.people.importer.writer import Writer
from linli.people.models import BUILTIN_TAGS, DERIVED_TAGS, CareTag
from linli.places.models import Place, PlaceKind


def tag_words() -> dict[str, int | None]:
    """Every way a care tag may be written: its stored name, its code, its label in each language.
    Derived tags (aged 60+…) map to None: they come from the date of birth and are skipped."""
    words: dict[str, int | None] = {}
    builtin = {code: label for code, label, _s in BUILTIN_TAGS}
    for lang, _name in settings.LANGUAGES:
        with translation.override(lang):
            for label in DERIVED_TAGS.values():
                words[str(label).lower()] = None
            for tag in CareTag.objects.all():
                words[tag.name.lower()] = tag.pk
                words[tag.code.lower()] = tag.pk
                if tag.code in builtin:
                    words[str(builtin[tag.code]).lower()] = tag.pk
    words.update({"60岁以上": None, "老年人": None})
    return words


def import_roster(
    path: str | Path,
    *,
    community_code: str,
    actor: User | None = None,
    create_places: bool = False,
    dry_run: bool = False,
    workers: int | None = None,
) -> ImportResult:
    """Import ``path`` into the community with this 12-digit code. Nothing is written if any row is
    bad or ``dry_run`` is set; the result says what was (or would have been) done."""
    path = Path(path)
    community = Place.objects.filter(kind=PlaceKind.COMMUNITY, code=community_code).first()
    if community is None:
        raise ImportFailed(_("No community has the code %(code)s.") % {"code": community_code})
    if path.suffix.lower() not in (".csv", ".xlsx"):
        raise ImportFailed(_("Only .xlsx and .csv files can be imported."))
    result = ImportResult(dry_run=dry_run)
    postgres = connection.vendor == "postgresql"
    now = timezone.now()
    if workers is None:
        big = path.stat().st_size >= PARALLEL_FROM_BYTES
        workers = min(os.cpu_count() or 1, 4) if big else 0
    keyring()  # loaded before the workers fork, so they share it
    with ExitStack() as stack:
        source = open_source(path, result, stack)
        with transaction.atomic():
            writer = Writer(community, actor, create_places, result, now=now)
            context = Context(
                source.columns,
                tag_words(),
                translation.get_language() or "zh-hans",
                timezone.localdate(),
                now_db=str(now) if postgres else str(connection.ops.adapt_datetimefield_value(now)),
                encoding=source.encoding,
                copy_text=postgres,
                places=writer.places,
            )
            for batch in prepared_batches(source.chunks, context, workers, writer.allocate):
                writer.write_batch(batch, tagged="tags" in source.columns)
            writer.close()
            if result.committed:
                audit.record(
                    actor,
                    "roster.import",
                    community,
                    place_path=community.path,
                    data={**result.counts(), "file": path.name[:100]},
                )
            else:
                transaction.set_rollback(True)
    return result


__all__ = [
    "COLUMNS",
    "GENDER_LABEL",
    "HEADER",
    "ID_TYPE_LABEL",
    "RELATION_LABEL",
    "REQUIRED",
    "RESIDENCE_LABEL",
    "RESIDENT_COLUMNS",
    "TEMPLATE_HEADERS",
    "Context",
    "ImportFailed",
    "ImportResult",
    "RowIssue",
    "Writer",
    "detect_encoding",
    "import_roster",
    "parse_date",
    "prepare_row",
    "quick_row",
    "read_rows",
    "report_lines",
    "tag_words",
]
