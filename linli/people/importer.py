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
"""

from __future__ import annotations

import bisect
import codecs
import copy
import csv
import datetime
import io
import os
import re
import unicodedata
from collections import defaultdict, deque
from collections.abc import Callable, Iterator, Sequence
from contextlib import ExitStack
from dataclasses import dataclass, field
from decimal import Decimal, InvalidOperation
from functools import cached_property, lru_cache
from pathlib import Path
from typing import Any, NamedTuple

from django.core.exceptions import ValidationError
from django.db import connection, transaction
from django.utils import timezone, translation
from django.utils.translation import gettext as _

from linli.core import audit
from linli.core.crypto import blind, keyring
from linli.core.identifiers import normalize_text, parse_citizen_id, parse_mobile
from linli.core.paths import segment
from linli.people.actions import _apply
from linli.people.models import (
    BUILTIN_TAGS,
    DERIVED_TAGS,
    CareTag,
    IdType,
    Membership,
    Relation,
    ResidenceType,
    Resident,
    Status,
)
from linli.people.pinyin import name_keys
from linli.people.validation import CleanResident, clean_resident
from linli.places.models import Place, PlaceKind

# --- the file format ----------------------------------------------------------------------------
#
# Headers and cell values are a file format, not interface text: a file must read the same whatever
# language the person importing it uses, so they are fixed Chinese words (with English aliases), not
# gettext strings.

# (key, header as written in the template, other accepted spellings)
COLUMNS: list[tuple[str, str, tuple[str, ...]]] = [
    ("name", "姓名", ("name", "full name")),
    ("id_type", "证件类型", ("document type", "id type")),
    (
        "id_number",
        "证件号码",
        ("身份证号", "身份证号码", "公民身份号码", "document number", "id number"),
    ),
    ("gender", "性别", ("gender", "sex")),
    ("birth_date", "出生日期", ("date of birth", "birth date", "birthday")),
    ("ethnicity", "民族", ("ethnicity",)),
    ("phone", "手机号码", ("手机", "手机号", "联系电话", "mobile", "phone", "mobile number")),
    ("residence_type", "居住类型", ("residence", "residence type")),
    ("compound", "小区", ("compound",)),
    ("building", "楼栋", ("楼号", "building")),
    ("unit", "单元", ("unit",)),
    ("dwelling", "房号", ("门牌号", "房间号", "dwelling", "room")),
    ("relation", "与房屋关系", ("relation",)),
    ("is_head", "是否户主", ("户主", "head", "head of household")),
    ("tags", "关爱标签", ("care tags", "tags")),
]
HEADER = {key: header for key, header, _aliases in COLUMNS}
REQUIRED = ("name", "building", "dwelling")
TEMPLATE_HEADERS = [HEADER[k] + ("*" if k in REQUIRED else "") for k, _h, _a in COLUMNS]

ID_TYPE_WORDS: dict[str, str] = {
    "居民身份证": IdType.CITIZEN,
    "身份证": IdType.CITIZEN,
    "护照": IdType.PASSPORT,
    "港澳居民来往内地通行证": IdType.HK_MACAO,
    "回乡证": IdType.HK_MACAO,
    "台湾居民来往大陆通行证": IdType.TAIWAN,
    "台胞证": IdType.TAIWAN,
    "外国人永久居留身份证": IdType.FOREIGN_PR,
    "无证件": IdType.NONE,
    "无": IdType.NONE,
}
GENDER_WORDS = {"男": "M", "女": "F", "M": "M", "F": "F", "MALE": "M", "FEMALE": "F"}
RESIDENCE_WORDS: dict[str, str] = {
    "户籍": ResidenceType.REGISTERED,
    "常住": ResidenceType.RESIDENT,
    "流动": ResidenceType.FLOATING,
    "候鸟": ResidenceType.COMMUTING,
}
RELATION_WORDS: dict[str, str] = {
    "业主": Relation.OWNER,
    "租户": Relation.TENANT,
    "家庭成员": Relation.FAMILY,
    "其他": Relation.OTHER,
}
# Django's Choices.values builds a new list on every access; a row looks at three of them.
ID_TYPES = frozenset(IdType.values)
RESIDENCE_TYPES = frozenset(ResidenceType.values)
RELATIONS = frozenset(Relation.values)
YES = {"是", "Y", "YES", "TRUE", "1", "√", "✓"}
NO = {"否", "N", "NO", "FALSE", "0", "×", ""}
TAG_SEPARATORS = re.compile(r"[、,，;；]")


def _reverse(words: dict[str, str]) -> dict[str, str]:
    out: dict[str, str] = {}
    for word, code in words.items():
        out.setdefault(code, word)
    return out


# What the export writes: the first word above for each code.
ID_TYPE_LABEL = _reverse(ID_TYPE_WORDS)
GENDER_LABEL = {"M": "男", "F": "女"}
RESIDENCE_LABEL = _reverse(RESIDENCE_WORDS)
RELATION_LABEL = _reverse(RELATION_WORDS)

CHUNK = 2000  # rows handed to a worker at a time
BLOCK_BYTES = 256 * 1024  # of a plain CSV file, handed to a worker at a time
MAX_REPORTED = 500
PARALLEL_FROM_BYTES = 4 * 1024 * 1024  # smaller files are done in this process
EXCEL_EPOCH = datetime.date(1899, 12, 30)
_SCIENTIFIC = re.compile(r"^[+-]?\d+(\.\d+)?E[+-]?\d+$")
_DATE_TEXT = re.compile(r"^(\d{4})\s*[-/.年]\s*(\d{1,2})\s*[-/.月]\s*(\d{1,2})\s*日?$")


class ImportFailed(Exception):
    """The file as a whole cannot be read (wrong type, no header, missing columns)."""


@dataclass(frozen=True)
class RowIssue:
    row: int
    column: str
    message: str


@dataclass
class ImportResult:
    created: int = 0
    updated: int = 0
    unchanged: int = 0
    places_created: int = 0
    rows: int = 0
    errors: list[RowIssue] = field(default_factory=list)
    error_count: int = 0
    warnings: list[RowIssue] = field(default_factory=list)
    warning_count: int = 0
    dry_run: bool = False

    @property
    def ok(self) -> bool:
        return self.error_count == 0

    @property
    def committed(self) -> bool:
        return self.ok and not self.dry_run

    def add_error(self, row: int, column: str, message: str) -> None:
        self.error_count += 1
        if len(self.errors) < MAX_REPORTED:
            self.errors.append(RowIssue(row, column, message))

    def add_warning(self, row: int, column: str, message: str) -> None:
        self.warning_count += 1
        if len(self.warnings) < MAX_REPORTED:
            self.warnings.append(RowIssue(row, column, message))

    def counts(self) -> dict[str, int]:
        return {
            "rows": self.rows,
            "created": self.created,
            "updated": self.updated,
            "unchanged": self.unchanged,
            "places_created": self.places_created,
            "errors": self.error_count,
            "warnings": self.warning_count,
        }


# --- reading ------------------------------------------------------------------------------------


def _header_key(text: object) -> str:
    return "".join(unicodedata.normalize("NFKC", str(text)).split()).strip("*").lower()


_ALIASES = {
    _header_key(spelling): key
    for key, header, aliases in COLUMNS
    for spelling in (header, *aliases)
}


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
    from python_calamine import CalamineWorkbook

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


def _blank(cells: list[Any]) -> bool:
    try:
        return not "".join(cells).strip()  # a CSV row: all text
    except TypeError:  # an Excel row: numbers, dates, empty cells
        return all(c is None or (isinstance(c, str) and not c.strip()) for c in cells)


# --- one row: parsed, validated, encrypted (in a worker) -----------------------------------------


class Prepared(NamedTuple):
    row: int
    name: str
    gender: str
    birth_date: datetime.date | None
    ethnicity: str
    id_type: str
    id_number: str
    id_enc: str
    id_index: str
    phone: str
    phone_enc: str
    phone_index: str
    residence_type: str
    pinyin: str
    initials: str
    compound: str
    building: str
    unit: str
    dwelling: str
    relation: str
    is_head: bool
    tags: tuple[int, ...] | None  # None: the file has no tag column, leave tags alone
    warnings: tuple[str, ...]
    values: tuple[Any, ...]  # RESIDENT_COLUMNS less the first (id) and last (home_id), as stored
    pk: int = 0  # the id this row's resident gets if it is new (see ``_Writer.allocate``)


class Failed(NamedTuple):
    row: int
    problems: tuple[tuple[str, str], ...]  # (column key, message)


@dataclass(frozen=True)
class Context:
    columns: dict[str, int]  # column key → position in the row
    tags: dict[str, int | None]  # tag word → tag id; None for derived tags (ignored)
    language: str
    today: datetime.date = field(default_factory=datetime.date.today)
    # created_at/updated_at as text: what SQLite stores (skipping Django's adapters, ~5 µs a
    # value) and what COPY reads. Dates travel as text too.
    now_db: Any = None
    encoding: str = "utf-8"  # of a CSV file's body, which the workers decode themselves
    copy_text: bool = False  # PostgreSQL: hand back COPY text (see Batch.text)
    places: _Places | None = None  # the community's places as the import began (see _Places)

    @property
    def width(self) -> int:
        return max(self.columns.values()) + 1

    @cached_property
    def positions(self) -> dict[str, int]:
        """Every column key → its position, or the padding cell past the end when absent."""
        return {key: self.columns.get(key, self.width) for key, _h, _a in COLUMNS}


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


def _text(value: Any) -> str:
    if type(value) is str:
        # Most cells are plain ASCII or already half-width: skip NFKC for those.
        return value.strip() if value.isascii() else unicodedata.normalize("NFKC", value).strip()
    if value is None:
        return ""
    if isinstance(value, bool):
        return "1" if value else "0"
    if isinstance(value, float):
        return str(int(value)) if value.is_integer() else repr(value)
    if isinstance(value, datetime.datetime):
        return value.date().isoformat()
    if isinstance(value, datetime.date):
        return value.isoformat()
    return unicodedata.normalize("NFKC", str(value)).strip()


def _number_text(value: Any) -> tuple[str, bool]:
    """An identifier cell as text, and whether Excel had turned it into a number whose last digits
    may be lost (15 significant digits at most)."""
    if isinstance(value, bool) or value is None:
        return _text(value), False
    if isinstance(value, int | float):
        number = float(value)
        if number.is_integer():
            return str(int(value)), True
        return repr(value), True
    if type(value) is str and value.isascii() and value.isalnum():
        return value.upper(), False
    text = normalize_text(value)
    if _SCIENTIFIC.match(text):
        try:
            mantissa = text.split("E")[0].lstrip("+-").replace(".", "").lstrip("0")
            expanded = str(int(Decimal(text)))
        except (InvalidOperation, ValueError):
            return text, False
        return expanded, bool(mantissa)
    if text.endswith(".0") and text[:-2].isdigit():
        return text[:-2], True
    return text, False


def _sci_lost(value: Any) -> bool:
    if not isinstance(value, str) or not ("E" in value or "e" in value or "Ｅ" in value):
        return False
    text = normalize_text(value)
    if not _SCIENTIFIC.match(text):
        return False
    mantissa = text.split("E")[0].lstrip("+-").replace(".", "").lstrip("0")
    try:
        return len(mantissa) < len(str(int(Decimal(text))))
    except (InvalidOperation, ValueError):
        return True


def parse_date(value: Any) -> datetime.date | None:
    """A date as Excel may give it: a date cell, a serial number, or text in the usual forms.
    Raises ValueError when it is none of these."""
    if type(value) is str and len(value) == 10 and value[4] == "-" and value.isascii():
        try:
            return datetime.date.fromisoformat(value)  # 2024-01-05: the template's form
        except ValueError:
            pass
    if value is None or (isinstance(value, str) and not value.strip()):
        return None
    if isinstance(value, datetime.datetime):
        return value.date()
    if isinstance(value, datetime.date):
        return value
    if isinstance(value, int | float) and not isinstance(value, bool):
        if 1 <= value < 2958466:
            return EXCEL_EPOCH + datetime.timedelta(days=int(value))
        raise ValueError(value)
    text = unicodedata.normalize("NFKC", str(value)).strip()
    if text.isdigit() and len(text) == 8:
        return datetime.date(int(text[:4]), int(text[4:6]), int(text[6:]))
    if text.isdigit() and len(text) <= 5:
        return parse_date(int(text))
    match = _DATE_TEXT.match(text.split(" ")[0] if "年" not in text else text)
    if not match:
        raise ValueError(value)
    return datetime.date(int(match[1]), int(match[2]), int(match[3]))


# Mainland mobile numbers are valid or not by their first seven digits (the number segment, 号段):
# libphonenumber's pattern for China ends in free digits after them. parse_mobile costs ~45 µs, a
# third of a row's time, so a number of that shape is checked once per segment.
_MAINLAND = re.compile(r"^(?:\+?86)?(1\d{10})$")


_SEGMENTS: dict[str, bool] = {}


def _mobile(raw: str) -> str:
    """Like parse_mobile, which it calls for anything not a plain mainland number."""
    match = _MAINLAND.match(normalize_text(raw))
    if match:
        digits = match[1]
        valid = _SEGMENTS.get(digits[:7])
        if valid is None:
            try:
                parse_mobile(digits)
            except ValidationError:
                valid = False
            else:
                valid = True
            _SEGMENTS[digits[:7]] = valid
        if valid:
            return "+86" + digits
        raise ValidationError(_("This is not a valid mobile number."), code="mobile")
    return parse_mobile(raw)


@lru_cache(maxsize=65536)
def _name_keys(name: str) -> tuple[str, str]:
    return name_keys(name)


def _choice(words: dict[str, str], codes: frozenset[str], value: str) -> str | None:
    if not value:
        return ""
    found = words.get(value)
    if found:
        return found
    lowered = value.lower()
    return lowered if lowered in codes else None


def prepare_row(row_no: int, cells: list[Any], context: Context, pk: int = 0) -> Prepared | Failed:
    """One row. ``cells`` has one cell per column of the file and a trailing None, which columns
    the file lacks point to (see ``_chunks``)."""
    at = context.positions
    problems: list[tuple[str, str]] = []

    def cell(key: str) -> Any:
        return cells[at[key]]

    data: dict[str, Any] = {"name": _text(cell("name"))}
    id_type = _choice(ID_TYPE_WORDS, ID_TYPES, _text(cell("id_type")).replace(" ", ""))
    unknown_type = id_type is None
    if id_type is None:
        problems.append(("id_type", _("Unknown document type.")))
        id_type = ""
    data["id_type"] = id_type or IdType.CITIZEN
    raw_id = cell("id_number")
    id_text, was_number = _number_text(raw_id)
    data["id_number"] = id_text
    gender_text = _text(cell("gender"))
    if gender_text:
        gender = GENDER_WORDS.get(gender_text) or GENDER_WORDS.get(normalize_text(gender_text))
        if gender is None:
            problems.append(("gender", _("Gender is 男 or 女.")))
        data["gender"] = gender or ""
    try:
        data["birth_date"] = parse_date(cell("birth_date"))
    except (ValueError, OverflowError):
        problems.append(("birth_date", _("Not a date: write it as 2024-01-05.")))
    data["ethnicity"] = _text(cell("ethnicity"))
    residence = _choice(RESIDENCE_WORDS, RESIDENCE_TYPES, _text(cell("residence_type")))
    if residence is None:
        problems.append(("residence_type", _("Residence type is one of 户籍, 常住, 流动, 候鸟.")))
    data["residence_type"] = residence or ResidenceType.REGISTERED
    raw_phone = cell("phone")
    phone_text, _phone_was_number = _number_text(raw_phone)
    phone = ""
    if _sci_lost(raw_phone):
        problems.append(
            ("phone", _("Excel turned this number into 1.23E+10 form and lost digits: retype it."))
        )
    elif phone_text:
        try:
            phone = _mobile(phone_text)
        except ValidationError as exc:
            problems.append(("phone", exc.messages[0]))
    try:
        clean = clean_resident(data, today=context.today)
    except ValidationError as exc:
        for key, messages in exc.message_dict.items():
            if key == "id_number" and unknown_type:
                continue  # the number cannot be judged without knowing the document
            if key == "id_number" and (was_number or _sci_lost(raw_id)):
                messages = [
                    _(
                        "Excel stored this ID number as a number and its last digits were lost;"
                        " it cannot be recovered. Format the column as text and type it again."
                    )
                ]
            problems.extend((key, m) for m in messages)
        clean = None
    relation = _choice(RELATION_WORDS, RELATIONS, _text(cell("relation")))
    if relation is None:
        problems.append(("relation", _("Relation is one of 业主, 租户, 家庭成员, 其他.")))
    head_text = _text(cell("is_head"))
    if head_text not in YES and head_text not in NO:
        head_text = normalize_text(head_text)
    if head_text not in YES and head_text not in NO:
        problems.append(("is_head", _("Head of household is 是 or 否.")))
    building, dwelling = _text(cell("building")), _text(cell("dwelling"))
    if not building:
        problems.append(("building", _("This column cannot be empty.")))
    if not dwelling:
        problems.append(("dwelling", _("This column cannot be empty.")))
    tags: tuple[int, ...] | None = None
    if "tags" in context.columns:
        found: list[int] = []
        for word in TAG_SEPARATORS.split(_text(cell("tags"))):
            word = word.strip()
            if not word:
                continue
            key = word.lower()
            if key not in context.tags:
                problems.append(("tags", _("Unknown care tag: %(tag)s") % {"tag": word}))
                continue
            tag_id = context.tags[key]
            if tag_id is not None and tag_id not in found:
                found.append(tag_id)
        tags = tuple(sorted(found))
    if problems or clean is None:
        return Failed(row_no, tuple(problems))
    return _stored(
        row_no,
        clean.name,
        clean.gender,
        clean.birth_date,
        clean.ethnicity,
        clean.id_type,
        clean.id_number,
        phone,
        clean.residence_type,
        relation or Relation.FAMILY,
        head_text in YES,
        tags,
        tuple(clean.warnings),
        _text(cell("compound")),
        building,
        _text(cell("unit")),
        dwelling,
        context,
        pk,
    )


def _stored(
    row_no: int,
    name: str,
    gender: str,
    birth: datetime.date | None,
    ethnicity: str,
    id_type: str,
    id_number: str,
    phone: str,
    residence_type: str,
    relation: str,
    is_head: bool,
    tags: tuple[int, ...] | None,
    warnings: tuple[str, ...],
    compound: str,
    building: str,
    unit: str,
    dwelling: str,
    context: Context,
    pk: int,
) -> Prepared:
    """A valid row, encrypted and with its search keys: what the tables will store."""
    ring = keyring()
    pinyin, initials = _name_keys(name)
    id_enc = ring.encrypt(id_number) if id_number else ""
    id_index = blind(id_number, f"id:{id_type}")
    phone_enc = ring.encrypt(phone) if phone else ""
    phone_index = blind(phone, "phone")
    now = context.now_db
    values = (
        name,
        pinyin,
        initials,
        gender,
        None if birth is None else birth.isoformat(),
        ethnicity,
        id_type,
        id_enc,
        id_index,
        phone_enc,
        phone_index,
        residence_type,
        _ACTIVE,
        None,
        "",
        now,
        now,
    )
    return Prepared(
        row_no,
        name,
        gender,
        birth,
        ethnicity,
        id_type,
        id_number,
        id_enc,
        id_index,
        phone,
        phone_enc,
        phone_index,
        residence_type,
        pinyin,
        initials,
        compound,
        building,
        unit,
        dwelling,
        relation,
        is_head,
        tags,
        warnings,
        values,
        pk,
    )


_ACTIVE = Status.ACTIVE.value
_CITIZEN_WORDS = frozenset(w for w, code in ID_TYPE_WORDS.items() if code == IdType.CITIZEN)


def quick_row(row_no: int, cells: list[Any], context: Context, pk: int = 0) -> Prepared | None:
    """The usual row, checked by the same rules as ``prepare_row`` with less ceremony: a citizen
    ID typed as text, a mainland mobile number or none, words from the lists, no problem at all.
    Returns None for anything else, and ``prepare_row`` does that row and says what is wrong. A
    test holds the two to the same results."""
    at = context.positions
    raw_id = cells[at["id_number"]]
    if type(raw_id) is not str or not raw_id.isascii() or not raw_id.isalnum():
        return None
    raw_phone = cells[at["phone"]]
    if raw_phone is not None and (type(raw_phone) is not str or not raw_phone.isascii()):
        return None
    if raw_phone and not raw_phone.isdigit():
        return None
    id_type_text = _text(cells[at["id_type"]])
    if id_type_text and id_type_text.replace(" ", "") not in _CITIZEN_WORDS:
        return None
    name = " ".join(_text(cells[at["name"]]).split())
    building = _text(cells[at["building"]])
    dwelling = _text(cells[at["dwelling"]])
    if not name or len(name) > 50 or not building or not dwelling:
        return None
    try:
        cid = parse_citizen_id(raw_id.upper(), today=context.today)
        birth = parse_date(cells[at["birth_date"]])
        phone = _mobile(raw_phone) if raw_phone else ""
    except (ValidationError, ValueError, OverflowError):
        return None
    if birth is not None and birth != cid.birth_date:
        return None
    gender_text = _text(cells[at["gender"]])
    if gender_text and GENDER_WORDS.get(gender_text) != cid.gender:
        return None
    residence = _choice(RESIDENCE_WORDS, RESIDENCE_TYPES, _text(cells[at["residence_type"]]))
    relation = _choice(RELATION_WORDS, RELATIONS, _text(cells[at["relation"]]))
    head_text = _text(cells[at["is_head"]])
    if residence is None or relation is None or (head_text not in YES and head_text not in NO):
        return None
    tags: tuple[int, ...] | None = None
    if "tags" in context.columns:
        found: list[int] = []
        for word in TAG_SEPARATORS.split(_text(cells[at["tags"]])):
            key = word.strip().lower()
            if not key:
                continue
            if key not in context.tags:
                return None
            tag_id = context.tags[key]
            if tag_id is not None and tag_id not in found:
                found.append(tag_id)
        tags = tuple(sorted(found))
    return _stored(
        row_no,
        name,
        cid.gender,
        cid.birth_date,
        _text(cells[at["ethnicity"]])[:20],
        IdType.CITIZEN.value,
        cid.number,
        phone,
        residence or ResidenceType.REGISTERED.value,
        relation or Relation.FAMILY.value,
        head_text in YES,
        tags,
        cid.warnings,
        _text(cells[at["compound"]]),
        building,
        _text(cells[at["unit"]]),
        dwelling,
        context,
        pk,
    )


class Batch(NamedTuple):
    """What a worker hands back for one chunk of the file, shaped so that the writer does almost
    nothing per row: the residents it could place are rows ready for the table."""

    rows: int  # rows that were not blank
    failed: list[Failed]
    warnings: list[tuple[int, str]]  # (row, message) about the document number
    numbers: list[int]  # the row number of each resident below
    residents: list[tuple[Any, ...]]  # RESIDENT_COLUMNS, with the id and the home
    ties: list[tuple[Any, ...]]  # _MEMBERSHIP_COLUMNS, one per resident, in the same order
    tags: list[tuple[Any, ...]]  # _TAG_COLUMNS
    slow: list[Prepared]  # rows the writer finishes: a place not found, or no document
    # PostgreSQL: residents, ties and tags as COPY text instead of the three lists above (the
    # writer only passes them on), and (row, dwelling, resident) for the residents named heads.
    text: tuple[bytes, bytes, bytes] | None = None
    heads: list[tuple[int, int, int]] | None = None


# COPY's text format (PostgreSQL): tab-separated, \N for NULL, backslash escapes.
_COPY_ESCAPES = str.maketrans({"\\": "\\\\", "\n": "\\n", "\r": "\\r", "\t": "\\t"})
_COPY_UNESCAPE = re.compile(r"\\(.)")
_UNESCAPED = {"n": "\n", "r": "\r", "t": "\t"}


_NULL = "\\N"
_TF = {True: "t", False: "f"}


def _copy_field(value: Any) -> str:
    if value is None:
        return _NULL
    if type(value) is str:
        return value.translate(_COPY_ESCAPES)
    if value is True or value is False:
        return _TF[value]
    return str(value)  # int; a date or an aware datetime in ISO form


def _resident_line(pk: int, v: tuple[Any, ...], home: int) -> str:
    """One resident (``Prepared.values``) as a line of COPY text, in RESIDENT_COLUMNS' order,
    spelled out: a loop over the fields cost a worker more than checking the row. Text fields are
    escaped only when the line shows they must be (a backslash, a tab or a line break in them)."""
    birth = _NULL if v[4] is None else v[4]
    status_date = _NULL if v[13] is None else v[13]
    line = (
        f"{pk}\t{v[0]}\t{v[1]}\t{v[2]}\t{v[3]}\t{birth}\t{v[5]}\t{v[6]}\t{v[7]}\t{v[8]}\t{v[9]}"
        f"\t{v[10]}\t{v[11]}\t{v[12]}\t{status_date}\t{v[14]}\t{v[15]}\t{v[16]}\t{home}"
    )
    nulls = (v[4] is None) + (v[13] is None)  # each \N holds a backslash
    if line.count("\\") != nulls or "\n" in line or "\r" in line or line.count("\t") != 18:
        line = "\t".join(map(_copy_field, (pk, *v, home)))
    return line


def _copy_text(rows: list[str]) -> bytes:
    return ("\n".join(rows) + "\n").encode() if rows else b""


def _from_copy(
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


def _records(payload: bytes | list[list[Any]], context: Context) -> Iterator[list[Any]]:
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
    for offset, cells in enumerate(_records(payload, context)):
        cells = cells[:width]
        if _blank(cells):
            continue
        count += 1
        if len(cells) <= width:
            cells.extend(padding[len(cells) :])  # short rows, and the cell absent columns read
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
            resident_lines.append(_resident_line(p.pk, p.values, home))
            tie_lines.append(f"{p.pk}\t{home}\t{p.relation}\t{_TF[p.is_head]}\t{_NULL}\t{_NULL}")
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
            text=(_copy_text(resident_lines), _copy_text(tie_lines), _copy_text(tag_lines)),
            heads=heads,
        )
    if offset + 1 != len(ids):
        # The reader and this worker disagree on where rows begin: numbers would be wrong.
        raise RuntimeError(f"chunk at row {start}: {offset + 1} rows read, {len(ids)} expected")
    return out._replace(rows=count)


# --- the import -----------------------------------------------------------------------------------


def tag_words() -> dict[str, int | None]:
    """Every way a care tag may be written: its stored name, its code, its label in each language.
    Derived tags (aged 60+…) map to None: they come from the date of birth and are skipped."""
    from django.conf import settings

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


def _header(rows: Iterator[list[Any]], result: ImportResult) -> tuple[dict[str, int], int]:
    """The column positions from the first non-blank row; returns them and the row number of the
    first data row."""
    row_no = 0
    for cells in rows:
        row_no += 1
        if _blank(cells):
            continue
        columns: dict[str, int] = {}
        for position, text in enumerate(cells):
            key = _ALIASES.get(_header_key(_text(text)))
            if key and key not in columns:
                columns[key] = position
            elif _text(text):
                result.add_warning(
                    row_no, _text(text), _("This column is not part of the roster; it is ignored.")
                )
        missing = [HEADER[k] for k in REQUIRED if k not in columns]
        if missing:
            raise ImportFailed(
                _("The file lacks these columns: %(columns)s.") % {"columns": "、".join(missing)}
            )
        return columns, row_no + 1
    raise ImportFailed(_("The file is empty."))


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
class _Source:
    columns: dict[str, int]
    first_row: int
    chunks: Iterator[tuple[int, Any, int]]  # (first row's number, bytes or rows, how many rows)
    encoding: str  # of a plain CSV file's body; unused otherwise


def _open(path: Path, result: ImportResult, stack: Any) -> _Source:
    if path.suffix.lower() == ".csv" and _plain_csv(path):
        raw = stack.enter_context(open(path, "rb"))  # noqa: SIM115 (closed by the stack)
        encoding = detect_encoding(raw.read(1 << 20))
        raw.seek(0)
        columns, first_row = _header(_csv_lines(raw, encoding), result)
        body = "utf-8" if encoding == "utf-8-sig" else encoding
        return _Source(columns, first_row, _line_blocks(raw, first_row), body)
    rows = read_rows(path)
    columns, first_row = _header(rows, result)
    return _Source(columns, first_row, _chunks(rows, first_row), "utf-8")


def _prepared(
    chunks: Iterator[tuple[int, Any, int]],
    context: Context,
    workers: int,
    allocate: Callable[[int], Sequence[int]],
) -> Iterator[Batch]:
    if workers <= 0:
        _init_worker(context)
        for start, payload, n in chunks:
            yield prepare_chunk((start, payload, allocate(n)))
        return
    import multiprocessing

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


def import_roster(
    path: str | Path,
    *,
    community_code: str,
    actor: Any = None,
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
        source = _open(path, result, stack)
        with transaction.atomic():
            writer = _Writer(community, actor, create_places, result, now=now)
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
            for batch in _prepared(source.chunks, context, workers, writer.allocate):
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


# --- the writer -------------------------------------------------------------------------------------


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


@dataclass(slots=True)
class _P:
    id: int
    path: str
    grid_id: int | None
    lane_id: int | None


class _NewPlace(NamedTuple):
    kind: str
    code: str
    name: str
    parent_id: int
    path: str
    floor: int | None
    grid_id: int | None
    lane_id: int | None


class _Existing(NamedTuple):
    id: int
    name: str
    gender: str
    birth_date: datetime.date | None
    ethnicity: str
    phone_index: str
    residence_type: str
    home_id: int | None
    status: str


def _key(text: str) -> str:
    return unicodedata.normalize("NFKC", text).strip().casefold()


_SUFFIXES: dict[str, tuple[str, ...]] = {
    PlaceKind.BUILDING: ("号楼", "栋", "幢", "座", "楼"),
    PlaceKind.UNIT: ("单元",),
    PlaceKind.DWELLING: ("室", "号", "房"),
}


def _bare(kind: str, text: str) -> str:
    for suffix in _SUFFIXES.get(kind, ()):
        if text.endswith(suffix) and len(text) > len(suffix):
            return text[: -len(suffix)]
    return text


def _default_name(kind: str, code: str) -> str:
    if not code.isascii():
        return code
    names: dict[str, str] = {
        PlaceKind.BUILDING: f"{code}栋",
        PlaceKind.UNIT: f"{code}单元",
        PlaceKind.DWELLING: f"{code}室",
    }
    return names.get(kind, code)


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
_PLACE_COLUMNS = (
    "id",
    "kind",
    "code",
    "name",
    "parent_id",
    "path",
    "floor",
    "address",
    "created_at",
    "updated_at",
    "grid_id",
    "lane_id",
)
_MEMBERSHIP_COLUMNS = ("resident_id", "dwelling_id", "relation", "is_head", "since", "until")


class _Tie(NamedTuple):
    id: int
    resident_id: int
    dwelling_id: int
    relation: str
    is_head: bool
    since: datetime.date | None
    until: datetime.date | None


_TAG_COLUMNS = ("resident_id", "tag_id", "since")


class _Places:
    """The community's compounds, buildings, units and dwellings, by the names and codes a file may
    use for them. Read once when an import begins, before the workers fork, so that they find the
    home of nearly every row without the database. The writer adds the places it creates to its
    own copy; the workers' copies never learn of them and send rows naming them back to the
    writer. A community's worth of dwellings: a few thousand, 333,000 in the million-row bench."""

    def __init__(self, community: Place) -> None:
        self.community = _P(community.pk, community.path, None, None)
        self.levels: dict[tuple[int, str], _P] = {}
        self.dwellings: dict[int, dict[str, _P]] = {}  # holder (unit or building) → code → dwelling
        self.holders: dict[tuple[str, str, str], _P] = {}  # (compound, building, unit) as written
        with connection.cursor() as cursor:
            cursor.execute(
                "SELECT id, parent_id, kind, code, name, path, grid_id, lane_id FROM places_place"
                " WHERE path > %s AND path < %s",
                [community.path, community.path_end],
            )
            # Row by row: the whole result as a list would be most of the import's memory.
            for pk, parent_id, kind, code, name, path, grid_id, lane_id in cursor:
                place = _P(pk, path, grid_id, lane_id)
                if kind == PlaceKind.DWELLING:
                    self.dwellings.setdefault(parent_id, {}).setdefault(code, place)
                elif kind in _HOLDING:
                    self.remember(parent_id, kind, code, name, place)

    def remember(self, parent_id: int, kind: str, code: str, name: str, place: _P) -> None:
        for text in (name, code):
            self.levels.setdefault((parent_id, f"{kind}:{_key(text)}"), place)

    def find(self, parent: _P, kind: str, text: str) -> _P | None:
        found = self.levels.get((parent.id, f"{kind}:{_key(text)}"))
        if found is None and _bare(kind, text) != text:
            found = self.levels.get((parent.id, f"{kind}:{_key(_bare(kind, text))}"))
        return found

    def holder(self, compound: str, building: str, unit: str) -> _P | None:
        """The unit (or the building without units) these cells name, if it exists."""
        found = self.holders.get((compound, building, unit))
        if found is not None:
            return found
        parent: _P | None = self.community
        for kind, text in (
            (PlaceKind.COMPOUND, compound),
            (PlaceKind.BUILDING, building),
            (PlaceKind.UNIT, unit),
        ):
            if parent is not None and (text or kind == PlaceKind.BUILDING):
                parent = self.find(parent, kind, text)
        if parent is not None:
            self.holders[(compound, building, unit)] = parent
        return parent

    def locate(self, compound: str, building: str, unit: str, dwelling: str) -> int | None:
        """The id of the dwelling these cells name, if it exists."""
        holder = self.holder(compound, building, unit)
        codes = self.dwellings.get(holder.id) if holder is not None else None
        if not codes:
            return None
        found = codes.get(dwelling) or codes.get(_bare(PlaceKind.DWELLING, dwelling))
        return found.id if found is not None and found.id else None


_HOLDING = (PlaceKind.COMPOUND, PlaceKind.BUILDING, PlaceKind.UNIT)


class _Writer:
    def __init__(
        self,
        community: Place,
        actor: Any,
        create_places: bool,
        result: ImportResult,
        now: datetime.datetime | None = None,
    ) -> None:
        self.community = _P(community.pk, community.path, None, None)
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
        self.known: dict[tuple[str, str], _Existing] = {}
        self.next_child: dict[int, int] = {}
        self.places = _Places(community)
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
            ids: Sequence[int] = self._id_block("people_resident", n)
        else:
            if self.next_id is None:
                self.next_id = self._new_ids("people_resident", 1)[0]
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

    # places

    def _remember(self, parent_id: int, kind: str, code: str, name: str, place: _P) -> None:
        self.places.remember(parent_id, kind, code, name, place)

    def _find(self, parent: _P, kind: str, text: str) -> _P | None:
        return self.places.find(parent, kind, text)

    def _position(self, parent: _P) -> str:
        n = self.next_child.get(parent.id)
        if n is None:
            last = (
                Place.objects.filter(parent_id=parent.id)
                .order_by("-path")
                .values_list("path", flat=True)
                .first()
            )
            n = int(last[-5:]) if last else 0
        n += 1
        self.next_child[parent.id] = n
        return parent.path + segment(n)

    def _new_place(self, parent: _P, kind: str, text: str) -> _NewPlace:
        code = _bare(kind, text)
        inherit = kind in (PlaceKind.UNIT, PlaceKind.DWELLING)  # they carry the building's grid
        return _NewPlace(
            kind=kind,
            code=code,
            name=_default_name(kind, code) if code == text else text,
            parent_id=parent.id,
            path=self._position(parent),
            floor=int(code[:-2])
            if kind == PlaceKind.DWELLING and code.isdigit() and len(code) >= 3
            else None,
            grid_id=parent.grid_id if inherit else None,
            lane_id=parent.lane_id if inherit else None,
        )

    def _place_row(self, place_id: int, n: _NewPlace) -> tuple[Any, ...]:
        return (place_id, *n[:5], n.floor, "", self.now_db, self.now_db, n.grid_id, n.lane_id)

    def _level(self, parent: _P, kind: str, text: str, row: int, column: str) -> _P | None:
        found = self._find(parent, kind, text)
        if found is not None:
            return found
        if not self.create_places:
            self.result.add_error(
                row,
                HEADER[column],
                _("There is no %(kind)s “%(name)s” here; check it or let the import create it.")
                % {"kind": PlaceKind(kind).label, "name": text},
            )
            return None
        if len(text) > 32:
            self.result.add_error(row, HEADER[column], _("A place code is at most 32 characters."))
            return None
        new = self._new_place(parent, kind, text)
        place_id = self._new_ids("places_place", 1)[0]
        self._copy("places_place", _PLACE_COLUMNS, [self._place_row(place_id, new)])
        self.next_child[place_id] = 0  # just made: no children yet, no need to ask
        self.result.places_created += 1
        made = _P(place_id, new.path, new.grid_id, new.lane_id)
        self._remember(parent.id, kind, new.code, new.name, made)
        self.levels[(parent.id, f"{kind}:{_key(text)}")] = made
        return made

    def _holders(self, rows: list[Prepared]) -> list[tuple[Prepared, _P]]:
        out = []
        for p in rows:
            known = self.places.holders.get((p.compound, p.building, p.unit))
            if known is not None:
                out.append((p, known))
                continue
            parent = self.community
            if p.compound:
                found = self._level(parent, PlaceKind.COMPOUND, p.compound, p.row, "compound")
                if found is None:
                    continue
                parent = found
            found = self._level(parent, PlaceKind.BUILDING, p.building, p.row, "building")
            if found is None:
                continue
            if p.unit:
                found = self._level(found, PlaceKind.UNIT, p.unit, p.row, "unit")
                if found is None:
                    continue
            self.places.holders[(p.compound, p.building, p.unit)] = found
            out.append((p, found))
        return out

    def _holder_dwellings(self, holder_id: int) -> dict[str, _P]:
        """The dwellings of a unit (or of a building without units), by code."""
        return self.places.dwellings.setdefault(holder_id, {})

    def _dwellings(self, rows: list[tuple[Prepared, _P]]) -> list[tuple[Prepared, _P]]:
        wanted: dict[int, set[str]] = defaultdict(set)
        for p, holder in rows:
            wanted[holder.id].update({p.dwelling, _bare(PlaceKind.DWELLING, p.dwelling)})
        found: dict[tuple[int, str], _P] = {}
        for holder_id, codes in wanted.items():
            known = self._holder_dwellings(holder_id)
            for code in codes:
                if code in known:
                    found[(holder_id, code)] = known[code]
        keyed: list[tuple[Prepared, tuple[int, str]]] = []
        new: list[_NewPlace] = []
        for p, holder in rows:
            key = (holder.id, p.dwelling)
            if key not in found:
                key = (holder.id, _bare(PlaceKind.DWELLING, p.dwelling))
            if key in found:
                keyed.append((p, key))
            elif not self.create_places:
                self.result.add_error(
                    p.row,
                    HEADER["dwelling"],
                    _("There is no dwelling “%(name)s” here; check it or let the import create it.")
                    % {"name": p.dwelling},
                )
            elif len(key[1]) > 32:
                self.result.add_error(
                    p.row, HEADER["dwelling"], _("A place code is at most 32 characters.")
                )
            else:
                place = self._new_place(holder, PlaceKind.DWELLING, p.dwelling)
                # Filled in with the id once the batch of new dwellings is written.
                found[key] = made = _P(0, place.path, place.grid_id, place.lane_id)
                self._holder_dwellings(holder.id)[place.code] = made
                new.append(place)
                keyed.append((p, key))
        if new:
            # A million-row file can bring hundreds of thousands of dwellings: written like the
            # residents, not through the ORM's bulk_create (~150 µs a place).
            ids = self._new_ids("places_place", len(new))
            self._copy(
                "places_place",
                _PLACE_COLUMNS,
                [self._place_row(place_id, n) for n, place_id in zip(new, ids, strict=True)],
            )
            self.result.places_created += len(new)
            by_path = {n.path: place_id for n, place_id in zip(new, ids, strict=True)}
            for made in found.values():
                if made.id == 0:
                    made.id = by_path[made.path]
        return [(p, found[key]) for p, key in keyed]

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
                residents=_from_copy(batch.text[0], (0, len(RESIDENT_COLUMNS) - 1)),
                ties=_from_copy(batch.text[1], (0, 1), (3,)),
                tags=_from_copy(batch.text[2], (0, 1)),
                text=None,
            )
        numbers, residents, ties, tags = batch.numbers, batch.residents, batch.ties, batch.tags
        matched: list[tuple[Prepared, _P, _Existing]] = []
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
        self._copy("people_membership", _MEMBERSHIP_COLUMNS, ties)
        self._copy("people_residenttag", _TAG_COLUMNS, tags)
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
        from psycopg.errors import UniqueViolation

        savepoint = transaction.savepoint()
        try:
            if isinstance(residents, bytes):
                self._copy_raw("people_resident", RESIDENT_COLUMNS, residents)
            else:
                self._copy("people_resident", RESIDENT_COLUMNS, residents)
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
            self._copy_raw("people_membership", _MEMBERSHIP_COLUMNS, ties)
            self._copy_raw("people_residenttag", _TAG_COLUMNS, tags)
            return
        rows = [t for t in _from_copy(ties, (0, 1), (3,)) if t[0] not in skip]
        self._copy("people_membership", _MEMBERSHIP_COLUMNS, rows)
        rows = [t for t in _from_copy(tags, (0, 1)) if t[0] not in skip]
        self._copy("people_residenttag", _TAG_COLUMNS, rows)

    def _finish(
        self, batch: Batch, matched: list[tuple[Prepared, _P, _Existing]]
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
        self._copy("people_resident", RESIDENT_COLUMNS, fresh)
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
        matched: list[tuple[Prepared, _P, _Existing]],
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
            matched.append((p, _P(r[-1], "", None, None), f))

    _FIELDS = (
        "id, name, gender, birth_date, ethnicity, phone_index, residence_type, home_id, status"
    )

    def _documents(self, keys: list[tuple[str, str]]) -> dict[tuple[str, str], _Existing]:
        """The residents holding these documents, by (type, blind index)."""
        out: dict[tuple[str, str], _Existing] = {}
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
                        out[(id_type, row[0])] = _Existing(*row[1:])
        return out

    def _undocumented(self, placed: list[tuple[Prepared, _P]]) -> dict[tuple[str, int], _Existing]:
        """Residents without a document, by (name, home), for rows without one."""
        names: dict[int, set[str]] = defaultdict(set)
        for p, d in placed:
            names[d.id].add(p.name)
        homes = sorted(names)
        out: dict[tuple[str, int], _Existing] = {}
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
                    out.setdefault((r[1], r[7]), _Existing(*r))
        return out

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

    def _ties(self, column: str, keys: list[int]) -> list[_Tie]:
        """The active household ties of these residents or dwellings."""
        return [
            tie
            for tie in map(
                _Tie._make, self._rows_by("people_membership", column, keys, _Tie._fields)
            )
            if tie.until is None
        ]

    def _demote_heads(self, heads: dict[int, int | None]) -> None:
        """A row names a head: whoever else heads that dwelling now steps down, first, so that the
        one-head constraint holds when the new tie is written."""
        for tie in self._ties("dwelling_id", sorted(heads)):
            if tie.is_head and heads[tie.dwelling_id] != tie.resident_id:
                m = Membership(**{**tie._asdict(), "is_head": False})
                m._history_user = self.actor  # type: ignore[attr-defined]
                m.save(update_fields=["is_head"])

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
        return self._new_ids(table, n)  # interleaved with another session's: these are ours

    def _new_ids(self, table: str, n: int) -> list[int]:
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

    def _copy(self, table: str, columns: tuple[str, ...], rows: list[tuple[Any, ...]]) -> None:
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

    def _update(self, matched: list[tuple[Prepared, _P, _Existing]]) -> None:
        """Residents already there: unchanged ones cost two look-ups; changes are collected and
        written in bulk, each changed row with its history row."""
        if not matched:
            return
        ids = [f.id for _p, _d, f in matched]
        # Plain rows: most are unchanged, and a model object costs more than the row.
        ties: dict[int, list[_Tie]] = defaultdict(list)
        for tie in self._ties("resident_id", ids):
            ties[tie.resident_id].append(tie)
        current_tags: dict[int, set[int]] = defaultdict(set)
        if any(p.tags is not None for p, _d, _f in matched):
            for resident_id, tag_id in self._rows_by(
                "people_residenttag", "resident_id", ids, ("resident_id", "tag_id")
            ):
                current_tags[resident_id].add(tag_id)
        changed: dict[int, tuple[Prepared, _P]] = {}
        edited: list[Membership] = []
        joined: list[Membership] = []
        tags_added: list[tuple[Any, ...]] = []
        tags_removed: list[tuple[int, int]] = []
        for p, d, f in matched:
            touched = False
            if (
                f.name != p.name
                or f.gender != p.gender
                or f.birth_date != p.birth_date
                or f.ethnicity != p.ethnicity
                or f.phone_index != p.phone_index
                or f.residence_type != p.residence_type
                or f.home_id != d.id
                or f.status != Status.ACTIVE
            ):
                changed[f.id] = (p, d)
                touched = True
            touched |= self._tie(p, d, f, ties[f.id], edited, joined)
            if p.tags is not None:
                have, want = current_tags[f.id], set(p.tags)
                if have != want:
                    touched = True
                    tags_removed.extend((f.id, t) for t in have - want)
                    today = self.date_db(self.today)
                    tags_added.extend((f.id, t, today) for t in sorted(want - have))
            if touched:
                self.result.updated += 1
            else:
                self.result.unchanged += 1
        self._save_ties(edited, joined)
        if tags_removed:
            with connection.cursor() as cursor:
                cursor.executemany(
                    "DELETE FROM people_residenttag WHERE resident_id = %s AND tag_id = %s",
                    tags_removed,
                )
        self._copy("people_residenttag", _TAG_COLUMNS, tags_added)
        if changed:
            self._save_residents(changed)

    def _tie(
        self,
        p: Prepared,
        d: _P,
        f: _Existing,
        active: list[_Tie],
        edited: list[Membership],
        joined: list[Membership],
    ) -> bool:
        """Make the resident's tie to the dwelling what the row says; returns whether it changed.
        Changes are only collected here (``edited``, ``joined``) and written by ``_save_ties``."""

        def changed(tie: _Tie, **values: Any) -> None:
            edited.append(Membership(**{**tie._asdict(), **values}))

        touched = False
        here = next((t for t in active if t.dwelling_id == d.id), None)
        if f.home_id != d.id:
            # Moved: the tie to the old home ends today; ties to other dwellings (an owner's flat
            # elsewhere) stay.
            for tie in active:
                if tie.dwelling_id == f.home_id:
                    changed(tie, until=self.today, is_head=False)
                    touched = True
        if here is None:
            joined.append(
                Membership(
                    resident_id=f.id,
                    dwelling_id=d.id,
                    relation=p.relation,
                    is_head=p.is_head,
                    since=self.today if f.home_id not in (None, d.id) else None,
                )
            )
            return True
        if here.relation != p.relation or here.is_head != p.is_head:
            changed(here, relation=p.relation, is_head=p.is_head)
            touched = True
        return touched

    def _save_ties(self, edited: list[Membership], joined: list[Membership]) -> None:
        user = self.actor if getattr(self.actor, "is_authenticated", False) else None
        if edited:
            # Ends and head changes first: they only free places the new ties may take.
            with connection.cursor() as cursor:
                cursor.executemany(
                    "UPDATE people_membership SET relation = %s, is_head = %s, until = %s"
                    " WHERE id = %s",
                    [(m.relation, m.is_head, self.date_db(m.until), m.pk) for m in edited],
                )
            Membership.history.bulk_history_create(edited, update=True, default_user=user)
        if joined:
            ids = self._new_ids("people_membership", len(joined))
            for m, pk in zip(joined, ids, strict=True):
                m.pk = pk
            self._copy(
                "people_membership",
                ("id", *_MEMBERSHIP_COLUMNS),
                [
                    (
                        m.pk,
                        m.resident_id,
                        m.dwelling_id,
                        m.relation,
                        m.is_head,
                        self.date_db(m.since),
                        None,
                    )
                    for m in joined
                ],
            )
            Membership.history.bulk_history_create(joined, default_user=user)

    def _save_residents(self, changed: dict[int, tuple[Prepared, _P]]) -> None:
        history = Resident.history.model
        user = self.actor if getattr(self.actor, "is_authenticated", False) else None
        objs = Resident.objects.in_bulk(list(changed))
        recorded = set(
            history.objects.filter(id__in=list(changed)).values_list("id", flat=True).distinct()
        )
        # Residents the import created have no history yet: record their state before this
        # change first, dated when they were created.
        before = []
        for pk, obj in objs.items():
            if pk not in recorded:
                old = copy.copy(obj)
                old._history_date = obj.created_at  # type: ignore[attr-defined]
                before.append(old)
        if before:
            Resident.history.bulk_history_create(before, default_user=None)
        rows = []
        for pk, obj in objs.items():
            p, d = changed[pk]
            _apply(
                obj,
                CleanResident(
                    name=p.name,
                    gender=p.gender,
                    birth_date=p.birth_date,
                    ethnicity=p.ethnicity,
                    id_type=p.id_type,
                    id_number=p.id_number or (keyring().decrypt(p.id_enc) if p.id_enc else ""),
                    phone=p.phone or (keyring().decrypt(p.phone_enc) if p.phone_enc else ""),
                    residence_type=p.residence_type,
                ),
            )
            obj.home_id = d.id
            if obj.status != Status.ACTIVE:
                obj.status, obj.status_date = Status.ACTIVE, self.today
            obj.updated_at = self.now
            # The worker already encrypted the numbers; the ORM would do it again.
            rows.append(
                (
                    obj.name,
                    obj.name_pinyin,
                    obj.name_initials,
                    obj.gender,
                    self.date_db(obj.birth_date),
                    obj.ethnicity,
                    obj.id_type,
                    p.id_enc,
                    obj.id_index,
                    p.phone_enc,
                    obj.phone_index,
                    obj.residence_type,
                    obj.home_id,
                    obj.status,
                    self.date_db(obj.status_date),
                    self.now_db,
                    pk,
                )
            )
        with connection.cursor() as cursor:
            cursor.executemany(
                "UPDATE people_resident SET name = %s, name_pinyin = %s, name_initials = %s,"
                " gender = %s, birth_date = %s, ethnicity = %s, id_type = %s, id_number = %s,"
                " id_index = %s, phone = %s, phone_index = %s, residence_type = %s,"
                " home_id = %s, status = %s, status_date = %s, updated_at = %s WHERE id = %s",
                rows,
            )
        Resident.history.bulk_history_create(
            list(objs.values()),
            update=True,
            default_user=user,
            default_change_reason="roster import",
        )


def report_lines(result: ImportResult) -> Iterator[str]:
    """The error report as plain lines, for the command line."""
    for issue in result.errors:
        yield _("Row %(row)s, %(column)s: %(message)s") % {
            "row": issue.row,
            "column": issue.column,
            "message": issue.message,
        }
    if result.error_count > len(result.errors):
        yield _("… and %(n)s more.") % {"n": result.error_count - len(result.errors)}


__all__ = [
    "COLUMNS",
    "HEADER",
    "TEMPLATE_HEADERS",
    "ImportFailed",
    "ImportResult",
    "RowIssue",
    "import_roster",
    "read_rows",
    "report_lines",
]
