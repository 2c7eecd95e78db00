"""Invented cases for the demo street and the benchmark communities.

About 0.8 cases a dwelling a year (a community of 3,000 households takes in six or seven a day),
received evenly over the last year, in every state: the old ones mostly rated and closed, some
rejected or merged, a few still open and overdue; the recent ones spread over the open states.
Most are answered and resolved within their category's deadlines. Rows are written in bulk
(``executemany`` on SQLite, ``COPY`` on PostgreSQL) with their timeline events, so that
``linli demo --scale`` can make hundreds of thousands. Historic cases get no audit records or
notifications: they were not made by anyone in this database.
"""

from __future__ import annotations

import datetime
import random
import time
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

from django.db import connection, transaction
from django.db.models import Count, Q
from django.utils import timezone

from linli.accounts.models import Grant
from linli.accounts.roles import Role
from linli.core import bulk
from linli.core.paths import path_end
from linli.places.models import Place, PlaceKind

from . import catalogue
from .models import AttributeValue, Case, CaseEvent, Category, CategoryAttribute, State
from .workflow import ASSIGNEE_KIND_OF_ROLE, CODE_ALPHABET

PER_DWELLING_YEAR = 0.8
BATCH = 20000

CASE_COLUMNS = (
    "id", "code", "channel", "category_id", "place_id", "path", "grid_id", "lane_id", "title",
    "description", "priority", "state", "resident_id", "reporter_name", "reporter_phone",
    "reporter_phone_index", "anonymous", "created_by_id", "assignee_id", "assignee_kind",
    "received_at", "respond_by", "responded_at", "accepted_at", "resolve_by", "resolved_at",
    "rated_at", "closed_at", "overdue", "escalated_at", "reject_reason", "resolution", "rating",
    "rating_comment", "merged_into_id", "updated_at", "public_id", "attributes",
)  # fmt: skip
EVENT_COLUMNS = ("case_id", "at", "actor_id", "kind", "from_state", "to_state", "note", "public")

# What residents raise, per category: {b} is the building's name.
TEXTS: dict[str, list[str]] = {
    "lift": ["{b}电梯停在{f}楼不动", "{b}电梯门关不上，有异响", "{b}电梯按钮失灵，老人上下楼困难"],
    "lighting": [
        "{b}{f}楼楼道灯不亮一周了",
        "{b}门口路灯坏了，晚上很黑",
        "{b}声控灯太灵敏，整夜亮着",
    ],
    "leak": ["{b}{f}楼天花板渗水", "{b}楼顶防水层老化，下雨漏水", "{b}地下室水管爆裂"],
    "rubbish": ["{b}旁垃圾桶满了没人清运", "{b}门口建筑垃圾堆放多日", "{b}分类垃圾混投，气味大"],
    "greenery": ["{b}前树枝挡住窗户", "{b}旁草坪被踩秃了", "{b}门口树木需要修剪"],
    "parking": ["{b}门口车辆乱停堵住消防通道", "{b}旁地面车位不够", "{b}电动车乱停放"],
    "noise": ["{b}{f}楼装修噪音到晚上十点", "{b}楼下广场舞音乐太大", "{b}空调外机噪音扰民"],
    "neighbours": ["{b}{f}楼邻居漏水不愿维修", "{b}邻居在楼道堆放杂物", "{b}宠物狗在楼道便溺"],
    "fire": ["{b}楼道里电动车飞线充电", "{b}消防通道被杂物堵塞", "{b}灭火器过期"],
    "safety": ["{b}单元门禁坏了，陌生人随意进出", "{b}附近夜间有可疑人员", "{b}监控摄像头不工作"],
    "care": ["{b}{f}楼独居老人几天没出门", "{b}有老人需要助餐服务", "{b}残疾居民需要无障碍坡道"],
    "policy": ["咨询高龄津贴怎么申请", "咨询居住证办理流程", "咨询加装电梯补贴政策"],
    "suggestion": ["建议在{b}旁增设休息座椅", "建议小区增加快递柜", "建议开设周末读书会"],
    "property": ["{b}物业维修响应太慢", "{b}物业费公示不清楚", "{b}保洁不到位"],
}
CHANNELS = [
    ("qr", 30), ("phone", 20), ("wechat", 18), ("reception", 12), ("patrol", 10),
    ("deliberation", 5), ("visit", 5),
]  # fmt: skip
RATINGS = [(5, 45), (4, 30), (3, 12), (2, 8), (1, 5)]
RESOLUTIONS = ["已联系维修人员处理完毕", "已上门协调，双方达成一致", "已清理完毕", "已答复居民"]


@dataclass
class Summary:
    cases: int = 0
    events: int = 0
    seconds: float = 0.0


def _pick(rng: random.Random, weighted: Sequence[tuple[Any, int]]) -> Any:
    return rng.choices([v for v, _w in weighted], [w for _v, w in weighted])[0]


class _Gen:
    def __init__(self, seed: int, now: datetime.datetime, assignees: list[Any]) -> None:
        self.rng = random.Random(seed)
        self.now = now
        self.categories = {c.code: c for c in Category.objects.filter(parent__isnull=False)}
        for c in Category.objects.filter(parent__isnull=True, children__isnull=True):
            self.categories[c.code] = c
        self.codes: set[str] = set()
        # Public ids from a generator of their own, so that adding them changed no other column.
        self.id_rng = random.Random(seed + 1)
        self.public_ids: set[str] = set()
        self.assignees: list[tuple[int, str, str, int | None]] = assignees
        self.cases: list[list[Any]] = []
        self.events: list[tuple[Any, ...]] = []
        self.local = 0

    def code(self) -> str:
        while True:
            code = "".join(self.rng.choice(CODE_ALPHABET) for _i in range(8))
            if code not in self.codes:
                self.codes.add(code)
                return code

    def public_id(self) -> str:
        while True:
            public_id = f"{self.id_rng.getrandbits(64):016x}"
            if public_id not in self.public_ids:
                self.public_ids.add(public_id)
                return public_id

    def case(self, building: Any) -> None:
        rng, now = self.rng, self.now
        code = rng.choice([c for c in TEXTS if c in self.categories])
        category = self.categories[code]
        text = rng.choice(TEXTS[code]).format(b=building["name"], f=rng.randint(1, 18))
        received = now - datetime.timedelta(seconds=rng.uniform(0, 365 * 86400))
        hours = category.response_hours
        respond_by = received + datetime.timedelta(hours=hours)
        age = now - received
        local = self.local
        self.local += 1
        events: list[tuple[Any, ...]] = [
            (local, received, None, "state", "", State.RECEIVED, "", True)
        ]
        row: dict[str, Any] = {
            "state": State.RECEIVED, "responded_at": None, "accepted_at": None,
            "resolve_by": None, "resolved_at": None, "rated_at": None, "closed_at": None,
            "overdue": False, "reject_reason": "", "resolution": "", "rating": None,
            "assignee_id": None, "assignee_kind": "",
        }  # fmt: skip

        def step(at: datetime.datetime, before: str, after: str, note: str = "") -> None:
            events.append((local, at, None, "state", before, after, note, True))
            row["state"] = after

        # How far this case has got: by the share of its full course (answer and resolution
        # deadlines) that has passed, and a few stuck along the way, which the sweep flags.
        course = hours * 3600 + category.resolve_days * 86400
        if rng.random() < 0.03:
            stage = rng.random() * 0.7
        else:
            stage = min(1.0, age.total_seconds() / course * rng.uniform(0.6, 1.6))
        late = rng.random() < 0.12
        answer_at = received + datetime.timedelta(
            hours=hours * (rng.uniform(1.1, 3) if late else rng.uniform(0.05, 0.9))
        )
        if stage < 0.08 or answer_at > now:
            row["overdue"] = respond_by < now
        elif rng.random() < 0.07:
            row["responded_at"] = row["closed_at"] = answer_at
            row["reject_reason"] = "不属于社区职责范围，已告知居民拨打12345"
            step(answer_at, State.RECEIVED, State.REJECTED, row["reject_reason"])
        else:
            row["responded_at"] = row["accepted_at"] = answer_at
            row["resolve_by"] = answer_at + datetime.timedelta(days=category.resolve_days)
            step(answer_at, State.RECEIVED, State.ACCEPTED)
            if stage >= 0.2:
                people = _covering(self.assignees, building)
                assignee = rng.choice(people) if people else None
                row["assignee_id"] = assignee[0] if assignee else None
                row["assignee_kind"] = assignee[1] if assignee else "worker"
                step(answer_at, State.ACCEPTED, State.ASSIGNED)
                if stage >= 0.35:
                    step(answer_at + datetime.timedelta(hours=2), State.ASSIGNED, State.IN_PROGRESS)
            days = category.resolve_days
            done_at = answer_at + datetime.timedelta(
                days=days * (rng.uniform(1.05, 2) if rng.random() < 0.1 else rng.uniform(0.1, 0.95))
            )
            if stage >= 0.5 and done_at < now:
                row["resolved_at"] = done_at
                row["resolution"] = rng.choice(RESOLUTIONS)
                step(done_at, row["state"], State.RESOLVED, row["resolution"])
                rated_at = done_at + datetime.timedelta(hours=rng.uniform(1, 72))
                if stage >= 0.7 and rated_at < now and rng.random() < 0.75:
                    row["rating"] = _pick(rng, RATINGS)
                    row["rated_at"] = rated_at
                    step(rated_at, State.RESOLVED, State.RATED)
                    if stage >= 0.8:
                        row["closed_at"] = rated_at + datetime.timedelta(days=1)
                        step(row["closed_at"], State.RATED, State.CLOSED)
                elif done_at + datetime.timedelta(days=7) < now and stage >= 0.8:
                    row["closed_at"] = done_at + datetime.timedelta(days=7)
                    step(row["closed_at"], State.RESOLVED, State.CLOSED)
            elif row["resolve_by"] < now:
                row["overdue"] = True
        self.events.extend(events)
        updated = max(e[1] for e in events)
        self.cases.append([
            local, self.code(), _pick(rng, CHANNELS), category.pk, building["id"], building["path"],
            building["grid_id"], building["lane_id"], text[:40], text,
            "urgent" if code in ("fire", "safety") and rng.random() < 0.5 else "normal",
            row["state"], None, "", "", "", rng.random() < 0.15, None, row["assignee_id"],
            row["assignee_kind"], received, respond_by, row["responded_at"], row["accepted_at"],
            row["resolve_by"], row["resolved_at"], row["rated_at"], row["closed_at"],
            row["overdue"], None, row["reject_reason"], row["resolution"], row["rating"], "",
            None, updated, self.public_id(), "{}",
        ])  # fmt: skip


def _check_columns() -> None:
    for model, columns in ((Case, CASE_COLUMNS), (CaseEvent, ("id", *EVENT_COLUMNS))):
        actual = {f.column for f in model._meta.concrete_fields}
        if actual != set(columns):
            raise RuntimeError(
                f"cases.demo writes {model.__name__} columns {sorted(columns)}, the model has "
                f"{sorted(actual)}: update cases.demo"
            )


def _flush(gen: _Gen, summary: Summary) -> None:
    if not gen.cases:
        return
    ids = bulk.reserve_ids(Case._meta.db_table, len(gen.cases))
    for row in gen.cases:
        row[0] = ids[row[0]]
    if connection.vendor != "postgresql":
        # SQLite stores datetimes as text: hand them over as Django would write them.
        adapt = connection.ops.adapt_datetimefield_value
        for row in gen.cases:
            for i in (20, 21, 22, 23, 24, 25, 26, 27, 35):
                if row[i] is not None:
                    row[i] = adapt(row[i])
    bulk.write_rows(Case._meta.db_table, CASE_COLUMNS, gen.cases)
    events = [(ids[e[0]], *e[1:]) for e in gen.events]
    bulk.write_rows(CaseEvent._meta.db_table, EVENT_COLUMNS, events)
    summary.cases += len(gen.cases)
    summary.events += len(events)
    gen.cases.clear()
    gen.events.clear()
    gen.local = 0


def assignees_for(root: Place) -> list[tuple[int, str, str, int | None]]:
    """(user id, kind, place path or "", grid id or None) of the people holding a role that takes
    cases under ``root``: a case goes to one of those whose grant covers its building."""

    roles = [Role.COMMUNITY_WORKER, Role.GRID_WORKER, Role.PROPERTY_STAFF, Role.PARTY_MEMBER]
    kinds: dict[str, str] = {str(role): str(kind) for role, kind in ASSIGNEE_KIND_OF_ROLE.items()}
    grants = Grant.objects.filter(revoked_at__isnull=True, role__in=roles).filter(
        Q(place__path__gte=root.path, place__path__lt=path_end(root.path))
        | Q(grid__community__path__gte=root.path, grid__community__path__lt=path_end(root.path))
    )
    return sorted(
        {
            (g.user_id, kinds.get(g.role, "worker"), g.place.path if g.place else "", g.grid_id)
            for g in grants.select_related("place")
        }
    )


def _covering(
    assignees: list[tuple[int, str, str, int | None]], building: dict[str, Any]
) -> list[tuple[int, str]]:
    return [
        (user_id, kind)
        for user_id, kind, path, grid_id in assignees
        if (path and building["path"].startswith(path))
        or (grid_id and grid_id == building["grid_id"])
    ]


def _ask_lift_details() -> None:
    """What the demo's lift service asks beside the description (Open311 attributes, shown on the
    case page): the floor the lift stopped at and whether it blocks the way out. Once, through the
    catalogue as an operator would in the admin; in Chinese, as the demo's data is."""
    lift = Category.objects.filter(code="lift").first()
    if lift is None or CategoryAttribute.objects.filter(category=lift).exists():
        return
    catalogue.save(
        None,
        CategoryAttribute(
            category=lift,
            code="floor",
            description="楼层",
            datatype="number",
            datatype_description="电梯停在几楼，填数字",
            required=True,
            order=1,
        ),
    )
    blocks = CategoryAttribute(
        category=lift,
        code="blocks",
        description="是否影响出行",
        datatype="singlevaluelist",
        required=True,
        order=2,
    )
    catalogue.save(None, blocks)
    for order, (key, name) in enumerate([("yes", "是"), ("no", "否")], 1):
        catalogue.save(None, AttributeValue(attribute=blocks, key=key, name=name, order=order))


@transaction.atomic
def populate(
    roots: Sequence[Place], *, seed: int = 2026, now: datetime.datetime | None = None
) -> Summary:
    """Cases for every building under each of ``roots`` (streets or communities), about
    ``PER_DWELLING_YEAR`` per dwelling over the year before ``now``."""
    started = time.monotonic()
    _check_columns()
    _ask_lift_details()
    now = now or timezone.now()
    gen = _Gen(seed, now, [])
    gen.codes.update(Case.objects.values_list("code", flat=True))
    gen.public_ids.update(Case.objects.values_list("public_id", flat=True))
    summary = Summary()
    for root in roots:
        gen.assignees = assignees_for(root)
        _populate_under(gen, root, summary)
    _flush(gen, summary)
    summary.seconds = time.monotonic() - started
    return summary


def _populate_under(gen: _Gen, root: Place, summary: Summary) -> None:
    buildings = Place.objects.filter(
        kind=PlaceKind.BUILDING, path__gte=root.path, path__lt=path_end(root.path)
    ).values("id", "name", "path", "grid_id", "lane_id")
    # Dwellings per building: under it directly, or under its units.
    under = {"path__gte": root.path, "path__lt": path_end(root.path)}
    per_parent = dict(
        Place.objects.filter(kind=PlaceKind.DWELLING, **under)
        .values("parent_id")
        .annotate(n=Count("id"))
        .values_list("parent_id", "n")
    )
    homes: dict[int, int] = {}
    for unit_id, building_id in Place.objects.filter(kind=PlaceKind.UNIT, **under).values_list(
        "id", "parent_id"
    ):
        homes[building_id] = homes.get(building_id, 0) + per_parent.get(unit_id, 0)
    for building in buildings.iterator(chunk_size=2000):
        n = homes.get(building["id"], 0) + per_parent.get(building["id"], 0) or 10
        expected = n * PER_DWELLING_YEAR
        count = int(expected) + (1 if gen.rng.random() < expected % 1 else 0)
        for _i in range(count):
            gen.case(building)
        if len(gen.cases) >= BATCH:
            _flush(gen, summary)
