"""COPY's text format (PostgreSQL): the rows the workers hand back, and reading them back."""

from __future__ import annotations

import re
from typing import Any

_COPY_ESCAPES = str.maketrans({"\\": "\\\\", "\n": "\\n", "\r": "\\r", "\t": "\\t"})
_COPY_UNESCAPE = re.compile(r"\\(.)")
_UNESCAPED = {"n": "\n", "r": "\r", "t": "\t"}


NULL = "\\N"
TF = {True: "t", False: "f"}


def copy_field(value: Any) -> str:
    """One value as a field of COPY text."""
    if value is None:
        return NULL
    if type(value) is str:
        return value.translate(_COPY_ESCAPES)
    if value is True or value is False:
        return TF[value]
    return str(value)  # int; a date or an aware datetime in ISO form


def resident_line(pk: int, v: tuple[Any, ...], home: int) -> str:
    """One resident (``Prepared.values``) as a line of COPY text, in RESIDENT_COLUMNS' order,
    spelled out: a loop over the fields cost a worker more than checking the row. Text fields are
    escaped only when the line shows they must be (a backslash, a tab or a line break in them)."""
    birth = NULL if v[4] is None else v[4]
    status_date = NULL if v[13] is None else v[13]
    line = (
        f"{pk}\t{v[0]}\t{v[1]}\t{v[2]}\t{v[3]}\t{birth}\t{v[5]}\t{v[6]}\t{v[7]}\t{v[8]}\t{v[9]}"
        f"\t{v[10]}\t{v[11]}\t{v[12]}\t{status_date}\t{v[14]}\t{v[15]}\t{v[16]}\t{home}"
    )
    nulls = (v[4] is None) + (v[13] is None)  # each \N holds a backslash
    if line.count("\\") != nulls or "\n" in line or "\r" in line or line.count("\t") != 18:
        line = "\t".join(map(copy_field, (pk, *v, home)))
    return line


def copy_text(rows: list[str]) -> bytes:
    """Lines of COPY text as the bytes COPY reads; empty when there are none."""
    return ("\n".join(rows) + "\n").encode() if rows else b""


def from_copy(
    data: bytes, ints: tuple[int, ...], bools: tuple[int, ...] = ()
) -> list[tuple[Any, ...]]:
    """COPY text back into rows: fields as text (which COPY reads the same), NULL as None, and
    the columns at ``ints`` and ``bools`` as numbers and booleans."""
    out: list[tuple[Any, ...]] = []
    for line in data.decode().split("\n")[:-1]:
        fields: list[Any] = [
            None
            if f == "\\N"
            else _COPY_UNESCAPE.sub(lambda m: _UNESCAPED.get(m[1], m[1]), f)
            if "\\" in f
            else f
            for f in line.split("\t")
        ]
        for i in ints:
            fields[i] = int(fields[i])
        for i in bools:
            fields[i] = fields[i] == "t"
        out.append(tuple(fields))
    return out
