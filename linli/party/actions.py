"""Every write of the party module: validated, in one transaction, audited. Personal numbers never
go into the audit record itself.

A retried decision is a no-op: approving an approved registration, confirming confirmed hours or
withdrawing a withdrawn claim returns the row as it is. Deciding the other way round after a
decision raises ``AlreadyDecided`` and changes nothing.
"""

from __future__ import annotations

import datetime
from decimal import Decimal, InvalidOperation
from typing import Any

from django.contrib.auth.hashers import make_password
from django.contrib.auth.password_validation import validate_password
from django.core.exceptions import PermissionDenied, ValidationError
from django.db import IntegrityError, transaction
from django.db.models import F
from django.utils import timezone
from django.utils.translation import gettext as _
from stdnum.cn import uscc as uscc_number

from linli.accounts.actions import grant_role
from linli.accounts.models import User
from linli.accounts.roles import Cap, Role
from linli.accounts.scope import scope_for
from linli.accounts.types import Viewer
from linli.core import audit
from linli.core.crypto import blind
from linli.core.errors import Conflict
from linli.core.identifiers import parse_mobile
from linli.people.models import Resident
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
    PostState,
    Registration,
    RegistrationStatus,
    ServiceHours,
    Unit,
    UnitContact,
)
from .periods import Period


def not_allowed() -> PermissionDenied:
    """The user sees it but may not take this step."""
    return PermissionDenied(_("You may see this but not take this step."))


class AlreadyDecided(Conflict):
    """The registration or the hours were decided the other way already."""


def _require(actor: User, capability: str, place: Place) -> None:
    if not scope_for(actor, capability).covers_path(place.path):
        raise not_allowed()


def _words(value: str, limit: int) -> str:
    return " ".join((value or "").split())[:limit]


def clean_uscc(value: str) -> str:
    try:
        return str(uscc_number.validate(value))
    except uscc_number.InvalidChecksum as exc:
        raise ValidationError(
            _("The check character of this code is wrong: a character was mistyped."),
            code="checksum",
        ) from exc
    except uscc_number.ValidationError as exc:
        raise ValidationError(
            _("A unified social credit code has 18 digits and capital letters."), code="format"
        ) from exc


# --- organisations and members ----------------------------------------------------------------


def create_org(
    actor: User | None,
    *,
    kind: str,
    name: str,
    community: Place,
    place: Place | None = None,
    parent: PartyOrg | None = None,
    founded_on: datetime.date | None = None,
) -> PartyOrg:
    place = place or community
    if actor is not None:
        _require(actor, Cap.PARTY_MANAGE, community)
    if community.kind != PlaceKind.COMMUNITY:
        raise ValidationError({"community": _("Choose a community.")})
    if place.pk != community.pk and (
        place.kind != PlaceKind.COMPOUND or not place.path.startswith(community.path)
    ):
        raise ValidationError(
            {"place": _("A branch is built in the community or one of its compounds.")}
        )
    if kind not in OrgKind.values:
        raise ValidationError({"kind": _("Unknown kind.")})
    if parent is not None and parent.community_id != community.pk:
        raise ValidationError({"parent": _("The parent organisation is of another community.")})
    name = _words(name, 100)
    if not name:
        raise ValidationError({"name": _("Give a name.")})
    with transaction.atomic():
        org = PartyOrg.objects.create(
            kind=kind,
            name=name,
            community=community,
            place=place,
            path=place.path,
            parent=parent,
            founded_on=founded_on,
        )
        audit.record(actor, "party.org.create", org, place_path=org.path)
    return org


def set_secretary(actor: User, org: PartyOrg, member: PartyMember | None) -> PartyOrg:
    _require(actor, Cap.PARTY_MANAGE, org.community)
    if member is not None and member.community_id != org.community_id:
        raise ValidationError({"secretary": _("The secretary is a member of this community.")})
    with transaction.atomic():
        org.secretary = member
        org.save(update_fields=["secretary"])
        audit.record(
            actor,
            "party.org.secretary",
            org,
            place_path=org.path,
            data={"member": member.pk if member else None},
        )
    return org


def _resident_by_phone(community: Place, phone_index: str) -> Resident | None:
    if not phone_index:
        return None
    return (
        Resident.objects.filter(
            phone_index=phone_index,
            home__path__gte=community.path,
            home__path__lt=community.path_end,
        )
        .order_by("id")
        .first()
    )


def add_member(
    actor: User | None,
    *,
    community: Place,
    name: str,
    kind: str,
    phone: str = "",
    org: PartyOrg | None = None,
    joined_party_on: datetime.date | None = None,
    transferred_in_on: datetime.date | None = None,
    transferred_from: str = "",
    unit: Unit | None = None,
    skills: str = "",
    availability: str = "",
) -> PartyMember:
    """A member entered by the community (registered, floating, transferred in)."""
    if actor is not None:
        _require(actor, Cap.PARTY_MANAGE, community)
    errors: dict[str, list[str]] = {}
    name = _words(name, 50)
    if not name:
        errors.setdefault("name", []).append(_("Give a name."))
    if kind not in MemberKind.values:
        errors.setdefault("kind", []).append(_("Unknown kind."))
    if org is not None and org.community_id != community.pk:
        errors.setdefault("org", []).append(_("The organisation is of another community."))
    clean_phone = ""
    if phone.strip():
        try:
            clean_phone = parse_mobile(phone)
        except ValidationError as exc:
            errors.setdefault("phone", []).extend(exc.messages)
    if transferred_in_on and transferred_in_on > timezone.localdate():
        errors.setdefault("transferred_in_on", []).append(_("This date is in the future."))
    if errors:
        raise ValidationError(errors)
    index = blind(clean_phone, "phone")
    try:
        with transaction.atomic():
            member = PartyMember.objects.create(
                name=name,
                kind=kind,
                community=community,
                path=org.path if org is not None else community.path,
                org=org,
                phone=clean_phone,
                phone_index=index,
                resident=_resident_by_phone(community, index),
                unit=unit,
                joined_party_on=joined_party_on,
                transferred_in_on=transferred_in_on,
                transferred_from=_words(transferred_from, 100),
                skills=_words(skills, 200),
                availability=_words(availability, 200),
            )
            audit.record(
                actor, "party.member.create", member, place_path=member.path, data={"kind": kind}
            )
    except IntegrityError as exc:
        raise ValidationError(
            {"phone": _("This community already has a member with this mobile.")}
        ) from exc
    return member


# --- the dual report: registration and approval -----------------------------------------------


def register(community: Place, data: dict[str, Any]) -> Registration:
    """A registration filed from the community's QR code (no account yet)."""
    errors: dict[str, list[str]] = {}

    def fail(key: str, message: str) -> None:
        errors.setdefault(key, []).append(message)

    name = _words(data.get("name", ""), 50)
    if not name:
        fail("name", _("Give your name."))
    phone = ""
    try:
        phone = parse_mobile(data.get("phone", ""))
    except ValidationError as exc:
        fail("phone", exc.messages[0])
    unit_name = _words(data.get("unit_name", ""), 100)
    if not unit_name:
        fail("unit_name", _("Give the name of your employer unit."))
    code = ""
    try:
        code = clean_uscc(data.get("uscc", ""))
    except ValidationError as exc:
        fail("uscc", exc.messages[0])
    password = data.get("password", "")
    try:
        validate_password(password)
    except ValidationError as exc:
        for message in exc.messages:
            fail("password", message)
    if errors:
        raise ValidationError(errors)
    index = blind(phone, "phone")
    try:
        with transaction.atomic():
            registration = Registration.objects.create(
                community=community,
                path=community.path,
                name=name,
                phone=phone,
                phone_index=index,
                unit_name=unit_name,
                uscc=code,
                skills=_words(data.get("skills", ""), 200),
                availability=_words(data.get("availability", ""), 200),
                password=make_password(password),
            )
            audit.record(None, "party.register", registration, place_path=community.path)
    except IntegrityError as exc:
        raise ValidationError(
            {"phone": _("A registration with this mobile is already waiting.")}
        ) from exc
    return registration


def _account_for(registration: Registration) -> User:
    """The login of an approved registrant: the account with this mobile, or a new one with the
    password they chose."""
    digits = registration.phone[3:] if registration.phone.startswith("+86") else ""
    user = User.objects.filter(phone=digits).first() if digits else None
    if user is not None:
        return user
    username = digits or f"party-{registration.pk}"
    if User.objects.filter(username__iexact=username).exists():
        username = f"{username}-{registration.pk}"
    user = User(
        username=username,
        phone=digits or None,
        display_name=registration.name,
        password=registration.password,
    )
    user.save()
    return user


def approve(actor: User, registration_id: int) -> Registration:
    with transaction.atomic():
        registration = (
            Registration.objects.select_for_update()
            .select_related("community")
            .get(pk=registration_id)
        )
        _require(actor, Cap.PARTY_MANAGE, registration.community)
        if registration.status == RegistrationStatus.APPROVED:
            return registration  # a retried approval
        if registration.status != RegistrationStatus.PENDING:
            raise AlreadyDecided(_("This registration was rejected already."))
        community = registration.community
        unit = Unit.objects.filter(uscc=registration.uscc).first()
        if unit is None:
            unit = Unit.objects.create(name=registration.unit_name, uscc=registration.uscc)
        user = _account_for(registration)
        member = PartyMember.objects.filter(
            community=community, phone_index=registration.phone_index
        ).first()
        today = timezone.localdate()
        if member is None:
            member = PartyMember.objects.filter(community=community, user=user).first()
        if member is None:
            member = PartyMember.objects.create(
                name=registration.name,
                kind=MemberKind.DUAL_REPORT,
                community=community,
                path=community.path,
                phone=registration.phone,
                phone_index=registration.phone_index,
                resident=_resident_by_phone(community, registration.phone_index),
                user=user,
                unit=unit,
                reported_on=today,
                skills=registration.skills,
                availability=registration.availability,
            )
        else:
            # Known here already (a registered member now working elsewhere): linked, not doubled.
            member.user = user
            member.unit = unit
            member.reported_on = member.reported_on or today
            member.skills = registration.skills or member.skills
            member.availability = registration.availability or member.availability
            member.save(update_fields=["user", "unit", "reported_on", "skills", "availability"])
        grant_role(actor, user, Role.PARTY_MEMBER, place=community)
        registration.status = RegistrationStatus.APPROVED
        registration.decided_at = timezone.now()
        registration.decided_by = actor
        registration.member = member
        registration.password = ""  # served its purpose; the account holds it now
        registration.save(
            update_fields=["status", "decided_at", "decided_by", "member", "password"]
        )
        audit.record(
            actor,
            "party.registration.approve",
            registration,
            place_path=registration.path,
            data={"member": member.pk, "user": user.username},
        )
    return registration


def reject(actor: User, registration_id: int, reason: str) -> Registration:
    reason = _words(reason, 500)
    if not reason:
        raise ValidationError({"reason": _("Give a reason.")})
    with transaction.atomic():
        registration = (
            Registration.objects.select_for_update()
            .select_related("community")
            .get(pk=registration_id)
        )
        _require(actor, Cap.PARTY_MANAGE, registration.community)
        if registration.status == RegistrationStatus.REJECTED:
            return registration
        if registration.status != RegistrationStatus.PENDING:
            raise AlreadyDecided(_("This registration was approved already."))
        registration.status = RegistrationStatus.REJECTED
        registration.reason = reason
        registration.decided_at = timezone.now()
        registration.decided_by = actor
        registration.password = ""
        registration.save(
            update_fields=["status", "reason", "decided_at", "decided_by", "password"]
        )
        audit.record(actor, "party.registration.reject", registration, place_path=registration.path)
    return registration


# --- posts, tasks and claims ------------------------------------------------------------------


def publish(
    actor: User,
    community: Place,
    *,
    kind: str,
    title: str,
    capacity: int,
    description: str = "",
    starts_on: datetime.date | None = None,
    ends_on: datetime.date | None = None,
) -> Post:
    _require(actor, Cap.PARTY_MANAGE, community)
    errors: dict[str, list[str]] = {}
    title = _words(title, 80)
    if not title:
        errors["title"] = [_("Give a title.")]
    if kind not in PostKind.values:
        errors["kind"] = [_("Unknown kind.")]
    if not isinstance(capacity, int) or capacity < 1 or capacity > 10000:
        errors["capacity"] = [_("Between 1 and 10,000 places.")]
    if starts_on and ends_on and ends_on < starts_on:
        errors["ends_on"] = [_("The end is before the start.")]
    if community.kind != PlaceKind.COMMUNITY:
        errors["community"] = [_("Choose a community.")]
    if errors:
        raise ValidationError(errors)
    with transaction.atomic():
        post = Post.objects.create(
            community=community,
            path=community.path,
            kind=kind,
            title=title,
            description=(description or "").strip()[:2000],
            capacity=capacity,
            starts_on=starts_on,
            ends_on=ends_on,
            created_by=actor,
        )
        audit.record(
            actor, "party.post.publish", post, place_path=post.path, data={"capacity": capacity}
        )
    return post


def close_post(actor: User, post_id: int) -> Post:
    with transaction.atomic():
        post = Post.objects.select_for_update().select_related("community").get(pk=post_id)
        _require(actor, Cap.PARTY_MANAGE, post.community)
        if post.state == PostState.CLOSED:
            return post
        post.state = PostState.CLOSED
        post.closed_at = timezone.now()
        post.save(update_fields=["state", "closed_at"])
        audit.record(actor, "party.post.close", post, place_path=post.path)
    return post


def member_of(user: Viewer, community_id: int) -> PartyMember | None:
    """The user's own active member record in a community where they may serve."""
    if not isinstance(user, User):  # an anonymous visitor
        return None
    member = (
        PartyMember.objects.filter(user_id=user.pk, community_id=community_id, status="active")
        .select_related("community")
        .first()
    )
    if member is None or not scope_for(user, Cap.PARTY_SERVE).covers_path(member.community.path):
        return None
    return member


class Full(Conflict):
    """No place left, or the post is closed."""


class AlreadyClaimed(Conflict):
    pass


def claim(actor: User, post_id: int) -> Claim:
    """Take one place of a post. Race-safe on SQLite and PostgreSQL alike: the place is taken by
    ``UPDATE … SET claimed = claimed + 1 WHERE id = … AND claimed < capacity AND state = 'open'``
    in the same transaction that inserts the claim. Concurrent claimers queue on the row (the
    database re-checks the condition after the one before commits), so the count never passes
    the capacity; a member's second claim breaks the unique constraint and undoes the increment
    with the rest of the transaction."""
    post = Post.objects.filter(pk=post_id).first()
    if post is None:
        raise not_allowed()
    member = member_of(actor, post.community_id)
    if member is None:
        raise not_allowed()
    if Claim.objects.filter(post=post, member=member, withdrawn_at__isnull=True).exists():
        raise AlreadyClaimed(_("You have claimed this already."))
    try:
        with transaction.atomic():
            taken = Post.objects.filter(
                pk=post.pk, state=PostState.OPEN, claimed__lt=F("capacity")
            ).update(claimed=F("claimed") + 1)
            if not taken:
                raise Full(_("No place is left on this post, or it is closed."))
            made = Claim.objects.create(
                post=post, member=member, path=post.path, claimed_at=timezone.now()
            )
            audit.record(actor, "party.claim", made, place_path=post.path)
    except IntegrityError as exc:
        raise AlreadyClaimed(_("You have claimed this already.")) from exc
    return made


def withdraw(actor: User, claim_id: int) -> Claim:
    """Give a claimed place back. The member themselves, or a worker of the community."""
    with transaction.atomic():
        found = Claim.objects.select_for_update().select_related("member", "post").get(pk=claim_id)
        own = found.member.user_id is not None and found.member.user_id == getattr(
            actor, "pk", None
        )
        if not own and not scope_for(actor, Cap.PARTY_MANAGE).covers_path(found.path):
            raise not_allowed()
        if found.withdrawn_at is not None:
            return found
        found.withdrawn_at = timezone.now()
        found.save(update_fields=["withdrawn_at"])
        Post.objects.filter(pk=found.post_id, claimed__gt=0).update(claimed=F("claimed") - 1)
        audit.record(actor, "party.claim.withdraw", found, place_path=found.path)
    return found


# --- service hours and evaluations ------------------------------------------------------------


def _hours(value: Any) -> Decimal:
    try:
        hours = Decimal(str(value)).quantize(Decimal("0.1"))
    except (InvalidOperation, ValueError) as exc:
        raise ValidationError({"hours": _("Give the hours as a number.")}) from exc
    if hours <= 0 or hours > 24:
        raise ValidationError({"hours": _("Between 0.1 and 24 hours a day.")})
    return hours


def log_hours(
    actor: User, claim_id: int, *, served_on: datetime.date, hours: Any, note: str = ""
) -> ServiceHours:
    """The member's own hours against one of their claims: waiting until a worker confirms."""
    found = Claim.objects.select_related("member", "post").filter(pk=claim_id).first()
    if found is None or found.member.user_id is None or found.member.user_id != actor.pk:
        raise not_allowed()
    if member_of(actor, found.post.community_id) is None:
        raise not_allowed()
    if found.withdrawn_at is not None:
        raise ValidationError(_("This claim was withdrawn: claim the post again first."))
    amount = _hours(hours)
    if served_on > timezone.localdate():
        raise ValidationError({"served_on": _("This date is in the future.")})
    if served_on < found.claimed_at.astimezone(timezone.get_current_timezone()).date():
        raise ValidationError({"served_on": _("This date is before the claim.")})
    with transaction.atomic():
        row = ServiceHours.objects.create(
            member=found.member,
            claim=found,
            post=found.post,
            path=found.path,
            served_on=served_on,
            hours=amount,
            note=_words(note, 300),
        )
        audit.record(
            actor, "party.hours.log", row, place_path=row.path, data={"hours": str(amount)}
        )
    return row


def _decide_hours(actor: User, hours_id: int, status: str, reason: str = "") -> ServiceHours:
    with transaction.atomic():
        row = ServiceHours.objects.select_for_update().get(pk=hours_id)
        if not scope_for(actor, Cap.PARTY_MANAGE).covers_path(row.path):
            raise not_allowed()
        if row.status == status:
            return row
        if row.status != HoursStatus.PENDING:
            raise AlreadyDecided(_("These hours were decided already."))
        row.status = status
        row.reason = reason
        row.decided_at = timezone.now()
        row.decided_by = actor
        row.save(update_fields=["status", "reason", "decided_at", "decided_by"])
        audit.record(
            actor,
            "party.hours.confirm" if status == HoursStatus.CONFIRMED else "party.hours.reject",
            row,
            place_path=row.path,
        )
    return row


def confirm_hours(actor: User, hours_id: int) -> ServiceHours:
    return _decide_hours(actor, hours_id, HoursStatus.CONFIRMED)


def reject_hours(actor: User, hours_id: int, reason: str) -> ServiceHours:
    reason = _words(reason, 300)
    if not reason:
        raise ValidationError({"reason": _("Give a reason.")})
    return _decide_hours(actor, hours_id, HoursStatus.REJECTED, reason)


def evaluate(
    actor: User, member_id: int, *, period: str, grade: str, comment: str = ""
) -> Evaluation:
    member = PartyMember.objects.get(pk=member_id)
    if not scope_for(actor, Cap.PARTY_MANAGE).covers_path(member.path):
        raise not_allowed()
    try:
        key = Period.parse(period).key
    except ValueError as exc:
        raise ValidationError({"period": _("A period is 2026, 2026-Q1 or 2026-03.")}) from exc
    if grade not in Grade.values:
        raise ValidationError({"grade": _("Unknown grade.")})
    with transaction.atomic():
        row, _created = Evaluation.objects.update_or_create(
            member=member,
            period=key,
            defaults={
                "path": member.path,
                "grade": grade,
                "comment": _words(comment, 300),
                "by": actor,
                "at": timezone.now(),
            },
        )
        audit.record(
            actor,
            "party.evaluate",
            row,
            place_path=row.path,
            data={"period": key, "grade": grade},
        )
    return row


def add_contact(actor: User, unit: Unit, user: User, community: Place) -> UnitContact:
    """Make ``user`` a partner contact of ``unit`` in ``community``: they read its service record."""
    _require(actor, Cap.PARTY_MANAGE, community)
    with transaction.atomic():
        link, created = UnitContact.objects.get_or_create(
            unit=unit, user=user, community=community, defaults={"path": community.path}
        )
        grant_role(actor, user, Role.PARTNER_CONTACT, place=community)
        if created:
            audit.record(
                actor,
                "party.contact.add",
                link,
                place_path=community.path,
                data={"unit": unit.pk, "user": user.username},
            )
    return link
