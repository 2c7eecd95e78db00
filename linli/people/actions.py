"""Every write to the roster: validated, in a transaction, audited. PII never goes into the audit
record itself: only which fields changed."""

from __future__ import annotations

import datetime
from typing import Any

from django.core.exceptions import PermissionDenied, ValidationError
from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from linli.accounts.models import User
from linli.accounts.roles import Cap
from linli.accounts.scope import scope_for
from linli.core import audit
from linli.core.crypto import blind
from linli.people.models import CareTag, Membership, Relation, Resident, ResidentTag, Status
from linli.people.pinyin import name_keys
from linli.people.validation import CleanResident, clean_resident
from linli.places.models import Place, PlaceKind

PII_FIELDS = ("id_number", "phone")


def apply_clean(resident: Resident, clean: CleanResident) -> list[str]:
    """Copy validated values onto the resident; returns the names of the fields that changed."""
    changed = []
    values: dict[str, Any] = {
        "name": clean.name,
        "gender": clean.gender,
        "birth_date": clean.birth_date,
        "ethnicity": clean.ethnicity,
        "id_type": clean.id_type,
        "id_number": clean.id_number,
        "phone": clean.phone,
        "residence_type": clean.residence_type,
    }
    for key, value in values.items():
        if getattr(resident, key) != value:
            setattr(resident, key, value)
            changed.append(key)
    if "name" in changed or not resident.name_pinyin:
        resident.name_pinyin, resident.name_initials = name_keys(resident.name)
    resident.id_index = blind(resident.id_number, f"id:{resident.id_type}")
    resident.phone_index = blind(resident.phone, "phone")
    return changed


def _require_dwelling(place: Place | None) -> None:
    if place is not None and place.kind != PlaceKind.DWELLING:
        raise ValidationError({"home": _("A resident's home is a dwelling.")})


def create_resident(
    actor: User | None,
    data: dict[str, Any],
    *,
    home: Place | None,
    relation: str = Relation.FAMILY,
    is_head: bool = False,
    since: datetime.date | None = None,
) -> Resident:
    clean = clean_resident(data)
    _require_dwelling(home)
    with transaction.atomic():
        resident = Resident(home=home)
        apply_clean(resident, clean)
        resident.full_clean(exclude=["id_number", "phone"])
        resident.save()
        if home is not None:
            _join(resident, home, relation, is_head, since)
        audit.record(
            actor,
            "resident.create",
            resident,
            place_path=_path(resident),
            data={"warnings": clean.warnings},
        )
    return resident


def update_resident(actor: User | None, resident: Resident, data: dict[str, Any]) -> list[str]:
    """Change a resident's facts; returns the fields that changed (none: nothing is written)."""
    clean = clean_resident(data)
    with transaction.atomic():
        resident = Resident.objects.select_for_update().get(pk=resident.pk)
        changed = apply_clean(resident, clean)
        if not changed:
            return []
        resident.full_clean(exclude=["id_number", "phone"])
        resident.save(
            update_fields=[
                *changed,
                "name_pinyin",
                "name_initials",
                "id_index",
                "phone_index",
                "updated_at",
            ]
        )
        audit.record(
            actor,
            "resident.update",
            resident,
            place_path=_path(resident),
            data={"fields": changed, "warnings": clean.warnings},
        )
    return changed


def _join(
    resident: Resident, dwelling: Place, relation: str, is_head: bool, since: datetime.date | None
) -> Membership:
    membership = Membership(
        resident=resident, dwelling=dwelling, relation=relation, is_head=is_head, since=since
    )
    membership.full_clean(exclude=["resident", "dwelling"])
    membership.validate_constraints()
    membership.save()
    return membership


def add_membership(
    actor: User | None,
    resident: Resident,
    dwelling: Place,
    *,
    relation: str,
    is_head: bool = False,
    since: datetime.date | None = None,
) -> Membership:
    _require_dwelling(dwelling)
    with transaction.atomic():
        membership = _join(resident, dwelling, relation, is_head, since)
        audit.record(
            actor,
            "membership.create",
            membership,
            place_path=dwelling.path,
            data={"relation": relation, "head": is_head},
        )
    return membership


def end_membership(actor: User | None, membership: Membership, until: datetime.date) -> Membership:
    with transaction.atomic():
        updated = Membership.objects.filter(pk=membership.pk, until__isnull=True).update(
            until=until, is_head=False
        )
        membership.refresh_from_db()
        if updated:
            audit.record(
                actor,
                "membership.end",
                membership,
                place_path=membership.dwelling.path,
                data={"until": str(until)},
            )
    return membership


def move_out(actor: User | None, resident: Resident, on: datetime.date) -> Resident:
    """The resident left: their ties end, their record stays (status moved out, home kept)."""
    return _leave(actor, resident, on, Status.MOVED_OUT, "resident.move_out")


def record_death(actor: User | None, resident: Resident, on: datetime.date) -> Resident:
    return _leave(actor, resident, on, Status.DECEASED, "resident.death")


def _leave(
    actor: User | None, resident: Resident, on: datetime.date, status: str, action: str
) -> Resident:
    if on > timezone.localdate():
        raise ValidationError({"status_date": _("The date cannot be in the future.")})
    with transaction.atomic():
        resident = Resident.objects.select_for_update().get(pk=resident.pk)
        if resident.status == status and resident.status_date == on:
            return resident
        resident.status, resident.status_date = status, on
        resident.save(update_fields=["status", "status_date", "updated_at"])
        Membership.objects.filter(resident=resident, until__isnull=True).update(
            until=on, is_head=False
        )
        audit.record(actor, action, resident, place_path=_path(resident), data={"on": str(on)})
    return resident


def set_tags(
    actor: User | None, resident: Resident, codes: list[str], *, sensitive_allowed: bool
) -> None:
    """Make the resident's care tags exactly ``codes``. A user who may not see sensitive tags
    cannot add or remove them either: those are kept as they are."""
    tags = {t.code: t for t in CareTag.objects.all()}
    unknown = set(codes) - set(tags)
    if unknown:
        raise ValidationError(
            {"tags": _("Unknown care tags: %(codes)s") % {"codes": ", ".join(sorted(unknown))}}
        )
    with transaction.atomic():
        current = {
            rt.tag.code: rt
            for rt in ResidentTag.objects.filter(resident=resident).select_related("tag")
        }
        wanted = set(codes)
        if not sensitive_allowed:
            wanted = {c for c in wanted if not tags[c].sensitive}
            wanted |= {c for c in current if tags[c].sensitive}
        added = sorted(wanted - set(current))
        removed = sorted(set(current) - wanted)
        ResidentTag.objects.bulk_create(
            [ResidentTag(resident=resident, tag=tags[c], since=timezone.localdate()) for c in added]
        )
        ResidentTag.objects.filter(resident=resident, tag__code__in=removed).delete()
        if added or removed:
            audit.record(
                actor,
                "resident.tags",
                resident,
                place_path=_path(resident),
                data={"added": added, "removed": removed},
            )


def reveal(actor: User | None, resident: Resident, field: str, reason: str) -> str:
    """Show one personal number unmasked. Needs the reveal capability over the resident's home,
    a reason, and leaves an audit record."""
    if field not in PII_FIELDS:
        raise ValueError(field)
    reason = " ".join(reason.split())
    if len(reason) < 4:
        raise ValidationError({"reason": _("Say why you need to see the full number.")})
    scope = scope_for(actor, Cap.PEOPLE_REVEAL)
    if resident.home is None or not scope.contains(resident.home):
        raise PermissionDenied(_("You may not see full personal numbers."))
    with transaction.atomic():
        audit.record(
            actor,
            "resident.reveal",
            resident,
            place_path=_path(resident),
            data={"field": field, "reason": reason[:200]},
        )
    return str(getattr(resident, field) or "")


def log_view(actor: User | None, resident: Resident) -> None:
    """Every staff view of a resident's page is recorded."""
    audit.record(actor, "resident.view", resident, place_path=_path(resident))


def _path(resident: Resident) -> str:
    return resident.home.path if resident.home_id and resident.home else ""
