"""Every read of the party module, scoped.

- ``party.view`` (street admin, community worker): everything under their places, by the rows'
  own ``path``;
- ``party.serve`` (a party member granted on a community): the community's published posts and
  tasks, and their own member record, claims and hours;
- a partner contact (``UnitContact``): the service record of their unit in that community, and
  nothing else.

Single objects come through ``access_*``: 404 when out of sight, as if they did not exist.
"""

from __future__ import annotations

from django.db.models import Q, QuerySet
from django.http import Http404

from linli.accounts.models import User
from linli.accounts.roles import Cap, Role
from linli.accounts.scope import scope_for
from linli.accounts.types import Viewer
from linli.places.models import Place, PlaceKind

from .models import (
    Claim,
    Evaluation,
    PartyMember,
    PartyOrg,
    Post,
    PostState,
    Registration,
    ServiceHours,
    Unit,
    UnitContact,
)


def _view_q(user: Viewer, capability: str = Cap.PARTY_VIEW) -> Q:
    return scope_for(user, capability).path_q("path")


def orgs_for(user: Viewer) -> QuerySet[PartyOrg]:
    return PartyOrg.objects.filter(_view_q(user))


def members_for(user: Viewer) -> QuerySet[PartyMember]:
    return PartyMember.objects.filter(_view_q(user))


def access_member(user: Viewer, member_id: int) -> PartyMember:
    member = (
        members_for(user).select_related("unit", "org", "community").filter(pk=member_id).first()
    )
    if member is None:
        raise Http404
    return member


def registrations_for(user: Viewer) -> QuerySet[Registration]:
    return Registration.objects.filter(_view_q(user))


def access_registration(user: Viewer, registration_id: int) -> Registration:
    found = registrations_for(user).filter(pk=registration_id).first()
    if found is None:
        raise Http404
    return found


def posts_for(user: Viewer) -> QuerySet[Post]:
    """Posts under the user's view scope; a serving member sees their community's open ones."""
    serve = _view_q(user, Cap.PARTY_SERVE) & Q(state=PostState.OPEN)
    return Post.objects.filter(_view_q(user) | serve)


def access_post(user: Viewer, post_id: int) -> Post:
    post = posts_for(user).select_related("community").filter(pk=post_id).first()
    if post is None:
        raise Http404
    return post


def claims_for(user: Viewer) -> QuerySet[Claim]:
    """Claims in view scope, and the user's own."""
    own = Q(member__user_id=user.pk) if getattr(user, "is_authenticated", False) else Q(pk__in=[])
    return Claim.objects.filter(_view_q(user) | own)


def access_claim(user: Viewer, claim_id: int) -> Claim:
    found = claims_for(user).select_related("post", "member").filter(pk=claim_id).first()
    if found is None:
        raise Http404
    return found


def hours_for(user: Viewer) -> QuerySet[ServiceHours]:
    own = Q(member__user_id=user.pk) if getattr(user, "is_authenticated", False) else Q(pk__in=[])
    return ServiceHours.objects.filter(_view_q(user) | own)


def access_hours(user: Viewer, hours_id: int) -> ServiceHours:
    found = hours_for(user).select_related("member", "post").filter(pk=hours_id).first()
    if found is None:
        raise Http404
    return found


def evaluations_for(user: Viewer) -> QuerySet[Evaluation]:
    return Evaluation.objects.filter(_view_q(user))


def my_members(user: Viewer) -> list[PartyMember]:
    """The user's own member records in the communities where they may serve."""
    if not isinstance(user, User):  # an anonymous visitor
        return []
    scope = scope_for(user, Cap.PARTY_SERVE)
    if scope.is_empty:
        return []
    return list(
        PartyMember.objects.filter(user_id=user.pk, status="active")
        .filter(scope.path_q("community__path"))
        .select_related("community", "unit")
    )


def _links(user: Viewer) -> QuerySet[UnitContact]:
    """The user's links to units, while they hold the partner contact role (a revoked grant
    ends the access, the link stays as history)."""
    if not isinstance(user, User) or not _holds_role(user, Role.PARTNER_CONTACT):
        return UnitContact.objects.none()
    return UnitContact.objects.filter(user_id=user.pk)


def contact_q(user: Viewer, unit_id: int | None = None) -> Q:
    """The ranges of the communities where the user is a contact of a unit (of ``unit_id``)."""
    links = _links(user)
    if unit_id is not None:
        links = links.filter(unit_id=unit_id)
    q = Q(pk__in=[])
    for path in sorted(set(links.values_list("path", flat=True))):
        q |= Q(path__gte=path, path__lt=path + ":")
    return q


def _holds_role(user: Viewer, role: str) -> bool:
    """From the grants ``scope_for`` has already read for this request: no query of its own."""
    scope_for(user, Cap.PARTY_VIEW)
    grants = user.__dict__.get("_linli_grants") or []
    return any(g[0] == role for g in grants)


def is_contact(user: Viewer) -> bool:
    # Without the partner contact role no query is made (the menu asks this on every page).
    return _links(user).exists() if _holds_role(user, Role.PARTNER_CONTACT) else False


def units_for(user: Viewer) -> QuerySet[Unit]:
    """Units with members in the user's view scope, and those the user is a contact of."""
    in_scope = PartyMember.objects.filter(_view_q(user), unit__isnull=False).values("unit_id")
    own = _links(user).values("unit_id")
    return Unit.objects.filter(Q(pk__in=in_scope) | Q(pk__in=own))


def access_unit(user: Viewer, unit_id: int) -> tuple[Unit, Q]:
    """The unit and the filter of the member rows the user may see in its record: their view
    scope, and the communities where they are its contact."""
    unit = Unit.objects.filter(pk=unit_id).first()
    if unit is None:
        raise Http404
    rows = _view_q(user) | contact_q(user, unit.pk)
    if (
        not _links(user).filter(unit=unit).exists()
        and not PartyMember.objects.filter(rows, unit=unit).exists()
    ):
        raise Http404
    return unit, rows


def access_community(user: Viewer, place_id: int, capability: str = Cap.PARTY_VIEW) -> Place:
    place = Place.objects.filter(pk=place_id, kind=PlaceKind.COMMUNITY).first()
    if place is None or not scope_for(user, capability).covers_path(place.path):
        raise Http404
    return place


def sees_party(user: Viewer) -> bool:
    return (
        not scope_for(user, Cap.PARTY_VIEW).is_empty or bool(my_members(user)) or is_contact(user)
    )
