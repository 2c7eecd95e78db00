"""The roster API: residents, households and care tags, scoped and masked exactly like the pages.

Reads go through ``people.queries`` (404 outside the user's scope), writes through
``people.actions`` (validated, audited). ID and phone numbers are masked in every answer; the only
way to a full number is ``POST /residents/{id}/reveal`` with a reason, which is audited.

Errors: 401 without a valid token or session; 404 for anything outside the user's scope (as if
it did not exist); 403 when the user may see the resident but not do what was asked; 400 when the
data is refused by the roster's rules, with a message per field; 422 when the request itself does
not fit the schema.
"""

from datetime import date
from enum import Enum
from typing import Any, Literal

from django.core.exceptions import PermissionDenied
from django.db.models import Exists, OuterRef, Prefetch, QuerySet
from django.http import Http404, HttpRequest
from django.utils import timezone
from django.utils.translation import gettext as _
from ninja import PatchDict, Query, Router, Schema
from ninja import Status as Reply
from ninja.errors import ValidationError as SchemaError
from ninja.pagination import paginate

from linli.accounts.roles import Cap
from linli.accounts.scope import scope_for
from linli.accounts.types import AuthedRequest, Viewer
from linli.core.api import query_error, refuse, responses
from linli.core.bounds import Day, Id
from linli.core.identifiers import mask_citizen_id, mask_mobile
from linli.core.paging import Paging
from linli.people import actions, queries
from linli.people.models import (
    AGED_60,
    CHILD_14,
    DERIVED_TAGS,
    CareTag,
    Gender,
    IdType,
    Membership,
    Relation,
    ResidenceType,
    Resident,
    ResidentTag,
    Status,
    tag_label,
)
from linli.places.models import Place, PlaceKind
from linli.places.queries import access_place

router = Router(tags=["roster"])

# How many matches a text search (``q``) can return before the other filters and paging apply.
SEARCH_LIMIT = 200


# --- schemas ---------------------------------------------------------------------------------------


class ResidentOut(Schema):
    id: int
    name: str
    gender: str
    birth_date: date | None
    age: int | None
    ethnicity: str
    id_type: str
    id_number_masked: str
    phone_masked: str
    residence_type: str
    home_id: int | None
    status: str
    status_date: date | None
    tags: list[str]  # stored care tags the user may see (sensitive ones only when permitted)
    derived_tags: list[str]  # aged_60 / child_14, from the date of birth

    @staticmethod
    def resolve_age(obj: Resident) -> int | None:
        return obj.age(timezone.localdate())

    @staticmethod
    def resolve_id_number_masked(obj: Resident) -> str:
        return mask_citizen_id(obj.id_number)

    @staticmethod
    def resolve_phone_masked(obj: Resident) -> str:
        return mask_mobile(obj.phone)

    @staticmethod
    def resolve_tags(obj: Resident, context: dict[str, Any]) -> list[str]:
        return _visible_codes(context["request"].user, obj)

    @staticmethod
    def resolve_derived_tags(obj: Resident) -> list[str]:
        return _derived(obj)


class MembershipOut(Schema):
    dwelling_id: int
    dwelling_name: str
    relation: str
    is_head: bool
    since: date | None
    until: date | None

    @staticmethod
    def resolve_dwelling_name(obj: Membership) -> str:
        return obj.dwelling.name


class ResidentDetailOut(ResidentOut):
    home_name: str
    memberships: list[MembershipOut]
    may_reveal: bool
    may_edit: bool
    created_at: str
    updated_at: str

    @staticmethod
    def resolve_home_name(obj: Resident) -> str:
        return obj.home.name if obj.home else ""

    @staticmethod
    def resolve_memberships(obj: Resident) -> list[Membership]:
        return list(
            Membership.objects.filter(resident=obj)
            .select_related("dwelling")
            .order_by("until", "-since", "id")
        )

    @staticmethod
    def resolve_may_reveal(obj: Resident, context: dict[str, Any]) -> bool:
        return queries.may_reveal(context["request"].user, obj)

    @staticmethod
    def resolve_may_edit(obj: Resident, context: dict[str, Any]) -> bool:
        return _may_edit(context["request"].user, obj)

    @staticmethod
    def resolve_created_at(obj: Resident) -> str:
        return obj.created_at.isoformat()

    @staticmethod
    def resolve_updated_at(obj: Resident) -> str:
        return obj.updated_at.isoformat()


class ResidentUpdateOut(ResidentDetailOut):
    changed: list[str]

    @staticmethod
    def resolve_changed(obj: Resident) -> list[str]:
        return getattr(obj, "changed_fields", [])


class ResidentFilter(Schema):
    place: Id | None = None
    q: str | None = None
    tag: str | None = None
    status: Status | None = None


class ResidentIn(Schema):
    """A resident's facts. For a citizen ID the date of birth and gender are read from the number;
    if given too, they must agree with it."""

    name: str
    gender: Gender | None = None
    birth_date: Day | None = None
    ethnicity: str = ""
    id_type: IdType = IdType.CITIZEN
    id_number: str = ""
    phone: str = ""
    residence_type: ResidenceType = ResidenceType.REGISTERED


class ResidentCreateIn(ResidentIn):
    home: Id  # the dwelling they live in
    relation: Relation = Relation.FAMILY
    is_head: bool = False
    since: Day | None = None


class RevealIn(Schema):
    field: Literal["id_number", "phone"]
    reason: str


class RevealOut(Schema):
    field: str
    value: str


class LeaveIn(Schema):
    on: Day


class TagsIn(Schema):
    tags: list[str]


class TagsOut(Schema):
    tags: list[str]


class CareTagOut(Schema):
    code: str
    name: str
    sensitive: bool
    derived: bool  # worked out from the date of birth; filter by it, never set it


class HouseholdMemberOut(Schema):
    resident_id: int
    name: str
    gender: str
    age: int | None
    relation: str
    is_head: bool
    since: date | None
    residence_type: str
    id_number_masked: str
    phone_masked: str
    tags: list[str]
    derived_tags: list[str]


class DwellingOut(Schema):
    id: int
    code: str
    name: str
    floor: int | None
    members: list[HouseholdMemberOut]


class HouseholdsOut(Schema):
    place_id: int
    place_name: str
    dwellings: list[DwellingOut]


# --- helpers ---------------------------------------------------------------------------------------


def _require_scope(request: HttpRequest) -> None:
    """Lists answer 404 to a user who may see no one at all, like the pages do."""
    if scope_for(request.user, Cap.PEOPLE_VIEW).is_empty:
        raise Http404


def _plain(values: dict[str, Any]) -> dict[str, Any]:
    """Enum members from the schema as the plain strings the roster's checks expect."""
    return {k: (v.value if isinstance(v, Enum) else v) for k, v in values.items()}


def _derived(resident: Resident) -> list[str]:
    age = resident.age(timezone.localdate())
    if age is None:
        return []
    return [AGED_60] if age >= 60 else [CHILD_14] if age < 14 else []


def _visible_codes(user: Viewer, resident: Resident) -> list[str]:
    """The resident's stored tags the user may see: from the prefetched rows in lists, from
    ``queries.visible_tags`` for one resident."""
    rows = getattr(resident, "tag_rows", None)
    if rows is None:
        return [t.code for t in queries.visible_tags(user, resident)]
    sensitive = queries.sees_sensitive(user, resident)
    tags = sorted((rt.tag for rt in rows), key=lambda t: (t.order, t.code))
    return [t.code for t in tags if sensitive or not t.sensitive]


def _with_tags(qs: QuerySet[Resident]) -> QuerySet[Resident]:
    return qs.prefetch_related(
        Prefetch("tags", queryset=ResidentTag.objects.select_related("tag"), to_attr="tag_rows")
    )


def _may_edit(user: Viewer, resident: Resident) -> bool:
    return resident.home is not None and scope_for(user, Cap.PEOPLE_EDIT).contains(resident.home)


def _editable(request: HttpRequest, resident_id: int) -> Resident:
    """The resident, if the user may change them: 404 when out of sight, 403 when only seen."""
    resident = queries.access_resident(request.user, resident_id)
    if not _may_edit(request.user, resident):
        raise PermissionDenied(_("You may see this resident but not change their record."))
    return resident


def _reload(request: HttpRequest, resident: Resident) -> Resident:
    return queries.access_resident(request.user, resident.pk)


def _unknown_tag(tag: str) -> SchemaError:
    return query_error("tag", _("Unknown care tag: %(code)s") % {"code": tag})


def _filter_by_tag(user: Viewer, qs: QuerySet[Resident], tag: str) -> QuerySet[Resident]:
    if tag == AGED_60:
        return qs.filter(birth_date__lte=queries.years_ago(60))
    if tag == CHILD_14:
        return qs.filter(birth_date__gt=queries.years_ago(14))
    care_tag = CareTag.objects.filter(code=tag).first()
    if care_tag is None:
        raise _unknown_tag(tag)
    if care_tag.sensitive:
        # Only where the user may see sensitive tags; to anyone who may see them nowhere, the
        # tag does not exist (the list of tags does not show it either).
        sensitive = scope_for(user, Cap.PEOPLE_SENSITIVE)
        if sensitive.is_empty:
            raise _unknown_tag(tag)
        view = scope_for(user, Cap.PEOPLE_VIEW)
        if (sensitive.ranges, sensitive.grid_ids, sensitive.lane_ids) != (
            view.ranges,
            view.grid_ids,
            view.lane_ids,
        ):
            qs = qs.filter(sensitive.q("home__"))
    # EXISTS per resident in scope (the (resident, tag) unique index), not IN over everyone
    # with the tag: the cost follows the size of the user's scope, not of the whole database
    # (SQLite, a million residents: 5 ms for a community instead of 85 ms).
    return qs.filter(Exists(ResidentTag.objects.filter(resident=OuterRef("pk"), tag=care_tag)))


# --- residents -------------------------------------------------------------------------------------


@router.get(
    "/residents",
    response=responses({200: list[ResidentOut]}, 404, 422),
    summary="Residents in scope, masked: under a place, by search text (name, pinyin, exact "
    "mobile or ID number), by care tag (aged_60 and child_14 included) or status",
)
@paginate(Paging)
def list_residents(request: HttpRequest, filters: Query[ResidentFilter]) -> object:
    _require_scope(request)
    user = request.user
    if filters.place is not None:
        place = access_place(user, filters.place, Cap.PEOPLE_VIEW)
        # A scope is closed downwards (a place grant covers the subtree; grid and lane grants
        # cover whole buildings, whose units and dwellings carry the same grid and lane), so the
        # place's range alone is the scope here. Adding the user's own ranges too would leave
        # SQLite to pick one of two ranges on the same index, often the wider one.
        qs = Resident.objects.filter(home__path__gte=place.path, home__path__lt=place.path_end)
    else:
        qs = queries.residents_for(user)
    qs = qs.select_related("home")
    if filters.status:
        qs = qs.filter(status=filters.status)
    if filters.tag:
        qs = _filter_by_tag(user, qs, filters.tag)
    if filters.q and filters.q.strip():
        found = [r.pk for r in queries.search(user, filters.q, limit=SEARCH_LIMIT)]
        qs = qs.filter(pk__in=found).order_by("name", "id")
    else:
        # By where they live: the order the (path, home) indexes already give, so a page of a
        # district of a million residents needs no sort.
        qs = qs.order_by("home__path", "id")
    return _with_tags(qs)


@router.post(
    "/residents",
    response=responses({201: ResidentDetailOut}, 400, 403, 404, 422),
    summary="Add a resident to a dwelling (needs the right to edit the roster there)",
)
def create_resident(request: AuthedRequest, payload: ResidentCreateIn) -> object:
    user = request.user
    home = access_place(user, payload.home, Cap.PEOPLE_VIEW)
    if not scope_for(user, Cap.PEOPLE_EDIT).contains(home):
        raise PermissionDenied(_("You may not add residents here."))
    data = _plain(payload.dict(exclude={"home", "relation", "is_head", "since"}))
    resident = actions.create_resident(
        user,
        data,
        home=home,
        relation=payload.relation.value,
        is_head=payload.is_head,
        since=payload.since,
    )
    return Reply(201, _reload(request, resident))


@router.get(
    "/residents/{resident_id}",
    response=responses({200: ResidentDetailOut}, 404, 422),
    summary="One resident, masked, with their households; the view is recorded in the audit log",
)
def get_resident(request: AuthedRequest, resident_id: Id) -> Resident:
    resident = queries.access_resident(request.user, resident_id)
    actions.log_view(request.user, resident)
    return resident


@router.patch(
    "/residents/{resident_id}",
    response=responses({200: ResidentUpdateOut}, 400, 403, 404, 422),
    summary="Change a resident's facts; only the fields sent change",
)
def update_resident(
    request: AuthedRequest, resident_id: Id, payload: PatchDict[ResidentIn]
) -> object:
    resident = _editable(request, resident_id)
    sent = _plain(payload)
    data: dict[str, Any] = {
        "name": resident.name,
        "gender": resident.gender,
        "birth_date": resident.birth_date,
        "ethnicity": resident.ethnicity,
        "id_type": resident.id_type,
        "id_number": resident.id_number,
        "phone": resident.phone,
        "residence_type": resident.residence_type,
    }
    if {"id_number", "id_type"} & set(sent):
        # A new citizen ID brings its own date of birth and gender: keep the old ones only if
        # they were sent again (then they must agree with it).
        data["birth_date"], data["gender"] = None, ""
    data.update({k: ("" if v is None and k != "birth_date" else v) for k, v in sent.items()})
    changed = actions.update_resident(request.user, resident, data)
    fresh = _reload(request, resident)
    fresh.changed_fields = changed  # type: ignore[attr-defined]
    return fresh


@router.post(
    "/residents/{resident_id}/reveal",
    response=responses({200: RevealOut}, 400, 403, 404, 422),
    summary="Show one full ID or mobile number: needs the reveal right, a reason, and is audited",
)
def reveal(request: AuthedRequest, resident_id: Id, payload: RevealIn) -> object:
    resident = queries.access_resident(request.user, resident_id)
    if not queries.may_reveal(request.user, resident):
        raise PermissionDenied(_("You may not see full personal numbers."))
    value = actions.reveal(request.user, resident, payload.field, payload.reason)
    return {"field": payload.field, "value": value}


def _leave(request: HttpRequest, resident_id: int, on: date, how: Any) -> object:
    resident = _editable(request, resident_id)
    how(request.user, resident, on)
    return _reload(request, resident)


_LEAVE_RESPONSES = responses({200: ResidentDetailOut}, 400, 403, 404, 422)


@router.post(
    "/residents/{resident_id}/move-out",
    response=_LEAVE_RESPONSES,
    summary="The resident moved out on a date: their ties end, the record stays",
)
def move_out(request: HttpRequest, resident_id: Id, payload: LeaveIn) -> object:
    return _leave(request, resident_id, payload.on, actions.move_out)


@router.post(
    "/residents/{resident_id}/death",
    response=_LEAVE_RESPONSES,
    summary="The resident died on a date: their ties end, the record stays",
)
def death(request: HttpRequest, resident_id: Id, payload: LeaveIn) -> object:
    return _leave(request, resident_id, payload.on, actions.record_death)


@router.put(
    "/residents/{resident_id}/tags",
    response=responses({200: TagsOut}, 400, 403, 404, 422),
    summary="Set a resident's care tags. Sensitive tags the user may not see are kept as they are",
)
def set_tags(request: AuthedRequest, resident_id: Id, payload: TagsIn) -> object:
    resident = _editable(request, resident_id)
    actions.set_tags(
        request.user,
        resident,
        list(dict.fromkeys(payload.tags)),
        sensitive_allowed=queries.sees_sensitive(request.user, resident),
    )
    return {"tags": [t.code for t in queries.visible_tags(request.user, resident)]}


# --- households and tags ---------------------------------------------------------------------------

HOUSEHOLD_KINDS = (PlaceKind.BUILDING, PlaceKind.UNIT, PlaceKind.DWELLING)


@router.get(
    "/places/{place_id}/households",
    response=responses({200: HouseholdsOut}, 400, 404, 422),
    summary="The dwellings of a building (or unit, or one dwelling), each with the people living "
    "there now, masked",
)
def households(request: HttpRequest, place_id: Id) -> object:
    user = request.user
    place = access_place(user, place_id, Cap.PEOPLE_VIEW)
    if place.kind not in HOUSEHOLD_KINDS:
        raise refuse(place_id=_("Households are listed for a building, a unit or a dwelling."))
    dwellings = list(
        Place.objects.filter(kind=PlaceKind.DWELLING, path__gte=place.path, path__lt=place.path_end)
        .filter(scope_for(user, Cap.PEOPLE_VIEW).q())
        .order_by("path")
    )
    by_dwelling = queries.households(user, place)
    members = [m for ms in by_dwelling.values() for m in ms]
    # Each member's home, for whether their sensitive tags show: mostly the dwelling itself.
    homes = {d.pk: d for d in dwellings}
    missing = {m.resident.home_id for m in members} - set(homes) - {None}
    homes.update(Place.objects.in_bulk(missing))
    rows: dict[int, list[ResidentTag]] = {}
    for rt in ResidentTag.objects.filter(
        resident_id__in=[m.resident_id for m in members]
    ).select_related("tag"):
        rows.setdefault(rt.resident_id, []).append(rt)
    out = []
    for dwelling in dwellings:
        people = []
        for m in by_dwelling.get(dwelling.pk, []):
            r = m.resident
            if r.home_id is not None:
                r.home = homes[r.home_id]
            r.tag_rows = rows.get(r.pk, [])  # type: ignore[attr-defined]
            people.append(
                {
                    "resident_id": r.pk,
                    "name": r.name,
                    "gender": r.gender,
                    "age": r.age(timezone.localdate()),
                    "relation": m.relation,
                    "is_head": m.is_head,
                    "since": m.since,
                    "residence_type": r.residence_type,
                    "id_number_masked": mask_citizen_id(r.id_number),
                    "phone_masked": mask_mobile(r.phone),
                    "tags": _visible_codes(user, r),
                    "derived_tags": _derived(r),
                }
            )
        out.append(
            {
                "id": dwelling.pk,
                "code": dwelling.code,
                "name": dwelling.name,
                "floor": dwelling.floor,
                "members": people,
            }
        )
    return {"place_id": place.pk, "place_name": place.name, "dwellings": out}


@router.get(
    "/care-tags",
    response=responses({200: list[CareTagOut]}, 404, 422),
    summary="The managed list of care tags, and the two worked out from the date of birth; "
    "sensitive tags only to those who may see them somewhere",
)
@paginate(Paging)
def care_tags(request: HttpRequest) -> object:
    _require_scope(request)
    tags = CareTag.objects.all()
    if scope_for(request.user, Cap.PEOPLE_SENSITIVE).is_empty:
        tags = tags.filter(sensitive=False)
    out: list[dict[str, Any]] = [
        {"code": t.code, "name": tag_label(t), "sensitive": t.sensitive, "derived": False}
        for t in tags.order_by("order", "code")
    ]
    out += [
        {"code": code, "name": str(label), "sensitive": False, "derived": True}
        for code, label in DERIVED_TAGS.items()
    ]
    return out
