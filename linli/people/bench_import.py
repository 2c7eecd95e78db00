"""``linli bench-import``: how fast a roster import is, against the floor measured in the same run.

It makes a bench community, writes a CSV of N resident-like rows (valid citizen IDs, mobile numbers,
names, dwellings sorted by building as office spreadsheets are), imports it and then imports it
again (every row unchanged). By default the community's compounds, buildings, units and dwellings
are laid out first, as a community sets up its places before its roster, and the import finds them;
with ``create_places`` the import makes them itself (a third of a place per row, each written with
the place table's nine indexes), which is also measured and reported apart. The floor is the same rows as the import left them
in the table, validated and encrypted, written again by the fastest plain method — one
``executemany`` in one transaction on SQLite, ``COPY`` on PostgreSQL — into a scratch copy of the
table with the same indexes and foreign key, dropped afterwards. The machines are shared and noisy:
read the ratio.
"""

from __future__ import annotations

import csv
import datetime
import json
import os
import resource
import time
from pathlib import Path
from typing import Any

from django.db import connection, transaction
from stdnum.cn import ric

from linli.people.importer import (
    RESIDENT_COLUMNS,
    TEMPLATE_HEADERS,
    ImportResult,
    Writer,
    import_roster,
)
from linli.places import actions as place_actions
from linli.places.models import Place, PlaceKind

DISTRICT = ("440198", "基准区（演示）")
STREET = ("440198001000", "基准街道（演示）")
# Region codes that existed in every birth year generated, so no row draws a region warning.
REGIONS = ["110105", "310104", "110101", "310101"]
SURNAMES = "王李张刘陈杨黄赵吴周徐孙马朱胡郭何高林罗郑梁谢宋唐许韩冯邓曹彭曾肖田董袁潘于蒋蔡余杜叶程苏魏吕丁任沈姚卢单"
GIVEN = "伟芳娜敏静丽强磊军洋勇艳杰娟涛明超秀霞平刚桂英华玉兰萍红建国志文海燕婷"
PER_DWELLING = 3
UNITS, FLOORS, PER_FLOOR = 2, 30, 4
# The floor writes the same columns as the import, less the id the database assigns.
FLOOR_COLUMNS = tuple(c for c in RESIDENT_COLUMNS if c != "id")


def _community() -> Place:
    district = Place.objects.filter(kind=PlaceKind.DISTRICT, code=DISTRICT[0]).first()
    if district is None:
        district = place_actions.create_place(
            None, kind=PlaceKind.DISTRICT, code=DISTRICT[0], name=DISTRICT[1]
        )
    street = Place.objects.filter(kind=PlaceKind.STREET, code=STREET[0]).first()
    if street is None:
        street = place_actions.create_place(
            None, kind=PlaceKind.STREET, code=STREET[0], name=STREET[1], parent=district
        )
    number = Place.objects.filter(parent=street).count() + 1
    return place_actions.create_place(
        None,
        kind=PlaceKind.COMMUNITY,
        code=f"{STREET[0][:9]}{number:03d}",
        name=f"基准社区{number:03d}",
        parent=street,
    )


def write_csv(path: Path, rows: int, run: int) -> None:
    """N rows, streamed to disk. Each run uses another region code, so its IDs are new."""
    region = REGIONS[run % len(REGIONS)]
    first = datetime.date(1940, 1, 1)
    per_building = UNITS * FLOORS * PER_FLOOR * PER_DWELLING
    with open(path, "w", encoding="utf-8-sig", newline="") as out:
        writer = csv.writer(out)
        writer.writerow(TEMPLATE_HEADERS)
        for i in range(rows):
            born = first + datetime.timedelta(days=i % 27000)
            body = f"{region}{born:%Y%m%d}{i // 27000 % 1000:03d}"
            number = body + ric.calc_check_digit(body + "0")
            gender = "男" if int(body[16]) % 2 else "女"
            building, rest = divmod(i, per_building)
            unit, rest = divmod(rest, FLOORS * PER_FLOOR * PER_DWELLING)
            floor, rest = divmod(rest, PER_FLOOR * PER_DWELLING)
            door, member = divmod(rest, PER_DWELLING)
            name = SURNAMES[i % len(SURNAMES)] + GIVEN[i * 7 % len(GIVEN)]
            if i % 3:
                name += GIVEN[i * 13 % len(GIVEN)]
            writer.writerow(
                [
                    name,
                    "居民身份证",
                    number,
                    gender,
                    born.isoformat(),
                    "汉族",
                    _phone(i) if i % 5 else "",
                    "户籍" if i % 4 else "常住",
                    f"基准花园{building // 100 + 1}",
                    str(building % 100 + 1),
                    str(unit + 1),
                    f"{floor + 1}{door + 1:02d}",
                    "业主" if member == 0 else "家庭成员",
                    "是" if member == 0 else "否",
                    "独居" if i % 10 == 0 else "",
                ]
            )


def _lay_out_places(community: Place, rows: int) -> int:
    """The compounds, buildings, units and dwellings ``write_csv`` names, written the way the
    importer writes the places it creates. Returns how many."""
    writer = Writer(community, None, True, ImportResult())
    per_building = UNITS * FLOORS * PER_FLOOR * PER_DWELLING
    buildings = -(-rows // per_building)
    with transaction.atomic():
        for building in range(buildings):
            compound = writer.level(
                writer.community,
                PlaceKind.COMPOUND,
                f"基准花园{building // 100 + 1}",
                0,
                "compound",
            )
            assert compound is not None
            block = writer.level(
                compound, PlaceKind.BUILDING, str(building % 100 + 1), 0, "building"
            )
            assert block is not None
            new = []
            for unit in range(UNITS):
                holder = writer.level(block, PlaceKind.UNIT, str(unit + 1), 0, "unit")
                assert holder is not None
                for floor in range(FLOORS):
                    for door in range(PER_FLOOR):
                        code = f"{floor + 1}{door + 1:02d}"
                        new.append(writer.new_place(holder, PlaceKind.DWELLING, code))
            place_actions.write_places(new, writer.now_db)
            writer.result.places_created += len(new)
    return writer.result.places_created


def _phone(i: int) -> str:
    # Numbers are handed out by seven-digit segment (号段) per city, so a community's residents
    # share a few thousand segments: 5,000 here.
    segment = i * 7 % 5000
    return f"13{segment % 10}{segment // 10:04d}{i // 7 % 10000:04d}"


def _rss_mb(who: int) -> float:
    return round(resource.getrusage(who).ru_maxrss / 1024, 1)  # Linux reports KiB


def _floor(first_id: int, rows_wanted: int) -> dict[str, Any]:
    """Insert the import's rows again, as they are stored, into a scratch copy of the table. They
    are the residents from ``first_id`` on: on PostgreSQL the sequence may have moved past the
    table's largest id (rolled-back transactions take ids too), so not a fixed id range."""
    columns = ", ".join(FLOOR_COLUMNS)
    with connection.cursor() as cursor:
        cursor.execute(
            f"SELECT {columns} FROM people_resident WHERE id >= %s ORDER BY id LIMIT %s",  # noqa: S608
            [first_id, rows_wanted],
        )
        rows = cursor.fetchall()
        _make_scratch(cursor)
    try:
        started = time.perf_counter()
        with transaction.atomic(), connection.cursor() as cursor:
            if connection.vendor == "postgresql":
                with cursor.cursor.copy(f"COPY bench_floor_resident ({columns}) FROM STDIN") as c:
                    for row in rows:
                        c.write_row(row)
                # The deferred foreign key checks, now and timed (inside an outer transaction,
                # as in the tests, the commit would not run them).
                cursor.execute("SET CONSTRAINTS ALL IMMEDIATE")
            else:
                marks = ", ".join(["%s"] * len(FLOOR_COLUMNS))
                cursor.executemany(
                    f"INSERT INTO bench_floor_resident ({columns}) VALUES ({marks})",  # noqa: S608
                    rows,
                )
        seconds = time.perf_counter() - started
    finally:
        with connection.cursor() as cursor:
            cursor.execute("DROP TABLE IF EXISTS bench_floor_resident")
    return {
        "rows": len(rows),
        "seconds": round(seconds, 2),
        "rows_per_s": round(len(rows) / seconds),
    }


def _make_scratch(cursor: Any) -> None:
    cursor.execute("DROP TABLE IF EXISTS bench_floor_resident")
    if connection.vendor == "postgresql":
        cursor.execute("CREATE TABLE bench_floor_resident (LIKE people_resident INCLUDING ALL)")
        cursor.execute(
            "ALTER TABLE bench_floor_resident ADD FOREIGN KEY (home_id)"
            " REFERENCES places_place (id) DEFERRABLE INITIALLY DEFERRED"
        )
        return
    cursor.execute(
        "SELECT type, name, sql FROM sqlite_master WHERE tbl_name = 'people_resident'"
        " AND sql IS NOT NULL ORDER BY type DESC"
    )
    for kind, name, sql in cursor.fetchall():
        sql = sql.replace('"people_resident"', '"bench_floor_resident"')
        if kind == "index":
            sql = sql.replace(f'"{name}"', f'"bench_floor_{name}"', 1)
        cursor.execute(sql)


def run(
    rows: int, out_path: str | Path, *, workers: int | None = None, create_places: bool = False
) -> dict[str, Any]:
    out_path = Path(out_path)
    out_path.parent.mkdir(parents=True, exist_ok=True)
    community = _community()
    run_no = Place.objects.filter(parent_id=community.parent_id).count()
    data_file = out_path.with_name(f"bench-import-{os.getpid()}.csv")
    started = time.perf_counter()
    write_csv(data_file, rows, run_no)
    generated = time.perf_counter() - started
    places_laid_out = 0
    started = time.perf_counter()
    if not create_places:
        places_laid_out = _lay_out_places(community, rows)
    laid_out_s = time.perf_counter() - started
    first_id = (
        connection.cursor()
        .execute("SELECT coalesce(max(id), 0) FROM people_resident")
        .fetchone()[0]
        + 1
    )
    try:
        started = time.perf_counter()
        result = import_roster(
            data_file, community_code=community.code, create_places=create_places, workers=workers
        )
        seconds = time.perf_counter() - started
        if not result.ok:
            raise RuntimeError(f"the bench file had errors: {result.errors[:5]}")
        memory = {"main_mb": _rss_mb(resource.RUSAGE_SELF)}
        memory["workers_mb"] = _rss_mb(resource.RUSAGE_CHILDREN)
        # Right after the import, so that both see the machine as it is that minute: a shared
        # machine's speed drifts, and the ratio should not.
        floor = _floor(first_id, rows)
        started = time.perf_counter()
        again = import_roster(data_file, community_code=community.code, workers=workers)
        seconds_again = time.perf_counter() - started
        size_mb = round(data_file.stat().st_size / 2**20, 1)
    finally:
        data_file.unlink(missing_ok=True)
    report = {
        "database": connection.vendor,
        "rows": rows,
        "file_mb": size_mb,
        "generate_s": round(generated, 1),
        "places_laid_out_first": {"places": places_laid_out, "seconds": round(laid_out_s, 1)},
        "import": {
            "seconds": round(seconds, 2),
            "rows_per_s": round(rows / seconds),
            "created": result.created,
            "places_created": result.places_created,
            "peak_rss": memory,
        },
        "reimport_unchanged": {
            "seconds": round(seconds_again, 2),
            "rows_per_s": round(rows / seconds_again),
            "unchanged": again.unchanged,
        },
        "floor": floor,
        "ratio": round((rows / seconds) / floor["rows_per_s"], 3),
        "create_places": create_places,
        "workers": workers,
        "cpus": os.cpu_count(),
    }
    out_path.write_text(json.dumps(report, indent=1, ensure_ascii=False))
    return report
