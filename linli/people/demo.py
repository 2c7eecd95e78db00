"""Invented households for the demo street, and a million residents for ``linli demo --scale``.

Everything is made up: the names are drawn from our own lists, the mobile numbers come from the
199 0000 xxxx block upwards, the citizen ID numbers are built to pass the checks (region, birth
date, sequence with the gender digit, check digit) but are issued by nobody.

The shape is meant to be honest rather than pretty: about one dwelling in ten stands empty, the
rest hold the households of an older Guangzhou neighbourhood — elderly couples, three
generations, young families, tenants sharing a flat — so that about one resident in five is aged
60 or more, about 8% of those live alone (tagged ``living_alone``), and children under 14 are
about one in six. A few residents have moved out or died: they are kept, as the roster keeps them.

Speed: rows are generated in Python and written with one ``COPY`` per table and batch on
PostgreSQL, or ``executemany`` on SQLite, inside one transaction. Encryption and blind indexes
are the same as ``people.actions`` writes (``keyring().encrypt``, ``core.crypto.blind``,
``pinyin.name_keys``). Row history (django-simple-history) is not written for demo rows: a demo
resident's history starts at their first change.
"""

from __future__ import annotations

import datetime
import random
import time
from bisect import bisect
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass
from itertools import accumulate
from typing import Any

from django.db import transaction
from django.db.models import Count, Exists, OuterRef, QuerySet
from django.utils import timezone
from stdnum.cn import ric

from linli.core import bulk
from linli.core.crypto import blind, keyring
from linli.core.identifiers import region_known
from linli.people.models import (
    CareTag,
    Gender,
    IdType,
    Membership,
    Relation,
    ResidenceType,
    Resident,
    ResidentTag,
    Status,
)
from linli.people.pinyin import name_keys
from linli.places.models import Place, PlaceKind

# Ages are reckoned from this day, not from today, so that the demo street comes out the same
# whatever day it is built (unless that day is earlier).
AS_OF = datetime.date(2026, 7, 1)
BATCH_DWELLINGS = 20_000
FIRST_MOBILE = 19900000000  # 199 0000 0000: the first number handed out
VACANT = 0.10
CITIZEN = IdType.CITIZEN.value
ID_PURPOSE = f"id:{CITIZEN}"  # the blind index purpose, as people.actions computes it
# The choices as plain strings: rows go to the database without passing through the models.
MAN, WOMAN = Gender.MALE.value, Gender.FEMALE.value
OWNER, TENANT, FAMILY = Relation.OWNER.value, Relation.TENANT.value, Relation.FAMILY.value
REGISTERED, RESIDENT = ResidenceType.REGISTERED.value, ResidenceType.RESIDENT.value
FLOATING, COMMUTING = ResidenceType.FLOATING.value, ResidenceType.COMMUTING.value
ACTIVE, MOVED_OUT, DECEASED = Status.ACTIVE.value, Status.MOVED_OUT.value, Status.DECEASED.value

# --- names -----------------------------------------------------------------------------------------

# Surnames with rough weights for a Guangzhou neighbourhood. 单 (Shan/Dan) and 曾 (Zeng/Ceng) are
# here on purpose: search must find them under every reading.
SURNAMES: list[tuple[str, int]] = [
    ("陈", 90), ("李", 60), ("黄", 60), ("张", 40), ("梁", 40), ("林", 35), ("刘", 35),
    ("吴", 30), ("罗", 25), ("何", 25), ("郑", 22), ("杨", 22), ("王", 22), ("周", 18),
    ("谢", 18), ("叶", 16), ("邓", 16), ("冯", 15), ("曾", 15), ("朱", 12), ("卢", 12),
    ("蔡", 12), ("徐", 10), ("苏", 10), ("许", 10), ("潘", 10), ("钟", 10), ("郭", 9),
    ("彭", 9), ("孙", 8), ("赖", 8), ("余", 8), ("莫", 8), ("胡", 8), ("谭", 8), ("麦", 7),
    ("廖", 7), ("马", 7), ("高", 7), ("邱", 6), ("江", 6), ("方", 6), ("关", 6), ("区", 5),
    ("温", 5), ("伍", 5), ("袁", 5), ("单", 4), ("甘", 4), ("韦", 4), ("邝", 4), ("严", 4),
    ("汤", 4), ("姚", 4), ("石", 4), ("岑", 3), ("冼", 3), ("骆", 3), ("孔", 3), ("龙", 3),
    ("简", 3), ("容", 3), ("古", 3), ("白", 3), ("欧阳", 3), ("司徒", 2),
]  # fmt: skip

# Given names by generation and sex: (first characters, second characters, share of one-character
# names). Two-character names pair a first with a second character.
GIVEN: dict[tuple[str, str], tuple[str, str, float]] = {
    ("old", "M"): ("建国志德永炳耀锦树金汉荣家福振伟明根", "国强华明荣祥泉森生昌文辉成光发贵林基", 0.2),
    ("old", "F"): ("秀桂玉淑美少凤丽翠惠月瑞素金银彩", "英芳兰珍华娟萍娥芬琼好卿霞莲群娇", 0.15),
    ("mid", "M"): ("志海建永俊文卫晓国振伟智家锦少继", "刚涛华亮杰东栋辉雄斌勇军明峰强波", 0.3),
    ("mid", "F"): ("丽晓小秀美春雪慧玉少惠海红艳淑", "华燕红玲梅霞芳丽萍敏娟珍婷琴", 0.3),
    ("young", "M"): ("子嘉浩宇俊志家梓泽思晓伟文锐", "豪然航轩乐健峰杰聪恒铭博宏彬", 0.15),
    ("young", "F"): ("嘉佳思雨晓梓诗欣颖婉美静", "欣怡琪桐彤琳涵婷雯敏莹仪", 0.15),
    ("kid", "M"): ("梓浩子宇沐俊奕铭锦睿一承", "轩宇墨宸熙辰睿泽程航阳霖", 0.1),
    ("kid", "F"): ("梓一欣子语若诗可雨芷思乐", "涵诺怡桐汐琪欣萱晴悦瑶彤", 0.1),
}  # fmt: skip
ETHNICITIES: list[tuple[str, int]] = [
    ("汉族", 960), ("壮族", 12), ("瑶族", 5), ("畲族", 3), ("回族", 6), ("满族", 5),
    ("土家族", 5), ("苗族", 4),
]  # fmt: skip

# --- where people come from --------------------------------------------------------------------------

# Guangzhou districts (local families) and counties elsewhere (families who came to work).
LOCAL_REGIONS = ("440102", "440103", "440104", "440105", "440106", "440107", "440111", "440112",
                 "440113", "440114", "440115", "440117", "440118")  # fmt: skip
MIGRANT_REGIONS = ("445202", "441402", "440902", "441502", "441802", "441302", "440883", "441881",
                   "430102", "430621", "450102", "450921", "360102", "360731", "420106", "421181",
                   "510104", "511321", "350102", "410102")  # fmt: skip
# A card carries the code of the county that issued it: at birth for the young, at the first
# issue (1985 onwards) for everyone older. Older people therefore hold codes newer than their
# birth year, which the checks report as a warning, as they do for real rosters.
FIRST_ISSUE = 1986


SEQUENCES = 500  # sequence numbers per birth date and sex: 00-99 × five digits of one parity


def sequence(k: int, birth: datetime.date, sex: str) -> str:
    """The three sequence digits of the ``k``-th number issued for a birth date and sex: the
    slot ``(7k + offset) mod 500`` (a bijection on 0..499, so distinct for distinct ``k``), as
    a two-digit police-station code and a last digit odd for men, even for women."""
    slot = (7 * k + birth.toordinal() * 31) % SEQUENCES
    return f"{slot // 5:02d}{2 * (slot % 5) + (1 if sex == MAN else 0)}"


@dataclass
class Summary:
    dwellings: int = 0
    households: int = 0
    residents: int = 0
    seconds: float = 0.0


# --- the generator ---------------------------------------------------------------------------------


class _Weighted:
    """A weighted draw: what ``Random.choices`` does, without building a list each time."""

    def __init__(self, pairs: Sequence[tuple[str, int]]) -> None:
        self.items = [p for p, _w in pairs]
        self.cumulative = list(accumulate(w for _p, w in pairs))
        self.total = self.cumulative[-1]

    def __call__(self, rng: random.Random) -> str:
        return self.items[bisect(self.cumulative, rng.random() * self.total)]


class ResidentGenerator:
    """Makes the rows of one ``populate`` call. Not thread-safe; one per call."""

    def __init__(self, seed: int, as_of: datetime.date) -> None:
        self.rng = random.Random(seed)
        self.as_of = as_of
        self.enc = keyring().encrypt
        self.now = timezone.now()
        self.tags = dict(CareTag.objects.values_list("code", "pk"))
        self.keys: dict[str, tuple[str, str]] = {}
        self.regions: dict[tuple[bool, int], tuple[str, ...]] = {}
        # Per (birth date, sex): how many numbers were issued, seeded from the database so that
        # a second ``--scale`` run goes on where the first stopped.
        self.issued: dict[tuple[int, str], int] = {}
        existing = (
            Resident.objects.filter(id_type=IdType.CITIZEN)
            .exclude(id_index="")
            .values_list("birth_date", "gender")
            .annotate(n=Count("id"))
            .order_by()
        )
        for birth, sex, n in existing:
            if birth is not None:
                self.issued[(birth.toordinal(), sex)] = n
        # Only a number in one of these buckets can clash with one already in the database.
        self.held = frozenset(self.issued)
        self.mobiles = FIRST_MOBILE + Resident.objects.exclude(phone_index="").count()
        # Rows of the current batch. A resident's id is provisional (their position in the
        # batch) until the batch is written; ``local`` says which region pool their number uses.
        self.residents: list[list[Any]] = []
        self.local: list[bool] = []
        self.memberships: list[tuple[Any, ...]] = []
        self.resident_tags: list[tuple[Any, ...]] = []
        self.households = 0

    # -- small draws --

    def surname(self) -> str:
        return _SURNAMES(self.rng)

    def given(self, sex: str, year: int) -> str:
        era = "old" if year < 1960 else "mid" if year < 1990 else "young" if year < 2010 else "kid"
        firsts, seconds, single = GIVEN[(era, sex)]
        second = self.rng.choice(seconds)
        if self.rng.random() < single:
            return second
        first = self.rng.choice(firsts)
        if first == second:
            first = self.rng.choice(firsts)
        return first + second

    def ethnicity(self) -> str:
        return _ETHNICITIES(self.rng)

    def birth(self, age_low: float, age_high: float) -> datetime.date:
        days = int(self.rng.uniform(age_low, age_high) * 365.2425)
        return self.as_of - datetime.timedelta(days=max(days, 1))

    def region(self, local: bool, year: int) -> str:
        year = max(year, FIRST_ISSUE)
        pool = self.regions.get((local, year))
        if pool is None:
            codes = LOCAL_REGIONS if local else MIGRANT_REGIONS
            pool = tuple(c for c in codes if region_known(c, year))
            self.regions[(local, year)] = pool
        return self.rng.choice(pool)

    def citizen_id(self, local: bool, birth: datetime.date, sex: str) -> tuple[str, datetime.date]:
        """A number no one else in the database holds, and the birth date it carries (the next
        day when the day's 500 numbers for that sex are all issued)."""
        while True:
            bucket = (birth.toordinal(), sex)
            k = self.issued.get(bucket, 0)
            if k < SEQUENCES:
                break
            birth += datetime.timedelta(days=1)
        self.issued[bucket] = k + 1
        body = (
            f"{self.region(local, birth.year)}{birth.year:04d}{birth.month:02d}{birth.day:02d}"
            f"{sequence(k, birth, sex)}"
        )
        return body + ric.calc_check_digit(body + "0"), birth

    # -- people --

    def person(
        self,
        dwelling: int,
        sex: str,
        age: tuple[float, float],
        *,
        surname: str | None = None,
        local: bool = True,
        ethnicity: str = "汉族",
        residence: str = REGISTERED,
        relation: str = FAMILY,
        head: bool = False,
        since: datetime.date | None = None,
        left: tuple[str, datetime.date] | None = None,
    ) -> tuple[int, datetime.date]:
        """One resident and their tie to ``dwelling``; returns (id, date of birth)."""
        birth = self.birth(*age)
        number, birth = self.citizen_id(local, birth, sex)
        name = (surname or self.surname()) + self.given(sex, birth.year)
        keys = self.keys.get(name)
        if keys is None:
            keys = self.keys[name] = name_keys(name)
        years = (self.as_of - birth).days / 365.2425
        rnd = self.rng.random()
        has_phone = (years >= 16 and rnd < (0.7 if years >= 75 else 0.96)) or (
            12 <= years < 16 and rnd < 0.4
        )
        if left is not None and left[0] == DECEASED:
            has_phone = False
        phone = ""
        if has_phone:
            phone = f"+86{self.mobiles}"
            self.mobiles += 1
        status, status_date = left if left is not None else (ACTIVE, None)
        rid = len(self.residents)
        self.local.append(local)
        self.residents.append(
            [
                rid,
                name,
                keys[0],
                keys[1],
                sex,
                birth,
                ethnicity,
                CITIZEN,
                self.enc(number),
                blind(number, ID_PURPOSE),
                self.enc(phone) if phone else "",
                blind(phone, "phone"),
                residence,
                dwelling,
                status,
                status_date,
                "",
                self.now,
                self.now,
            ]
        )
        start = max(since or birth, birth)
        until = status_date if left is not None else None
        self.memberships.append((rid, dwelling, relation, head and left is None, start, until))
        return rid, birth

    def tag(self, resident: int, code: str, since: datetime.date | None = None) -> None:
        tag_id = self.tags.get(code)
        if tag_id is not None:  # an operator may have removed it from the managed list
            self.resident_tags.append((tag_id, resident, since or self.as_of))

    def maybe_tags(self, resident: int, sex: str, birth: datetime.date) -> None:
        years = (self.as_of - birth).days / 365.2425
        r = self.rng.random
        if years >= 18 and r() < (0.12 if years >= 60 else 0.05):
            self.tag(resident, "party_member")
        if sex == MAN and years >= 40 and r() < 0.03:
            self.tag(resident, "veteran")
        if r() < (0.05 if years >= 60 else 0.012):
            self.tag(resident, "disabled")
        if years >= 60 and r() < 0.15:
            self.tag(resident, "chronic_illness")
        if sex == WOMAN and 22 <= years < 40 and r() < 0.03:
            self.tag(resident, "pregnant")
        if years >= 18 and r() < 0.003:
            self.tag(resident, "key_attention")

    def moved_in(self, low: int, high: int) -> datetime.date:
        return self.as_of - datetime.timedelta(days=self.rng.randint(low * 365, high * 365))

    def past(self, years: int) -> datetime.date:
        return self.as_of - datetime.timedelta(days=self.rng.randint(30, years * 365))

    # -- households --

    def household(self, dwelling: int) -> None:
        rng = self.rng
        if rng.random() < VACANT:
            return
        self.households += 1
        local = rng.random() < 0.72
        owned = rng.random() < (0.88 if local else 0.25)
        eth = self.ethnicity()
        residence = (
            (REGISTERED if rng.random() < 0.8 else RESIDENT)
            if local
            else (FLOATING if rng.random() < 0.7 else RESIDENT)
        )
        since = self.moved_in(1, 30) if owned else self.moved_in(0, 6)
        home = _Home(
            self,
            dwelling,
            local=local,
            owned=owned,
            since=since,
            common={"local": local, "ethnicity": eth, "residence": residence},
        )
        _HOUSEHOLDS[_KINDS(rng)](home)
        for rid, member_sex, birth in home.members:
            self.maybe_tags(rid, member_sex, birth)
        if home.head_id and rng.random() < 0.03:
            self.tag(home.head_id[0], "hardship")
        if rng.random() < 0.03:  # a former tenant who moved out, kept as history
            when = self.past(4)
            home.add(
                MAN if rng.random() < 0.5 else WOMAN,
                (22, 45),
                relation=TENANT,
                residence=FLOATING,
                local=False,
                since=when - datetime.timedelta(days=rng.randint(90, 900)),
                left=(MOVED_OUT, when),
            )


class _Home:
    """One household being drawn: who lives in the dwelling, added one by one."""

    def __init__(
        self,
        gen: ResidentGenerator,
        dwelling: int,
        *,
        local: bool,
        owned: bool,
        since: datetime.date,
        common: dict[str, Any],
    ) -> None:
        self.gen = gen
        self.rng = gen.rng
        self.dwelling = dwelling
        self.local = local
        self.owned = owned
        self.since = since
        self.common = common
        self.head_rel = OWNER if owned else TENANT
        self.partner_rel = self.head_rel if owned else FAMILY  # the head's spouse
        self.members: list[tuple[int, str, datetime.date]] = []
        self.head_id: list[int] = []

    def add(self, sex: str, age: tuple[float, float], **kw: Any) -> tuple[int, datetime.date]:
        values = {**self.common, "since": self.since, **kw}
        rid, birth = self.gen.person(self.dwelling, sex, age, **values)
        if "left" not in kw:
            self.members.append((rid, sex, birth))
        if kw.get("head"):
            self.head_id.append(rid)
        return rid, birth

    def either(self, man_odds: float) -> str:
        return MAN if self.rng.random() < man_odds else WOMAN

    def age_of(self, birth: datetime.date) -> float:
        return (self.gen.as_of - birth).days / 365.2425


def _alone(home: _Home) -> None:
    sex = WOMAN if home.rng.random() < 0.65 else MAN
    rid, _b = home.add(sex, (65, 94), head=True, relation=home.head_rel)
    home.gen.tag(rid, "living_alone")
    if home.rng.random() < 0.4:  # the spouse who died: kept, not deleted
        home.add(
            MAN if sex == WOMAN else WOMAN,
            (70, 95),
            relation=home.head_rel,
            left=(DECEASED, home.gen.past(12)),
        )


def _elder_couple(home: _Home) -> None:
    surname = home.gen.surname()
    commuting = not home.local and home.rng.random() < 0.3
    kw = {"residence": COMMUTING} if commuting else {}
    h, _b = home.add(MAN, (62, 90), surname=surname, head=True, relation=home.head_rel, **kw)
    w, _b = home.add(WOMAN, (60, 86), relation=home.partner_rel, **kw)
    home.gen.tag(h, "empty_nest")
    home.gen.tag(w, "empty_nest")


def _single(home: _Home) -> None:
    home.add(
        home.either(0.55),
        (22, 42),
        head=True,
        relation=home.head_rel,
        since=home.gen.moved_in(0, 8),
    )


def _couple(home: _Home) -> None:
    home.add(MAN, (25, 46), head=True, relation=home.head_rel)
    home.add(WOMAN, (24, 44), relation=home.partner_rel)


def _family(kids: int, single_parent: bool = False) -> Callable[[_Home], None]:
    def draw(home: _Home) -> None:
        surname = home.gen.surname()
        if single_parent:
            parent_sex = WOMAN if home.rng.random() < 0.8 else MAN
            _p, born = home.add(
                parent_sex, (28, 52), surname=surname, head=True, relation=home.head_rel
            )
        else:
            _p, born = home.add(MAN, (28, 52), surname=surname, head=True, relation=home.head_rel)
            home.add(WOMAN, (26, 50), relation=home.partner_rel)
        parent_age = home.age_of(born)
        for _ in range(kids):
            oldest = max(0.1, min(22.0, parent_age - 22))
            home.add(home.either(0.52), (0.05, oldest), surname=surname, relation=FAMILY)

    return draw


def _three_generations(home: _Home) -> None:
    rng = home.rng
    surname = home.gen.surname()
    grand_surname = surname if rng.random() < 0.75 else home.gen.surname()
    commuting = not home.local and rng.random() < 0.5
    elder_kw: dict[str, Any] = {"relation": FAMILY}
    if commuting:
        elder_kw["residence"] = COMMUTING
    if rng.random() < 0.6:
        home.add(MAN, (60, 88), surname=grand_surname, **elder_kw)
    home.add(WOMAN, (58, 86), surname=grand_surname, **elder_kw)
    _p, born = home.add(MAN, (30, 52), surname=surname, head=True, relation=home.head_rel)
    home.add(WOMAN, (28, 50), relation=home.partner_rel)
    parent_age = home.age_of(born)
    for _ in range(1 if rng.random() < 0.55 else 2):
        home.add(
            home.either(0.52),
            (0.05, max(0.1, min(18.0, parent_age - 22))),
            surname=surname,
        )


def _sharing(home: _Home) -> None:
    home.common["residence"] = FLOATING
    home.common["local"] = False
    for i in range(home.rng.randint(2, 4)):
        home.add(
            home.either(0.5),
            (20, 36),
            head=i == 0,
            relation=TENANT,
            since=home.gen.moved_in(0, 3),
        )


def _grown_child(home: _Home) -> None:
    """A couple in their fifties and a grown-up child at home."""
    surname = home.gen.surname()
    home.add(MAN, (48, 64), surname=surname, head=True, relation=home.head_rel)
    home.add(WOMAN, (46, 62), relation=home.partner_rel)
    home.add(home.either(0.5), (20, 33), surname=surname)


_HOUSEHOLDS: dict[str, Callable[[_Home], None]] = {
    "alone": _alone,
    "elder_couple": _elder_couple,
    "single": _single,
    "couple": _couple,
    "family1": _family(1),
    "family2": _family(2),
    "single_parent": _family(1, single_parent=True),
    "three_generations": _three_generations,
    "sharing": _sharing,
    "grown_child": _grown_child,
}


# Household kinds and their weights: tuned so that about 1 in 5 residents is 60+, 8% of those
# live alone, and the street averages about 2.5 residents per dwelling.
_HOUSEHOLD_KINDS: list[tuple[str, int]] = [
    ("alone", 4),
    ("elder_couple", 12),
    ("single", 10),
    ("couple", 10),
    ("family1", 22),
    ("family2", 10),
    ("three_generations", 14),
    ("sharing", 5),
    ("single_parent", 4),
    ("grown_child", 9),
]
_KINDS = _Weighted(_HOUSEHOLD_KINDS)
_SURNAMES = _Weighted(SURNAMES)
_ETHNICITIES = _Weighted(ETHNICITIES)


# --- writing ---------------------------------------------------------------------------------------

RESIDENT_COLUMNS = (
    "id", "name", "name_pinyin", "name_initials", "gender", "birth_date", "ethnicity", "id_type",
    "id_number", "id_index", "phone", "phone_index", "residence_type", "home_id", "status",
    "status_date", "note", "created_at", "updated_at",
)  # fmt: skip
MEMBERSHIP_COLUMNS = ("resident_id", "dwelling_id", "relation", "is_head", "since", "until")
TAG_COLUMNS = ("tag_id", "resident_id", "since")


def _check_columns() -> None:
    """Fail loudly, not with a confusing SQL error, when the models gain a column."""
    for model, columns in (
        (Resident, RESIDENT_COLUMNS),
        (Membership, MEMBERSHIP_COLUMNS),
        (ResidentTag, TAG_COLUMNS),
    ):
        actual = {f.column for f in model._meta.concrete_fields}
        expected = set(columns) | ({"id"} if "id" not in columns else set())
        if actual != expected:
            raise RuntimeError(
                f"people.demo writes {model.__name__} columns {sorted(expected)}, the model has "
                f"{sorted(actual)}: update people.demo"
            )


def _taken(indexes: list[str]) -> set[str]:
    """Which of these ID blind indexes the database already holds (numbers typed in or imported
    may sit in the slots the demo would use)."""
    taken: set[str] = set()
    for i in range(0, len(indexes), 5000):
        taken.update(
            Resident.objects.filter(
                id_type=IdType.CITIZEN, id_index__in=indexes[i : i + 5000]
            ).values_list("id_index", flat=True)
        )
    return taken


def _reissue(gen: ResidentGenerator) -> None:
    """Give the residents whose number someone in the database already holds (typed in or
    imported into a slot the demo would use) the next one for their birth date and sex. Only
    numbers in a (birth date, sex) bucket that held numbers before can clash: on an empty roster
    nothing is looked up; the counters only go up, so never onto a number this run issued."""
    suspects = [row for row in gen.residents if (row[5].toordinal(), row[4]) in gen.held]
    while suspects:
        taken = _taken([row[9] for row in suspects])
        suspects = [row for row in suspects if row[9] in taken]
        for row in suspects:
            number, row[5] = gen.citizen_id(gen.local[row[0]], row[5], row[4])
            row[8], row[9] = gen.enc(number), blind(number, ID_PURPOSE)


def _flush(gen: ResidentGenerator, summary: Summary) -> None:
    if not gen.residents:
        return
    _reissue(gen)
    ids = bulk.reserve_ids(Resident._meta.db_table, len(gen.residents))
    for row in gen.residents:
        row[0] = ids[row[0]]
    bulk.write_rows(Resident._meta.db_table, RESIDENT_COLUMNS, gen.residents)
    bulk.write_rows(
        Membership._meta.db_table,
        MEMBERSHIP_COLUMNS,
        [(ids[m[0]], *m[1:]) for m in gen.memberships],
    )
    bulk.write_rows(
        ResidentTag._meta.db_table,
        TAG_COLUMNS,
        [(t[0], ids[t[1]], t[2]) for t in gen.resident_tags],
    )
    summary.residents += len(gen.residents)
    for rows in (gen.residents, gen.local, gen.memberships, gen.resident_tags):
        rows.clear()


def _empty_dwellings(dwellings: Iterable[int] | QuerySet[Place]) -> list[int]:
    """The ids of the given dwellings that nobody lives in now, in order (path order for a
    queryset): a household is never added on top of another."""
    if isinstance(dwellings, QuerySet):
        # An anti-join on the (dwelling, until) index: NOT IN over a million memberships can
        # fall back to a nested loop on PostgreSQL.
        lived_in = Membership.objects.filter(dwelling=OuterRef("pk"), until__isnull=True)
        return list(
            dwellings.filter(~Exists(lived_in)).order_by("path").values_list("pk", flat=True)
        )
    inhabited = Membership.objects.filter(until__isnull=True).values("dwelling_id")
    ids = list(dict.fromkeys(dwellings))
    taken: set[int] = set()
    for i in range(0, len(ids), 5000):
        taken.update(
            inhabited.filter(dwelling_id__in=ids[i : i + 5000]).values_list(
                "dwelling_id", flat=True
            )
        )
    return [pk for pk in ids if pk not in taken]


@transaction.atomic
def populate(
    dwellings: Iterable[int] | QuerySet[Place],
    seed: int = 2026,
    *,
    as_of: datetime.date | None = None,
) -> Summary:
    """Give households to ``dwellings`` (a queryset of dwelling places, or their ids in the order
    to fill them); dwellings where someone lives already are left as they are. The same seed on
    the same empty roster gives the same residents."""
    started = time.monotonic()
    _check_columns()
    ids = _empty_dwellings(dwellings)
    as_of = min(as_of or AS_OF, timezone.localdate())
    gen = ResidentGenerator(seed, as_of)
    summary = Summary(dwellings=len(ids))
    for start in range(0, len(ids), BATCH_DWELLINGS):
        for dwelling in ids[start : start + BATCH_DWELLINGS]:
            gen.household(dwelling)
        _flush(gen, summary)
    summary.households = gen.households
    summary.seconds = time.monotonic() - started
    return summary


def dwellings_under(place: Place) -> QuerySet[Place]:
    """The dwellings under a place: what ``populate`` is usually given."""
    return Place.objects.filter(
        kind=PlaceKind.DWELLING, path__gte=place.path, path__lt=place.path_end
    )
