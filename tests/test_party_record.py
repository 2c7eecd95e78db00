"""The unit's service record: confirmed hours only, tasks, the grade for the period (or the one
around it), as .xlsx (read back with python-calamine) and PDF."""

from __future__ import annotations

import datetime
import io
from decimal import Decimal

import pytest
from django.db.models import Q
from django.utils import timezone
from python_calamine import CalamineWorkbook

from linli.party import actions
from linli.party.models import Claim, ServiceHours
from linli.party.periods import Period
from linli.party.records import service_record, to_pdf, to_xlsx
from tests.conftest import client_for
from tests.helpers.party import Party, build_party

pytestmark = pytest.mark.django_db


@pytest.fixture
def party(world) -> Party:
    return build_party(world)


def served(world, party, day: datetime.date, hours: str, confirm: bool = True) -> ServiceHours:
    made = Claim.objects.filter(post=party.task, member=party.member).first()
    if made is None:
        made = actions.claim(world.party_member, party.task.pk)
        Claim.objects.filter(pk=made.pk).update(
            claimed_at=timezone.make_aware(datetime.datetime(2026, 1, 2))
        )
        made.refresh_from_db()
    row = ServiceHours.objects.create(
        member=party.member, claim=made, post=party.task, path=made.path, served_on=day,
        hours=Decimal(hours),
    )  # fmt: skip
    if confirm:
        actions.confirm_hours(world.worker, row.pk)
    return row


@pytest.fixture
def record_data(world, party):
    served(world, party, datetime.date(2026, 2, 10), "2.5")
    served(world, party, datetime.date(2026, 3, 5), "1.5")
    served(world, party, datetime.date(2026, 3, 6), "4", confirm=False)  # pending: not counted
    served(world, party, datetime.date(2026, 4, 1), "3")  # the next quarter
    actions.evaluate(
        world.worker, party.member.pk, period="2026-Q1", grade="excellent", comment="积极"
    )
    actions.evaluate(world.worker, party.member.pk, period="2026", grade="good")
    return party


def test_counts_confirmed_hours_in_the_period(world, record_data):
    party = record_data
    scope = Q(path__gte=world.a.place.path, path__lt=world.a.place.path + ":")
    q1 = service_record(party.unit, Period.parse("2026-Q1"), scope)
    (row,) = q1.rows
    assert row.name == "吴越" and row.hours == Decimal("4.0") and row.phone_masked == "137****0001"
    assert row.tasks == ["周末清理楼道"] and row.grade == "excellent" and row.comment == "积极"
    march = service_record(party.unit, Period.parse("2026-03"), scope)
    assert march.rows[0].hours == Decimal("1.5") and march.rows[0].grade == "excellent"
    year = service_record(party.unit, Period.parse("2026"), scope)
    assert year.rows[0].hours == Decimal("7.0") and year.rows[0].grade == "good"
    q2 = service_record(party.unit, Period.parse("2026-Q2"), scope)
    assert q2.rows[0].grade == "good"  # the year's grade covers the quarter


def test_xlsx_reads_back(world, record_data):
    party = record_data
    response = client_for(world.partner).get(
        f"/party/units/{party.unit.pk}/record.xlsx?period=2026-Q1"
    )
    assert response.status_code == 200
    assert response["Content-Type"].startswith("application/vnd.openxmlformats")
    assert "2026-Q1" in response["Content-Disposition"]
    book = CalamineWorkbook.from_filelike(io.BytesIO(response.content))
    rows = book.get_sheet_by_index(0).to_python()
    assert rows[2][1] == party.unit.uscc
    member_rows = [r for r in rows if r and r[0] == "吴越"]
    assert len(member_rows) == 1
    row = member_rows[0]
    assert row[1] == "137****0001" and row[3] == 4.0 and "周末清理楼道" in str(row[4])
    assert "13700000001" not in str(rows)
    assert not any(r and r[0] == "乙社区党员" for r in rows)


def test_pdf_is_a_real_pdf(world, record_data):
    party = record_data
    response = client_for(world.worker).get(
        f"/party/units/{party.unit.pk}/record.pdf?period=2026-Q1"
    )
    assert response.status_code == 200 and response["Content-Type"] == "application/pdf"
    assert response.content.startswith(b"%PDF") and response.content.rstrip().endswith(b"%%EOF")
    # A subset of the CJK font is embedded for the Chinese names and headings: without it the
    # file would be a few kilobytes of empty boxes.
    assert len(response.content) > 20_000


def test_files_directly(world, record_data):
    party = record_data
    scope = Q(path__gte=world.a.place.path, path__lt=world.a.place.path + ":")
    record = service_record(party.unit, Period.parse("2026-Q1"), scope)
    assert to_xlsx(record)[:2] == b"PK"
    assert to_pdf(record)[:4] == b"%PDF"


def test_outsiders_get_404_for_the_files(world, record_data):
    party = record_data
    for user in (world.outsider, world.party_member, world.chief):
        for ext in ("xlsx", "pdf"):
            url = f"/party/units/{party.other_unit.pk}/record.{ext}"
            assert client_for(user).get(url).status_code == 404
            url = f"/party/units/{party.unit.pk}/record.{ext}"
            assert client_for(user).get(url).status_code == 404
    assert (
        client_for(world.worker).get(f"/party/units/{party.unit.pk}/record.doc").status_code == 404
    )
