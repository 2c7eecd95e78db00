"""Party building (党建): organisations, members, and the dual report of in-service members
(一报到两认领双管理).

Every row that holds people's data copies the ``path`` of its community — or, for a member of a
branch built in a compound (支部建在小区), of that compound — so that a read is one range on the
row's own table (``scope_for(user, Cap.PARTY_VIEW).path_q("path")``), like cases.

The dual report, in the order things happen:

1. an in-service member scans the community's QR code and files a ``Registration`` (name, mobile,
   employer unit with its unified social credit code, skills, availability, a password);
2. a community worker approves it: a ``PartyMember`` (kind *dual report*) and a login are made,
   and the login is granted the party member role on the community;
3. the community publishes ``Post``\\s (ongoing posts, 岗位) and tasks (one-off, 任务), each with a
   capacity; members ``Claim`` them — ``Post.claimed`` never passes ``Post.capacity`` (a guarded
   conditional UPDATE in the claim's transaction, and a check constraint behind it);
4. members log ``ServiceHours`` against a claim; a worker confirms or rejects them; only confirmed
   hours count;
5. the community grades each member per period (``Evaluation``); the employer ``Unit``'s service
   record lists its members' confirmed hours, tasks and grades, and the unit's ``UnitContact``\\s
   (partner contacts) read it in Linli too (双管理).
"""

from __future__ import annotations

from django.conf import settings
from django.db import models
from django.db.models import Q
from django.utils.translation import gettext_lazy as _

from linli.core.crypto import EncryptedTextField
from linli.core.paths import PathField


class OrgKind(models.TextChoices):
    COMMITTEE = "committee", _("Community party committee")
    GENERAL_BRANCH = "general_branch", _("General party branch")
    BRANCH = "branch", _("Party branch")


class PartyOrg(models.Model):
    """A party organisation of a community: its committee, general branches and branches. A
    branch built in a compound (支部建在小区) has the compound as its ``place``."""

    kind = models.CharField(_("kind"), max_length=16, choices=OrgKind.choices)
    name = models.CharField(_("name"), max_length=100)
    # PROTECT: places are retired, not deleted, while organisations refer to them.
    community = models.ForeignKey(
        "places.Place",
        models.PROTECT,
        related_name="+",
        limit_choices_to={"kind": "community"},
        verbose_name=_("community"),
    )
    place = models.ForeignKey(
        "places.Place",
        models.PROTECT,
        db_index=False,  # reads go by path
        related_name="+",
        verbose_name=_("built in"),
    )
    path = PathField(max_length=70, editable=False)
    # PROTECT: an organisation with branches under it is dissolved by moving them first.
    parent = models.ForeignKey(
        "self",
        models.PROTECT,
        null=True,
        blank=True,
        related_name="children",
        verbose_name=_("parent organisation"),
    )
    # SET_NULL: a secretary leaving the roll leaves the post vacant, not the organisation gone.
    secretary = models.ForeignKey(
        "PartyMember",
        models.SET_NULL,
        null=True,
        blank=True,
        related_name="+",
        verbose_name=_("secretary"),
    )
    founded_on = models.DateField(_("founded"), null=True, blank=True)
    order = models.PositiveSmallIntegerField(default=100)

    class Meta:
        verbose_name = _("party organisation")
        verbose_name_plural = _("party organisations")
        ordering = ["path", "order", "id"]
        indexes = [models.Index(fields=["path"], name="partyorg_path")]

    def __str__(self) -> str:
        return self.name

    @property
    def in_compound(self) -> bool:
        return self.place_id != self.community_id


class MemberKind(models.TextChoices):
    REGISTERED = "registered", _("Registered here (在册)")
    DUAL_REPORT = "dual_report", _("In-service, reporting here (双报到)")
    FLOATING = "floating", _("Floating (流动)")


class MemberStatus(models.TextChoices):
    ACTIVE = "active", _("Active")
    LEFT = "left", _("Left")


class Unit(models.Model):
    """An employer unit of in-service members (工作单位), named by its unified social credit code
    (GB 32100, checked with python-stdnum). One row per code, whichever community its members
    report to."""

    name = models.CharField(_("name"), max_length=100)
    uscc = models.CharField(_("unified social credit code"), max_length=18, unique=True)
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        verbose_name = _("employer unit")
        verbose_name_plural = _("employer units")
        ordering = ["name", "id"]

    def __str__(self) -> str:
        return self.name


class PartyMember(models.Model):
    name = models.CharField(_("name"), max_length=50)
    kind = models.CharField(_("kind"), max_length=12, choices=MemberKind.choices)
    status = models.CharField(
        _("status"), max_length=8, choices=MemberStatus.choices, default=MemberStatus.ACTIVE
    )
    # PROTECT: a community with members is retired, never deleted.
    community = models.ForeignKey(
        "places.Place",
        models.PROTECT,
        related_name="+",
        limit_choices_to={"kind": "community"},
        verbose_name=_("community"),
    )
    # The community's path, or the compound's for a member of a compound branch.
    path = PathField(max_length=70, editable=False)
    # PROTECT: an organisation is dissolved by moving its members first.
    org = models.ForeignKey(
        PartyOrg,
        models.PROTECT,
        null=True,
        blank=True,
        related_name="members",
        verbose_name=_("organisation"),
    )
    phone = EncryptedTextField(_("mobile number"), blank=True, default="")
    phone_index = models.CharField(max_length=32, blank=True, default="", editable=False)
    # SET_NULL: the roster and the accounts have their own lives; the member record stays.
    resident = models.ForeignKey(
        "people.Resident",
        models.SET_NULL,
        null=True,
        blank=True,
        related_name="+",
        verbose_name=_("resident in the roster"),
    )
    user = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        models.SET_NULL,
        null=True,
        blank=True,
        related_name="party_members",
        verbose_name=_("login"),
    )
    # PROTECT: a unit with members keeps its service records.
    unit = models.ForeignKey(
        Unit,
        models.PROTECT,
        null=True,
        blank=True,
        related_name="members",
        verbose_name=_("employer unit"),
    )
    joined_party_on = models.DateField(_("joined the party"), null=True, blank=True)
    transferred_in_on = models.DateField(_("membership transferred in"), null=True, blank=True)
    transferred_from = models.CharField(_("transferred from"), max_length=100, blank=True)
    reported_on = models.DateField(_("reported to the community"), null=True, blank=True)
    skills = models.CharField(_("skills"), max_length=200, blank=True)
    availability = models.CharField(_("available"), max_length=200, blank=True)
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        verbose_name = _("party member")
        verbose_name_plural = _("party members")
        ordering = ["name", "id"]
        constraints = [
            # One record per person and community: the same mobile (by its blind index) twice is
            # refused.
            models.UniqueConstraint(
                fields=["community", "phone_index"],
                condition=~Q(phone_index=""),
                name="partymember_phone_unique",
                violation_error_message=_("This community already has a member with this mobile."),
            ),
            models.UniqueConstraint(
                fields=["community", "user"],
                condition=Q(user__isnull=False),
                name="partymember_user_unique",
            ),
        ]
        indexes = [
            models.Index(fields=["path", "kind"], name="partymember_path_kind"),
            models.Index(fields=["phone_index"], name="partymember_phone"),
        ]

    def __str__(self) -> str:
        return self.name


class UnitContact(models.Model):
    """A partner contact (共建单位联络人) of a unit, for one community: they read that unit's
    service record there, and nothing else of the party module."""

    # CASCADE: the link means nothing without either side.
    unit = models.ForeignKey(Unit, models.CASCADE, related_name="contacts")
    user = models.ForeignKey(settings.AUTH_USER_MODEL, models.CASCADE, related_name="+")
    community = models.ForeignKey("places.Place", models.PROTECT, related_name="+")
    path = PathField(max_length=70, editable=False)
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["unit", "user", "community"], name="unitcontact_unique")
        ]
        indexes = [models.Index(fields=["user"], name="unitcontact_user")]

    def __str__(self) -> str:
        return f"{self.user_id} → {self.unit_id}"


class RegistrationStatus(models.TextChoices):
    PENDING = "pending", _("Waiting for approval")
    APPROVED = "approved", _("Approved")
    REJECTED = "rejected", _("Rejected")


class Registration(models.Model):
    """An in-service member's report to the community, filed from its QR code. Kept after the
    decision (with the reason when rejected); the password hash is dropped once it has served."""

    community = models.ForeignKey(
        "places.Place", models.PROTECT, related_name="+", verbose_name=_("community")
    )
    path = PathField(max_length=70, editable=False)
    name = models.CharField(_("name"), max_length=50)
    phone = EncryptedTextField(_("mobile number"))
    phone_index = models.CharField(max_length=32, editable=False)
    unit_name = models.CharField(_("employer unit"), max_length=100)
    uscc = models.CharField(_("unified social credit code"), max_length=18)
    skills = models.CharField(_("skills"), max_length=200, blank=True)
    availability = models.CharField(_("available"), max_length=200, blank=True)
    password = models.CharField(max_length=200, blank=True, editable=False)  # a hash
    status = models.CharField(
        _("status"),
        max_length=10,
        choices=RegistrationStatus.choices,
        default=RegistrationStatus.PENDING,
    )
    reason = models.CharField(_("reason"), max_length=500, blank=True)
    created_at = models.DateTimeField(_("filed"), auto_now_add=True)
    decided_at = models.DateTimeField(_("decided"), null=True, blank=True)
    decided_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, models.SET_NULL, null=True, blank=True, related_name="+"
    )
    member = models.ForeignKey(
        PartyMember, models.SET_NULL, null=True, blank=True, related_name="registrations"
    )

    class Meta:
        verbose_name = _("dual-report registration")
        verbose_name_plural = _("dual-report registrations")
        ordering = ["-created_at", "-id"]
        constraints = [
            # A second press of "register" while the first waits is refused.
            models.UniqueConstraint(
                fields=["community", "phone_index"],
                condition=Q(status="pending"),
                name="registration_one_pending",
                violation_error_message=_("A registration with this mobile is already waiting."),
            )
        ]
        indexes = [models.Index(fields=["path", "status"], name="registration_path_status")]

    def __str__(self) -> str:
        return f"{self.name} ({self.get_status_display()})"


class PostKind(models.TextChoices):
    POST = "post", _("Post (ongoing)")
    TASK = "task", _("Task (one-off)")


class PostState(models.TextChoices):
    OPEN = "open", _("Open")
    CLOSED = "closed", _("Closed")


class Post(models.Model):
    """A post (岗位) or a task (任务) the community publishes for members to claim."""

    community = models.ForeignKey(
        "places.Place", models.PROTECT, related_name="+", verbose_name=_("community")
    )
    path = PathField(max_length=70, editable=False)
    kind = models.CharField(_("kind"), max_length=8, choices=PostKind.choices)
    title = models.CharField(_("title"), max_length=80)
    description = models.TextField(_("description"), max_length=2000, blank=True)
    capacity = models.PositiveIntegerField(_("places"))
    claimed = models.PositiveIntegerField(_("claimed"), default=0, editable=False)
    starts_on = models.DateField(_("from"), null=True, blank=True)
    ends_on = models.DateField(_("until"), null=True, blank=True)
    state = models.CharField(
        _("state"), max_length=8, choices=PostState.choices, default=PostState.OPEN
    )
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, models.SET_NULL, null=True, blank=True, related_name="+"
    )
    created_at = models.DateTimeField(_("published"), auto_now_add=True)
    closed_at = models.DateTimeField(_("closed"), null=True, blank=True)

    class Meta:
        verbose_name = _("post or task")
        verbose_name_plural = _("posts and tasks")
        ordering = ["-created_at", "-id"]
        constraints = [
            # The last line of defence behind the guarded UPDATE of a claim.
            models.CheckConstraint(
                condition=Q(claimed__lte=models.F("capacity")), name="post_claimed_le_capacity"
            ),
            models.CheckConstraint(condition=Q(capacity__gte=1), name="post_capacity_positive"),
        ]
        indexes = [models.Index(fields=["path", "state"], name="post_path_state")]

    def __str__(self) -> str:
        return self.title

    @property
    def places_left(self) -> int:
        return max(self.capacity - self.claimed, 0)


class Claim(models.Model):
    # PROTECT on both: a claim is the record of service and outlives neither side quietly.
    post = models.ForeignKey(Post, models.PROTECT, related_name="claims")
    member = models.ForeignKey(PartyMember, models.PROTECT, related_name="claims")
    path = PathField(max_length=70, editable=False)  # the post's community
    claimed_at = models.DateTimeField(_("claimed"))
    withdrawn_at = models.DateTimeField(_("withdrawn"), null=True, blank=True)

    class Meta:
        ordering = ["-claimed_at", "-id"]
        constraints = [
            # One live claim per member and post, however fast they press.
            models.UniqueConstraint(
                fields=["post", "member"],
                condition=Q(withdrawn_at__isnull=True),
                name="claim_once",
            )
        ]
        indexes = [models.Index(fields=["path", "claimed_at"], name="claim_path_claimed")]

    def __str__(self) -> str:
        return f"{self.member_id} → {self.post_id}"


class HoursStatus(models.TextChoices):
    PENDING = "pending", _("Waiting for confirmation")
    CONFIRMED = "confirmed", _("Confirmed")
    REJECTED = "rejected", _("Rejected")


class ServiceHours(models.Model):
    # PROTECT: hours are the record of service.
    member = models.ForeignKey(PartyMember, models.PROTECT, related_name="hours")
    claim = models.ForeignKey(Claim, models.PROTECT, null=True, blank=True, related_name="hours")
    post = models.ForeignKey(Post, models.PROTECT, related_name="hours")
    path = PathField(max_length=70, editable=False)  # the post's community
    served_on = models.DateField(_("date"))
    hours = models.DecimalField(_("hours"), max_digits=4, decimal_places=1)
    note = models.CharField(_("what was done"), max_length=300, blank=True)
    status = models.CharField(
        _("status"), max_length=10, choices=HoursStatus.choices, default=HoursStatus.PENDING
    )
    reason = models.CharField(_("reason"), max_length=300, blank=True)
    created_at = models.DateTimeField(auto_now_add=True)
    decided_at = models.DateTimeField(null=True, blank=True)
    decided_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, models.SET_NULL, null=True, blank=True, related_name="+"
    )

    class Meta:
        verbose_name = _("service hours")
        verbose_name_plural = _("service hours")
        ordering = ["-served_on", "-id"]
        constraints = [
            models.CheckConstraint(
                condition=Q(hours__gt=0, hours__lte=24), name="servicehours_range"
            )
        ]
        indexes = [
            models.Index(fields=["path", "status"], name="hours_path_status"),
            models.Index(fields=["member", "served_on"], name="hours_member_served"),
        ]

    def __str__(self) -> str:
        return f"{self.member_id} {self.served_on} {self.hours}"


class Grade(models.TextChoices):
    EXCELLENT = "excellent", _("Excellent")
    GOOD = "good", _("Good")
    FAIR = "fair", _("Fair")
    POOR = "poor", _("Poor")


class Evaluation(models.Model):
    """The community's grade of one member for one period (``2026``, ``2026-Q1``, ``2026-03``)."""

    member = models.ForeignKey(PartyMember, models.PROTECT, related_name="evaluations")
    path = PathField(max_length=70, editable=False)
    period = models.CharField(_("period"), max_length=7)
    grade = models.CharField(_("grade"), max_length=10, choices=Grade.choices)
    comment = models.CharField(_("comment"), max_length=300, blank=True)
    by = models.ForeignKey(
        settings.AUTH_USER_MODEL, models.SET_NULL, null=True, blank=True, related_name="+"
    )
    at = models.DateTimeField()

    class Meta:
        verbose_name = _("evaluation")
        verbose_name_plural = _("evaluations")
        constraints = [models.UniqueConstraint(fields=["member", "period"], name="evaluation_once")]
        indexes = [models.Index(fields=["path", "period"], name="evaluation_path_period")]

    def __str__(self) -> str:
        return f"{self.member_id} {self.period} {self.grade}"
