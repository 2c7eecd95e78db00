"""Invented party data for the demo street and the benchmark communities.

Per community: a party committee, a general branch with two branches, and a branch built in each
of its first compounds (支部建在小区), each with a secretary; about 3% of the adults living there
as party members (registered, in-service dual report, floating; some memberships transferred in);
a few employer units with valid unified social credit codes; posts and tasks with claims, service
hours (mostly confirmed) and quarterly grades; and a few registrations waiting for approval.

Demo logins holding the party member role on a community get a dual-report member record there;
those holding the partner contact role become the contact of the first unit. Rows are written
with ``bulk_create``; historic rows get no audit records (nobody in this database made them).
"""

from __future__ import annotations

import datetime
import random
import time
from collections.abc import Sequence
from dataclasses import dataclass
from decimal import Decimal

from django.contrib.auth.hashers import make_password
from django.utils import timezone
from stdnum.cn import uscc

from linli.accounts.models import Grant
from linli.accounts.roles import Role
from linli.core.crypto import blind
from linli.core.paths import path_end
from linli.people.models import Resident, Status
from linli.places.models import Place, PlaceKind

from .models import (
    Claim,
    Evaluation,
    Grade,
    HoursStatus,
    MemberKind,
    OrgKind,
    PartyMember,
    PartyOrg,
    Post,
    PostKind,
    Registration,
    ServiceHours,
    Unit,
    UnitContact,
)
from .periods import Period

SHARE = 0.03  # of the adults living in the community
UNITS = [
    ("91440106MA59XY01", "中国某银行天河支行"),
    ("12440100MB2C3D45", "某区人民医院"),
    ("12440106MB0E1F23", "某区第一实验小学"),
    ("11440106MB1A2B34", "某区税务局第二税务所"),
    ("91440101MA5K6L78", "某供电局城区供电服务中心"),
]
POSTS = [
    (PostKind.POST, "楼道守护岗", "每周巡查一次楼道消防通道和电动车充电情况", 8),
    (PostKind.POST, "文明劝导岗", "周末在小区出入口劝导车辆有序停放", 6),
    (PostKind.POST, "政策宣讲岗", "在党群服务中心为居民解读医保、养老政策", 4),
    (PostKind.TASK, "周末清洁行动", "清理小区绿化带和楼道杂物", 12),
    (PostKind.TASK, "义诊志愿服务", "协助社区卫生站为60岁以上老人量血压", 5),
    (PostKind.TASK, "反诈宣传进小区", "向居民发放反诈宣传单，帮助安装国家反诈中心App", 6),
]
SKILLS = ["法律咨询", "急救", "电器维修", "辅导功课", "心理疏导", "摄影", "理财知识", "书法"]
AVAILABILITY = ["周末", "工作日晚上", "每月第一个周六", "节假日"]
GRADES = [(Grade.EXCELLENT, 30), (Grade.GOOD, 50), (Grade.FAIR, 15), (Grade.POOR, 5)]
FROM = ["某市委组织部", "某县某镇党委", "某高校党委", "某区某街道党工委"]


def unit_code(body: str) -> str:
    """A valid code from 17 characters (the check character computed by python-stdnum)."""
    body = body[:17].ljust(17, "0")
    return body + uscc.calc_check_digit(body)


@dataclass
class Summary:
    orgs: int = 0
    members: int = 0
    posts: int = 0
    claims: int = 0
    hours: int = 0
    seconds: float = 0.0


def _units() -> list[Unit]:
    out = []
    for body, name in UNITS:
        unit, _created = Unit.objects.get_or_create(uscc=unit_code(body), defaults={"name": name})
        out.append(unit)
    return out


def populate(
    roots: Sequence[Place], *, seed: int = 2026, today: datetime.date | None = None
) -> Summary:
    """Party data for every community under each of ``roots`` (streets or communities)."""
    started = time.monotonic()
    rng = random.Random(seed)
    today = today or timezone.localdate()
    summary = Summary()
    units = _units()
    password = make_password("linli-demo-2026")  # once: hashing is slow on purpose
    for root in roots:
        communities = (
            [root]
            if root.kind == PlaceKind.COMMUNITY
            else list(
                Place.objects.filter(
                    kind=PlaceKind.COMMUNITY, path__gte=root.path, path__lt=path_end(root.path)
                ).order_by("path")
            )
        )
        for community in communities:
            _community(rng, community, units, password, today, summary)
    summary.seconds = time.monotonic() - started
    return summary


def _community(
    rng: random.Random,
    community: Place,
    units: list[Unit],
    password: str,
    today: datetime.date,
    summary: Summary,
) -> None:
    # Organisations: the committee, a general branch with two branches, compound branches.
    committee = PartyOrg.objects.create(
        kind=OrgKind.COMMITTEE,
        name=f"{community.name}党委",
        community=community,
        place=community,
        path=community.path,
        founded_on=datetime.date(2005 + rng.randrange(12), 7, 1),
        order=1,
    )
    general = PartyOrg.objects.create(
        kind=OrgKind.GENERAL_BRANCH,
        name=f"{community.name}第一党总支",
        community=community,
        place=community,
        path=community.path,
        parent=committee,
        order=2,
    )
    branches = PartyOrg.objects.bulk_create(
        [
            PartyOrg(
                kind=OrgKind.BRANCH,
                name=f"{community.name}第{n}党支部",
                community=community,
                place=community,
                path=community.path,
                parent=general,
                order=10 + i,
            )
            for i, n in enumerate(("一", "二"))
        ]
    )
    compounds = list(
        Place.objects.filter(
            kind=PlaceKind.COMPOUND,
            path__gte=community.path,
            path__lt=path_end(community.path),
        ).order_by("path")[:3]
    )
    compound_branches = PartyOrg.objects.bulk_create(
        [
            PartyOrg(
                kind=OrgKind.BRANCH,
                name=f"{c.name}党支部",
                community=community,
                place=c,
                path=c.path,
                parent=committee,
                order=20 + i,
            )
            for i, c in enumerate(compounds)
        ]
    )
    orgs = [committee, general, *branches, *compound_branches]
    summary.orgs += len(orgs)

    # Members: a sample of the adults living here.
    adult = datetime.date(today.year - 18, today.month, min(today.day, 28))
    ids = list(
        Resident.objects.filter(
            status=Status.ACTIVE,
            home__path__gte=community.path,
            home__path__lt=path_end(community.path),
            birth_date__lte=adult,
        ).values_list("id", flat=True)
    )
    chosen = rng.sample(ids, max(int(len(ids) * SHARE), min(len(ids), 6)))
    residents = Resident.objects.filter(pk__in=chosen).values_list(
        "id", "name", "phone", "phone_index", "home__path"
    )
    members: list[PartyMember] = []
    for rid, name, phone, index, home_path in residents:
        roll = rng.random()
        kind = (
            MemberKind.REGISTERED
            if roll < 0.55
            else MemberKind.DUAL_REPORT
            if roll < 0.9
            else MemberKind.FLOATING
        )
        org = None
        path = community.path
        if kind != MemberKind.DUAL_REPORT:
            near = [b for b in compound_branches if home_path.startswith(b.path)]
            org = near[0] if near else rng.choice(branches)
            path = org.path
        joined = datetime.date(today.year - rng.randrange(2, 40), rng.randrange(1, 13), 1)
        transferred = kind == MemberKind.REGISTERED and rng.random() < 0.15
        members.append(
            PartyMember(
                name=name,
                kind=kind,
                community=community,
                path=path,
                org=org,
                phone=phone,
                phone_index=index,
                resident_id=rid,
                unit=rng.choice(units) if kind == MemberKind.DUAL_REPORT else None,
                joined_party_on=joined,
                transferred_in_on=(
                    today - datetime.timedelta(days=rng.randrange(30, 1500))
                    if transferred
                    else None
                ),
                transferred_from=rng.choice(FROM) if transferred else "",
                reported_on=(
                    today - datetime.timedelta(days=rng.randrange(60, 700))
                    if kind == MemberKind.DUAL_REPORT
                    else None
                ),
                skills="、".join(rng.sample(SKILLS, 2)) if kind == MemberKind.DUAL_REPORT else "",
                availability=rng.choice(AVAILABILITY) if kind == MemberKind.DUAL_REPORT else "",
            )
        )
    # Demo logins with the party member role here report as in-service members.
    for grant in Grant.objects.filter(
        role=Role.PARTY_MEMBER, place=community, revoked_at__isnull=True
    ).select_related("user"):
        user = grant.user
        phone = f"+86{user.phone}" if user.phone else ""
        members.append(
            PartyMember(
                name=(user.display_name or user.username).split()[-1],
                kind=MemberKind.DUAL_REPORT,
                community=community,
                path=community.path,
                phone=phone,
                phone_index=blind(phone, "phone"),
                user=user,
                unit=units[0],
                reported_on=today - datetime.timedelta(days=200),
                skills="法律咨询、摄影",
                availability="周末",
            )
        )
    members = PartyMember.objects.bulk_create(members)
    summary.members += len(members)
    if not members:
        return
    # Secretaries: a registered member of each organisation (or of the community).
    registered = [m for m in members if m.kind == MemberKind.REGISTERED] or members
    for org in orgs:
        own = [m for m in registered if m.org_id == org.pk] or registered
        org.secretary = rng.choice(own)
    PartyOrg.objects.bulk_update(orgs, ["secretary"])
    for grant in Grant.objects.filter(
        role=Role.PARTNER_CONTACT, place=community, revoked_at__isnull=True
    ):
        UnitContact.objects.get_or_create(
            unit=units[0], user_id=grant.user_id, community=community, path=community.path
        )

    # Posts and tasks, claims, hours, grades.
    dual = [m for m in members if m.kind == MemberKind.DUAL_REPORT]
    now = timezone.now()
    posts = Post.objects.bulk_create(
        [
            Post(
                community=community,
                path=community.path,
                kind=kind,
                title=title,
                description=text,
                capacity=capacity,
                starts_on=today - datetime.timedelta(days=rng.randrange(30, 170)),
                ends_on=None if kind == PostKind.POST else today + datetime.timedelta(days=30),
            )
            for kind, title, text, capacity in POSTS
        ]
    )
    claims: list[Claim] = []
    for post in posts:
        takers = rng.sample(dual, min(len(dual), rng.randrange(1, post.capacity + 1)))
        post.claimed = len(takers)
        for m in takers:
            claims.append(
                Claim(
                    post=post,
                    member=m,
                    path=post.path,
                    claimed_at=now - datetime.timedelta(days=rng.randrange(100, 180)),
                )
            )
    Post.objects.bulk_update(posts, ["claimed"])
    claims = Claim.objects.bulk_create(claims)
    summary.posts += len(posts)
    summary.claims += len(claims)
    hours: list[ServiceHours] = []
    for c in claims:
        for _i in range(rng.randrange(1, 5)):
            roll = rng.random()
            status = (
                HoursStatus.CONFIRMED
                if roll < 0.8
                else HoursStatus.PENDING
                if roll < 0.92
                else HoursStatus.REJECTED
            )
            served = today - datetime.timedelta(days=rng.randrange(1, 95))
            hours.append(
                ServiceHours(
                    member=c.member,
                    claim=c,
                    post=c.post,
                    path=c.path,
                    served_on=served,
                    hours=Decimal(rng.choice(("1.0", "1.5", "2.0", "2.5", "3.0", "4.0"))),
                    note="",
                    status=status,
                    reason="当天未到岗" if status == HoursStatus.REJECTED else "",
                    decided_at=now if status != HoursStatus.PENDING else None,
                )
            )
    ServiceHours.objects.bulk_create(hours)
    summary.hours += len(hours)
    this = Period.current("quarter", today)
    last = Period.parse(
        f"{this.year - 1}-Q4" if this.number == 1 else f"{this.year}-Q{this.number - 1}"
    )
    weights = [w for _g, w in GRADES]
    Evaluation.objects.bulk_create(
        [
            Evaluation(
                member=m,
                path=m.path,
                period=last.key,
                grade=rng.choices([g for g, _w in GRADES], weights)[0],
                comment=rng.choice(["", "积极认领岗位", "服务居民热情", "参与较少"]),
                at=now,
            )
            for m in dual
        ]
    )
    # Registrations waiting for the community.
    regs = []
    for i in range(3):
        phone = f"+86186{community.pk % 10000:04d}{i:04d}"
        body, name = rng.choice(UNITS)
        regs.append(
            Registration(
                community=community,
                path=community.path,
                name=rng.choice(["陈思远", "林晓彤", "黄志强", "周嘉欣", "梁文博"]),
                phone=phone,
                phone_index=blind(phone, "phone"),
                unit_name=name,
                uscc=unit_code(body),
                skills=rng.choice(SKILLS),
                availability=rng.choice(AVAILABILITY),
                password=password,
            )
        )
    Registration.objects.bulk_create(regs)
