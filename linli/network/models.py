"""The network (组织网络): the people who make a familiar community, and whom they reached.

- ``Person``: someone in a community's network: a chief, an association member, a team volunteer.
  Often a resident of the roster (``resident``) and often holding a login (``user``).
- ``Chief``: the three-chief system (三长制): building, lane and street chiefs, candidate → formal →
  backbone, each decision kept (``ChiefDecision``); ``ChiefAssignment`` ties a chief to buildings
  or to a street/lane and, while the chief is formal or backbone, holds their CHIEF grant.
- ``Association`` (街坊会) with ``AssociationMember``; ``Team`` (楼长志愿服务队, 爱心车队 …) with
  ``TeamMember``. Leaving is a date, never a delete.
- ``Contact``: a home visit (走访), a patrol (巡查) or a reception day (接待日); ``Reach`` lists the
  households (dwellings) a contact met — what visit coverage counts; ``ContactCase`` the cases
  raised from it.

Every row that names people carries the ``path`` of the place it belongs to (community, compound,
building or dwelling), so a scope is one range on it, as for places and cases.
"""

from __future__ import annotations

from typing import Any, ClassVar, Self

from django.db import models
from django.db.models import Q
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from linli.core.crypto import EncryptedTextField
from linli.core.paths import PathField


class Person(models.Model):
    # PROTECT: a community with a network is retired, not deleted.
    community = models.ForeignKey(
        "places.Place",
        models.PROTECT,
        db_index=False,  # covered by the path index
        related_name="+",
        verbose_name=_("community"),
        limit_choices_to={"kind": "community"},
    )
    path = PathField(max_length=70, editable=False)  # the community's path
    name = models.CharField(_("name"), max_length=50)
    # SET_NULL: the roster record may be merged away; the network keeps the person's name.
    resident = models.ForeignKey(
        "people.Resident",
        models.SET_NULL,
        null=True,
        blank=True,
        related_name="+",
        verbose_name=_("resident"),
    )
    # SET_NULL: an account deleted by an operator leaves the person in the network.
    user = models.ForeignKey(
        "accounts.User",
        models.SET_NULL,
        null=True,
        blank=True,
        related_name="network_people",
        verbose_name=_("login"),
    )
    phone = EncryptedTextField(_("mobile number"), blank=True)
    phone_index = models.CharField(max_length=32, blank=True, editable=False)
    skills = models.CharField(_("skills"), max_length=200, blank=True)
    note = models.TextField(_("note"), blank=True)
    created_at = models.DateTimeField(default=timezone.now)

    class Meta:
        verbose_name = _("person in the network")
        verbose_name_plural = _("people in the network")
        ordering = ["name", "id"]
        constraints = [
            models.UniqueConstraint(
                fields=["community", "resident"],
                condition=Q(resident__isnull=False),
                name="person_resident_unique",
                violation_error_message=_("This resident is already in the network."),
            ),
            models.UniqueConstraint(
                fields=["community", "user"],
                condition=Q(user__isnull=False),
                name="person_user_unique",
                violation_error_message=_("This login is already in the network."),
            ),
        ]
        indexes = [models.Index(fields=["path", "name"], name="person_path_name")]

    def __str__(self) -> str:
        return self.name


class ChiefKind(models.TextChoices):
    BUILDING = "building", _("Building chief (楼长)")
    LANE = "lane", _("Lane chief (巷长)")
    STREET = "street", _("Street chief (街长)")


class ChiefStatus(models.TextChoices):
    CANDIDATE = "candidate", _("Candidate")
    FORMAL = "formal", _("Formal")
    BACKBONE = "backbone", _("Backbone")
    RETIRED = "retired", _("Retired")


# Which decisions may follow which. Retiring is possible from any active status; a retired chief
# comes back as a candidate.
STATUS_STEPS: dict[str, tuple[str, ...]] = {
    ChiefStatus.CANDIDATE: (ChiefStatus.FORMAL, ChiefStatus.RETIRED),
    ChiefStatus.FORMAL: (ChiefStatus.BACKBONE, ChiefStatus.RETIRED),
    ChiefStatus.BACKBONE: (ChiefStatus.FORMAL, ChiefStatus.RETIRED),
    ChiefStatus.RETIRED: (ChiefStatus.CANDIDATE,),
}
# Statuses that carry the chief's grant on their buildings or street/lane.
SERVING = (ChiefStatus.FORMAL, ChiefStatus.BACKBONE)


class Chief(models.Model):
    # PROTECT: a chief's history outlives nothing it points to.
    person = models.ForeignKey(
        Person, models.PROTECT, related_name="chief_roles", verbose_name=_("person")
    )
    path = PathField(max_length=70, editable=False)  # the community's path
    kind = models.CharField(_("kind"), max_length=8, choices=ChiefKind.choices)
    status = models.CharField(
        _("status"), max_length=10, choices=ChiefStatus.choices, default=ChiefStatus.CANDIDATE
    )
    status_since = models.DateField(_("since"), default=timezone.localdate)
    # SET_NULL: who recruited them is history, not a dependency.
    recruited_by = models.ForeignKey(
        "accounts.User",
        models.SET_NULL,
        null=True,
        blank=True,
        related_name="+",
        verbose_name=_("recruited by"),
    )
    created_at = models.DateTimeField(default=timezone.now)

    class Meta:
        verbose_name = _("chief")
        verbose_name_plural = _("chiefs")
        ordering = ["path", "kind", "id"]
        constraints = [
            models.UniqueConstraint(
                fields=["person", "kind"],
                name="chief_person_kind_unique",
                violation_error_message=_("This person already holds this kind of chief's role."),
            )
        ]
        indexes = [models.Index(fields=["path", "status"], name="chief_path_status")]

    def __str__(self) -> str:
        return f"{self.person} ({self.get_kind_display()})"

    @property
    def serving(self) -> bool:
        return self.status in SERVING


class ChiefDecision(models.Model):
    """One status decision: who decided what, when."""

    # CASCADE would lose history; chiefs are never deleted, so PROTECT.
    chief = models.ForeignKey(Chief, models.PROTECT, related_name="decisions")
    from_status = models.CharField(max_length=10, choices=ChiefStatus.choices, blank=True)
    to_status = models.CharField(max_length=10, choices=ChiefStatus.choices)
    on = models.DateField(_("date"))
    decided_by = models.ForeignKey(
        "accounts.User", models.SET_NULL, null=True, blank=True, related_name="+"
    )
    note = models.CharField(_("note"), max_length=200, blank=True)
    at = models.DateTimeField(default=timezone.now)

    class Meta:
        ordering = ["chief", "at", "id"]

    def __str__(self) -> str:
        return f"{self.chief}: {self.from_status or '-'} -> {self.to_status}"


class ChiefAssignment(models.Model):
    """A chief looks after one building (楼长) or one street/lane (巷长, 街长). Ended, never deleted."""

    chief = models.ForeignKey(Chief, models.PROTECT, related_name="assignments")
    building = models.ForeignKey(
        "places.Place",
        models.PROTECT,
        null=True,
        blank=True,
        related_name="+",
        verbose_name=_("building"),
        limit_choices_to={"kind": "building"},
    )
    lane = models.ForeignKey(
        "places.Lane",
        models.PROTECT,
        null=True,
        blank=True,
        related_name="+",
        verbose_name=_("street or lane"),
    )
    path = PathField(max_length=70, editable=False)  # the building's path, or the community's
    since = models.DateField(_("since"), default=timezone.localdate)
    until = models.DateField(_("until"), null=True, blank=True)
    # SET_NULL: the grant is revoked, never deleted, but an operator may clean grants up.
    grant = models.ForeignKey(
        "accounts.Grant", models.SET_NULL, null=True, blank=True, related_name="+"
    )

    class Meta:
        verbose_name = _("chief's assignment")
        verbose_name_plural = _("chiefs' assignments")
        ordering = ["path", "id"]
        constraints = [
            models.CheckConstraint(
                condition=Q(building__isnull=False, lane__isnull=True)
                | Q(building__isnull=True, lane__isnull=False),
                name="assignment_one_target",
            ),
            models.UniqueConstraint(
                fields=["chief", "building"],
                condition=Q(until__isnull=True, building__isnull=False),
                name="assignment_active_building",
            ),
            models.UniqueConstraint(
                fields=["chief", "lane"],
                condition=Q(until__isnull=True, lane__isnull=False),
                name="assignment_active_lane",
            ),
        ]
        indexes = [models.Index(fields=["path", "until"], name="assignment_path")]

    def __str__(self) -> str:
        return f"{self.chief} @ {self.building or self.lane}"


class Association(models.Model):
    """A neighbourhood association (街坊会) of a community, or of one compound in it."""

    community = models.ForeignKey(
        "places.Place", models.PROTECT, related_name="+", verbose_name=_("community")
    )
    compound = models.ForeignKey(
        "places.Place",
        models.PROTECT,
        null=True,
        blank=True,
        related_name="+",
        verbose_name=_("compound"),
    )
    path = PathField(max_length=70, editable=False)  # the compound's path, else the community's
    name = models.CharField(_("name"), max_length=100)
    founded_on = models.DateField(_("founded on"), null=True, blank=True)

    class Meta:
        verbose_name = _("neighbourhood association")
        verbose_name_plural = _("neighbourhood associations")
        ordering = ["path", "name"]

    def __str__(self) -> str:
        return self.name


class AssociationRole(models.TextChoices):
    CHAIR = "chair", _("Chair (会长)")
    VICE_CHAIR = "vice_chair", _("Vice chair")
    SECRETARY = "secretary", _("Secretary-general")
    COUNCIL = "council", _("Council member")
    MEMBER = "member", _("Member")


class Membership(models.Model):
    """A person's time in a group (an association, a team): joined on a day, left on another or
    still in. Leaving is a date, never a delete; at most one active membership per person and
    group (``active_membership``).

    Each kind names the field pointing at its group (``group_field``, also the middle word of
    its audit actions: ``network.association.join``) and what a member holds there
    (``holds``: an association's role, a team's lead)."""

    group_field: ClassVar[str]
    holds: ClassVar[str]
    objects: ClassVar[models.Manager[Self]]
    person: Person  # each kind names its own related_name
    person_id: int

    joined_on = models.DateField(_("joined on"), default=timezone.localdate)
    left_on = models.DateField(_("left on"), null=True, blank=True)

    class Meta:
        abstract = True

    def __str__(self) -> str:
        return f"{self.person} @ {self.group}"

    @property
    def group(self) -> Association | Team:
        group: Association | Team = getattr(self, self.group_field)
        return group

    @property
    def held(self) -> Any:
        return getattr(self, self.holds)


def active_membership(group_field: str, name: str, message: Any) -> models.UniqueConstraint:
    """A person is in a group once at a time: one membership without ``left_on``."""
    return models.UniqueConstraint(
        fields=[group_field, "person"],
        condition=Q(left_on__isnull=True),
        name=name,
        violation_error_message=message,
    )


class AssociationMember(Membership):
    group_field = "association"
    holds = "role"

    association = models.ForeignKey(Association, models.PROTECT, related_name="members")
    person = models.ForeignKey(Person, models.PROTECT, related_name="association_roles")
    role = models.CharField(
        _("role"), max_length=12, choices=AssociationRole.choices, default=AssociationRole.MEMBER
    )

    class Meta:
        ordering = ["association", "role", "joined_on", "id"]
        constraints = [
            active_membership(
                "association",
                "association_member_active",
                _("This person is already a member."),
            )
        ]


class TeamKind(models.TextChoices):
    CHIEFS = "chiefs", _("Chiefs' volunteer team")
    WOMEN = "women", _("Women's volunteer team")
    DRIVERS = "drivers", _("Love fleet (drivers)")
    PARTY = "party", _("Party members' vanguard")
    YOUTH = "youth", _("Youth volunteers")
    OTHER = "other", _("Other")


class Team(models.Model):
    community = models.ForeignKey(
        "places.Place", models.PROTECT, related_name="+", verbose_name=_("community")
    )
    path = PathField(max_length=70, editable=False)
    name = models.CharField(_("name"), max_length=100)
    kind = models.CharField(_("kind"), max_length=8, choices=TeamKind.choices)
    founded_on = models.DateField(_("founded on"), null=True, blank=True)
    description = models.CharField(_("what the team does"), max_length=300, blank=True)

    class Meta:
        verbose_name = _("volunteer team")
        verbose_name_plural = _("volunteer teams")
        ordering = ["path", "name"]

    def __str__(self) -> str:
        return self.name


class TeamMember(Membership):
    group_field = "team"
    holds = "leader"

    team = models.ForeignKey(Team, models.PROTECT, related_name="members")
    person = models.ForeignKey(Person, models.PROTECT, related_name="team_roles")
    leader = models.BooleanField(_("team leader"), default=False)

    class Meta:
        ordering = ["team", "-leader", "joined_on", "id"]
        constraints = [
            active_membership(
                "team", "team_member_active", _("This person is already in the team.")
            )
        ]


class ContactKind(models.TextChoices):
    VISIT = "visit", _("Home visit")
    PATROL = "patrol", _("Patrol")
    RECEPTION = "reception", _("Reception day")


class Method(models.TextChoices):
    HOME = "home", _("In the home")
    DOORSTEP = "doorstep", _("At the door / in the stairwell")
    PHONE = "phone", _("By phone")
    ONLINE = "online", _("WeChat or video")


class Contact(models.Model):
    kind = models.CharField(_("kind"), max_length=10, choices=ContactKind.choices)
    # PROTECT: a place with contact records is retired, not deleted. The dwelling of a visit; the
    # compound, building or community a patrol covered or a reception day was held in.
    place = models.ForeignKey(
        "places.Place", models.PROTECT, db_index=False, related_name="+", verbose_name=_("place")
    )
    path = PathField(max_length=70, editable=False)
    grid_id = models.IntegerField(null=True, blank=True, editable=False)
    lane_id = models.IntegerField(null=True, blank=True, editable=False)
    at = models.DateTimeField(_("when"))
    logged_by = models.ForeignKey(
        "accounts.User", models.SET_NULL, null=True, blank=True, related_name="+"
    )
    # The network member who made it, when it was one (a chief, a volunteer).
    person = models.ForeignKey(
        Person, models.SET_NULL, null=True, blank=True, related_name="contacts"
    )
    method = models.CharField(_("how"), max_length=10, choices=Method.choices, blank=True)
    with_whom = models.CharField(_("who else came"), max_length=200, blank=True)
    route = models.CharField(_("route"), max_length=300, blank=True)
    location = models.CharField(_("where"), max_length=200, blank=True)
    attendance = models.PositiveIntegerField(_("residents who came"), null=True, blank=True)
    summary = models.TextField(_("what was found"), blank=True)
    # Sent with the form: the same key twice (a chief's phone retrying on a weak signal) records
    # the contact once.
    client_key = models.CharField(max_length=40, blank=True, editable=False)
    created_at = models.DateTimeField(default=timezone.now)

    class Meta:
        verbose_name = _("contact record")
        verbose_name_plural = _("contact records")
        ordering = ["-at", "-id"]
        constraints = [
            models.UniqueConstraint(
                fields=["client_key"], condition=~Q(client_key=""), name="contact_client_key"
            )
        ]
        indexes = [
            models.Index(fields=["path", "at"], name="contact_path_at"),
            models.Index(fields=["grid_id", "at"], name="contact_grid_at"),
        ]

    def __str__(self) -> str:
        return f"{self.get_kind_display()} {self.at:%Y-%m-%d}"


class Reach(models.Model):
    """A household (dwelling) a contact met. Visit coverage asks, per dwelling, whether one of
    these is recent: the (dwelling, at) index answers it with one probe."""

    # No index of its own: (contact, dwelling) covers it.
    contact = models.ForeignKey(Contact, models.CASCADE, db_index=False, related_name="reached")
    # PROTECT: as for contacts. No index of its own: (dwelling, at) covers it.
    dwelling = models.ForeignKey("places.Place", models.PROTECT, db_index=False, related_name="+")
    at = models.DateTimeField()  # the contact's time, copied

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["contact", "dwelling"], name="reach_unique"),
        ]
        indexes = [models.Index(fields=["dwelling", "at"], name="reach_dwelling_at")]

    def __str__(self) -> str:
        return f"{self.dwelling_id} @ {self.at:%Y-%m-%d}"


class ContactCase(models.Model):
    """A case taken in from a contact record (a need found on a visit, a patrol's finding…)."""

    contact = models.ForeignKey(Contact, models.CASCADE, related_name="case_links")
    case = models.OneToOneField("cases.Case", models.CASCADE, related_name="+")

    def __str__(self) -> str:
        return f"{self.contact_id} -> {self.case_id}"


class BuildingCoverage(models.Model):
    """Per building: its households and how many were met in the last 30, 90, 180 and 365 days,
    as of ``computed_at``. A street's and a district's coverage pages add these rows up (a
    district has hundreds of thousands of households); a community's and smaller areas' pages
    count live. Refreshed by the worker every few minutes and, for the buildings a contact
    reached, as the contact is saved."""

    # CASCADE: a figure about a building means nothing without it.
    building = models.OneToOneField(
        "places.Place", models.CASCADE, primary_key=True, related_name="+"
    )
    path = PathField(max_length=70, editable=False)
    households = models.PositiveIntegerField(default=0)
    met_30 = models.PositiveIntegerField(default=0)
    met_90 = models.PositiveIntegerField(default=0)
    met_180 = models.PositiveIntegerField(default=0)
    met_365 = models.PositiveIntegerField(default=0)
    computed_at = models.DateTimeField()

    class Meta:
        indexes = [models.Index(fields=["path"], name="building_coverage_path")]

    def __str__(self) -> str:
        return f"{self.building_id}: {self.met_90}/{self.households}"
