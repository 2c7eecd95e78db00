"""Every change to a case: intake and each step of the workflow.

    received ─accept→ accepted ─assign→ assigned ─start→ in progress ─resolve→ resolved ─rate→ rated
        └─reject→ rejected (final)      ↑ (re)assign ←──────┘                     │      │
                                        └────────── reopen ←──────────────────────┴──────┴─ closed

Each action runs in one transaction with the case row locked: it checks that the step is allowed
from the case's state *now* (``TRANSITIONS``) and that the actor may take it, changes the case,
and writes a timeline event, an audit record and an outbox message (which notifies the assignee and
whoever took the case in). A step that is not allowed raises ``IllegalTransition`` and changes
nothing; pressing the same button twice gives one change and one clear error.

A dissatisfied rating (1 or 2) reopens the case to its assignee at once. Escalation to the street is
a mark on an open case, not a state. A merged case follows its primary: it leaves the workflow and
its tracking page shows the primary's progress.
"""

from __future__ import annotations

import datetime
import secrets
from dataclasses import dataclass
from typing import Any

from django.core.exceptions import PermissionDenied, ValidationError
from django.db import IntegrityError, transaction
from django.db.models import Q
from django.utils import timezone
from django.utils.translation import gettext as _
from django.utils.translation import pgettext_lazy

from linli.accounts.models import Grant, User
from linli.accounts.roles import Cap, Role
from linli.accounts.scope import scope_for
from linli.accounts.types import Viewer
from linli.core import audit, outbox
from linli.core.crypto import blind
from linli.core.errors import Conflict
from linli.core.identifiers import parse_mobile
from linli.core.paths import ancestors
from linli.places.models import Place, PlaceKind

from . import attributes
from .models import (
    OPEN_STATES,
    AssigneeKind,
    Case,
    CaseEvent,
    Category,
    Channel,
    EventKind,
    Priority,
    Rating,
    State,
)

# action → (states it may start from, state it leads to)
TRANSITIONS: dict[str, tuple[frozenset[str], str]] = {
    "accept": (frozenset({State.RECEIVED}), State.ACCEPTED),
    "reject": (frozenset({State.RECEIVED}), State.REJECTED),
    "assign": (frozenset({State.ACCEPTED, State.ASSIGNED, State.IN_PROGRESS}), State.ASSIGNED),
    "start": (frozenset({State.ASSIGNED}), State.IN_PROGRESS),
    "resolve": (frozenset({State.ASSIGNED, State.IN_PROGRESS}), State.RESOLVED),
    "rate": (frozenset({State.RESOLVED}), State.RATED),
    "close": (frozenset({State.RESOLVED, State.RATED}), State.CLOSED),
    "reopen": (frozenset({State.RESOLVED, State.RATED, State.CLOSED}), State.ASSIGNED),
    "merge": (frozenset(OPEN_STATES), State.MERGED),
}
# Steps the assignee takes on their own case; the rest need the case-handling capability.
ASSIGNEE_STEPS = frozenset({"start", "resolve"})
CASE_PLACE_KINDS = (PlaceKind.COMPOUND, PlaceKind.BUILDING)
UNRATED_CLOSE_AFTER = datetime.timedelta(days=7)
CODE_ALPHABET = "23456789ABCDEFGHJKMNPQRSTUVWXYZ"  # no 0/O, 1/I/L: read aloud over the phone

# "A case that is “Closed” cannot be …": the step's past participle.
ACTION_WORDS: dict[str, Any] = {
    "accept": pgettext_lazy("case step", "accepted"),
    "reject": pgettext_lazy("case step", "rejected"),
    "assign": pgettext_lazy("case step", "assigned"),
    "start": pgettext_lazy("case step", "started"),
    "resolve": pgettext_lazy("case step", "resolved"),
    "rate": pgettext_lazy("case step", "rated"),
    "close": pgettext_lazy("case step", "closed"),
    "reopen": pgettext_lazy("case step", "reopened"),
    "merge": pgettext_lazy("case step", "merged"),
}

ASSIGNEE_KIND_OF_ROLE = {
    Role.PROPERTY_STAFF: AssigneeKind.PROPERTY,
    Role.PARTNER_CONTACT: AssigneeKind.PARTNER,
    Role.PARTY_MEMBER: AssigneeKind.PARTY,
    Role.GRID_WORKER: AssigneeKind.GRID,
}


class IllegalTransition(Conflict):
    """The step is not possible from the case's current state (carried as ``state``)."""


def not_yours() -> PermissionDenied:
    """The user sees the case but may not take this step on it."""
    return PermissionDenied(_("You may see this case but not take this step."))


def new_code() -> str:
    return "".join(secrets.choice(CODE_ALPHABET) for _i in range(8))


def new_public_id() -> str:
    """The case's name in public lists (Open311): drawn apart from the tracking code, so neither
    tells anything about the other."""
    return secrets.token_hex(8)


def _notify(case: Case, event: CaseEvent) -> None:
    outbox.enqueue("cases.notify", {"case": case.pk, "event": event.pk})


def _event(
    case: Case,
    actor: User | None,
    kind: str,
    *,
    from_state: str = "",
    to_state: str = "",
    note: str = "",
    public: bool = True,
    at: datetime.datetime | None = None,
) -> CaseEvent:
    event = CaseEvent.objects.create(
        case=case,
        at=at or timezone.now(),
        actor=actor if getattr(actor, "is_authenticated", False) else None,
        kind=kind,
        from_state=from_state,
        to_state=to_state,
        note=note,
        public=public,
    )
    _notify(case, event)
    return event


# --- intake -----------------------------------------------------------------------------------


@dataclass
class Intake:
    channel: str
    category: Category
    place: Place
    description: str
    title: str = ""
    priority: str = Priority.NORMAL
    reporter_name: str = ""
    reporter_phone: str = ""
    anonymous: bool = False
    resident_id: int | None = None
    # The answers to the category's attributes: as sent (code -> the values given), and once
    # cleaned as kept on the case (code -> a string, or a list of keys). None: the channel asks
    # none (staff intake); a mapping, even empty, is checked, required attributes included.
    attributes: dict[str, Any] | None = None


def _title(given: str, description: str) -> str:
    """The title as given, or the description's first line; at most 40 characters."""
    title = " ".join((given or description.splitlines()[0] if description else "").split())
    return title[:39] + "…" if len(title) > 40 else title


def _answers(data: Intake, errors: dict[str, list[str]]) -> dict[str, Any] | None:
    """The attributes' answers as kept, or None when the channel asks none; faults go to
    ``errors`` by ``attribute[CODE]``."""
    if data.attributes is None:
        return None
    try:
        return attributes.clean(data.category, data.attributes)
    except ValidationError as exc:
        for key, messages in exc.message_dict.items():
            errors.setdefault(key, []).extend(messages)
        return None


def clean_intake(data: Intake) -> Intake:
    errors: dict[str, list[str]] = {}

    def fail(key: str, message: str) -> None:
        errors.setdefault(key, []).append(message)

    if data.channel not in Channel.values:
        fail("channel", _("Unknown channel."))
    if not data.category.active:
        fail("category", _("This category is no longer in use."))
    if data.place.kind not in CASE_PLACE_KINDS:
        fail("place", _("A case belongs to a building or a compound."))
    description = data.description.strip()
    if len(description) < 4:
        fail("description", _("Describe the matter in a few words at least."))
    elif len(description) > 4000:
        fail("description", _("At most 4,000 characters."))
    title = _title(data.title, description)
    if data.priority not in Priority.values:
        fail("priority", _("Unknown priority."))
    phone = ""
    if data.reporter_phone.strip():
        try:
            phone = parse_mobile(data.reporter_phone)
        except ValidationError as exc:
            fail("reporter_phone", exc.messages[0])
    name = " ".join(data.reporter_name.split())[:50]
    if data.anonymous:
        name = ""
    answers = _answers(data, errors)
    if errors:
        raise ValidationError(errors)
    return Intake(
        channel=data.channel,
        category=data.category,
        place=data.place,
        description=description,
        title=title,
        priority=data.priority,
        reporter_name=name,
        reporter_phone=phone,
        anonymous=data.anonymous,
        resident_id=data.resident_id,
        attributes=answers,
    )


def take_in(actor: User | None, data: Intake, *, now: datetime.datetime | None = None) -> Case:
    """A new case. ``actor`` is the staff member or chief taking it in, or None when a resident
    files it themselves (QR form, Open311): the caller has then checked how they reached it."""
    if actor is not None and not scope_for(actor, Cap.CASES_INTAKE).contains(data.place):
        raise PermissionDenied(_("You may not take in cases here."))
    clean = clean_intake(data)
    now = now or timezone.now()
    place = clean.place
    for _attempt in range(5):
        code, public_id = new_code(), new_public_id()
        try:
            with transaction.atomic():
                case = Case.objects.create(
                    code=code,
                    public_id=public_id,
                    attributes=clean.attributes or {},
                    channel=clean.channel,
                    category=clean.category,
                    place=place,
                    path=place.path,
                    grid_id=place.grid_id,
                    lane_id=place.lane_id,
                    title=clean.title,
                    description=clean.description,
                    priority=clean.priority,
                    state=State.RECEIVED,
                    resident_id=clean.resident_id,
                    reporter_name=clean.reporter_name,
                    reporter_phone=clean.reporter_phone,
                    reporter_phone_index=blind(clean.reporter_phone, "phone"),
                    anonymous=clean.anonymous,
                    created_by=actor if getattr(actor, "is_authenticated", False) else None,
                    received_at=now,
                    respond_by=now + datetime.timedelta(hours=clean.category.response_hours),
                )
                _event(case, actor, EventKind.STATE, to_state=State.RECEIVED, at=now)
                audit.record(
                    actor,
                    "case.create",
                    case,
                    place_path=case.path,
                    data={"channel": case.channel, "category": clean.category.code},
                )
                return case
        except IntegrityError:
            if Case.objects.filter(Q(code=code) | Q(public_id=public_id)).exists():
                continue  # a random code or id was taken: draw another
            raise
    raise RuntimeError("could not draw a free tracking code")


# --- the steps --------------------------------------------------------------------------------


def _locked(case_id: int) -> Case:
    return Case.objects.select_for_update().select_related("category").get(pk=case_id)


def _check(case: Case, action: str) -> str:
    sources, target = TRANSITIONS[action]
    if case.state not in sources:
        raise IllegalTransition(
            _("A case that is “%(state)s” cannot be %(action)s.")
            % {"state": State(case.state).label, "action": ACTION_WORDS[action]},
            code="state",
            state=case.state,
        )
    return target


def may_handle(user: Viewer, case: Case) -> bool:
    return scope_for(user, Cap.CASES_HANDLE).contains(case)


def may_step(user: Viewer, case: Case, action: str) -> bool:
    """Whether ``user`` may take this step on the case, whatever its state: a transition, or
    ``escalate`` (a handler) or ``comment`` (whoever may resolve it)."""
    if action == "escalate":
        return may_handle(user, case)
    if action == "comment":
        action = "resolve"
    if action in ASSIGNEE_STEPS and case.assignee_id is not None and case.assignee_id == user.pk:
        return True
    return may_handle(user, case)


def steps_for(user: Viewer, case: Case) -> list[str]:
    """The steps ``user`` may take on the case now, in the workflow's order, then ``escalate``
    and ``comment``: what the case page offers and what the API lists as ``steps``."""
    steps = [
        action
        for action, (sources, _target) in TRANSITIONS.items()
        if case.state in sources and may_step(user, case, action)
    ]
    if case.is_open and case.escalated_at is None and may_step(user, case, "escalate"):
        steps.append("escalate")
    if may_step(user, case, "comment"):
        steps.append("comment")
    return steps


def _transition(
    actor: User | None,
    case_id: int,
    action: str,
    *,
    note: str = "",
    public: bool = True,
    apply: Any = None,
    now: datetime.datetime | None = None,
) -> Case:
    now = now or timezone.now()
    with transaction.atomic():
        case = _locked(case_id)
        if actor is not None and not may_step(actor, case, action):
            raise not_yours()
        target = _check(case, action)
        before = case.state
        case.state = target
        if apply is not None:
            apply(case, now)
        case.save()
        _event(
            case,
            actor,
            EventKind.STATE,
            from_state=before,
            to_state=target,
            note=note,
            public=public,
            at=now,
        )
        audit.record(
            actor,
            f"case.{action}",
            case,
            place_path=case.path,
            data={"from": before, "to": target},
        )
    return case


def accept(actor: User | None, case_id: int, *, now: datetime.datetime | None = None) -> Case:
    def apply(case: Case, at: datetime.datetime) -> None:
        case.responded_at = case.responded_at or at
        case.accepted_at = at
        case.resolve_by = at + datetime.timedelta(days=case.category.resolve_days)
        case.overdue = False  # answered: the next deadline is the resolution's

    return _transition(actor, case_id, "accept", apply=apply, now=now)


def reject(
    actor: User | None, case_id: int, reason: str, *, now: datetime.datetime | None = None
) -> Case:
    reason = " ".join(reason.split())
    if len(reason) < 2:
        raise ValidationError({"reason": _("Tell the resident why the case is rejected.")})
    if len(reason) > 500:
        raise ValidationError({"reason": _("At most 500 characters.")})

    def apply(case: Case, at: datetime.datetime) -> None:
        case.responded_at = case.responded_at or at
        case.reject_reason = reason
        case.closed_at = at
        case.overdue = False

    return _transition(actor, case_id, "reject", note=reason, apply=apply, now=now)


def assignable(case: Case) -> list[Any]:
    """The people a case may be given to: anyone holding a role on its place, its grid or its lane
    (community and grid workers, property staff of its compound, partners, party members)."""

    covering = Q(place__path__in=[*ancestors(case.path), case.path])
    if case.grid_id:
        covering |= Q(grid_id=case.grid_id)
    if case.lane_id:
        covering |= Q(lane_id=case.lane_id)
    roles = [
        Role.COMMUNITY_WORKER,
        Role.GRID_WORKER,
        Role.PROPERTY_STAFF,
        Role.PARTNER_CONTACT,
        Role.PARTY_MEMBER,
    ]
    user_ids = Grant.objects.filter(covering, revoked_at__isnull=True, role__in=roles).values(
        "user_id"
    )
    return list(User.objects.filter(pk__in=user_ids, is_active=True).order_by("username"))


def assignee_kinds(case: Case, user_ids: list[int]) -> dict[int, str]:
    """What each of these people would be, as the case's assignee: from their roles on the case's
    place (and its ancestors) and its grid, in one query whatever the number of people."""

    covering = Q(place__path__in=[*ancestors(case.path), case.path])
    if case.grid_id:
        covering |= Q(grid_id=case.grid_id)
    roles: dict[int, set[str]] = {pk: set() for pk in user_ids}
    for user_id, role in Grant.objects.filter(
        covering, user_id__in=user_ids, revoked_at__isnull=True
    ).values_list("user_id", "role"):
        roles[user_id].add(role)
    return {pk: _kind_of(held) for pk, held in roles.items()}


def _kind_of(roles: set[str]) -> str:
    for role, kind in ASSIGNEE_KIND_OF_ROLE.items():
        if role in roles and Role.COMMUNITY_WORKER not in roles:
            return kind
    return AssigneeKind.WORKER


def _assignee_kind(user: User, case: Case) -> str:
    return assignee_kinds(case, [user.pk])[user.pk]


def assign(
    actor: User | None, case_id: int, assignee: User | None, *, now: datetime.datetime | None = None
) -> Case:
    case = Case.objects.get(pk=case_id)
    if assignee is None or assignee.pk not in {u.pk for u in assignable(case)}:
        raise ValidationError({"assignee": _("This person holds no role where the case is.")})
    kind = _assignee_kind(assignee, case)

    def apply(case: Case, at: datetime.datetime) -> None:
        case.assignee = assignee
        case.assignee_kind = kind

    name = assignee.get_full_name() or assignee.get_username()
    note = _("Assigned to %(name)s (%(kind)s).") % {"name": name, "kind": AssigneeKind(kind).label}
    return _transition(actor, case_id, "assign", note=note, apply=apply, now=now)


def start(actor: User | None, case_id: int, *, now: datetime.datetime | None = None) -> Case:
    return _transition(actor, case_id, "start", now=now)


def resolve(
    actor: User | None, case_id: int, text: str, *, now: datetime.datetime | None = None
) -> Case:
    text = text.strip()
    if len(text) < 2:
        raise ValidationError({"resolution": _("Say what was done.")})
    if len(text) > 4000:
        raise ValidationError({"resolution": _("At most 4,000 characters.")})

    def apply(case: Case, at: datetime.datetime) -> None:
        case.resolution = text
        case.resolved_at = at
        case.overdue = False

    return _transition(actor, case_id, "resolve", note=text, apply=apply, now=now)


def rate(
    actor: User | None,
    case_id: int,
    rating: int,
    comment: str = "",
    *,
    now: datetime.datetime | None = None,
) -> Case:
    """The resident's verdict (``actor`` None when they rate from the tracking page; a worker may
    record it for them after a phone call). 1 or 2 reopens the case to its assignee."""
    if rating not in Rating.values:
        raise ValidationError({"rating": _("Choose one of the five levels.")})
    comment = " ".join(comment.split())[:500]

    def apply(case: Case, at: datetime.datetime) -> None:
        case.rating = rating
        case.rating_comment = comment
        case.rated_at = at

    note = str(Rating(rating).label) + (f": {comment}" if comment else "")
    case = _transition(actor, case_id, "rate", note=note, apply=apply, now=now)
    if rating <= Rating.DISSATISFIED:
        case = _reopen(actor, case_id, _("The resident is not satisfied."), now=now, check=False)
    return case


def close(actor: User | None, case_id: int, *, now: datetime.datetime | None = None) -> Case:
    def apply(case: Case, at: datetime.datetime) -> None:
        case.closed_at = at

    return _transition(actor, case_id, "close", apply=apply, now=now)


def _reopen(
    actor: User | None,
    case_id: int,
    reason: str,
    *,
    now: datetime.datetime | None,
    check: bool = True,
) -> Case:
    def apply(case: Case, at: datetime.datetime) -> None:
        case.closed_at = None
        case.resolved_at = None
        case.resolve_by = at + datetime.timedelta(days=case.category.resolve_days)
        case.overdue = False

    return _transition(
        actor if check else None, case_id, "reopen", note=reason, apply=apply, now=now
    )


def reopen(
    actor: User | None, case_id: int, reason: str, *, now: datetime.datetime | None = None
) -> Case:
    reason = " ".join(reason.split())
    if len(reason) < 2:
        raise ValidationError({"reason": _("Say why the case is reopened.")})
    return _reopen(actor, case_id, reason[:500], now=now)


def merge(
    actor: User | None, case_id: int, primary_id: int, *, now: datetime.datetime | None = None
) -> Case:
    """``case_id`` becomes part of ``primary_id``: it leaves the workflow and follows the primary."""
    if case_id == primary_id:
        raise ValidationError({"primary": _("A case cannot be merged into itself.")})
    primary = Case.objects.filter(pk=primary_id).first()
    if primary is None or (actor is not None and not may_handle(actor, primary)):
        raise ValidationError({"primary": _("No such case here.")})
    if primary.state in (State.MERGED, State.REJECTED):
        raise ValidationError({"primary": _("That case is itself merged or rejected.")})

    def apply(case: Case, at: datetime.datetime) -> None:
        case.merged_into_id = primary_id
        case.closed_at = at
        case.overdue = False

    case = _transition(actor, case_id, "merge", note=primary.code, apply=apply, now=now)
    _event(primary, actor, EventKind.MERGE, note=case.code, at=now)
    return case


def escalate(
    actor: User, case_id: int, reason: str, *, now: datetime.datetime | None = None
) -> Case:
    reason = " ".join(reason.split())
    if len(reason) < 2:
        raise ValidationError({"reason": _("Say why the street must take this up.")})
    now = now or timezone.now()
    with transaction.atomic():
        case = _locked(case_id)
        if not may_step(actor, case, "escalate"):
            raise not_yours()
        if case.state not in OPEN_STATES:
            raise IllegalTransition(
                _("Only an open case can be escalated."), code="state", state=case.state
            )
        if case.escalated_at is not None:
            raise IllegalTransition(
                _("This case is already escalated."), code="state", state=case.state
            )
        case.escalated_at = now
        case.save(update_fields=["escalated_at", "updated_at"])
        _event(case, actor, EventKind.ESCALATE, note=reason[:500], at=now)
        audit.record(actor, "case.escalate", case, place_path=case.path)
    return case


def comment(actor: User, case_id: int, text: str, *, public: bool = False) -> CaseEvent:
    text = text.strip()
    if not text:
        raise ValidationError({"text": _("Write something.")})
    with transaction.atomic():
        case = _locked(case_id)
        if not may_step(actor, case, "comment"):
            raise not_yours()
        return _event(case, actor, EventKind.COMMENT, note=text[:4000], public=public)


# --- the sweep --------------------------------------------------------------------------------


def sweep(now: datetime.datetime | None = None) -> dict[str, int]:
    """Flag cases past a deadline as overdue, and close resolved cases left unrated for a week.
    Run by the worker every few minutes (``linli worker``); safe to run any number of times."""
    now = now or timezone.now()
    counts = {"late_answer": 0, "late_resolution": 0, "closed_unrated": 0}
    late_answer = Case.objects.filter(state=State.RECEIVED, overdue=False, respond_by__lt=now)
    late_resolution = Case.objects.filter(
        state__in=[State.ACCEPTED, State.ASSIGNED, State.IN_PROGRESS],
        overdue=False,
        resolve_by__lt=now,
    )
    for key, qs, note in (
        ("late_answer", late_answer, _("Not answered within the deadline.")),
        ("late_resolution", late_resolution, _("Not resolved within the deadline.")),
    ):
        for case_id in list(qs.values_list("pk", flat=True)[:5000]):
            with transaction.atomic():
                # Conditional: a worker answering at this moment wins, and the flag is not set.
                if qs.filter(pk=case_id).update(overdue=True, updated_at=now) == 1:
                    case = Case.objects.get(pk=case_id)
                    _event(case, None, EventKind.OVERDUE, note=str(note), public=False, at=now)
                    counts[key] += 1
    stale = Case.objects.filter(
        state=State.RESOLVED, resolved_at__lt=now - UNRATED_CLOSE_AFTER
    ).values_list("pk", flat=True)[:5000]
    for case_id in list(stale):
        try:
            close(None, case_id, now=now)
        except IllegalTransition:
            continue  # rated or reopened meanwhile
        counts["closed_unrated"] += 1
    return counts
