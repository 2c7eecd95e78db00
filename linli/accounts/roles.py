"""Roles, where each may be granted, and what each may do.

A role is always granted on a place (or a grid, or a street/lane). What a user may see is decided by
the capability being exercised: the scope of ``capability`` is the union of the targets of the user's
grants whose role carries that capability. Later modules add capabilities here.
"""

from __future__ import annotations

from django.db import models
from django.utils.translation import gettext_lazy as _


class Role(models.TextChoices):
    STREET_ADMIN = "street_admin", _("Street admin")
    COMMUNITY_WORKER = "community_worker", _("Community worker")
    GRID_WORKER = "grid_worker", _("Grid worker")
    CHIEF = "chief", _("Chief")
    PARTY_MEMBER = "party_member", _("Party member")
    VOLUNTEER = "volunteer", _("Volunteer")
    PARTNER_CONTACT = "partner_contact", _("Partner contact")
    PROPERTY_STAFF = "property_staff", _("Property staff")


class Target(models.TextChoices):
    PLACE = "place", _("place")
    GRID = "grid", _("grid")
    LANE = "lane", _("street or lane")


# Where each role may be granted: on a place of one of these kinds, on a grid or on a lane.
GRANTABLE_ON: dict[str, tuple[str, ...]] = {
    Role.STREET_ADMIN: ("district", "street"),
    Role.COMMUNITY_WORKER: ("community",),
    Role.GRID_WORKER: ("grid",),
    Role.CHIEF: ("building", "lane"),
    Role.PARTY_MEMBER: ("community",),
    Role.VOLUNTEER: ("community",),
    Role.PARTNER_CONTACT: ("community",),
    Role.PROPERTY_STAFF: ("compound",),
}


class Cap:
    """Capabilities. Each is a string so that later modules can add their own."""

    PLACES_VIEW = "places.view"
    AUDIT_VIEW = "audit.view"
    # The roster. Every read is masked unless revealed; see docs/privacy.md for the matrix.
    PEOPLE_VIEW = "people.view"
    PEOPLE_SENSITIVE = "people.sensitive"  # see sensitive care tags (health, hardship)
    PEOPLE_REVEAL = "people.reveal"  # unmask one ID or phone number, with a reason, audited
    PEOPLE_EDIT = "people.edit"
    PEOPLE_IMPORT = "people.import"
    PEOPLE_EXPORT_UNMASKED = "people.export_unmasked"
    # Residents' cases. Whoever a case is assigned to may also start and resolve it, whatever
    # their role: that access comes from the assignment, not from a scope.
    CASES_VIEW = "cases.view"
    CASES_INTAKE = "cases.intake"  # take a case in for a resident
    CASES_HANDLE = "cases.handle"  # accept, reject, assign, reopen, close, merge, escalate
    # The network: chiefs, the neighbourhood association, teams, contact records, visit coverage.
    NETWORK_VIEW = "network.view"
    NETWORK_MANAGE = "network.manage"  # appoint chiefs, decide their status, run association/teams
    VISITS_LOG = "visits.log"  # log home visits, patrols and reception days
    # Party building: organisations, members, dual report (双报到), posts and tasks, service hours.
    PARTY_VIEW = "party.view"
    PARTY_MANAGE = "party.manage"  # approve registrations, publish posts/tasks, confirm hours
    PARTY_SERVE = "party.serve"  # see the community's published posts and tasks, claim, log hours


CAPABILITIES: dict[str, frozenset[str]] = {
    Role.STREET_ADMIN: frozenset(
        {
            Cap.PLACES_VIEW,
            Cap.AUDIT_VIEW,
            Cap.PEOPLE_VIEW,
            Cap.CASES_VIEW,
            Cap.CASES_HANDLE,
            Cap.NETWORK_VIEW,
            Cap.PARTY_VIEW,
        }
    ),
    Role.COMMUNITY_WORKER: frozenset(
        {
            Cap.PLACES_VIEW,
            Cap.AUDIT_VIEW,
            Cap.PEOPLE_VIEW,
            Cap.PEOPLE_SENSITIVE,
            Cap.PEOPLE_REVEAL,
            Cap.PEOPLE_EDIT,
            Cap.PEOPLE_IMPORT,
            Cap.PEOPLE_EXPORT_UNMASKED,
            Cap.CASES_VIEW,
            Cap.CASES_INTAKE,
            Cap.CASES_HANDLE,
            Cap.NETWORK_VIEW,
            Cap.NETWORK_MANAGE,
            Cap.VISITS_LOG,
            Cap.PARTY_VIEW,
            Cap.PARTY_MANAGE,
        }
    ),
    Role.GRID_WORKER: frozenset(
        {
            Cap.PLACES_VIEW,
            Cap.PEOPLE_VIEW,
            Cap.PEOPLE_SENSITIVE,
            Cap.PEOPLE_REVEAL,
            Cap.PEOPLE_EDIT,
            Cap.CASES_VIEW,
            Cap.CASES_INTAKE,
            Cap.CASES_HANDLE,
            Cap.NETWORK_VIEW,
            Cap.VISITS_LOG,
        }
    ),
    Role.CHIEF: frozenset(
        {
            Cap.PLACES_VIEW,
            Cap.PEOPLE_VIEW,
            Cap.CASES_VIEW,
            Cap.CASES_INTAKE,
            Cap.NETWORK_VIEW,
            Cap.VISITS_LOG,
        }
    ),
    Role.PARTY_MEMBER: frozenset({Cap.PLACES_VIEW, Cap.PARTY_SERVE}),
    Role.VOLUNTEER: frozenset({Cap.PLACES_VIEW}),
    Role.PARTNER_CONTACT: frozenset({Cap.PLACES_VIEW}),
    Role.PROPERTY_STAFF: frozenset({Cap.PLACES_VIEW}),
}


def roles_with(capability: str) -> list[str]:
    return [role for role, caps in CAPABILITIES.items() if capability in caps]
