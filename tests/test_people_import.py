"""Roster import: each tolerance of what Excel does to a file, each rejection, all-or-nothing,
idempotence, history, places created on demand, the command and the pages."""

from __future__ import annotations

import csv
import datetime
import io
from pathlib import Path
from typing import Any

import pytest
import xlsxwriter
from django.core.management import CommandError, call_command
from django.urls import reverse
from django.utils import timezone, translation
from stdnum.cn import ric

from linli.core.models import AuditEntry
from linli.people.importer import (
    TEMPLATE_HEADERS,
    ImportFailed,
    detect_encoding,
    import_roster,
    parse_date,
)
from linli.people.models import Membership, Resident, ResidentTag
from linli.places.models import Place, PlaceKind
from tests.conftest import ID_A, valid_id

pytestmark = pytest.mark.django_db

HEADERS = ["姓名*", "证件类型", "证件号码", "手机号码", "小区", "楼栋*", "单元", "房号*"]
HEADERS += ["与房屋关系", "是否户主", "关爱标签", "出生日期", "性别"]
ID_B = valid_id("44010619900307123")
ID_C = valid_id("11010519800101001")


def row(name: str, id_number: Any = "", phone: Any = "", **kw: Any) -> list[Any]:
    """A row for community a's unit 1 of building 1, dwelling 101, unless told otherwise."""
    return [
        name,
        kw.get("id_type", ""),
        id_number,
        phone,
        kw.get("compound", "甲社区花园"),
        kw.get("building", "1"),
        kw.get("unit", "1"),
        kw.get("dwelling", "101"),
        kw.get("relation", "家庭成员"),
        kw.get("head", "否"),
        kw.get("tags", ""),
        kw.get("birth", ""),
        kw.get("gender", ""),
    ]


def csv_file(tmp_path: Path, rows: list[list[Any]], encoding: str = "utf-8", **kw: Any) -> Path:
    text = io.StringIO()
    writer = csv.writer(text)
    writer.writerow(kw.get("headers", HEADERS))
    for r in rows:
        writer.writerow(r)
    target = tmp_path / kw.get("name", "roster.csv")
    target.write_bytes(text.getvalue().encode(encoding))
    return target


def xlsx_file(tmp_path: Path, rows: list[list[Any]], name: str = "roster.xlsx") -> Path:
    target = tmp_path / name
    book = xlsxwriter.Workbook(str(target))
    sheet = book.add_worksheet()
    date_format = book.add_format({"num_format": "yyyy-mm-dd"})
    sheet.write_row(0, 0, HEADERS)
    for i, r in enumerate(rows, start=1):
        for j, value in enumerate(r):
            if isinstance(value, datetime.date):
                sheet.write_datetime(
                    i, j, datetime.datetime.combine(value, datetime.time()), date_format
                )
            elif value is None:
                continue
            else:
                sheet.write(i, j, value)
    book.close()
    return target


def run(world: Any, file: Path, **kw: Any):
    return import_roster(file, community_code=world.a.place.code, **kw)


def counts() -> tuple[int, int, int, int]:
    return (
        Resident.objects.count(),
        Place.objects.count(),
        Membership.objects.count(),
        ResidentTag.objects.count(),
    )


def errors(result: Any) -> set[tuple[int, str]]:
    return {(e.row, e.column) for e in result.errors}


# --- reading ---------------------------------------------------------------------------------------


@pytest.mark.parametrize("encoding", ["utf-8", "utf-8-sig", "gb18030"])
def test_csv_in_each_encoding(world, tmp_path, encoding):
    file = csv_file(
        tmp_path, [row("单桂芳", ID_A, "13812345678", head="是", tags="独居")], encoding
    )
    assert detect_encoding(file.read_bytes()) in ("utf-8", "utf-8-sig", "gb18030")
    result = run(world, file)
    assert result.ok, result.errors
    assert result.created == 1
    r = Resident.objects.get()
    assert r.name == "单桂芳" and r.id_number == ID_A and r.phone == "+8613812345678"
    assert r.home_id == world.a.dwelling.pk and r.birth_date == datetime.date(1949, 12, 31)
    tie = Membership.objects.get(resident=r)
    assert tie.dwelling_id == world.a.dwelling.pk and tie.is_head and tie.relation == "family"
    assert [t.tag.code for t in ResidentTag.objects.filter(resident=r)] == ["living_alone"]
    assert r.name_initials.startswith("sgf") or "sgf" in r.name_initials.split()


def test_english_headers_are_accepted(world, tmp_path):
    headers = ["Name", "Document number", "Mobile", "Compound", "Building", "Unit", "Dwelling"]
    file = csv_file(
        tmp_path,
        [[*row("甲", ID_A, "13812345678")[:1], ID_A, "13812345678", "C1", "1", "1", "101"]],
        headers=headers,
    )
    result = run(world, file)
    assert result.ok, result.errors
    assert Resident.objects.get().home_id == world.a.dwelling.pk


def test_excel_numbers_full_width_spaces_and_lowercase_x(world, tmp_path):
    # An ID that a number cell holds exactly as xlsxwriter writes it (16 significant digits).
    exact = "110105194901010208"
    assert ric.is_valid(exact) and int(float(f"{int(exact):.16g}")) == int(exact)
    rows = [
        row("数字", int(exact), 13812345678.0, dwelling="101"),
        row(
            "全角",
            "１１０１０５１９８００１０１００１" + ID_C[-1],
            "１３９００００１１１１",
            dwelling="201",
        ),
        row(
            "空格",
            " " + ID_B[:6] + " " + ID_B[6:14] + " " + ID_B[14:].lower() + " ",
            " 138 1234 0000 ",
        ),
    ]
    result = run(world, xlsx_file(tmp_path, rows))
    assert result.ok, result.errors
    numbers = {r.name: r.id_number for r in Resident.objects.all()}
    assert numbers == {"数字": exact, "全角": ID_C, "空格": ID_B}


def test_ids_excel_rounded_are_reported_unrecoverable(world, tmp_path):
    with translation.override("en"):
        result = run(
            world,
            xlsx_file(tmp_path, [row("浮点", 110105194912310021), row("科学", "1.10105E+17")]),
        )
    assert errors(result) == {(2, "证件号码"), (3, "证件号码")}
    assert all("lost" in e.message for e in result.errors)
    assert not Resident.objects.exists()


def test_dates_as_serials_and_text(world, tmp_path):
    passport = {"id_type": "护照"}
    rows = [
        row("序列", "E1000001", birth=45296, **passport),
        row("横线", "E1000002", birth="2024-01-05", **passport),
        row("斜线", "E1000003", birth="2024/1/5", **passport),
        row("中文", "E1000004", birth="2024年1月5日", **passport),
        row("单元格", "E1000005", birth=datetime.date(2024, 1, 5), **passport),
    ]
    result = run(world, xlsx_file(tmp_path, rows))
    assert result.ok, result.errors
    assert set(Resident.objects.values_list("birth_date", flat=True)) == {datetime.date(2024, 1, 5)}
    assert parse_date("20240105") == datetime.date(2024, 1, 5)


def test_blank_rows_are_skipped_but_counted_in_row_numbers(world, tmp_path):
    rows = [row("一", ID_A), ["", "", ""], [], row("二", "110105194912310028")]
    result = run(world, csv_file(tmp_path, rows))
    assert errors(result) == {(5, "证件号码")}  # header 1, 一 2, blanks 3-4, 二 5
    assert result.rows == 2


# --- rejections: every one reported, nothing written ---------------------------------------------


def test_each_rejection_has_row_column_and_reason(world, roster, tmp_path):
    before = counts()
    rows = [
        row("好", ID_C, "13812345678"),  # 2: fine
        row("校验", "110105194912310028"),  # 3: check digit
        row("手机", ID_B, "12345"),  # 4: phone
        row("性别", "E7654321", id_type="护照", gender="X"),  # 5: gender
        row("标签", valid_id("11010519700101001"), tags="外星人"),  # 6: tag
        row("楼", valid_id("11010519700101002"), building="99"),  # 7: no such building
        row("房", valid_id("11010519700101003"), dwelling="909"),  # 8: no such dwelling
        row("重复", ID_C),  # 9: same document as row 2
        row("日期", "E7654322", id_type="护照", birth="明天"),  # 10: date
        row("户主一", valid_id("11010519700101004"), head="是", dwelling="201"),  # 11: fine
        row("户主二", valid_id("11010519700101005"), head="是", dwelling="201"),  # 12: 2nd head
        row("", valid_id("11010519700101006")),  # 13: no name
        row("类型", "X1", id_type="驾照"),  # 14: document type
    ]
    result = run(world, csv_file(tmp_path, rows))
    assert errors(result) == {
        (3, "证件号码"),
        (4, "手机号码"),
        (5, "性别"),
        (6, "关爱标签"),
        (7, "楼栋"),
        (8, "房号"),
        (9, "证件号码"),
        (10, "出生日期"),
        (12, "是否户主"),
        (13, "姓名"),
        (14, "证件类型"),
    }
    assert all(e.message for e in result.errors)
    assert not result.committed
    assert counts() == before  # all or nothing
    assert not AuditEntry.objects.filter(action="roster.import").exists()


def test_missing_required_column_refuses_the_file(world, tmp_path):
    file = csv_file(tmp_path, [["甲", ID_A]], headers=["姓名", "证件号码"])
    with pytest.raises(ImportFailed):
        run(world, file)


def test_only_xlsx_and_csv(world, tmp_path):
    other = tmp_path / "roster.xls"
    other.write_bytes(b"not really")
    with pytest.raises(ImportFailed):
        run(world, other)


def test_region_code_newer_than_birth_is_a_warning(world, tmp_path):
    late = valid_id("44030619400101001")  # 440306 (Bao'an) did not exist in 1940
    result = run(world, csv_file(tmp_path, [row("迟", late)]))
    assert result.ok and result.created == 1
    assert [(w.row, w.column) for w in result.warnings] == [(2, "证件号码")]


# --- idempotence, changes, history, moves ----------------------------------------------------------


def test_importing_twice_changes_nothing(world, tmp_path):
    rows = [
        row("单桂芳", ID_A, "13812345678", head="是", relation="业主", tags="独居、困难"),
        row("曾志明", ID_B, dwelling="201", relation="租户"),
        row("无证", "", id_type="无证件", building="J1", unit="", compound=""),
    ]
    file = csv_file(tmp_path, rows)
    first = run(world, file)
    assert (first.created, first.updated, first.unchanged) == (3, 0, 0)
    history = Resident.history.count(), Membership.history.count()
    before = counts()
    second = run(world, file)
    assert (second.created, second.updated, second.unchanged) == (0, 0, 3)
    assert counts() == before
    assert (Resident.history.count(), Membership.history.count()) == history
    assert AuditEntry.objects.filter(action="roster.import").count() == 2
    entry = AuditEntry.objects.filter(action="roster.import").first()
    assert entry is not None and entry.place_path == world.a.place.path
    assert entry.data["unchanged"] == 3


def test_a_changed_row_updates_and_leaves_history(world, tmp_path):
    run(world, csv_file(tmp_path, [row("单桂芳", ID_A, "13812345678", tags="独居")]))
    resident = Resident.objects.get()
    changed = csv_file(tmp_path, [row("单桂芳", ID_A, "13900001111", tags="")], name="v2.csv")
    result = run(world, changed, actor=world.worker)
    assert (result.created, result.updated) == (0, 1)
    resident.refresh_from_db()
    assert resident.phone == "+8613900001111"
    assert not ResidentTag.objects.filter(resident=resident).exists()
    states = list(resident.history.order_by("history_date", "history_id"))
    assert [h.history_type for h in states] == ["+", "~"]
    assert states[0].phone == "+8613812345678" and states[1].phone == "+8613900001111"
    assert states[1].history_user_id == world.worker.pk


def test_moving_ends_the_old_tie_and_sets_home(world, tmp_path):
    run(world, csv_file(tmp_path, [row("搬家", ID_A)]))
    moved = csv_file(
        tmp_path, [row("搬家", ID_A, building="J1", unit="", compound="")], name="b.csv"
    )
    result = run(world, moved)
    assert result.updated == 1
    resident = Resident.objects.get()
    new_home = Place.objects.get(parent=world.a.loose_building, code="101")
    assert resident.home_id == new_home.pk
    old = Membership.objects.get(resident=resident, dwelling=world.a.dwelling)
    assert old.until == timezone.localdate()
    assert Membership.objects.get(resident=resident, until__isnull=True).dwelling_id == new_home.pk


def test_a_new_head_replaces_the_old_one(world, roster, tmp_path):
    result = run(world, csv_file(tmp_path, [row("新户主", ID_C, head="是")]))
    assert result.ok and result.created == 1
    heads = Membership.objects.filter(dwelling=world.a.dwelling, until__isnull=True, is_head=True)
    assert [m.resident.name for m in heads] == ["新户主"]


def test_people_without_documents_are_matched_by_name_and_dwelling(world, tmp_path):
    file = csv_file(tmp_path, [row("小明", id_type="无证件"), row("小红", id_type="无证件")])
    assert run(world, file).created == 2
    again = run(world, file)
    assert (again.created, again.unchanged) == (0, 2)


def test_deceased_people_are_not_brought_back(world, roster, tmp_path):
    from linli.people import actions

    actions.record_death(None, roster.grandma, timezone.localdate())
    result = run(world, csv_file(tmp_path, [row("单桂芳", ID_A)]))
    assert errors(result) == {(2, "姓名")}


def test_dry_run_writes_nothing(world, tmp_path):
    before = counts()
    result = run(world, csv_file(tmp_path, [row("试", ID_A)]), dry_run=True)
    assert result.ok and result.created == 1 and not result.committed
    assert counts() == before


# --- places ------------------------------------------------------------------------------------------


def test_missing_places_are_created_on_request(world, tmp_path):
    rows = [
        row("甲", ID_A, compound="新小区", building="8", unit="2", dwelling="1203"),
        row("乙", ID_B, compound="新小区", building="8", unit="2", dwelling="1203"),
        row("丙", ID_C, compound="", building="9号楼", unit="", dwelling="101室"),
    ]
    refused = run(world, csv_file(tmp_path, rows))
    assert errors(refused) == {(2, "小区"), (3, "小区"), (4, "楼栋")}
    result = run(world, csv_file(tmp_path, rows), create_places=True)
    assert result.ok, result.errors
    assert result.places_created == 6  # compound, building, unit, dwelling; building, dwelling
    compound = Place.objects.get(parent=world.a.place, name="新小区")
    building = Place.objects.get(parent=compound, code="8")
    unit = Place.objects.get(parent=building, code="2")
    dwelling = Place.objects.get(parent=unit, code="1203")
    for parent, child in ((world.a.place, compound), (compound, building), (building, unit)):
        assert child.path.startswith(parent.path) and len(child.path) == len(parent.path) + 5
    assert dwelling.path.startswith(unit.path) and dwelling.floor == 12
    assert {r.home_id for r in Resident.objects.filter(name__in=["甲", "乙"])} == {dwelling.pk}
    loose = Place.objects.get(parent=world.a.place, code="9", kind=PlaceKind.BUILDING)
    home = Resident.objects.get(name="丙").home
    assert home is not None and home.parent_id == loose.pk
    again = run(world, csv_file(tmp_path, rows), create_places=True)
    assert (again.places_created, again.unchanged) == (0, 3)


def test_workers_in_parallel_give_the_same_result(world, tmp_path):
    rows = [row(f"人{i}", valid_id(f"11010519700101{i:03d}"), dwelling="201") for i in range(300)]
    rows[150] = row("坏", "110105194912310028")
    result = run(world, csv_file(tmp_path, rows), workers=2)
    assert errors(result) == {(152, "证件号码")}
    rows[150] = row("好", ID_A)
    result = run(world, csv_file(tmp_path, rows), workers=2)
    assert result.ok and result.created == 300


# --- a file in many chunks ----------------------------------------------------------------------------
#
# A big file is cut into chunks that workers prepare side by side: a plain CSV file into blocks of
# lines, anything else (quoted cells, .xlsx) into runs of rows read here. Tiny chunks make these
# small files behave like big ones.


@pytest.fixture
def tiny_chunks(monkeypatch):
    from linli.people.importer import reading

    monkeypatch.setattr(reading, "BLOCK_BYTES", 150)  # about two rows
    monkeypatch.setattr(reading, "CHUNK", 2)


@pytest.mark.parametrize("quoted", [False, True], ids=["lines", "quoted"])
@pytest.mark.parametrize("workers", [0, 2])
def test_chunks_keep_row_numbers_and_find_repeats_across_them(
    world, tmp_path, tiny_chunks, quoted, workers
):
    ids = [valid_id(f"11010519700101{i:03d}") for i in range(10)]
    tags = "独居,空巢" if quoted else "独居"  # a comma makes Excel quote the cell
    rows = [
        row("一", ids[0], head="是", tags=tags),  # 2
        row("二", ids[1]),  # 3
        [],  # 4
        row("三", ids[2], dwelling="201"),  # 5
        row("坏", "110105194912310028"),  # 6: check digit
        ["", "", ""],  # 7
        row("四", ids[3], dwelling="201", head="是"),  # 8
        row("二again", ids[1], dwelling="201"),  # 9: the document of row 3
        row("五", ids[4], head="是"),  # 10: a second head for 101
        row("六", ids[5], dwelling="201"),  # 11
    ]
    file = csv_file(tmp_path, rows)
    assert (b'"' in file.read_bytes()) == quoted
    before = counts()
    result = run(world, file, workers=workers)
    assert errors(result) == {(6, "证件号码"), (9, "证件号码"), (10, "是否户主")}
    assert result.rows == 8 and counts() == before
    del rows[8], rows[7], rows[4]
    result = run(world, csv_file(tmp_path, rows, name="fixed.csv"), workers=workers)
    assert result.ok and result.created == 5, result.errors
    heads = Membership.objects.filter(is_head=True, until__isnull=True)
    assert sorted(m.resident.name for m in heads) == ["一", "四"]
    assert ResidentTag.objects.filter(resident__name="一").count() == (2 if quoted else 1)


def test_a_file_of_old_and_new_people_in_many_chunks(world, tmp_path, tiny_chunks):
    """Chunks of people already here, then chunks of new ones, then old again: on PostgreSQL the
    COPY of the first chunk fails and chunks are looked up until one holds nobody known."""
    ids = [valid_id(f"11010519700101{i:03d}") for i in range(12)]
    old = [row(f"旧{i}", ids[i], dwelling="201") for i in range(6)]
    assert run(world, csv_file(tmp_path, old)).created == 6
    new = [row(f"新{i}", ids[i], dwelling="201") for i in range(6, 12)]
    old[4] = row("旧4", ids[4], "13812345678", dwelling="201")  # changed
    file = csv_file(tmp_path, old[:3] + new + old[3:], name="mixed.csv")
    result = run(world, file, workers=2)
    assert result.ok, result.errors
    assert (result.created, result.updated, result.unchanged) == (6, 1, 5)
    assert Resident.objects.count() == 12
    assert Resident.objects.get(name="旧4").phone == "+8613812345678"
    assert Membership.objects.filter(until__isnull=True).count() == 12
    again = run(world, file, workers=2)
    assert (again.created, again.updated, again.unchanged) == (0, 0, 12)


def test_rows_in_new_places_keep_the_order_of_the_file(world, tmp_path):
    """The first row names a place this import creates, so the writer, not a worker, finishes it;
    the second, in a known place, repeats its document and is the one reported."""
    rows = [
        row("甲", ID_A, compound="新小区", building="8", unit="2", dwelling="1203"),
        row("甲二", ID_A),
        row("乙", ID_B, compound="新小区", building="8", unit="2", dwelling="1203", head="是"),
        row("丙", ID_C, head="是"),
    ]
    result = run(world, csv_file(tmp_path, rows), create_places=True)
    assert errors(result) == {(3, "证件号码")}
    del rows[1]
    result = run(world, csv_file(tmp_path, rows, name="fixed.csv"), create_places=True)
    assert result.ok and (result.created, result.places_created) == (3, 4)
    new_home = Place.objects.get(kind=PlaceKind.DWELLING, code="1203")
    assert set(Resident.objects.filter(home=new_home).values_list("name", flat=True)) == {
        "甲",
        "乙",
    }
    head = Membership.objects.get(dwelling=new_home, is_head=True, until__isnull=True)
    assert head.resident.name == "乙"


def test_a_csv_file_with_old_mac_line_ends(world, tmp_path):
    text = io.StringIO()
    csv.writer(text, lineterminator="\r").writerows([HEADERS, row("一", ID_A), row("二", ID_B)])
    file = tmp_path / "mac.csv"
    file.write_bytes(text.getvalue().encode())
    result = run(world, file)
    assert result.ok and result.created == 2, result.errors


def test_the_quick_path_agrees_with_the_full_check(world):
    """``quick_row`` takes the usual rows and gives what ``prepare_row`` gives; any row it is not
    sure of it leaves to ``prepare_row``, which reports the problems."""
    import itertools

    from linli.core.crypto import keyring
    from linli.people.importer import (
        Context,
        ImportResult,
        prepare_row,
        quick_row,
        tag_words,
    )
    from linli.people.importer.columns import read_header

    columns, _first = read_header(iter([[*HEADERS, "民族", "居住类型"]]), ImportResult())
    context = Context(columns, tag_words(), "zh-hans", timezone.localdate(), now_db="now")
    ring = keyring()

    def plain(p: Any) -> Any:
        """The row with its ciphertexts (a new nonce each time) replaced by what they hold."""
        if not hasattr(p, "values"):
            return p
        clear = [ring.decrypt(v) if v else "" for v in (p.id_enc, p.phone_enc)]
        values = list(p.values)
        values[7], values[9] = clear
        return p._replace(id_enc=clear[0], phone_enc=clear[1], values=tuple(values))

    ids: list[Any] = [
        ID_A,
        ID_A.lower(),
        ID_B,
        "110105491231002",
        "１１０１０５１９４９１２３１００２Ｘ",
    ]
    ids += [
        "110105194912310028",
        "11010519491231002",
        1.10105e17,
        "",
        valid_id("99999919800101001"),
    ]
    variants = itertools.product(
        ids,
        ["", "13812345678", "+8613812345678", "12345", "138 1234 5678", 13812345678],
        ["", "男", "女", "m"],
        ["", "1949-12-31", "1980-01-01", "not a date"],
        ["", "独居、困难", "独居,没有这个标签"],
        [
            ("", "", "否"),
            ("居民身份证", "业主", "是"),
            ("护照", "租户", "Y"),
            ("身份证", "亲戚", "可能"),
        ],
        [("", ""), ("汉族", "流动"), (" 回族 ", "外星")],
    )
    quick = 0
    for n, variant in enumerate(variants):
        id_number, phone, gender, birth, tags, (id_type, relation, head), more = variant
        cells = row(
            f"测试{n % 7}",
            id_number,
            phone,
            id_type=id_type,
            relation=relation,
            head=head,
            tags=tags,
            birth=birth,
            gender=gender,
        )
        cells = [*cells, *more, None]
        fast = quick_row(n, list(cells), context, n)
        full = prepare_row(n, list(cells), context, n)
        if fast is not None:
            quick += 1
            assert plain(fast) == plain(full), cells
    assert quick > 100  # the usual rows do take the quick path


def test_copy_text_round_trip():
    """PostgreSQL's rows travel from the workers as COPY text; a re-import reads them back."""
    from linli.people.importer.pgcopy import copy_field, copy_text, from_copy, resident_line

    # The spelled-out line is the generic one: every column, in the order COPY names them.
    values: tuple[Any, ...] = (
        "名",
        "ming",
        "m",
        "M",
        "1990-01-02",
        "汉族",
        "citizen_id",
        "k1$x",
        "ab",
        "",
    )
    values += ("", "registered", "active", None, "", "2026-01-01 00:00:00+00:00", "same")
    assert resident_line(5, values, 9) == "\t".join(map(copy_field, (5, *values, 9)))

    rows = [(1, "a\\b\tc\nd\re", None, True, 7), (2, "", "\\N", False, 8)]
    text = copy_text(["\t".join(map(copy_field, r)) for r in rows])
    assert text.count(b"\n") == 2
    assert from_copy(text, (0, 4), (3,)) == rows
    assert from_copy(copy_text([]), (0,)) == []


def test_names_with_backslashes_survive_import_and_reimport(world, tmp_path):
    file = csv_file(tmp_path, [row("王\\小明", ID_A, head="是"), row("李 \\N", ID_B)])
    assert run(world, file).created == 2
    assert set(Resident.objects.values_list("name", flat=True)) == {"王\\小明", "李 \\N"}
    again = run(world, file)
    assert (again.created, again.unchanged) == (0, 2)


def test_an_import_leaves_foreign_keys_deferred(world, tmp_path):
    """On PostgreSQL the import checks foreign keys as it goes, then sets them back to deferred,
    as Django expects: a row may point to one written later in the same transaction."""
    from django.db import transaction

    assert run(world, csv_file(tmp_path, [row("一", ID_A)])).created == 1
    with transaction.atomic():
        tie = Membership.objects.create(
            resident_id=10**9, dwelling=world.a.dwelling, relation="family"
        )
        Resident.objects.create(id=10**9, name="后来", home=world.a.dwelling)
    assert tie.resident.name == "后来"


def test_plain_lines_are_read_as_the_csv_module_reads_them():
    from linli.people.importer import Context, ImportFailed
    from linli.people.importer.reading import records

    context = Context({"name": 0}, {}, "zh-hans", encoding="utf-8")
    text = "a,b,,\r\n\n,\r\n 空格 ,x\n\r\n,,,\n最后,一行"
    assert list(records(text.encode(), context)) == list(csv.reader(io.StringIO(text, newline="")))
    with pytest.raises(ImportFailed):
        list(records(b"a,b\n\x00,c\n", context))


@pytest.mark.parametrize("quoted", [False, True], ids=["lines", "quoted"])
def test_bytes_in_no_known_encoding_refuse_the_file(world, tmp_path, quoted):
    """Past the first megabyte (where the encoding is guessed), a byte that is not UTF-8."""
    rows = [row("一", ID_A, tags="独居,空巢" if quoted else "")] * 16000
    file = csv_file(tmp_path, rows)
    file.write_bytes(file.read_bytes() + b"\xff\xfe,1,1\n")
    assert file.stat().st_size > 1 << 20
    before = counts()
    with pytest.raises(ImportFailed, match="UTF-8"):
        run(world, file)
    assert counts() == before


# --- the command -------------------------------------------------------------------------------------


def test_command_imports_and_refuses_bad_files(world, tmp_path, capsys):
    good = csv_file(tmp_path, [row("命令", ID_A)], name="good.csv")
    call_command("import-roster", str(good), "--community", world.a.place.code, "--dry-run")
    assert not Resident.objects.exists()
    call_command("import-roster", str(good), "--community", world.a.place.code)
    assert Resident.objects.count() == 1
    bad = csv_file(tmp_path, [row("命令二", "110105194912310028")], name="bad.csv")
    with pytest.raises(CommandError):
        call_command("import-roster", str(bad), "--community", world.a.place.code)
    assert "证件号码" in capsys.readouterr().err
    assert Resident.objects.count() == 1
    with pytest.raises(CommandError):
        call_command("import-roster", str(good), "--community", "999999999999")


def test_template_command_writes_the_headers(tmp_path):
    from python_calamine import CalamineWorkbook

    target = tmp_path / "template.xlsx"
    call_command("roster-template", "--out", str(target))
    first = next(CalamineWorkbook.from_path(str(target)).get_sheet_by_index(0).iter_rows())
    assert first == TEMPLATE_HEADERS


# --- the pages ---------------------------------------------------------------------------------------


def test_upload_preview_confirm(world, as_user, tmp_path, settings):
    settings.MEDIA_ROOT = tmp_path / "media"
    client = as_user(world.worker)
    page = client.get(reverse("people:import"))
    assert page.status_code == 200 and world.a.place.name in page.content.decode()
    file = csv_file(tmp_path, [row("页面", ID_A, head="是")])
    with open(file, "rb") as f:
        preview = client.post(reverse("people:import"), {"community": world.a.place.pk, "file": f})
    assert preview.status_code == 200
    assert not Resident.objects.exists()  # the preview is a dry run
    token = preview.context["token"]
    assert list((tmp_path / "media" / "imports").iterdir())
    done = client.post(reverse("people:import"), {"token": token})
    assert done.status_code == 200 and done.context["result"].created == 1
    assert Resident.objects.get().name == "页面"
    assert not list((tmp_path / "media" / "imports").iterdir())  # deleted after
    assert client.post(reverse("people:import"), {"token": token}).status_code == 404


def test_preview_lists_bad_rows(world, as_user, tmp_path, settings):
    settings.MEDIA_ROOT = tmp_path / "media"
    client = as_user(world.worker)
    file = csv_file(tmp_path, [row("好", ID_A), row("坏", "110105194912310028")])
    with open(file, "rb") as f:
        preview = client.post(reverse("people:import"), {"community": world.a.place.pk, "file": f})
    assert preview.status_code == 200 and "token" not in preview.context
    html = preview.content.decode()
    assert "证件号码" in html and "3" in html
    assert not Resident.objects.exists()


def test_upload_refuses_other_file_types(world, as_user, tmp_path, settings):
    settings.MEDIA_ROOT = tmp_path / "media"
    client = as_user(world.worker)
    other = tmp_path / "roster.txt"
    other.write_text("x")
    with open(other, "rb") as f:
        page = client.post(reverse("people:import"), {"community": world.a.place.pk, "file": f})
    assert page.status_code == 400


@pytest.mark.parametrize("name", ["chief", "neighbour", "outsider", "street_admin"])
def test_others_get_404_for_community_a(world, as_user, tmp_path, settings, name):
    settings.MEDIA_ROOT = tmp_path / "media"
    client = as_user(getattr(world, name))
    file = csv_file(tmp_path, [row("闯入", ID_A)])
    with open(file, "rb") as f:
        post = client.post(reverse("people:import"), {"community": world.a.place.pk, "file": f})
    assert post.status_code == 404
    if name != "neighbour":
        assert client.get(reverse("people:import")).status_code == 404
        assert client.get(reverse("people:import_template")).status_code == 404
    assert not Resident.objects.exists()


def test_template_download(world, as_user):
    response = as_user(world.worker).get(reverse("people:import_template"))
    assert response.status_code == 200
    body = b"".join(response.streaming_content)
    assert body[:2] == b"PK"


def test_anonymous_is_sent_to_login(client):
    assert client.get(reverse("people:import")).status_code == 302
    assert client.get(reverse("people:export")).status_code == 302


def test_check_digit_helper_is_consistent():
    assert ric.is_valid(ID_A) and ric.is_valid(ID_B) and ric.is_valid(ID_C)


@pytest.mark.parametrize("create_places", [False, True])
def test_bench_import_measures_import_and_floor(tmp_path, create_places):
    """The benchmark runs end to end on a small file: every row imported, re-imported unchanged,
    and the floor written and dropped."""
    from django.db import connection

    from linli.people import bench_import

    report = bench_import.run(300, tmp_path / "bench.json", workers=0, create_places=create_places)
    assert report["import"]["created"] == 300
    assert report["reimport_unchanged"]["unchanged"] == 300
    assert report["floor"]["rows"] == 300
    assert report["ratio"] > 0
    laid_out = report["places_laid_out_first"]["places"]
    assert (laid_out == 0) == create_places
    assert (report["import"]["places_created"] == 0) != create_places
    assert "bench_floor_resident" not in connection.introspection.table_names()
    assert (tmp_path / "bench.json").exists()
