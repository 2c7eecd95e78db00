"""Chinese personal identifiers: citizen ID numbers and mobile numbers, checked and masked.

Citizen ID numbers (居民身份证号码, GB 11643): 17 digits and a check digit (0-9 or X). The check digit
and the birth date are hard rules. The first six digits name the county of registration; a code that
did not exist in the birth year is only a *warning*, because late registrations and re-drawn
counties make it common in real rosters. Legacy 15-digit numbers (before 1999) are converted to 18.

Bulk paths call ``parse_citizen_id`` for every row: the check digit and the date are computed here,
and the region look-up (python-stdnum's ``get_birth_place``, ~20 µs) is cached per (region, year).
"""

from __future__ import annotations

import datetime
import unicodedata
from functools import lru_cache
from typing import NamedTuple

import phonenumbers
from django.core.exceptions import ValidationError
from django.utils.translation import gettext as _
from stdnum.cn import ric

_SPACES = {" ", "\t", "\u3000", "\u00a0", "-", "\u200b"}


def normalize_text(value: object) -> str:
    """Half-width, upper-case, without spaces: what Excel and phones do to identifiers, undone."""
    if type(value) is str and value.isascii() and value.isalnum():
        return value.upper()  # already clean: the common case in bulk imports
    text = unicodedata.normalize("NFKC", str(value))
    return "".join(ch for ch in text if ch not in _SPACES).upper()


class CitizenId(NamedTuple):  # a tuple: made for every row of an import, a third the cost
    number: str
    birth_date: datetime.date
    gender: str  # "M" or "F": the 17th digit is odd for men, even for women
    warnings: tuple[str, ...] = ()


def convert_15_to_18(number: str) -> str:
    """A legacy 15-digit number: insert the century (all were issued to people born in 19xx) and
    append the check digit."""
    body = number[:6] + "19" + number[6:]
    return body + ric.calc_check_digit(body + "0")


@lru_cache(maxsize=65536)
def region_known(region: str, year: int) -> bool:
    # get_birth_place only reads the region and the birth year from the number.
    try:
        ric.get_birth_place(f"{region}{year:04d}0101000")
    except ric.ValidationError:
        return False
    return True


def parse_citizen_id(raw: object, *, today: datetime.date | None = None) -> CitizenId:
    """Check a citizen ID number and read the birth date and gender from it.

    Raises ValidationError (codes ``length``, ``format``, ``checksum``, ``birth_date``) with a message
    in the user's language.
    """
    number = normalize_text(raw)
    if len(number) == 15 and number.isdigit():
        number = convert_15_to_18(number)
    if len(number) != 18:
        raise ValidationError(
            _("A citizen ID number has 18 characters (or 15 for an old one); this has %(n)s.")
            % {"n": len(number)},
            code="length",
        )
    if not number[:17].isdigit() or not (number[17].isdigit() or number[17] == "X"):
        raise ValidationError(
            _("A citizen ID number is 17 digits followed by a digit or X."), code="format"
        )
    if ric.calc_check_digit(number) != number[17]:
        raise ValidationError(
            _("The check digit of this citizen ID number is wrong: a digit was mistyped."),
            code="checksum",
        )
    try:
        birth = datetime.date.fromisoformat(number[6:14])  # eight digits: YYYYMMDD
    except ValueError:
        birth = None
    today = today or datetime.date.today()
    if birth is None or birth > today or birth.year < 1880:
        raise ValidationError(
            _("The birth date in this citizen ID number (%(digits)s) is not a real date.")
            % {"digits": number[6:14]},
            code="birth_date",
        )
    warnings: tuple[str, ...] = ()
    if not region_known(number[:6], birth.year):
        warnings = (
            _("The region code %(region)s did not exist in %(year)s; check the number.")
            % {"region": number[:6], "year": birth.year},
        )
    gender = "M" if int(number[16]) % 2 else "F"
    return CitizenId(number, birth, gender, warnings)


def mask_citizen_id(number: str | None) -> str:
    """``440106199003071234`` → ``4401**********1234``."""
    if not number:
        return ""
    if len(number) <= 8:
        return "*" * len(number)
    return number[:4] + "*" * (len(number) - 8) + number[-4:]


def parse_mobile(raw: object) -> str:
    """A mobile number in E.164 (``+8613812345678``). Mainland numbers may be written without
    +86; other countries need their prefix. Raises ValidationError (code ``mobile``)."""
    text = normalize_text(raw).replace("(", "").replace(")", "")
    try:
        parsed = phonenumbers.parse(text, "CN")
    except phonenumbers.NumberParseException as exc:
        raise ValidationError(_("This is not a phone number."), code="mobile") from exc
    kinds = {phonenumbers.PhoneNumberType.MOBILE, phonenumbers.PhoneNumberType.FIXED_LINE_OR_MOBILE}
    if not phonenumbers.is_valid_number(parsed) or phonenumbers.number_type(parsed) not in kinds:
        raise ValidationError(_("This is not a valid mobile number."), code="mobile")
    return phonenumbers.format_number(parsed, phonenumbers.PhoneNumberFormat.E164)


def mask_mobile(e164: str | None) -> str:
    """``+8613812345678`` → ``138****5678``; ``+85291234567`` → ``+852****4567``: the middle four
    digits hidden (mainland numbers shown without +86)."""
    if not e164:
        return ""
    shown = e164[3:] if e164.startswith("+86") else e164
    if len(shown) < 9:
        return "*" * len(shown)
    return shown[:-8] + "****" + shown[-4:]
