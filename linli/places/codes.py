"""Administrative codes.

- Districts: 6 digits of GB/T 2260 (2 province, 2 prefecture, 2 county).
- Streets/towns and communities/villages: the 12-digit code of the statistical division
  (统计用区划代码): the district's 6 digits, 3 for the street, 3 for the community ("000" for the street
  itself).
- Grids: the community's 12 digits followed by a 3-digit grid number.
"""

from __future__ import annotations

import re

from django.core.exceptions import ValidationError
from django.utils.translation import gettext as _

# Province-level prefixes of GB/T 2260 (mainland, Hong Kong, Macao, Taiwan).
PROVINCES = frozenset(
    {
        "11",
        "12",
        "13",
        "14",
        "15",
        "21",
        "22",
        "23",
        "31",
        "32",
        "33",
        "34",
        "35",
        "36",
        "37",
        "41",
        "42",
        "43",
        "44",
        "45",
        "46",
        "50",
        "51",
        "52",
        "53",
        "54",
        "61",
        "62",
        "63",
        "64",
        "65",
        "71",
        "81",
        "82",
    }
)

_DISTRICT = re.compile(r"^\d{6}$")
_STAT12 = re.compile(r"^\d{12}$")
_GRID = re.compile(r"^\d{15}$")


def validate_district_code(code: str) -> None:
    if not _DISTRICT.match(code):
        raise ValidationError(_("A district code has 6 digits (GB/T 2260)."), code="format")
    if code[:2] not in PROVINCES:
        raise ValidationError(
            _("%(code)s does not start with a province code of GB/T 2260.") % {"code": code},
            code="province",
        )
    if code[2:4] == "00" or code[4:6] == "00":
        raise ValidationError(
            _("%(code)s names a province or a city, not a district.") % {"code": code},
            code="level",
        )


def validate_street_code(code: str, district_code: str | None = None) -> None:
    if not _STAT12.match(code):
        raise ValidationError(_("A street code has 12 digits."), code="format")
    validate_district_code(code[:6])
    if code[6:9] == "000" or code[9:] != "000":
        raise ValidationError(
            _("A street code has its street number in digits 7-9 and ends in 000."), code="level"
        )
    if district_code and not code.startswith(district_code):
        raise ValidationError(
            _("Street code %(code)s does not extend its district's code %(parent)s.")
            % {"code": code, "parent": district_code},
            code="parent",
        )


def validate_community_code(code: str, street_code: str | None = None) -> None:
    if not _STAT12.match(code):
        raise ValidationError(_("A community code has 12 digits."), code="format")
    validate_district_code(code[:6])
    if code[6:9] == "000" or code[9:] == "000":
        raise ValidationError(
            _("A community code has a street number (digits 7-9) and a community number (10-12)."),
            code="level",
        )
    if street_code and code[:9] != street_code[:9]:
        raise ValidationError(
            _("Community code %(code)s does not extend its street's code %(parent)s.")
            % {"code": code, "parent": street_code},
            code="parent",
        )


def validate_grid_code(code: str, community_code: str | None = None) -> None:
    if not _GRID.match(code):
        raise ValidationError(
            _("A grid code has 15 digits: the community's 12 and a 3-digit grid number."),
            code="format",
        )
    if code[12:] == "000":
        raise ValidationError(_("Grid numbers start at 001."), code="level")
    if community_code and not code.startswith(community_code):
        raise ValidationError(
            _("Grid code %(code)s does not extend its community's code %(parent)s.")
            % {"code": code, "parent": community_code},
            code="parent",
        )


def validate_polygon(value: object) -> None:
    """A GeoJSON Polygon in WGS 84 longitude/latitude: closed rings of at least four positions."""
    if not isinstance(value, dict) or value.get("type") != "Polygon":
        raise ValidationError(_("The area must be a GeoJSON Polygon."), code="type")
    rings = value.get("coordinates")
    if not isinstance(rings, list) or not rings:
        raise ValidationError(_("A polygon needs at least one ring of coordinates."), code="rings")
    for ring in rings:
        if not isinstance(ring, list) or len(ring) < 4:
            raise ValidationError(_("Each ring needs at least four positions."), code="ring")
        for position in ring:
            if (
                not isinstance(position, list | tuple)
                or len(position) < 2
                or not all(isinstance(c, int | float) for c in position[:2])
            ):
                raise ValidationError(_("Each position is [longitude, latitude]."), code="position")
            lon, lat = position[0], position[1]
            if not (-180 <= lon <= 180 and -90 <= lat <= 90):
                raise ValidationError(
                    _("Position %(pos)s is outside longitude/latitude bounds.") % {"pos": position},
                    code="bounds",
                )
        if list(ring[0][:2]) != list(ring[-1][:2]):
            raise ValidationError(_("A ring must end where it starts."), code="closed")
