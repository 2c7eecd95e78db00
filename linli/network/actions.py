"""Every write to the network: one transaction each, audited, safe to retry.

The caller has checked that the actor may act on the place (``network.queries``); these functions
check it again for the capability they need, so the API and the pages cannot drift apart.
"""

from __future__ import annotations

import datetime
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any, TypeVar

from django.core.exceptions import PermissionDenied, ValidationError
from django.db import IntegrityError, transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from linli.accounts.actions import grant_role, revoke_grant
from linli.accounts.models import Grant, User
from linli.accounts.roles import Cap, Role
from linli.accounts.scope import scope_for
from linli.cases import workflow as cases
from linli.core import audit
from linli.core.crypto import blind
from linli.core.errors import Conflict
from linli.core.identifiers import parse_mobile
from linli.core.paths import SEGMENT
from linli.places.models import Lane, LaneKind, Place, PlaceKind

from . import coverage, queries
from .models import (
    SERVING,
    STATUS_STEPS,
    Association,
    AssociationMember,
    AssociationRole,
    Chief,
    ChiefAssignment,
    ChiefDecision,
    ChiefKind,
    ChiefStatus,
    Contact,
    ContactCase,
    ContactKind,
    Membership,
    Method,
    Person,
    Reach,
    Team,
    TeamKind,
    TeamMember,
)

# district / street / community: a community's path is its first three segments.
COMMUNITY_PATH_LEN = 3 * SEGMENT


def community_path(place: Place) -> str:
    return place.path[:COMMUNITY_PATH_LEN]


# How far back a contact may be entered (a worker typing up last month's notebook), and how far
# ahead of the server's clock a phone's time may run.
BACKLOG_DAYS = 366
CLOCK_SKEW = datetime.timedelta(minutes=10)


def require_manage(actor: User | None, path: str) -> None:
    """The actor may manage the network at ``path`` (``queries.may_manage``), else
    PermissionDenied saying so. ``None`` is the system itself (the demo loader, a management
    command), which has decided on its own."""
    if actor is None:
        return
    if not queries.may_manage(actor, path):
        raise PermissionDenied(_("You may see this but not manage the network here."))


# --- people -----------------------------------------------------------------------------------


def add_person(
    actor: User,
    community: Place,
    *,
    name: str,
    resident: Any = None,
    user: User | None = None,
    phone: str = "",
    skills: str = "",
    note: str = "",
) -> Person:
    if community.kind != PlaceKind.COMMUNITY:
        raise ValidationError({"community": _("Choose a community.")})
    require_manage(actor, community.path)
    errors: dict[str, str] = {}
    name = " ".join((name or (resident.name if resident else "")).split())
    if not name:
        errors["name"] = _("Give the person's name.")
    elif len(name) > 50:
        errors["name"] = _("At most 50 characters.")
    if resident is not None and not (
        resident.home is not None and resident.home.path.startswith(community.path)
    ):
        errors["resident"] = _("This resident does not live in the community.")
    clean_phone = ""
    if phone.strip():
        try:
            clean_phone = parse_mobile(phone)
        except ValidationError as exc:
            errors["phone"] = exc.messages[0]
    if errors:
        raise ValidationError(errors)
    person = Person(
        community=community,
        path=community.path,
        name=name,
        resident=resident,
        user=user,
        phone=clean_phone,
        phone_index=blind(clean_phone, "phone"),
        skills=skills.strip()[:200],
        note=note.strip(),
    )
    person.validate_constraints()
    try:
        with transaction.atomic():
            person.save()
            audit.record(actor, "network.person.create", person, place_path=community.path)
    except IntegrityError as exc:  # the same person added twice at the same moment
        raise ValidationError(_("This person is already in the network.")) from exc
    return person


# --- chiefs -----------------------------------------------------------------------------------


def recruit_chief(
    actor: User | None,
    person: Person,
    kind: str,
    *,
    on: datetime.date | None = None,
    note: str = "",
) -> Chief:
    """A new candidate. Recruiting the same person for the same kind again returns their record."""
    if kind not in ChiefKind.values:
        raise ValidationError({"kind": _("Unknown kind of chief.")})
    require_manage(actor, person.path)
    on = on or timezone.localdate()
    with transaction.atomic():
        existing = Chief.objects.filter(person=person, kind=kind).first()
        if existing is not None:
            return existing
        chief = Chief.objects.create(
            person=person,
            path=person.path,
            kind=kind,
            status=ChiefStatus.CANDIDATE,
            status_since=on,
            recruited_by=actor,
        )
        ChiefDecision.objects.create(
            chief=chief,
            from_status="",
            to_status=ChiefStatus.CANDIDATE,
            on=on,
            decided_by=chief.recruited_by,
            note=note[:200],
        )
        audit.record(actor, "network.chief.recruit", chief, place_path=chief.path)
    return chief


def decide(
    actor: User | None,
    chief_id: int,
    to_status: str,
    *,
    on: datetime.date | None = None,
    note: str = "",
) -> Chief:
    """Move a chief to ``to_status`` (see ``STATUS_STEPS``); their grants follow."""
    on = on or timezone.localdate()
    with transaction.atomic():
        chief = Chief.objects.select_for_update().select_related("person").get(pk=chief_id)
        require_manage(actor, chief.path)
        if to_status == chief.status:
            return chief  # a retried decision changes nothing
        if to_status not in STATUS_STEPS.get(chief.status, ()):
            raise Conflict(
                _("A %(from)s chief cannot become %(to)s.")
                % {
                    "from": ChiefStatus(chief.status).label,
                    "to": ChiefStatus(to_status).label
                    if to_status in ChiefStatus.values
                    else to_status,
                },
                status=chief.status,
            )
        if on < chief.status_since:
            raise ValidationError({"on": _("The date is before the chief's current status.")})
        if on > timezone.localdate():
            raise ValidationError({"on": _("The date is in the future.")})
        ChiefDecision.objects.create(
            chief=chief,
            from_status=chief.status,
            to_status=to_status,
            on=on,
            decided_by=actor,
            note=note[:200],
        )
        before = chief.status
        chief.status = to_status
        chief.status_since = on
        chief.save(update_fields=["status", "status_since"])
        if to_status == ChiefStatus.RETIRED:
            for assignment in chief.assignments.filter(until__isnull=True):
                _end(actor, assignment, on)
        _sync_grants(actor, chief)
        audit.record(
            actor,
            "network.chief.decide",
            chief,
            place_path=chief.path,
            data={"from": before, "to": to_status, "note": note[:200]},
        )
    return chief


def assign(
    actor: User | None,
    chief_id: int,
    *,
    building: Place | None = None,
    lane: Lane | None = None,
    since: datetime.date | None = None,
) -> ChiefAssignment:
    """Give a chief a building (building chiefs) or a street/lane (lane and street chiefs)."""
    since = since or timezone.localdate()
    with transaction.atomic():
        chief = Chief.objects.select_for_update().select_related("person").get(pk=chief_id)
        require_manage(actor, chief.path)
        if chief.status == ChiefStatus.RETIRED:
            raise Conflict(_("A retired chief takes no assignments."), status=chief.status)
        if chief.kind == ChiefKind.BUILDING:
            if building is None or lane is not None or building.kind != PlaceKind.BUILDING:
                raise ValidationError({"building": _("A building chief looks after buildings.")})
            if not building.path.startswith(chief.path):
                raise ValidationError({"building": _("The building is in another community.")})
            path = building.path
        else:
            wanted = LaneKind.LANE if chief.kind == ChiefKind.LANE else LaneKind.STREET
            if lane is None or building is not None or lane.kind != wanted:
                raise ValidationError(
                    {
                        "lane": _("A lane chief looks after a lane.")
                        if wanted == LaneKind.LANE
                        else _("A street chief looks after a street.")
                    }
                )
            if lane.community.path != chief.path:
                raise ValidationError({"lane": _("The street or lane is in another community.")})
            path = lane.community.path
        existing = ChiefAssignment.objects.filter(
            chief=chief, building=building, lane=lane, until__isnull=True
        ).first()
        if existing is not None:
            return existing
        assignment = ChiefAssignment.objects.create(
            chief=chief, building=building, lane=lane, path=path, since=since
        )
        _sync_grants(actor, chief)
        audit.record(
            actor,
            "network.chief.assign",
            chief,
            place_path=path,
            data={"building": building.pk if building else None, "lane": lane.pk if lane else None},
        )
    assignment.refresh_from_db()
    return assignment


def end_assignment(actor: User, assignment_id: int, until: datetime.date | None = None) -> None:
    until = until or timezone.localdate()
    with transaction.atomic():
        assignment = (
            ChiefAssignment.objects.select_for_update()
            .select_related("chief")
            .get(pk=assignment_id)
        )
        require_manage(actor, assignment.chief.path)
        if assignment.until is not None:
            return
        if until < assignment.since:
            raise ValidationError({"until": _("The end is before the start.")})
        _end(actor, assignment, until)
        audit.record(actor, "network.chief.unassign", assignment.chief, place_path=assignment.path)


def _end(actor: User | None, assignment: ChiefAssignment, until: datetime.date) -> None:
    assignment.until = until
    assignment.save(update_fields=["until"])
    if assignment.grant_id is not None:
        grant = Grant.objects.get(pk=assignment.grant_id)
        if grant.revoked_at is None:
            revoke_grant(actor, grant)


def _sync_grants(actor: User | None, chief: Chief) -> None:
    """A serving chief with a login holds the CHIEF role on each assigned building or lane; a
    candidate or retired one holds none (their earlier grants are revoked, kept as history)."""
    user = chief.person.user
    for assignment in chief.assignments.filter(until__isnull=True).select_related(
        "building", "lane"
    ):
        if chief.status in SERVING and user is not None and user.is_active:
            if assignment.grant_id is None or _revoked(assignment.grant_id):
                grant = grant_role(
                    actor, user, Role.CHIEF, place=assignment.building, lane=assignment.lane
                )
                assignment.grant = grant
                assignment.save(update_fields=["grant"])
        elif assignment.grant_id is not None:
            grant = Grant.objects.get(pk=assignment.grant_id)
            if grant.revoked_at is None:
                revoke_grant(actor, grant)


def _revoked(grant_id: int) -> bool:
    return Grant.objects.filter(pk=grant_id, revoked_at__isnull=False).exists()


# --- association and teams --------------------------------------------------------------------


def create_association(
    actor: User,
    community: Place,
    name: str,
    *,
    compound: Place | None = None,
    founded_on: datetime.date | None = None,
) -> Association:
    if community.kind != PlaceKind.COMMUNITY:
        raise ValidationError({"community": _("Choose a community.")})
    if compound is not None and (
        compound.kind != PlaceKind.COMPOUND or not compound.path.startswith(community.path)
    ):
        raise ValidationError({"compound": _("Choose a compound of this community.")})
    require_manage(actor, community.path)
    name = " ".join(name.split())
    if not name:
        raise ValidationError({"name": _("Give the association a name.")})
    with transaction.atomic():
        association = Association.objects.create(
            community=community,
            compound=compound,
            path=(compound or community).path,
            name=name[:100],
            founded_on=founded_on,
        )
        audit.record(actor, "network.association.create", association, place_path=association.path)
    return association


def join_association(
    actor: User,
    association: Association,
    person: Person,
    role: str = AssociationRole.MEMBER,
    joined_on: datetime.date | None = None,
) -> AssociationMember:
    return join(actor, AssociationMember, association, person, role, joined_on=joined_on)


def create_team(
    actor: User,
    community: Place,
    name: str,
    kind: str,
    *,
    founded_on: datetime.date | None = None,
    description: str = "",
) -> Team:
    if community.kind != PlaceKind.COMMUNITY:
        raise ValidationError({"community": _("Choose a community.")})
    if kind not in TeamKind.values:
        raise ValidationError({"kind": _("Unknown kind of team.")})
    require_manage(actor, community.path)
    name = " ".join(name.split())
    if not name:
        raise ValidationError({"name": _("Give the team a name.")})
    with transaction.atomic():
        team = Team.objects.create(
            community=community,
            path=community.path,
            name=name[:100],
            kind=kind,
            founded_on=founded_on,
            description=description.strip()[:300],
        )
        audit.record(actor, "network.team.create", team, place_path=team.path)
    return team


def join_team(
    actor: User,
    team: Team,
    person: Person,
    *,
    leader: bool = False,
    joined_on: datetime.date | None = None,
) -> TeamMember:
    return join(actor, TeamMember, team, person, leader, joined_on=joined_on)


M = TypeVar("M", bound=Membership)

# What the audit keeps of a membership's ``holds``: as a member joins, and as it changes.
JOINED_DATA: dict[type[Membership], Callable[[Any], dict[str, Any]]] = {
    AssociationMember: lambda role: {"role": role},
    TeamMember: lambda leader: {},
}
CHANGED_DATA: dict[type[Membership], Callable[[Any, Any], dict[str, Any]]] = {
    AssociationMember: lambda before, after: {"from": before, "to": after},
    TeamMember: lambda before, after: {"leader": after},
}


def join(
    actor: User,
    kind: type[M],
    group: Association | Team,
    person: Person,
    held: Any,
    *,
    joined_on: datetime.date | None = None,
) -> M:
    """Add ``person`` to ``group`` (an association or a team, ``kind`` its membership), holding
    ``held`` there (an association's role, a team's lead). A current member added again keeps
    their membership and takes the new role or lead."""
    if kind is AssociationMember and held not in AssociationRole.values:
        raise ValidationError({"role": _("Unknown role.")})
    require_manage(actor, group.path)
    if not group.path.startswith(person.path):
        raise ValidationError({"person": _("This person belongs to another community.")})
    prefix = f"network.{kind.group_field}"
    with transaction.atomic():
        # The group's field and the person's are the kind's own (the base has neither).
        ours = {kind.group_field: group, "person": person}
        existing = kind.objects.filter(**ours, left_on__isnull=True).first()
        if existing is not None:
            if existing.held != held:
                audit.record(
                    actor,
                    f"{prefix}.{kind.holds}",
                    group,
                    place_path=group.path,
                    data={"person": person.pk, **CHANGED_DATA[kind](existing.held, held)},
                )
                setattr(existing, kind.holds, held)
                existing.save(update_fields=[kind.holds])
            return existing
        member = kind.objects.create(
            **ours, **{kind.holds: held}, joined_on=joined_on or timezone.localdate()
        )
        audit.record(
            actor,
            f"{prefix}.join",
            group,
            place_path=group.path,
            data={"person": person.pk, **JOINED_DATA[kind](held)},
        )
    return member


def leave(actor: User, member: Membership, on: datetime.date | None = None) -> None:
    """Record that a member left their association or team (today by default); a member who
    has left already is left as they are."""
    require_manage(actor, member.group.path)
    with transaction.atomic():
        member = type(member).objects.select_for_update().get(pk=member.pk)
        if member.left_on is None:
            member.left_on = on or timezone.localdate()
            if member.left_on < member.joined_on:
                raise ValidationError({"left_on": _("The end is before the start.")})
            member.save(update_fields=["left_on"])
            audit.record(
                actor,
                f"network.{member.group_field}.leave",
                member.group,
                place_path=member.group.path,
                data={"person": member.person_id},
            )


# --- contact records --------------------------------------------------------------------------

# Where each kind of contact may be recorded.
CONTACT_PLACES: dict[str, tuple[str, ...]] = {
    ContactKind.VISIT: (PlaceKind.DWELLING,),
    ContactKind.PATROL: (PlaceKind.COMMUNITY, PlaceKind.COMPOUND, PlaceKind.BUILDING),
    ContactKind.RECEPTION: (PlaceKind.COMMUNITY, PlaceKind.COMPOUND, PlaceKind.BUILDING),
}
CHANNEL_OF = {"visit": "visit", "patrol": "patrol", "reception": "reception"}


@dataclass
class Need:
    """Something found on a contact that becomes a case."""

    category: Any
    description: str
    priority: str = "normal"
    place: Place | None = None  # the building or compound; the contact's own by default


@dataclass
class ContactInput:
    kind: str
    place: Place
    at: datetime.datetime | None = None
    method: str = ""
    with_whom: str = ""
    route: str = ""
    location: str = ""
    attendance: int | None = None
    summary: str = ""
    dwellings: list[Place] = field(default_factory=list)  # households met, besides a visit's own
    needs: list[Need] = field(default_factory=list)
    client_key: str = ""


@dataclass
class Logged:
    contact: Contact
    cases: list[Any]
    repeated: bool = False


def case_place_for(place: Place) -> Place:
    """The building (or compound) a case found at ``place`` belongs to."""
    if place.kind in (PlaceKind.BUILDING, PlaceKind.COMPOUND):
        return place
    for ancestor in reversed(place.ancestors()):
        if ancestor.kind in (PlaceKind.BUILDING, PlaceKind.COMPOUND):
            return ancestor
    raise ValidationError({"place": _("A case belongs to a building or a compound.")})


def _place_problem(data: ContactInput) -> str | None:
    if data.place.kind in CONTACT_PLACES[data.kind]:
        return None
    if data.kind == ContactKind.VISIT:
        return _("A home visit is made to a dwelling.")
    return _("Choose a community, compound or building.")


def _time_problem(at: datetime.datetime | None, now: datetime.datetime) -> str | None:
    if at is None:
        return None
    if at > now + CLOCK_SKEW:
        return _("The time is in the future.")
    if at < now - datetime.timedelta(days=BACKLOG_DAYS):
        return _("Contacts older than a year cannot be entered.")
    return None


def _method_problem(data: ContactInput) -> str | None:
    if data.method and data.method not in Method.values:
        return _("Unknown way of contact.")
    if data.kind == ContactKind.VISIT and not data.method:
        return _("Say how the household was met.")
    return None


def _dwellings_problem(data: ContactInput) -> str | None:
    within = community_path(data.place)
    for dwelling in data.dwellings:
        if dwelling.kind != PlaceKind.DWELLING or not dwelling.path.startswith(within):
            return _("The households met must be dwellings of the same community.")
    return None


def clean_contact(actor: User, data: ContactInput, now: datetime.datetime) -> dict[str, list[str]]:
    """What is wrong with a contact record, by field (empty when nothing is)."""
    if data.kind not in ContactKind.values:
        return {"kind": [_("Unknown kind of contact.")]}
    attendance_ok = data.attendance is None or 0 <= data.attendance <= 10000
    problems = (
        ("place", _place_problem(data)),
        ("at", _time_problem(data.at, now)),
        ("method", _method_problem(data)),
        ("attendance", None if attendance_ok else _("Give a number from 0 to 10,000.")),
        ("summary", _("At most 4,000 characters.") if len(data.summary) > 4000 else None),
        ("dwellings", _dwellings_problem(data)),
        ("client_key", _("At most 40 characters.") if len(data.client_key) > 40 else None),
    )
    return {key: [message] for key, message in problems if message is not None}


def _earlier(actor: User, client_key: str) -> Contact | None:
    """The record first sent with ``client_key``, if any: the actor's own, else PermissionDenied."""
    if not client_key:
        return None
    earlier = Contact.objects.filter(client_key=client_key).first()
    if earlier is not None and earlier.logged_by_id != actor.pk:
        raise PermissionDenied(_("You may not log contacts here."))
    return earlier


def _intakes(data: ContactInput, errors: dict[str, list[str]]) -> list[cases.Intake]:
    """The cases the contact found, checked as the cases' intake checks them; what is wrong goes
    into ``errors`` under ``needs.<i>.<field>``."""
    intakes = []
    for i, need in enumerate(data.needs):
        try:
            intakes.append(
                cases.clean_intake(
                    cases.Intake(
                        channel=CHANNEL_OF[data.kind],
                        category=need.category,
                        place=need.place or case_place_for(data.place),
                        description=need.description,
                        priority=need.priority,
                    )
                )
            )
        except ValidationError as exc:
            for key, messages in exc.message_dict.items():
                errors.setdefault(f"needs.{i}.{key}", []).extend(messages)
    return intakes


def log_contact(
    actor: User,
    data: ContactInput,
    *,
    now: datetime.datetime | None = None,
) -> Logged:
    """Record a visit, patrol or reception day with the households it met and the cases it found:
    all of it or nothing. The same ``client_key`` again returns the first record."""
    now = now or timezone.now()
    scope = scope_for(actor, Cap.VISITS_LOG)
    if not scope.contains(data.place) or any(not scope.contains(d) for d in data.dwellings):
        raise PermissionDenied(_("You may not log contacts here."))
    earlier = _earlier(actor, data.client_key)
    if earlier is not None:
        return Logged(earlier, [], repeated=True)
    errors = clean_contact(actor, data, now)
    intakes = _intakes(data, errors)
    if errors:
        raise ValidationError(errors)
    at = data.at or now
    person = (
        Person.objects.filter(user=actor, path=community_path(data.place)).first()
        if getattr(actor, "is_authenticated", False)
        else None
    )
    households = list(data.dwellings)
    if data.kind == ContactKind.VISIT and data.place not in households:
        households.insert(0, data.place)
    try:
        with transaction.atomic():
            contact = Contact.objects.create(
                kind=data.kind,
                place=data.place,
                path=data.place.path,
                grid_id=data.place.grid_id,
                lane_id=data.place.lane_id,
                at=at,
                logged_by=actor if getattr(actor, "is_authenticated", False) else None,
                person=person,
                method=data.method,
                with_whom=" ".join(data.with_whom.split())[:200],
                route=data.route.strip()[:300],
                location=data.location.strip()[:200],
                attendance=data.attendance,
                summary=data.summary.strip(),
                client_key=data.client_key,
            )
            Reach.objects.bulk_create(
                [
                    Reach(contact=contact, dwelling=d, at=at)
                    for d in {d.pk: d for d in households}.values()
                ]
            )
            # The street's and the district's figures move at once for these buildings.
            coverage.refresh_buildings(households, now=now)
            made = []
            for intake in intakes:
                case = cases.take_in(actor, intake, now=now)
                ContactCase.objects.create(contact=contact, case=case)
                made.append(case)
            audit.record(
                actor,
                f"network.{data.kind}",
                contact,
                place_path=contact.path,
                data={"households": len(households), "cases": [c.code for c in made]},
            )
    except IntegrityError:
        earlier = (
            Contact.objects.filter(client_key=data.client_key).first() if data.client_key else None
        )
        if earlier is None:
            raise
        return Logged(earlier, [], repeated=True)  # the same form sent twice at once
    return Logged(contact, made)
