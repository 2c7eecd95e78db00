"""One cell's value as the rest of the import wants it: text, a number's digits, a date, a mobile
number; and whether a row is blank."""

from __future__ import annotations

import datetime
import re
import unicodedata
from decimal import Decimal, InvalidOperation
from typing import Any

from django.core.exceptions import ValidationError
from django.utils.translation import gettext as _

from linli.core.identifiers import normalize_text, parse_mobile

EXCEL_EPOCH = datetime.date(1899, 12, 30)
_SCIENTIFIC = re.compile(r"^[+-]?\d+(\.\d+)?E[+-]?\d+$")
_DATE_TEXT = re.compile(r"^(\d{4})\s*[-/.年]\s*(\d{1,2})\s*[-/.月]\s*(\d{1,2})\s*日?$")


def cell_text(value: Any) -> str:
    """A cell's value as stripped text, NFKC-normalised unless plain ASCII."""
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


def number_text(value: Any) -> tuple[str, bool]:
    """An identifier cell as text, and whether Excel had turned it into a number whose last digits
    may be lost (15 significant digits at most)."""
    if isinstance(value, bool) or value is None:
        return cell_text(value), False
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


def sci_lost(value: Any) -> bool:
    """Whether a cell is text in 1.23E+10 form that stands for more digits than it shows."""
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


def mobile(raw: str) -> str:
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


def blank(cells: list[Any]) -> bool:
    """Whether a row's cells are all empty or whitespace."""
    try:
        return not "".join(cells).strip()  # a CSV row: all text
    except TypeError:  # an Excel row: numbers, dates, empty cells
        return all(c is None or (isinstance(c, str) and not c.strip()) for c in cells)
