"""A small party world on top of ``conftest.build_world``: community a's committee and a branch in
its compound, an employer unit, a dual-report member with a login (``world.party_member``, who
already holds the party member role on a), a registered member, and a task."""

from __future__ import annotations

import datetime
from dataclasses import dataclass
from typing import Any

from stdnum.cn import uscc

from linli.party import actions
from linli.party.models import MemberKind, OrgKind, PartyMember, PartyOrg, Post, Unit, UnitContact


def valid_uscc(body17: str) -> str:
    return body17 + uscc.calc_check_digit(body17)


USCC_BANK = valid_uscc("91440101MA59ABCD1")
USCC_CLINIC = valid_uscc("12440000455858601")


@dataclass
class Party:
    committee: PartyOrg
    branch: PartyOrg  # built in community a's compound
    unit: Unit
    other_unit: Unit
    member: PartyMember  # dual report, login world.party_member, unit
    registered: PartyMember  # in the compound branch, no login
    task: Post
    b_member: PartyMember  # community b, same unit
    contact: UnitContact  # world.partner is the unit's contact in a


def build_party(world: Any) -> Party:
    a = world.a
    committee = actions.create_org(
        world.worker, kind=OrgKind.COMMITTEE, name="甲社区党委", community=a.place
    )
    branch = actions.create_org(
        world.worker,
        kind=OrgKind.BRANCH,
        name="甲社区花园小区党支部",
        community=a.place,
        place=a.compound,
        parent=committee,
    )
    unit = Unit.objects.create(name="某银行支行", uscc=USCC_BANK)
    other_unit = Unit.objects.create(name="某社区医院", uscc=USCC_CLINIC)
    member = actions.add_member(
        world.worker,
        community=a.place,
        name="吴越",
        kind=MemberKind.DUAL_REPORT,
        phone="13700000001",
        unit=unit,
    )
    PartyMember.objects.filter(pk=member.pk).update(user=world.party_member)
    member.refresh_from_db()
    registered = actions.add_member(
        world.worker,
        community=a.place,
        name="李建国",
        kind=MemberKind.REGISTERED,
        phone="13700000002",
        org=branch,
        transferred_in_on=datetime.date(2024, 5, 1),
        transferred_from="某市某区某街道党工委",
    )
    actions.set_secretary(world.worker, branch, registered)
    b_member = actions.add_member(
        world.neighbour,
        community=world.b.place,
        name="乙社区党员",
        kind=MemberKind.DUAL_REPORT,
        phone="13700000003",
        unit=unit,
    )
    task = actions.publish(world.worker, a.place, kind="task", title="周末清理楼道", capacity=3)
    contact = actions.add_contact(world.worker, unit, world.partner, a.place)
    return Party(committee, branch, unit, other_unit, member, registered, task, b_member, contact)
