"""The roster's columns and the words its cells may hold; which column of a file is which."""

from __future__ import annotations

import re
import unicodedata
from collections.abc import Iterator
from typing import Any

from django.utils.translation import gettext as _

from linli.people.importer.cells import blank, cell_text
from linli.people.importer.results import ImportFailed, ImportResult
from linli.people.models import IdType, Relation, ResidenceType

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


def _header_key(text: object) -> str:
    return "".join(unicodedata.normalize("NFKC", str(text)).split()).strip("*").lower()


_ALIASES = {
    _header_key(spelling): key
    for key, header, aliases in COLUMNS
    for spelling in (header, *aliases)
}


def read_header(rows: Iterator[list[Any]], result: ImportResult) -> tuple[dict[str, int], int]:
    """The column positions from the first non-blank row; returns them and the row number of the
    first data row."""
    row_no = 0
    for cells in rows:
        row_no += 1
        if blank(cells):
            continue
        columns: dict[str, int] = {}
        for position, text in enumerate(cells):
            key = _ALIASES.get(_header_key(cell_text(text)))
            if key and key not in columns:
                columns[key] = position
            elif cell_text(text):
                result.add_warning(
                    row_no,
                    cell_text(text),
                    _("This column is not part of the roster; it is ignored."),
                )
        missing = [HEADER[k] for k in REQUIRED if k not in columns]
        if missing:
            raise ImportFailed(
                _("The file lacks these columns: %(columns)s.") % {"columns": "、".join(missing)}
            )
        return columns, row_no + 1
    raise ImportFailed(_("The file is empty."))
