"""The roster (人口台账): residents, the dwellings they belong to, and their care tags.

A resident's *home* is the dwelling they live in; it decides which places' staff may see them
(scope) and stays set after they move out, so the old community keeps its history. Membership
links a resident to any dwelling with a relation (owner, tenant, family member…): an owner may live
elsewhere. Nothing here is deleted: moving out and death are states with dates.

Citizen ID and phone numbers are stored encrypted, each with a blind index for exact search and
uniqueness (see ``linli.core.crypto``).
"""

from __future__ import annotations

import datetime

from django.db import models
from django.db.models import Q
from django.utils.translation import gettext_lazy as _
from simple_history.models import HistoricalRecords

from linli.core.crypto import EncryptedTextField


class Gender(models.TextChoices):
    MALE = "M", _("Male")
    FEMALE = "F", _("Female")


class IdType(models.TextChoices):
    CITIZEN = "citizen_id", _("Resident identity card")
    PASSPORT = "passport", _("Passport")
    HK_MACAO = "hk_macao", _("Mainland travel permit (Hong Kong, Macao)")
    TAIWAN = "taiwan", _("Mainland travel permit (Taiwan)")
    FOREIGN_PR = "foreign_pr", _("Foreigner's permanent residence card")
    NONE = "none", _("No document")


class ResidenceType(models.TextChoices):
    REGISTERED = "registered", _("Registered (户籍)")
    RESIDENT = "resident", _("Resident (常住)")
    FLOATING = "floating", _("Floating (流动)")
    COMMUTING = "commuting", _("Commuting (候鸟)")


class Status(models.TextChoices):
    ACTIVE = "active", _("Living here")
    MOVED_OUT = "moved_out", _("Moved out")
    DECEASED = "deceased", _("Deceased")


class Resident(models.Model):
    name = models.CharField(_("name"), max_length=50)
    # Search keys: full pinyin and initials, every reading of the surname (see people.pinyin).
    name_pinyin = models.CharField(max_length=200, blank=True, editable=False)
    name_initials = models.CharField(max_length=60, blank=True, editable=False)
    gender = models.CharField(_("gender"), max_length=1, choices=Gender.choices, blank=True)
    birth_date = models.DateField(_("date of birth"), null=True, blank=True)
    ethnicity = models.CharField(_("ethnicity"), max_length=20, blank=True)
    id_type = models.CharField(
        _("identity document"), max_length=12, choices=IdType.choices, default=IdType.CITIZEN
    )
    id_number = EncryptedTextField(_("document number"), blank=True)
    id_index = models.CharField(max_length=32, blank=True, editable=False)
    phone = EncryptedTextField(_("mobile number"), blank=True)
    phone_index = models.CharField(max_length=32, blank=True, editable=False)
    residence_type = models.CharField(
        _("residence"),
        max_length=12,
        choices=ResidenceType.choices,
        default=ResidenceType.REGISTERED,
    )
    # PROTECT: a dwelling with residents is never deleted; places are retired instead.
    home = models.ForeignKey(
        "places.Place",
        models.PROTECT,
        db_index=False,  # covered by the (home, status) index
        null=True,
        blank=True,
        related_name="home_residents",
        verbose_name=_("home"),
        limit_choices_to={"kind": "dwelling"},
    )
    status = models.CharField(
        _("status"), max_length=10, choices=Status.choices, default=Status.ACTIVE
    )
    status_date = models.DateField(_("since"), null=True, blank=True)
    note = models.TextField(_("note"), blank=True)
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)

    history = HistoricalRecords(excluded_fields=["updated_at", "name_pinyin", "name_initials"])

    class Meta:
        verbose_name = _("resident")
        verbose_name_plural = _("residents")
        ordering = ["name", "id"]
        constraints = [
            # One record per person: the same document number (by its blind index) twice is refused.
            models.UniqueConstraint(
                fields=["id_type", "id_index"],
                condition=~Q(id_index=""),
                name="resident_document_unique",
                violation_error_message=_("Another resident already has this document number."),
            ),
        ]
        indexes = [
            models.Index(fields=["home", "status"], name="resident_home_status"),
            models.Index(fields=["phone_index"], name="resident_phone_index"),
            models.Index(fields=["birth_date"], name="resident_birth_date"),
        ]

    def __str__(self) -> str:
        return self.name

    def age(self, on: datetime.date | None = None) -> int | None:
        if self.birth_date is None:
            return None
        on = on or datetime.date.today()
        years = on.year - self.birth_date.year
        return years - ((on.month, on.day) < (self.birth_date.month, self.birth_date.day))


class Relation(models.TextChoices):
    OWNER = "owner", _("Owner")
    TENANT = "tenant", _("Tenant")
    FAMILY = "family", _("Family member")
    OTHER = "other", _("Other")


class Membership(models.Model):
    """A resident's tie to a dwelling. Ended (``until`` set), never deleted."""

    # PROTECT on both: the tie is history and must not vanish with either side.
    resident = models.ForeignKey(
        Resident, models.PROTECT, related_name="memberships", verbose_name=_("resident")
    )
    dwelling = models.ForeignKey(
        "places.Place",
        models.PROTECT,
        db_index=False,  # covered by the (dwelling, until) index
        related_name="memberships",
        verbose_name=_("dwelling"),
        limit_choices_to={"kind": "dwelling"},
    )
    relation = models.CharField(_("relation"), max_length=8, choices=Relation.choices)
    is_head = models.BooleanField(_("head of household"), default=False)
    since = models.DateField(_("since"), null=True, blank=True)
    until = models.DateField(_("until"), null=True, blank=True)

    history = HistoricalRecords()

    class Meta:
        verbose_name = _("household membership")
        verbose_name_plural = _("household memberships")
        constraints = [
            models.UniqueConstraint(
                fields=["resident", "dwelling"],
                condition=Q(until__isnull=True),
                name="membership_active_unique",
                violation_error_message=_("This resident already belongs to this dwelling."),
            ),
            models.UniqueConstraint(
                fields=["dwelling"],
                condition=Q(until__isnull=True, is_head=True),
                name="membership_one_head",
                violation_error_message=_("This dwelling already has a head of household."),
            ),
        ]
        indexes = [models.Index(fields=["dwelling", "until"], name="membership_dwelling")]

    def __str__(self) -> str:
        return f"{self.resident} @ {self.dwelling}"


class CareTag(models.Model):
    """A managed list of care tags. ``sensitive`` ones (health, hardship…) are shown only to the
    roles that need them (``people.sensitive`` capability)."""

    code = models.SlugField(_("code"), max_length=32, unique=True)
    name = models.CharField(_("name"), max_length=50)
    sensitive = models.BooleanField(_("sensitive"), default=False)
    order = models.PositiveSmallIntegerField(default=100)

    class Meta:
        verbose_name = _("care tag")
        verbose_name_plural = _("care tags")
        ordering = ["order", "code"]

    def __str__(self) -> str:
        return tag_label(self)


class ResidentTag(models.Model):
    # CASCADE from the tag: removing a tag from the managed list removes it from everyone
    # (an operator's decision, recorded in the audit log by the action that does it).
    # Neither key needs an index of its own: (resident, tag) and (tag, resident) cover both.
    tag = models.ForeignKey(CareTag, models.CASCADE, db_index=False, related_name="+")
    # PROTECT: residents are never deleted.
    resident = models.ForeignKey(Resident, models.PROTECT, db_index=False, related_name="tags")
    since = models.DateField(null=True, blank=True)

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["resident", "tag"], name="resident_tag_unique")
        ]
        indexes = [models.Index(fields=["tag", "resident"], name="resident_tag_by_tag")]

    def __str__(self) -> str:
        return f"{self.resident}: {self.tag}"


# Tags derived from the date of birth, never typed: shown beside the stored ones.
AGED_60 = "aged_60"
CHILD_14 = "child_14"


# The managed list as shipped: (code, name, sensitive). Names are translated on display; tags an
# operator adds later keep the name they were given.
BUILTIN_TAGS: list[tuple[str, object, bool]] = [
    ("living_alone", _("Living alone"), False),
    ("empty_nest", _("Empty nest"), False),
    ("veteran", _("Veteran"), False),
    ("party_member", _("Party member"), False),
    ("disabled", _("Disabled"), True),
    ("chronic_illness", _("Long-term medication"), True),
    ("pregnant", _("Pregnant"), True),
    ("hardship", _("Hardship"), True),
    ("key_attention", _("Key attention"), True),
]
DERIVED_TAGS: dict[str, object] = {AGED_60: _("Aged 60+"), CHILD_14: _("Child under 14")}


def tag_label(tag: CareTag) -> str:
    builtin = {code: name for code, name, _sensitive in BUILTIN_TAGS}
    return str(builtin.get(tag.code, tag.name))


PII_LABELS: dict[str, object] = {"id_number": _("document number"), "phone": _("mobile number")}
