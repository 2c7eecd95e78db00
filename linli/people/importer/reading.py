"""Reading a roster file: its encoding, its rows, and its body cut into chunks for the workers."""

from __future__ import annotations

import codecs
import csv
import io
import re
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from django.utils.translation import gettext as _
from python_calamine import CalamineWorkbook

from linli.people.importer.columns import read_header
from linli.people.importer.results import ImportFailed, ImportResult
from linli.people.importer.rows import Context

CHUNK = 2000  # rows handed to a worker at a time
BLOCK_BYTES = 256 * 1024  # of a plain CSV file, handed to a worker at a time


def detect_encoding(head: bytes) -> str:
    """UTF-8 (with or without BOM) or GB18030: the three encodings Excel and WPS write."""
    if head.startswith(codecs.BOM_UTF8):
        return "utf-8-sig"
    try:
        codecs.getincrementaldecoder("utf-8")().decode(head, final=False)
    except UnicodeDecodeError:
        return "gb18030"
    return "utf-8"


def _undecodable() -> ImportFailed:
    return ImportFailed(_("The file is not in UTF-8 or GB18030: save it again as CSV (UTF-8)."))


def _csv_rows(path: Path) -> Iterator[list[Any]]:
    with open(path, "rb") as raw:
        encoding = detect_encoding(raw.read(1 << 20))
        raw.seek(0)
        text = io.TextIOWrapper(raw, encoding=encoding, newline="")
        try:
            yield from csv.reader(text)
        except UnicodeDecodeError as exc:
            raise _undecodable() from exc
        except csv.Error as exc:
            raise ImportFailed(_("The file is not a valid CSV file.")) from exc


def _xlsx_rows(path: Path) -> Iterator[list[Any]]:
    try:
        book = CalamineWorkbook.from_path(str(path))
        sheet = book.get_sheet_by_index(0)
    except Exception as exc:  # calamine raises its own error types for broken files
        raise ImportFailed(_("The file could not be read as an Excel workbook.")) from exc
    # iter_rows hands rows over one at a time, so Python holds one row, not the sheet.
    yield from sheet.iter_rows()


def read_rows(path: Path) -> Iterator[list[Any]]:
    suffix = path.suffix.lower()
    if suffix == ".csv":
        return _csv_rows(path)
    if suffix == ".xlsx":
        return _xlsx_rows(path)
    raise ImportFailed(_("Only .xlsx and .csv files can be imported."))


def _chunks(
    rows: Iterator[list[Any]], first_row: int
) -> Iterator[tuple[int, list[list[Any]], int]]:
    """Rows already read into cells, in runs of ``CHUNK``: (first row's number, rows, how many)."""
    chunk: list[list[Any]] = []
    start = first_row
    for cells in rows:
        chunk.append(cells)
        if len(chunk) >= CHUNK:
            yield start, chunk, len(chunk)
            start += len(chunk)
            chunk = []
    if chunk:
        yield start, chunk, len(chunk)


_LONE_CR = re.compile(rb"\r(?!\n)")


def _plain_csv(path: Path) -> bool:
    """Whether every line of this CSV file is one row: no quoted cells (which may hold line
    breaks) and no line ends but \\n and \\r\\n. Such a file can be cut into chunks of lines
    without parsing it, and each worker parses its own chunk (what Excel writes for a roster
    without commas in its cells). A few milliseconds per 100 MB."""
    with open(path, "rb") as raw:
        while data := raw.read(1 << 22):
            if b'"' in data or (b"\r" in data and _LONE_CR.search(data.rstrip(b"\r"))):
                return False
    return True


def _csv_lines(raw: Any, encoding: str) -> Iterator[list[Any]]:
    """The rows of a plain CSV file one line at a time, for its header."""
    while line := raw.readline():
        try:
            text = line.decode(encoding)
        except UnicodeDecodeError as exc:
            raise _undecodable() from exc
        encoding = "utf-8" if encoding == "utf-8-sig" else encoding  # the BOM opens the file
        yield next(csv.reader([text]), [])


def _line_blocks(raw: Any, first_row: int) -> Iterator[tuple[int, bytes, int]]:
    """The rest of a plain CSV file in blocks of whole lines: (first row's number, the lines, how
    many)."""
    start = first_row
    while data := raw.read(BLOCK_BYTES):
        if not data.endswith(b"\n"):
            data += raw.readline()
        n = data.count(b"\n") + (0 if data.endswith(b"\n") else 1)
        yield start, data, n
        start += n


@dataclass
class Source:
    """A file opened for an import: its columns, first data row and chunks."""

    columns: dict[str, int]
    first_row: int
    chunks: Iterator[tuple[int, Any, int]]  # (first row's number, bytes or rows, how many rows)
    encoding: str  # of a plain CSV file's body; unused otherwise


def open_source(path: Path, result: ImportResult, stack: Any) -> Source:
    """Open ``path`` and read its header (warnings go to ``result``); ``stack`` closes it."""
    if path.suffix.lower() == ".csv" and _plain_csv(path):
        raw = stack.enter_context(open(path, "rb"))  # noqa: SIM115 (closed by the stack)
        encoding = detect_encoding(raw.read(1 << 20))
        raw.seek(0)
        columns, first_row = read_header(_csv_lines(raw, encoding), result)
        body = "utf-8" if encoding == "utf-8-sig" else encoding
        return Source(columns, first_row, _line_blocks(raw, first_row), body)
    rows = read_rows(path)
    columns, first_row = read_header(rows, result)
    return Source(columns, first_row, _chunks(rows, first_row), "utf-8")


def records(payload: bytes | list[list[Any]], context: Context) -> Iterator[list[Any]]:
    """A chunk's rows as cells: rows read already, or the lines of a plain CSV file split."""
    if not isinstance(payload, bytes):
        yield from payload
        return
    try:
        text = payload.decode(context.encoding)
    except UnicodeDecodeError as exc:
        raise _undecodable() from exc
    if "\x00" in text:  # what the csv module refuses ("line contains NUL")
        raise ImportFailed(_("The file is not a valid CSV file."))
    # A plain CSV file has no quoted cells (see _plain_csv), so a row is its line split at the
    # commas, as the csv module would read it, at a tenth of the cost.
    lines = text.split("\n")
    if not lines[-1]:
        lines.pop()
    for line in lines:
        line = line[:-1] if line.endswith("\r") else line
        yield line.split(",") if line else []
