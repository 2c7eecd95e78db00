"""The workers: chunks of the file turned into batches of rows for the writer, in a pool of
processes when the file is large."""

from __future__ import annotations

import multiprocessing
import os
from collections import deque
from collections.abc import Callable, Iterator, Sequence
from typing import Any, NamedTuple

from django.utils import translation

from linli.people.importer.cells import blank
from linli.people.importer.pgcopy import NULL, TF, copy_text, resident_line
from linli.people.importer.reading import records
from linli.people.importer.rows import Context, Failed, Prepared, prepare_row, quick_row

PARALLEL_FROM_BYTES = 4 * 1024 * 1024  # smaller files are done in this process


class Batch(NamedTuple):
    """What a worker hands back for one chunk of the file, shaped so that the writer does almost
    nothing per row: the residents it could place are rows ready for the table."""

    rows: int  # rows that were not blank
    failed: list[Failed]
    warnings: list[tuple[int, str]]  # (row, message) about the document number
    numbers: list[int]  # the row number of each resident below
    residents: list[tuple[Any, ...]]  # RESIDENT_COLUMNS, with the id and the home
    ties: list[tuple[Any, ...]]  # MEMBERSHIP_COLUMNS, one per resident, in the same order
    tags: list[tuple[Any, ...]]  # TAG_COLUMNS
    slow: list[Prepared]  # rows the writer finishes: a place not found, or no document
    # PostgreSQL: residents, ties and tags as COPY text instead of the three lists above (the
    # writer only passes them on), and (row, dwelling, resident) for the residents named heads.
    text: tuple[bytes, bytes, bytes] | None = None
    heads: list[tuple[int, int, int]] | None = None


_context: Context | None = None


def _init_worker(context: Context) -> None:
    global _context
    _context = context
    translation.activate(context.language)


def _init_pool_worker(context: Context) -> None:
    # The writer (and on PostgreSQL the database server beside it) is what the import waits for;
    # the workers keep a few chunks ahead of it. When the cores are busy, they yield to it.
    os.nice(10)
    _init_worker(context)


def _padded(cells: list[Any], width: int, padding: list[None]) -> list[Any] | None:
    """A row's cells, one per column and a trailing None (the cell absent columns read); None for
    a blank row."""
    cells = cells[:width]
    if blank(cells):
        return None
    if len(cells) <= width:
        cells.extend(padding[len(cells) :])  # short rows, and the cell absent columns read
    return cells


def prepare_chunk(task: tuple[int, Any, Any]) -> Batch:
    """One chunk of the file: its first row's number, its rows (as raw CSV lines or as cells) and
    the ids its rows' residents get if they are new, one per row. Blank rows are dropped, the rest
    checked, encrypted and, when their place is known and they carry a document, turned into the
    rows the writer stores."""
    assert _context is not None
    context = _context
    start, payload, ids = task
    width = context.width
    padding = [None] * (width + 1)
    places = context.places
    today = context.today.isoformat()
    out = Batch(0, [], [], [], [], [], [], [])
    residents, ties, tags, numbers = out.residents, out.ties, out.tags, out.numbers
    count = 0
    offset = -1
    text = context.copy_text
    resident_lines: list[str] = []
    tie_lines: list[str] = []
    tag_lines: list[str] = []
    heads: list[tuple[int, int, int]] = []
    for offset, raw in enumerate(records(payload, context)):
        cells = _padded(raw, width, padding)
        if cells is None:
            continue
        count += 1
        p = quick_row(start + offset, cells, context, ids[offset]) or prepare_row(
            start + offset, cells, context, ids[offset]
        )
        if isinstance(p, Failed):
            out.failed.append(p)
            continue
        for warning in p.warnings:
            out.warnings.append((p.row, warning))
        home = (
            places.locate(p.compound, p.building, p.unit, p.dwelling)
            if places is not None and p.id_index
            else None
        )
        if home is None:
            out.slow.append(p)
            continue
        numbers.append(p.row)
        if text:
            resident_lines.append(resident_line(p.pk, p.values, home))
            tie_lines.append(f"{p.pk}\t{home}\t{p.relation}\t{TF[p.is_head]}\t{NULL}\t{NULL}")
            if p.is_head:
                heads.append((p.row, home, p.pk))
            if p.tags:
                tag_lines.extend(f"{p.pk}\t{tag_id}\t{today}" for tag_id in p.tags)
            continue
        residents.append((p.pk, *p.values, home))
        ties.append((p.pk, home, p.relation, p.is_head, None, None))
        if p.tags:
            tags.extend((p.pk, tag_id, today) for tag_id in p.tags)
    if text:
        out = out._replace(
            text=(copy_text(resident_lines), copy_text(tie_lines), copy_text(tag_lines)),
            heads=heads,
        )
    if offset + 1 != len(ids):
        # The reader and this worker disagree on where rows begin: numbers would be wrong.
        raise RuntimeError(f"chunk at row {start}: {offset + 1} rows read, {len(ids)} expected")
    return out._replace(rows=count)


def prepared_batches(
    chunks: Iterator[tuple[int, Any, int]],
    context: Context,
    workers: int,
    allocate: Callable[[int], Sequence[int]],
) -> Iterator[Batch]:
    """The chunks as batches, in file order: in this process, or in a pool of ``workers``."""
    if workers <= 0:
        _init_worker(context)
        for start, payload, n in chunks:
            yield prepare_chunk((start, payload, allocate(n)))
        return
    # fork: the workers inherit Django's setup, the keys, the translation catalogues and the
    # community's places. They never touch the database. At most a few chunks are in flight, so
    # the file is never all in memory.
    pool = multiprocessing.get_context("fork").Pool(
        workers, initializer=_init_pool_worker, initargs=(context,)
    )
    try:
        pending: deque[Any] = deque()
        for start, payload, n in chunks:
            pending.append(pool.apply_async(prepare_chunk, ((start, payload, allocate(n)),)))
            if len(pending) >= workers * 3:
                yield pending.popleft().get()
        while pending:
            yield pending.popleft().get()
    finally:
        pool.terminate()
        pool.join()
