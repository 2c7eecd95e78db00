"""Roster export: masked by default, unmasked only with a reason and the role for it (audited),
sensitive tags only for those who may see them, re-importable, scoped pages and the command."""

from __future__ import annotations

import io
from pathlib import Path
from typing import Any

import pytest
from django.core.exceptions import PermissionDenied, ValidationError
from django.core.management import CommandError, call_command
from django.urls import reverse
from python_calamine import CalamineWorkbook

from linli.core.models import AuditEntry
from linli.people import exporter
from linli.people.importer import TEMPLATE_HEADERS, import_roster
from tests.conftest import ID_A

pytestmark = pytest.mark.django_db


def export_csv(user, place, **kw) -> str:
    out = io.BytesIO()
    exporter.export_roster(user, place, out, "csv", **kw)
    data = out.getvalue()
    assert data.startswith(b"\xef\xbb\xbf")  # a BOM, so that Excel reads UTF-8
    return data.decode("utf-8-sig")


def xlsx_rows(data: bytes, tmp_path: Path) -> list[list[Any]]:
    target = tmp_path / "export.xlsx"
    target.write_bytes(data)
    return list(CalamineWorkbook.from_path(str(target)).get_sheet_by_index(0).iter_rows())


def test_masked_by_default(world, roster):
    text = export_csv(world.worker, world.a.place)
    assert text.splitlines()[0] == ",".join(TEMPLATE_HEADERS)
    assert ID_A not in text and "13812345678" not in text
    assert "1101**********002X" in text and "138****5678" in text
    assert "单桂芳" in text and "王小红" not in text  # community b is not under a
    entry = AuditEntry.objects.get(action="roster.export")
    assert entry.data["masked"] is True and entry.data["count"] == 2
    assert entry.place_path == world.a.place.path


def test_unmasked_needs_reason_and_capability(world, roster):
    with pytest.raises(ValidationError):
        export_csv(world.worker, world.a.place, unmasked=True, reason="")
    # The street admin sees the roster but may not export full numbers.
    with pytest.raises(PermissionDenied):
        export_csv(world.street_admin, world.a.place, unmasked=True, reason="户籍核查")
    assert not AuditEntry.objects.filter(action="roster.export").exists()
    text = export_csv(world.worker, world.a.place, unmasked=True, reason="户籍核查，街道要求")
    assert ID_A in text and "13812345678" in text
    entry = AuditEntry.objects.get(action="roster.export")
    assert entry.data["masked"] is False and entry.data["reason"] == "户籍核查，街道要求"
    assert entry.actor_id == world.worker.pk


def test_sensitive_tags_only_for_those_who_may_see_them(world, roster):
    assert "困难" in export_csv(world.worker, world.a.place)
    shown = export_csv(world.street_admin, world.a.place)
    assert "独居" in shown and "困难" not in shown


def test_xlsx_export_imports_again_unchanged(world, roster, tmp_path):
    out = io.BytesIO()
    count = exporter.export_roster(
        world.worker, world.a.place, out, "xlsx", unmasked=True, reason="迁移到新系统"
    )
    assert count == 2
    rows = xlsx_rows(out.getvalue(), tmp_path)
    assert rows[0] == TEMPLATE_HEADERS and ID_A in rows[1] + rows[2]
    target = tmp_path / "again.xlsx"
    target.write_bytes(out.getvalue())
    result = import_roster(target, community_code=world.a.place.code)
    assert result.ok, result.errors
    assert (result.created, result.updated, result.unchanged) == (0, 0, 2)


def test_masked_xlsx_has_no_full_number(world, roster, tmp_path):
    out = io.BytesIO()
    exporter.export_roster(world.worker, world.a.place, out, "xlsx")
    cells = [c for r in xlsx_rows(out.getvalue(), tmp_path) for c in r]
    assert ID_A not in cells and "1101**********002X" in cells


def test_export_page_masked_and_unmasked(world, roster, as_user):
    client = as_user(world.worker)
    assert client.get(reverse("people:export")).status_code == 200
    response = client.post(reverse("people:export"), {"place": world.a.place.pk, "format": "csv"})
    assert response.status_code == 200
    body = b"".join(response.streaming_content).decode("utf-8-sig")
    assert ID_A not in body and "1101**********002X" in body
    response = client.post(
        reverse("people:export"),
        {"place": world.a.place.pk, "format": "csv", "unmasked": "on", "reason": "上级核查"},
    )
    assert ID_A in b"".join(response.streaming_content).decode("utf-8-sig")
    assert AuditEntry.objects.filter(action="roster.export").count() == 2


def test_export_page_refuses_unmasked_without_capability(world, roster, as_user):
    client = as_user(world.street_admin)
    response = client.post(
        reverse("people:export"),
        {"place": world.a.place.pk, "format": "csv", "unmasked": "on", "reason": "想看看"},
    )
    assert response.status_code == 403
    no_reason = as_user(world.worker).post(
        reverse("people:export"), {"place": world.a.place.pk, "format": "csv", "unmasked": "on"}
    )
    assert no_reason.status_code == 400
    assert not AuditEntry.objects.filter(action="roster.export").exists()


@pytest.mark.parametrize("name", ["chief", "neighbour", "outsider"])
def test_others_get_404_for_community_a(world, roster, as_user, name):
    client = as_user(getattr(world, name))
    response = client.post(reverse("people:export"), {"place": world.a.place.pk, "format": "csv"})
    assert response.status_code == 404
    if name == "outsider":
        assert client.get(reverse("people:export")).status_code == 404
    assert not AuditEntry.objects.filter(action="roster.export").exists()


def test_chief_exports_their_building_masked(world, roster, as_user):
    client = as_user(world.chief)
    response = client.post(
        reverse("people:export"), {"place": world.a.building.pk, "format": "csv"}
    )
    assert response.status_code == 200
    body = b"".join(response.streaming_content).decode("utf-8-sig")
    assert "单桂芳" in body and ID_A not in body and "困难" not in body


def test_command_masks_unless_told_with_a_reason(world, roster, tmp_path):
    target = tmp_path / "out.csv"
    call_command(
        "export-roster", "--place", str(world.a.place.pk), "--format", "csv", "--out", str(target)
    )
    text = target.read_text(encoding="utf-8-sig")
    assert ID_A not in text and "1101**********002X" in text and "困难" not in text
    with pytest.raises(CommandError):
        call_command(
            "export-roster", "--place", str(world.a.place.pk), "--out", str(target), "--unmasked"
        )
    call_command(
        "export-roster",
        "--place",
        str(world.a.place.pk),
        "--format",
        "csv",
        "--out",
        str(target),
        "--unmasked",
        "--reason",
        "数据迁移",
    )
    assert ID_A in target.read_text(encoding="utf-8-sig")
    assert AuditEntry.objects.filter(action="roster.export").count() == 2
    with pytest.raises(CommandError):
        call_command("export-roster", "--place", "999999", "--out", str(target))
