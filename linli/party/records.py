"""The service record of an employer unit (双管理): for one period, each of its members who report
to a community the reader may see, with their confirmed hours, the posts and tasks they served
on, and the community's grade. As a page, an .xlsx (xlsxwriter) and a PDF (weasyprint, with the
Noto CJK fonts of Debian's ``fonts-noto-cjk``).

Only confirmed hours count. Phone numbers are masked in every form of the record.
"""

from __future__ import annotations

import datetime
import io
from collections import defaultdict
from dataclasses import dataclass, field
from decimal import Decimal
from typing import Any

import xlsxwriter
from django.db.models import Q, Sum
from django.template.loader import render_to_string
from django.utils import timezone
from django.utils.translation import gettext as _

from linli.core.identifiers import mask_mobile

from .models import Claim, Evaluation, Grade, HoursStatus, PartyMember, ServiceHours, Unit
from .periods import Period


@dataclass
class RecordRow:
    member_id: int
    name: str
    phone_masked: str
    community: str
    hours: Decimal = Decimal("0")
    tasks: list[str] = field(default_factory=list)
    grade: str = ""
    grade_label: str = ""
    comment: str = ""


@dataclass
class ServiceRecord:
    unit: Unit
    period: Period
    rows: list[RecordRow]
    made_at: Any

    @property
    def total_hours(self) -> Decimal:
        return sum((r.hours for r in self.rows), Decimal("0.0"))


def service_record(unit: Unit, period: Period, rows_q: Q) -> ServiceRecord:
    """``rows_q`` filters member rows by path (from ``queries.access_unit``)."""
    members = list(
        PartyMember.objects.filter(rows_q, unit=unit)
        .select_related("community")
        .order_by("community__path", "name", "id")
    )
    ids = [m.pk for m in members]
    hours = dict(
        ServiceHours.objects.filter(
            member_id__in=ids,
            status=HoursStatus.CONFIRMED,
            served_on__gte=period.start,
            served_on__lt=period.end,
        )
        .values("member_id")
        .annotate(total=Sum("hours"))
        .values_list("member_id", "total")
    )
    tasks: dict[int, list[str]] = defaultdict(list)
    served = ServiceHours.objects.filter(
        member_id__in=ids,
        status=HoursStatus.CONFIRMED,
        served_on__gte=period.start,
        served_on__lt=period.end,
    ).values_list("member_id", "post__title")
    tz = timezone.get_current_timezone()
    claimed = (
        Claim.objects.filter(member_id__in=ids, withdrawn_at__isnull=True)
        .filter(claimed_at__lt=_midnight(period.end, tz))
        .filter(Q(post__ends_on__isnull=True) | Q(post__ends_on__gte=period.start))
        .filter(claimed_at__gte=_midnight(period.start, tz))
        .values_list("member_id", "post__title")
    )
    for member_id, title in [*served, *claimed]:
        if title not in tasks[member_id]:
            tasks[member_id].append(title)
    keys = period.covering_keys()
    grades: dict[int, Evaluation] = {}
    for evaluation in Evaluation.objects.filter(member_id__in=ids, period__in=keys):
        known = grades.get(evaluation.member_id)
        if known is None or keys.index(evaluation.period) < keys.index(known.period):
            grades[evaluation.member_id] = evaluation
    rows = []
    for m in members:
        ev = grades.get(m.pk)
        rows.append(
            RecordRow(
                member_id=m.pk,
                name=m.name,
                phone_masked=mask_mobile(m.phone),
                community=m.community.name,
                hours=Decimal(str(hours.get(m.pk) or 0)).quantize(Decimal("0.1")),
                tasks=sorted(tasks.get(m.pk, [])),
                grade=ev.grade if ev else "",
                grade_label=str(Grade(ev.grade).label) if ev else "",
                comment=ev.comment if ev else "",
            )
        )
    return ServiceRecord(unit, period, rows, timezone.localtime())


def _midnight(day: Any, tz: Any) -> Any:

    return datetime.datetime.combine(day, datetime.time.min, tzinfo=tz)


def record_filename(record: ServiceRecord, ext: str) -> str:
    return f"service-record-{record.unit.uscc}-{record.period.key}.{ext}"


def to_xlsx(record: ServiceRecord) -> bytes:

    out = io.BytesIO()
    book = xlsxwriter.Workbook(out, {"in_memory": True})
    sheet = book.add_worksheet(record.period.key)
    bold = book.add_format({"bold": True})
    number = book.add_format({"num_format": "0.0"})
    sheet.write(0, 0, _("Service record of in-service party members"), bold)
    sheet.write(1, 0, _("Employer unit"))
    sheet.write(1, 1, record.unit.name)
    sheet.write(2, 0, _("Unified social credit code"))
    sheet.write(2, 1, record.unit.uscc)
    sheet.write(3, 0, _("Period"))
    sheet.write(3, 1, record.period.key)
    headers = [
        _("Name"),
        _("Mobile"),
        _("Community"),
        _("Confirmed hours"),
        _("Posts and tasks"),
        _("Grade"),
        _("Comment"),
    ]
    for col, title in enumerate(headers):
        sheet.write(5, col, title, bold)
    row = 6
    for r in record.rows:
        sheet.write(row, 0, r.name)
        sheet.write(row, 1, r.phone_masked)
        sheet.write(row, 2, r.community)
        sheet.write_number(row, 3, float(r.hours), number)
        sheet.write(row, 4, "；".join(r.tasks))
        sheet.write(row, 5, r.grade_label)
        sheet.write(row, 6, r.comment)
        row += 1
    sheet.write(row, 0, _("Total"), bold)
    sheet.write_number(row, 3, float(record.total_hours), number)
    sheet.set_column(0, 0, 14)
    sheet.set_column(1, 1, 14)
    sheet.set_column(2, 2, 16)
    sheet.set_column(3, 3, 10)
    sheet.set_column(4, 4, 40)
    sheet.set_column(5, 6, 14)
    book.close()
    return out.getvalue()


def to_pdf(record: ServiceRecord) -> bytes:
    # Imported here: weasyprint loads Pango at import, which only the PDF needs.
    import weasyprint  # noqa: PLC0415

    html = render_to_string("party/record_pdf.html", {"record": record})
    return bytes(weasyprint.HTML(string=html).write_pdf())
