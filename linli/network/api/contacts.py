"""Contact records: home visits, patrols and reception days, with the households met and the
needs found."""

import datetime
from typing import Any

from django.core.exceptions import PermissionDenied, ValidationError
from django.db.models import Count
from django.http import Http404
from django.utils import timezone
from django.utils.translation import gettext as _
from ninja import Query, Router, Schema
from ninja import Status as Reply
from ninja.pagination import paginate

from linli.accounts.models import User
from linli.accounts.roles import Cap
from linli.accounts.scope import scope_for
from linli.accounts.types import AuthedRequest, Viewer
from linli.cases.models import Category, Priority
from linli.cases.queries import cases_for
from linli.core.api import refuse, responses
from linli.core.bounds import Id, Moment
from linli.core.paging import Paging
from linli.core.scope import Scope
from linli.places.models import Place
from linli.places.queries import access_place, holding_buildings

from .. import actions, queries
from ..models import (
    Contact,
    ContactKind,
    Method,
    Reach,
)
from .common import aware, require_network

router = Router()


class ContactOut(Schema):
    id: int
    kind: str
    kind_label: str
    place_id: int
    place_name: str
    at: datetime.datetime
    method: str
    with_whom: str
    location: str
    attendance: int | None
    summary: str
    logged_by_id: int | None
    logged_by_name: str | None
    person_id: int | None  # the network member who made it
    person_name: str | None
    households: int  # households (dwellings) met
    cases: int  # cases taken in from it

    @staticmethod
    def resolve_kind_label(obj: Contact) -> str:
        return str(ContactKind(obj.kind).label)

    @staticmethod
    def resolve_place_name(obj: Contact) -> str:
        return obj.place.name

    @staticmethod
    def resolve_logged_by_name(obj: Contact) -> str | None:
        return str(obj.logged_by) if obj.logged_by is not None else None

    @staticmethod
    def resolve_person_name(obj: Contact) -> str | None:
        return obj.person.name if obj.person is not None else None

    @staticmethod
    def resolve_households(obj: Contact) -> int:
        count = getattr(obj, "n_households", None)
        return count if count is not None else obj.reached.count()

    @staticmethod
    def resolve_cases(obj: Contact) -> int:
        count = getattr(obj, "n_cases", None)
        return count if count is not None else obj.case_links.count()


class ReachedOut(Schema):
    dwelling_id: int
    name: str
    building_name: str


class ContactDetailOut(ContactOut):
    route: str
    created_at: datetime.datetime
    reached: list[ReachedOut]
    case_codes: list[str]  # the tracking codes of the cases taken in from it that one may see

    @staticmethod
    def resolve_reached(obj: Contact) -> list[dict[str, Any]]:
        dwellings = [
            r.dwelling for r in Reach.objects.filter(contact=obj).select_related("dwelling")
        ]
        buildings = holding_buildings(dwellings)
        return [
            {
                "dwelling_id": d.pk,
                "name": d.name,
                "building_name": b.name if (b := buildings.get(d.pk)) else "",
            }
            for d in sorted(dwellings, key=lambda d: d.path)
        ]

    @staticmethod
    def resolve_case_codes(obj: Contact, context: dict[str, Any]) -> list[str]:
        ids = obj.case_links.values("case_id")
        visible = cases_for(context["request"].user).filter(pk__in=ids)
        return list(visible.order_by("received_at", "id").values_list("code", flat=True))


class ContactLoggedOut(ContactDetailOut):
    repeated: bool  # true when this client_key was sent before: the first record, unchanged

    @staticmethod
    def resolve_repeated(obj: Contact) -> bool:
        return bool(getattr(obj, "repeated", False))


class ContactFilter(Schema):
    kind: ContactKind | None = None
    place: Id | None = None  # a place in the user's scope: the contacts at it or under it
    since: Moment | None = None  # inclusive; without an offset, Beijing time
    until: Moment | None = None  # exclusive


class NeedIn(Schema):
    """A need found on the way: it becomes a case (channel: the kind of contact)."""

    category: str  # the case category's code
    description: str
    priority: Priority = Priority.NORMAL
    place: Id | None = None  # a building or compound; by default the contact's own


class ContactIn(Schema):
    """A home visit (``place`` a dwelling, ``method`` required), a patrol or a reception day
    (``place`` a community, compound or building). ``client_key`` (any unique text up to 40
    characters, such as a UUID) makes a resend record it once."""

    kind: ContactKind
    place: Id
    at: Moment | None = None  # now by default; without an offset, Beijing time
    method: Method | None = None
    with_whom: str = ""
    route: str = ""
    location: str = ""
    attendance: int | None = None
    summary: str = ""
    dwellings: list[Id] = []  # households met, besides a visit's own dwelling
    needs: list[NeedIn] = []
    client_key: str = ""


def _contact(user: Viewer, contact_id: int, *, repeated: bool | None = None) -> Contact:
    contact = queries.contacts_for(user).select_related("place", "logged_by", "person")
    found = contact.filter(pk=contact_id).first()
    if found is None:
        raise Http404
    if repeated is not None:
        found.repeated = repeated  # type: ignore[attr-defined]
    return found


def _place_to_log(user: User, place_id: int) -> tuple[Place, Scope]:
    """The place of a new contact record and where the user may log them: 404 out of sight, 403
    where the user may see the network but not log contacts."""
    place = Place.objects.filter(pk=place_id).first()
    may_log = scope_for(user, Cap.VISITS_LOG)
    if place is None or not (
        may_log.contains(place) or scope_for(user, Cap.NETWORK_VIEW).contains(place)
    ):
        raise Http404
    if not may_log.contains(place):
        raise PermissionDenied(_("You may not log contacts here."))
    return place, may_log


def _earlier(user: User, key: str) -> int | None:
    """The record first sent with the client key ``key``, if any: the user's own, else 400."""
    if not key:
        return None
    earlier = Contact.objects.filter(client_key=key).values_list("pk", "logged_by_id").first()
    if earlier is None:
        return None
    if earlier[1] != user.pk:
        raise refuse(client_key=_("This key was already used for another record."))
    return earlier[0]


def _dwellings(ids: list[int], may_log: Scope, errors: dict[str, list[str]]) -> list[Place]:
    """The households met, in the user's area; else the error goes into ``errors``."""
    dwellings: list[Place] = []
    found = Place.objects.in_bulk(sorted(set(ids)))
    for pk in ids:
        dwelling = found.get(pk)
        if dwelling is None or not may_log.contains(dwelling):
            errors.setdefault("dwellings", []).append(_("Choose households in your area."))
            break
        dwellings.append(dwelling)
    return dwellings


def _needs(user: User, wanted: list[NeedIn], errors: dict[str, list[str]]) -> list[actions.Need]:
    """The needs found, each with a known category and a place where the user may take in a case;
    what is wrong goes into ``errors`` under ``needs.<i>.<field>``."""
    intake = scope_for(user, Cap.CASES_INTAKE)
    needs: list[actions.Need] = []
    for i, need in enumerate(wanted):
        category = Category.objects.filter(code=need.category).first()
        if category is None:
            errors.setdefault(f"needs.{i}.category", []).append(
                _("Unknown category: %(code)s") % {"code": need.category}
            )
        need_place = None
        if need.place is not None:
            need_place = Place.objects.filter(pk=need.place).first()
            if need_place is None or not intake.contains(need_place):
                errors.setdefault(f"needs.{i}.place", []).append(
                    _("Choose a building or compound in your area.")
                )
                need_place = None
        if category is not None:
            needs.append(
                actions.Need(
                    category=category,
                    description=need.description,
                    priority=need.priority.value,
                    place=need_place,
                )
            )
    return needs


# --- contacts --------------------------------------------------------------------------------------


@router.get(
    "/network/contacts",
    response=responses({200: list[ContactOut]}, 404, 422),
    summary="Contact records (home visits, patrols, reception days) in scope, the latest first",
)
@paginate(Paging)
def list_contacts(request: AuthedRequest, filters: Query[ContactFilter]) -> object:
    require_network(request)
    user = request.user
    qs = queries.contacts_for(user)
    if filters.kind is not None:
        qs = qs.filter(kind=filters.kind.value)
    if filters.place is not None:
        place = access_place(user, filters.place, Cap.NETWORK_VIEW)
        qs = qs.filter(path__gte=place.path, path__lt=place.path_end)
    if filters.since is not None:
        qs = qs.filter(at__gte=aware(filters.since))
    if filters.until is not None:
        qs = qs.filter(at__lt=aware(filters.until))
    return (
        qs.select_related("place", "logged_by", "person")
        .annotate(
            n_households=Count("reached", distinct=True),
            n_cases=Count("case_links", distinct=True),
        )
        .order_by("-at", "-id")
    )


@router.get(
    "/network/contacts/{contact_id}",
    response=responses({200: ContactDetailOut}, 404),
    summary="One contact record with the households it met and the cases taken in from it",
)
def get_contact(request: AuthedRequest, contact_id: Id) -> Contact:
    return _contact(request.user, contact_id)


@router.post(
    "/network/contacts",
    response=responses({200: ContactLoggedOut, 201: ContactLoggedOut}, 400, 403, 404, 422),
    summary="Log a home visit, patrol or reception day with the households met and the needs "
    "found (each becomes a case), all or nothing; the same client_key again answers 200 with the "
    "first record",
)
def log_contact(request: AuthedRequest, payload: ContactIn) -> object:
    user = request.user
    place, may_log = _place_to_log(user, payload.place)
    key = payload.client_key.strip()
    earlier = _earlier(user, key)
    if earlier is not None:
        return Reply(200, _contact(user, earlier, repeated=True))
    errors: dict[str, list[str]] = {}
    dwellings = _dwellings(payload.dwellings, may_log, errors)
    needs = _needs(user, payload.needs, errors)
    data = actions.ContactInput(
        kind=payload.kind.value,
        place=place,
        at=aware(payload.at),
        method=payload.method.value if payload.method is not None else "",
        with_whom=payload.with_whom,
        route=payload.route,
        location=payload.location,
        attendance=payload.attendance,
        summary=payload.summary,
        dwellings=dwellings,
        needs=needs,
        client_key=key,
    )
    if errors:
        for field, messages in actions.clean_contact(user, data, timezone.now()).items():
            errors.setdefault(field, []).extend(messages)
        raise ValidationError(errors)
    logged = actions.log_contact(user, data)
    return Reply(
        200 if logged.repeated else 201,
        _contact(user, logged.contact.pk, repeated=logged.repeated),
    )
