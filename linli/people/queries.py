"""Every read of the roster, scoped by the resident's home dwelling."""

from __future__ import annotations

import contextlib
import datetime
from collections import defaultdict

from django.core.exceptions import ValidationError
from django.db.models import Exists, OuterRef, Prefetch, Q, QuerySet
from django.http import Http404
from django.utils import timezone

from linli.accounts.roles import Cap
from linli.accounts.scope import scope_for
from linli.accounts.types import Viewer
from linli.core.crypto import blind
from linli.core.identifiers import normalize_text, parse_citizen_id, parse_mobile
from linli.people.models import CareTag, Membership, Resident, ResidentTag, Status
from linli.places.models import Grid, Lane, Place


def residents_for(user: Viewer, capability: str = Cap.PEOPLE_VIEW) -> QuerySet[Resident]:
    return Resident.objects.filter(scope_for(user, capability).q("home__"))


def access_resident(user: Viewer, resident_id: int, capability: str = Cap.PEOPLE_VIEW) -> Resident:
    resident = residents_for(user, capability).select_related("home").filter(pk=resident_id).first()
    if resident is None:
        raise Http404
    return resident


def sees_sensitive(user: Viewer, resident: Resident) -> bool:
    return resident.home is not None and scope_for(user, Cap.PEOPLE_SENSITIVE).contains(
        resident.home
    )


def may_reveal(user: Viewer, resident: Resident) -> bool:
    return resident.home is not None and scope_for(user, Cap.PEOPLE_REVEAL).contains(resident.home)


def visible_tags(user: Viewer, resident: Resident) -> list[CareTag]:
    tags = [rt.tag for rt in ResidentTag.objects.filter(resident=resident).select_related("tag")]
    if not sees_sensitive(user, resident):
        tags = [t for t in tags if not t.sensitive]
    return sorted(tags, key=lambda t: (t.order, t.code))


def years_ago(years: int, today: datetime.date | None = None) -> datetime.date:
    today = today or timezone.localdate()
    try:
        return today.replace(year=today.year - years)
    except ValueError:  # 29 February
        return today.replace(year=today.year - years, day=28)


def households(user: Viewer, building: Place) -> dict[int, list[Membership]]:
    """The active members of each dwelling of a building, heads first: one query."""
    if scope_for(user, Cap.PEOPLE_VIEW).is_empty:
        return {}
    rows = (
        Membership.objects.filter(
            dwelling__path__gte=building.path,
            dwelling__path__lt=building.path_end,
            until__isnull=True,
        )
        .filter(scope_for(user, Cap.PEOPLE_VIEW).q("dwelling__"))
        .select_related("resident")
        .order_by("dwelling_id", "-is_head", "resident__birth_date")
    )
    out: dict[int, list[Membership]] = defaultdict(list)
    for membership in rows:
        out[membership.dwelling_id].append(membership)
    return dict(out)


def care_list(user: Viewer, place: Place, tag: str | None = None) -> QuerySet[Resident]:
    """People needing care under a place: anyone aged 60+ or with a care tag the user may see,
    living there now."""
    sensitive = scope_for(user, Cap.PEOPLE_SENSITIVE).contains(place)
    tagged = ResidentTag.objects.all()
    if not sensitive:
        tagged = tagged.filter(tag__sensitive=False)
    base = residents_for(user).filter(
        status=Status.ACTIVE, home__path__gte=place.path, home__path__lt=place.path_end
    )
    # EXISTS, probed per resident through the (resident, tag) index: "IN (SELECT …)" makes
    # PostgreSQL hash every tag of the district first (115 ms for one community at 1M residents).
    mine = tagged.filter(resident_id=OuterRef("pk"))
    if tag == "aged_60":
        qs = base.filter(birth_date__lte=years_ago(60))
    elif tag:
        qs = base.filter(Exists(mine.filter(tag__code=tag)))
    else:
        qs = base.filter(Q(birth_date__lte=years_ago(60)) | Q(Exists(mine)))
    return (
        qs.select_related("home")
        .prefetch_related(
            Prefetch("tags", queryset=tagged.select_related("tag"), to_attr="shown_tags")
        )
        .order_by("home__path", "name")
    )


def search(user: Viewer, text: str, *, limit: int = 50) -> list[Resident]:
    """By name or pinyin (full or initials, any reading of the surname), or exactly by mobile or
    ID number through their blind indexes."""
    text = text.strip()
    if not text:
        return []
    qs = residents_for(user).select_related("home")
    compact = normalize_text(text)
    numeric = compact.lstrip("+")
    if len(numeric) >= 11 and numeric[:-1].isdigit():
        keys = []
        with contextlib.suppress(ValidationError):
            keys.append(("phone_index", blind(parse_mobile(compact), "phone")))
        with contextlib.suppress(ValidationError):
            keys.append(("id_index", blind(parse_citizen_id(compact).number, "id:citizen_id")))
        if not keys:
            return []
        match = Q()
        for field, value in keys:
            match |= Q(**{field: value})
        return list(qs.filter(match)[:limit])
    if text.isascii():
        key = text.lower().replace(" ", "")
        return list(
            qs.filter(Q(name_initials__contains=key) | Q(name_pinyin__contains=key)).order_by(
                "name"
            )[:limit]
        )
    return list(qs.filter(name__contains=text).order_by("name")[:limit])


def members_of(user: Viewer, dwelling: Place) -> list[Membership]:
    """Everyone tied to a dwelling now, then those who were, for its page."""
    if not scope_for(user, Cap.PEOPLE_VIEW).contains(dwelling):
        return []
    return list(
        Membership.objects.filter(dwelling=dwelling)
        .select_related("resident")
        .order_by("until", "-is_head", "resident__birth_date")
    )


def sees_sensitive_in(user: Viewer, area: Place | Grid | Lane) -> bool:
    """Whether the user may see the sensitive care tags (health, hardship) of the residents in
    ``area``: a place of their ``people.sensitive`` scope, or a grid or lane that is theirs or
    lies in a community that is."""
    scope = scope_for(user, Cap.PEOPLE_SENSITIVE)
    if isinstance(area, Grid):
        return area.pk in scope.grid_ids or scope.covers_path(area.community.path)
    if isinstance(area, Lane):
        return area.pk in scope.lane_ids or scope.covers_path(area.community.path)
    return scope.contains(area)


def visible_care_tags(user: Viewer, area: Place | Grid | Lane) -> QuerySet[CareTag]:
    """The care tags whose holders the user may be shown in ``area``: every ordinary tag, and the
    sensitive ones where they may see them. The care list, the coverage pages and the coverage
    API all ask this."""
    tags = CareTag.objects.all()
    return tags if sees_sensitive_in(user, area) else tags.filter(sensitive=False)


def visible_tag_ids(user: Viewer, area: Place | Grid | Lane) -> list[int]:
    return list(visible_care_tags(user, area).values_list("pk", flat=True))
