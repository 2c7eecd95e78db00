"""Exporting the roster of a place as .xlsx or .csv, masked unless a reason and the right role say
otherwise, with the import template's columns so that an (unmasked) export can be imported again.

Rows are streamed from the database in chunks and written as they come: xlsxwriter in
``constant_memory`` mode keeps one row in memory, and the CSV is written line by line. Only people
living there now are exported (moved-out and deceased residents stay in the database as history and
would otherwise come back to life on a re-import).
"""

from __future__ import annotations

import csv
import io
from collections.abc import Callable, Iterator
from typing import IO

import xlsxwriter
from django.core.exceptions import PermissionDenied, ValidationError
from django.db import transaction
from django.db.models import Prefetch, Q, QuerySet
from django.utils.translation import gettext as _

from linli.accounts.models import User
from linli.accounts.roles import Cap
from linli.accounts.scope import scope_for
from linli.core import audit
from linli.core.identifiers import mask_citizen_id, mask_mobile
from linli.core.paths import SEGMENT, ancestors
from linli.people.importer import (
    GENDER_LABEL,
    ID_TYPE_LABEL,
    RELATION_LABEL,
    RESIDENCE_LABEL,
    TEMPLATE_HEADERS,
)
from linli.people.models import Membership, Resident, ResidentTag, Status
from linli.people.queries import residents_for
from linli.places.models import Place, PlaceKind

FORMATS = ("xlsx", "csv")
CHUNK = 2000
ID_COLUMN, PHONE_COLUMN = 2, 6  # positions in TEMPLATE_HEADERS, kept as text in Excel


def residents_under(queryset: QuerySet[Resident], place: Place) -> QuerySet[Resident]:
    return (
        queryset.filter(
            status=Status.ACTIVE, home__path__gte=place.path, home__path__lt=place.path_end
        )
        .select_related("home")
        .prefetch_related(
            Prefetch(
                "memberships",
                queryset=Membership.objects.filter(until__isnull=True),
                to_attr="active_ties",
            ),
            Prefetch(
                "tags", queryset=ResidentTag.objects.select_related("tag"), to_attr="tag_rows"
            ),
        )
        .order_by("home__path", "id")
    )


def _levels(place: Place) -> dict[str, Place]:
    """Compounds, buildings and units under the place or above it, by path: what a home's path
    passes through."""
    kinds = (PlaceKind.COMPOUND, PlaceKind.BUILDING, PlaceKind.UNIT)
    found = Place.objects.filter(kind__in=kinds).filter(
        Q(path__gte=place.path, path__lt=place.path_end) | Q(path__in=ancestors(place.path))
    )
    return {p.path: p for p in found.only("path", "kind", "code", "name")}


def rows(
    residents: QuerySet[Resident],
    place: Place,
    *,
    masked: bool,
    sensitive: Callable[[Place], bool],
) -> Iterator[list[str]]:
    levels = _levels(place)
    for r in residents.iterator(chunk_size=CHUNK):
        home = r.home
        assert home is not None
        where: dict[str, str] = {PlaceKind.COMPOUND: "", PlaceKind.BUILDING: "", PlaceKind.UNIT: ""}
        for end in range(SEGMENT, len(home.path), SEGMENT):
            level = levels.get(home.path[:end])
            if level is not None:
                where[level.kind] = level.code if level.kind != PlaceKind.COMPOUND else level.name
        tie = next((m for m in r.active_ties if m.dwelling_id == home.pk), None)  # type: ignore[attr-defined]
        shows_sensitive = sensitive(home)
        tags = [
            rt.tag.name
            for rt in r.tag_rows  # type: ignore[attr-defined]
            if shows_sensitive or not rt.tag.sensitive
        ]
        id_number = r.id_number or ""
        phone = r.phone or ""
        if masked:
            id_number, phone = mask_citizen_id(id_number), mask_mobile(phone)
        elif phone.startswith("+86"):
            phone = phone[3:]
        yield [
            r.name,
            ID_TYPE_LABEL.get(r.id_type, r.id_type),
            id_number,
            GENDER_LABEL.get(r.gender, ""),
            r.birth_date.isoformat() if r.birth_date else "",
            r.ethnicity,
            phone,
            RESIDENCE_LABEL.get(r.residence_type, r.residence_type),
            where[PlaceKind.COMPOUND],
            where[PlaceKind.BUILDING],
            where[PlaceKind.UNIT],
            home.code,
            RELATION_LABEL.get(tie.relation, "") if tie else "",
            "是" if tie and tie.is_head else "否",
            "、".join(tags),
        ]


def write_xlsx(out: IO[bytes], lines: Iterator[list[str]]) -> int:
    book = xlsxwriter.Workbook(out, {"constant_memory": True, "in_memory": False})
    sheet = book.add_worksheet("人口台账")
    bold = book.add_format({"bold": True})
    text = book.add_format({"num_format": "@"})
    # Text format on the number columns: Excel would otherwise turn an ID into 1.10105E+17.
    sheet.set_column(ID_COLUMN, ID_COLUMN, 22, text)
    sheet.set_column(PHONE_COLUMN, PHONE_COLUMN, 16, text)
    sheet.set_column(0, 0, 10)
    sheet.write_row(0, 0, TEMPLATE_HEADERS, bold)
    sheet.freeze_panes(1, 0)
    count = 0
    for count, line in enumerate(lines, start=1):
        for column, value in enumerate(line):
            sheet.write_string(count, column, value)
    book.close()
    return count


def write_csv(out: IO[bytes], lines: Iterator[list[str]]) -> int:
    # UTF-8 with a BOM: without it Excel on Windows reads the file as GBK and garbles it.
    text = io.TextIOWrapper(out, encoding="utf-8-sig", newline="", write_through=True)
    writer = csv.writer(text)
    writer.writerow(TEMPLATE_HEADERS)
    count = 0
    for line in lines:
        writer.writerow(line)
        count += 1
    text.flush()
    text.detach()
    return count


def write_template(out: IO[bytes]) -> None:
    example = [
        "张三",
        "居民身份证",
        "11010519491231002X",
        "女",
        "1949-12-31",
        "汉族",
        "13812345678",
        "户籍",
        "锦绣花园",
        "1",
        "1",
        "101",
        "业主",
        "是",
        "独居",
    ]
    write_xlsx(out, iter([example]))


def export_roster(
    user: User,
    place: Place,
    out: IO[bytes],
    fmt: str,
    *,
    unmasked: bool = False,
    reason: str = "",
) -> int:
    """Write the roster under ``place`` as the user may see it; returns the number of residents.

    Unmasked needs a reason and ``people.export_unmasked`` over the place (PermissionDenied
    otherwise). Every export is audited.
    """
    if fmt not in FORMATS:
        raise ValueError(fmt)
    reason = " ".join(reason.split())
    if unmasked:
        if not scope_for(user, Cap.PEOPLE_EXPORT_UNMASKED).contains(place):
            raise PermissionDenied
        if len(reason) < 4:
            raise ValidationError({"reason": _("Say why you need the full numbers.")})
    sensitive_scope = scope_for(user, Cap.PEOPLE_SENSITIVE)
    residents = residents_under(residents_for(user), place)
    return _export(user, place, residents, out, fmt, unmasked, reason, sensitive_scope.contains)


def export_as_operator(
    place: Place, out: IO[bytes], fmt: str, *, unmasked: bool = False, reason: str = ""
) -> int:
    """The command line's export: the server's operator sees everything, masked unless a reason
    is given; sensitive tags only in an unmasked (reasoned, audited) export."""
    reason = " ".join(reason.split())
    if unmasked and len(reason) < 4:
        raise ValidationError({"reason": _("Say why you need the full numbers.")})
    residents = residents_under(Resident.objects.all(), place)
    return _export(None, place, residents, out, fmt, unmasked, reason, lambda _home: unmasked)


def _export(
    user: User | None,
    place: Place,
    residents: QuerySet[Resident],
    out: IO[bytes],
    fmt: str,
    unmasked: bool,
    reason: str,
    sensitive: Callable[[Place], bool],
) -> int:
    lines = rows(residents, place, masked=not unmasked, sensitive=sensitive)
    count = write_xlsx(out, lines) if fmt == "xlsx" else write_csv(out, lines)
    with transaction.atomic():
        audit.record(
            user,
            "roster.export",
            place,
            place_path=place.path,
            data={
                "masked": not unmasked,
                "count": count,
                "format": fmt,
                "reason": reason[:200],
            },
        )
    return count
