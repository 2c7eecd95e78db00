"""What the network API tests share: the calls, the rows a test starts from, a snapshot of
every network table (to show a refusal wrote nothing)."""

from __future__ import annotations

import datetime
from dataclasses import dataclass
from typing import Any

from django.utils import timezone

from linli.accounts.models import Grant
from linli.cases.models import Case
from linli.network import actions
from linli.network.models import (
    Association,
    AssociationMember,
    Chief,
    ChiefAssignment,
    ChiefDecision,
    Contact,
    Person,
    Reach,
    Team,
    TeamMember,
)
from linli.people import actions as people
from linli.places.models import Place
from tests.conftest import valid_id

API = "/api/v1"
PHONE = "13812345678"
MASKED = "138****5678"
DAY = datetime.timedelta(days=1)


@dataclass
class Net:
    person: Person  # in community a, with a phone number; a formal building chief
    other: Person  # in community a, no role yet
    chief: Chief
    assignment: ChiefAssignment  # the chief on world.a.building
    association: Association
    member: AssociationMember
    team: Team
    team_member: TeamMember
    contact: Contact  # a home visit to world.a.dwelling
    theirs: Person  # in community b


def endpoints(world: Any, net: Net) -> list[tuple[str, str, Any]]:
    """Every network endpoint, aimed at community a (the writes would succeed for its worker)."""
    a = world.a
    return [
        ("get", "/network/people", None),
        ("get", "/network/chiefs", None),
        ("get", "/network/associations", None),
        ("get", "/network/teams", None),
        ("get", "/network/contacts", None),
        ("get", "/network/my-buildings", None),
        # the objects of community a from here on (index 6)
        ("get", f"/network/people/{net.person.pk}", None),
        ("post", "/network/people", {"community": a.place.pk, "name": "新来的"}),
        ("get", f"/network/chiefs/{net.chief.pk}", None),
        ("post", "/network/chiefs", {"person": net.other.pk, "kind": "lane"}),
        ("post", f"/network/chiefs/{net.chief.pk}/decide", {"to_status": "backbone"}),
        ("post", f"/network/chiefs/{net.chief.pk}/assign", {"building": a.other_building.pk}),
        ("post", f"/network/assignments/{net.assignment.pk}/end", {}),
        ("get", f"/network/associations/{net.association.pk}", None),
        ("post", "/network/associations", {"community": a.place.pk, "name": "花园街坊会"}),
        ("post", f"/network/associations/{net.association.pk}/members", {"person": net.other.pk}),
        ("post", f"/network/association-members/{net.member.pk}/leave", {}),
        ("get", f"/network/teams/{net.team.pk}", None),
        (
            "post",
            "/network/teams",
            {"community": a.place.pk, "name": "爱心车队", "kind": "drivers"},
        ),
        ("post", f"/network/teams/{net.team.pk}/members", {"person": net.other.pk}),
        ("post", f"/network/team-members/{net.team_member.pk}/leave", {}),
        ("get", f"/network/contacts/{net.contact.pk}", None),
        ("post", "/network/contacts", {"kind": "visit", "place": a.dwelling.pk, "method": "home"}),
        ("get", f"/network/contacts?place={a.place.pk}", None),
        ("get", f"/network/coverage?place={a.place.pk}", None),
        ("get", f"/network/coverage?grid={a.grid.pk}", None),
        ("get", f"/network/coverage?lane={a.lane.pk}", None),
        ("get", f"/network/coverage/unreached?place={a.place.pk}", None),
        ("get", f"/network/coverage/unreached?grid={a.grid.pk}", None),
    ]


def snapshot() -> tuple[Any, ...]:
    return (
        list(Person.objects.order_by("pk").values_list("pk", "name", "user_id")),
        list(Chief.objects.order_by("pk").values_list("pk", "status")),
        ChiefDecision.objects.count(),
        list(ChiefAssignment.objects.order_by("pk").values_list("pk", "until", "grant_id")),
        list(Association.objects.values_list("pk", flat=True)),
        list(AssociationMember.objects.order_by("pk").values_list("pk", "role", "left_on")),
        list(Team.objects.values_list("pk", flat=True)),
        list(TeamMember.objects.order_by("pk").values_list("pk", "leader", "left_on")),
        Contact.objects.count(),
        Reach.objects.count(),
        Case.objects.count(),
        list(Grant.objects.order_by("pk").values_list("pk", "revoked_at")),
    )


def resident(name: str, body17: str, home: Place, tags: tuple[str, ...] = ()) -> Any:
    resident = people.create_resident(
        None,
        {"name": name, "id_number": valid_id(body17)},
        home=home,
        relation="owner",
        is_head=True,
    )
    if tags:
        people.set_tags(None, resident, list(tags), sensitive_allowed=True)
    return resident


def visit(actor: Any, dwelling: Place, days_ago: int) -> None:
    actions.log_contact(
        actor,
        actions.ContactInput(
            kind="visit",
            place=dwelling,
            method="doorstep",
            at=timezone.now() - days_ago * DAY,
        ),
    )
