"""The rows the network API tests start from."""

from __future__ import annotations

import pytest

from linli.network import actions
from linli.places.models import Place
from tests.network_api.helpers import Net, resident, visit


@pytest.fixture
def net(world) -> Net:
    w = world.worker
    person = actions.add_person(w, world.a.place, name="林建国", phone="138 1234 5678")
    other = actions.add_person(w, world.a.place, name="陈秀英")
    chief = actions.recruit_chief(w, person, "building")
    actions.decide(w, chief.pk, "formal")
    assignment = actions.assign(w, chief.pk, building=world.a.building)
    association = actions.create_association(w, world.a.place, "甲社区街坊会")
    member = actions.join_association(w, association, person, "chair")
    team = actions.create_team(w, world.a.place, "楼长志愿服务队", "chiefs")
    team_member = actions.join_team(w, team, person, leader=True)
    contact = actions.log_contact(
        w,
        actions.ContactInput(
            kind="visit", place=world.a.dwelling, method="home", summary="老人身体还好"
        ),
    ).contact
    theirs = actions.add_person(world.neighbour, world.b.place, name="王乙")
    return Net(
        person,
        other,
        chief,
        assignment,
        association,
        member,
        team,
        team_member,
        contact,
        theirs,
    )


@pytest.fixture
def households(world, roster) -> dict[str, Place]:
    """Community a's six dwellings: four with residents, reached 0, 40 and 100 days ago."""
    a = world.a
    d = {
        "unit101": a.dwelling,  # grandma and her son (from the roster)
        "unit201": Place.objects.get(parent=a.unit, code="201"),
        "other101": Place.objects.get(parent=a.other_building, code="101"),
        "other201": Place.objects.get(parent=a.other_building, code="201"),  # empty
        "loose101": Place.objects.get(parent=a.loose_building, code="101"),
        "loose201": Place.objects.get(parent=a.loose_building, code="201"),  # empty
    }
    resident("赵一", "44010619900101123", d["unit201"])
    resident("钱二", "44010619850101123", d["other101"])
    resident("孙三", "44010619920101123", d["loose101"], tags=("hardship",))
    visit(world.worker, d["unit101"], 0)
    visit(world.worker, d["other101"], 40)
    visit(world.worker, d["loose101"], 100)
    visit(world.worker, d["other201"], 1)  # nobody lives there: not a household
    visit(world.neighbour, world.b.dwelling, 1)  # the other community
    return d
