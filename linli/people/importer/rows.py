"""One row: parsed, validated and encrypted (in a worker) into what the tables will store."""

from __future__ import annotations

import datetime
from dataclasses import dataclass, field
from functools import cached_property, lru_cache
from typing import TYPE_CHECKING, Any, NamedTuple

from django.core.exceptions import ValidationError
from django.utils.translation import gettext as _

from linli.core.crypto import blind, keyring
from linli.core.identifiers import normalize_text, parse_citizen_id
from linli.people.importer.cells import cell_text, mobile, number_text, parse_date, sci_lost
from linli.people.importer.columns import (
    COLUMNS,
    GENDER_WORDS,
    ID_TYPE_WORDS,
    ID_TYPES,
    NO,
    RELATION_WORDS,
    RELATIONS,
    RESIDENCE_TYPES,
    RESIDENCE_WORDS,
    TAG_SEPARATORS,
    YES,
)
from linli.people.models import IdType, Relation, ResidenceType, Status
from linli.people.pinyin import name_keys
from linli.people.validation import clean_resident

if TYPE_CHECKING:
    from linli.people.importer.places import Places


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
    pk: int = 0  # the id this row's resident gets if it is new (see ``Writer.allocate``)


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
    places: Places | None = None  # the community's places as the import began (see Places)

    @property
    def width(self) -> int:
        return max(self.columns.values()) + 1

    @cached_property
    def positions(self) -> dict[str, int]:
        """Every column key → its position, or the padding cell past the end when absent."""
        return {key: self.columns.get(key, self.width) for key, _h, _a in COLUMNS}


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

    data: dict[str, Any] = {"name": cell_text(cell("name"))}
    id_type = _choice(ID_TYPE_WORDS, ID_TYPES, cell_text(cell("id_type")).replace(" ", ""))
    unknown_type = id_type is None
    if id_type is None:
        problems.append(("id_type", _("Unknown document type.")))
        id_type = ""
    data["id_type"] = id_type or IdType.CITIZEN
    raw_id = cell("id_number")
    id_text, was_number = number_text(raw_id)
    data["id_number"] = id_text
    gender_text = cell_text(cell("gender"))
    if gender_text:
        data["gender"] = _gender(gender_text, problems)
    try:
        data["birth_date"] = parse_date(cell("birth_date"))
    except (ValueError, OverflowError):
        problems.append(("birth_date", _("Not a date: write it as 2024-01-05.")))
    data["ethnicity"] = cell_text(cell("ethnicity"))
    residence = _choice(RESIDENCE_WORDS, RESIDENCE_TYPES, cell_text(cell("residence_type")))
    if residence is None:
        problems.append(("residence_type", _("Residence type is one of 户籍, 常住, 流动, 候鸟.")))
    data["residence_type"] = residence or ResidenceType.REGISTERED
    phone = _phone(cell("phone"), problems)
    try:
        clean = clean_resident(data, today=context.today)
    except ValidationError as exc:
        _resident_problems(exc, unknown_type, was_number, raw_id, problems)
        clean = None
    relation = _choice(RELATION_WORDS, RELATIONS, cell_text(cell("relation")))
    if relation is None:
        problems.append(("relation", _("Relation is one of 业主, 租户, 家庭成员, 其他.")))
    head_text = _head(cell_text(cell("is_head")), problems)
    building, dwelling = cell_text(cell("building")), cell_text(cell("dwelling"))
    if not building:
        problems.append(("building", _("This column cannot be empty.")))
    if not dwelling:
        problems.append(("dwelling", _("This column cannot be empty.")))
    tags: tuple[int, ...] | None = None
    if "tags" in context.columns:
        tags = _tags(cell_text(cell("tags")), context, problems)
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
        cell_text(cell("compound")),
        building,
        cell_text(cell("unit")),
        dwelling,
        context,
        pk,
    )


def _gender(text: str, problems: list[tuple[str, str]]) -> str:
    gender = GENDER_WORDS.get(text) or GENDER_WORDS.get(normalize_text(text))
    if gender is None:
        problems.append(("gender", _("Gender is 男 or 女.")))
    return gender or ""


def _phone(raw_phone: Any, problems: list[tuple[str, str]]) -> str:
    phone_text, _phone_was_number = number_text(raw_phone)
    phone = ""
    if sci_lost(raw_phone):
        problems.append(
            ("phone", _("Excel turned this number into 1.23E+10 form and lost digits: retype it."))
        )
    elif phone_text:
        try:
            phone = mobile(phone_text)
        except ValidationError as exc:
            problems.append(("phone", exc.messages[0]))
    return phone


def _resident_problems(
    exc: ValidationError,
    unknown_type: bool,
    was_number: bool,
    raw_id: Any,
    problems: list[tuple[str, str]],
) -> None:
    """``clean_resident``'s errors as the row's problems, said the way a spreadsheet user needs."""
    for key, messages in exc.message_dict.items():
        if key == "id_number" and unknown_type:
            continue  # the number cannot be judged without knowing the document
        if key == "id_number" and (was_number or sci_lost(raw_id)):
            messages = [
                _(
                    "Excel stored this ID number as a number and its last digits were lost;"
                    " it cannot be recovered. Format the column as text and type it again."
                )
            ]
        problems.extend((key, m) for m in messages)


def _head(head_text: str, problems: list[tuple[str, str]]) -> str:
    if head_text not in YES and head_text not in NO:
        head_text = normalize_text(head_text)
    if head_text not in YES and head_text not in NO:
        problems.append(("is_head", _("Head of household is 是 or 否.")))
    return head_text


def _tags(text: str, context: Context, problems: list[tuple[str, str]]) -> tuple[int, ...]:
    found: list[int] = []
    for word in TAG_SEPARATORS.split(text):
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
    return tuple(sorted(found))


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
    id_type_text = cell_text(cells[at["id_type"]])
    if id_type_text and id_type_text.replace(" ", "") not in _CITIZEN_WORDS:
        return None
    name = " ".join(cell_text(cells[at["name"]]).split())
    building = cell_text(cells[at["building"]])
    dwelling = cell_text(cells[at["dwelling"]])
    if not name or len(name) > 50 or not building or not dwelling:
        return None
    try:
        cid = parse_citizen_id(raw_id.upper(), today=context.today)
        birth = parse_date(cells[at["birth_date"]])
        phone = mobile(raw_phone) if raw_phone else ""
    except (ValidationError, ValueError, OverflowError):
        return None
    if birth is not None and birth != cid.birth_date:
        return None
    gender_text = cell_text(cells[at["gender"]])
    if gender_text and GENDER_WORDS.get(gender_text) != cid.gender:
        return None
    residence = _choice(RESIDENCE_WORDS, RESIDENCE_TYPES, cell_text(cells[at["residence_type"]]))
    relation = _choice(RELATION_WORDS, RELATIONS, cell_text(cells[at["relation"]]))
    head_text = cell_text(cells[at["is_head"]])
    if residence is None or relation is None or (head_text not in YES and head_text not in NO):
        return None
    tags: tuple[int, ...] | None = None
    if "tags" in context.columns:
        tags = _known_tags(cell_text(cells[at["tags"]]), context)
        if tags is None:
            return None
    return _stored(
        row_no,
        name,
        cid.gender,
        cid.birth_date,
        cell_text(cells[at["ethnicity"]])[:20],
        IdType.CITIZEN.value,
        cid.number,
        phone,
        residence or ResidenceType.REGISTERED.value,
        relation or Relation.FAMILY.value,
        head_text in YES,
        tags,
        cid.warnings,
        cell_text(cells[at["compound"]]),
        building,
        cell_text(cells[at["unit"]]),
        dwelling,
        context,
        pk,
    )


def _known_tags(text: str, context: Context) -> tuple[int, ...] | None:
    """The tags of a cell whose every word is a known tag; None when one is not."""
    found: list[int] = []
    for word in TAG_SEPARATORS.split(text):
        key = word.strip().lower()
        if not key:
            continue
        if key not in context.tags:
            return None
        tag_id = context.tags[key]
        if tag_id is not None and tag_id not in found:
            found.append(tag_id)
    return tuple(sorted(found))
