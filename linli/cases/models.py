"""Residents' cases (诉求): a request, opinion or complaint, from intake to the resident's rating.

A case is attached to a place (a building or a compound) and copies that place's path, grid and
lane onto itself when it is taken in, so that scope is one indexed range on the case table, as for
places (``Scope.q("")``). The state changes only through ``linli.cases.workflow``; every change
leaves a timeline event, an audit record and a notification in the outbox.
"""

from __future__ import annotations

from django.conf import settings
from django.core.exceptions import ValidationError
from django.db import models
from django.db.models import Q
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from linli.core.crypto import EncryptedTextField
from linli.core.paths import PathField


class Category(models.Model):
    """A managed tree of categories, each with its deadlines. Built-in ones are named by code and
    translated (see ``BUILTIN_CATEGORIES``); ones an operator adds keep the name typed."""

    code = models.SlugField(_("code"), max_length=40, unique=True)
    name = models.CharField(_("name"), max_length=50)
    parent = models.ForeignKey(
        "self",
        models.PROTECT,
        null=True,
        blank=True,
        related_name="children",
        verbose_name=_("parent"),
    )
    response_hours = models.PositiveIntegerField(_("answer within (hours)"), default=24)
    resolve_days = models.PositiveIntegerField(_("resolve within (days)"), default=7)
    active = models.BooleanField(_("in use"), default=True)
    order = models.PositiveSmallIntegerField(default=100)

    class Meta:
        verbose_name = _("category")
        verbose_name_plural = _("categories")
        ordering = ["order", "code"]

    def __str__(self) -> str:
        return category_label(self)


class Datatype(models.TextChoices):
    """The datatypes of an Open311 service attribute (GeoReport v2)."""

    STRING = "string", _("Short text")
    NUMBER = "number", _("Number")
    DATETIME = "datetime", _("Date and time")
    TEXT = "text", _("Long text")
    SINGLE = "singlevaluelist", _("One choice from a list")
    MULTI = "multivaluelist", _("Several choices from a list")


LIST_DATATYPES = (Datatype.SINGLE, Datatype.MULTI)


class CategoryAttribute(models.Model):
    """Something a category asks about beside the description (楼层, 是否影响出行): published in
    its Open311 service definition, checked when a case is filed, kept on the case."""

    # CASCADE: an attribute belongs to its category; categories are retired, not deleted.
    category = models.ForeignKey(
        Category, models.CASCADE, related_name="attributes", verbose_name=_("category")
    )
    code = models.SlugField(_("code"), max_length=40)
    description = models.CharField(_("question"), max_length=200)
    datatype = models.CharField(
        _("kind of answer"), max_length=16, choices=Datatype.choices, default=Datatype.STRING
    )
    variable = models.BooleanField(
        _("asks for an answer"),
        default=True,
        help_text=_("Off: only a remark shown to whoever files, with no answer."),
    )
    required = models.BooleanField(_("required"), default=False)
    datatype_description = models.CharField(_("how to answer"), max_length=200, blank=True)
    order = models.PositiveSmallIntegerField(_("order"), default=1)

    class Meta:
        verbose_name = _("category attribute")
        verbose_name_plural = _("category attributes")
        ordering = ["category", "order", "code"]
        constraints = [
            models.UniqueConstraint(fields=["category", "code"], name="attribute_code_once")
        ]

    def __str__(self) -> str:
        return f"{self.category.code}: {self.description}"

    def clean(self) -> None:
        if self.required and not self.variable:
            raise ValidationError(
                {"required": _("Only an attribute that asks for an answer can be required.")}
            )


class AttributeValue(models.Model):
    """One choice of a list attribute: ``key`` is what a client sends, ``name`` what it shows."""

    # CASCADE: a choice belongs to its attribute.
    attribute = models.ForeignKey(
        CategoryAttribute, models.CASCADE, related_name="values", verbose_name=_("attribute")
    )
    key = models.SlugField(_("key"), max_length=40)
    name = models.CharField(_("name"), max_length=100)
    order = models.PositiveSmallIntegerField(_("order"), default=1)

    class Meta:
        verbose_name = _("choice")
        verbose_name_plural = _("choices")
        ordering = ["attribute", "order", "key"]
        constraints = [
            models.UniqueConstraint(fields=["attribute", "key"], name="attribute_value_once")
        ]

    def __str__(self) -> str:
        return f"{self.key}: {self.name}"


class Channel(models.TextChoices):
    RECEPTION = "reception", _("Chief's reception day")
    DELIBERATION = "deliberation", _("Deliberation hall")
    PATROL = "patrol", _("Patrol")
    PHONE = "phone", _("Phone call")
    WECHAT = "wechat", _("WeChat group message")
    QR = "qr", _("Online form (building QR code)")
    OPEN311 = "open311", _("Open311 client")
    VISIT = "visit", _("Home visit")
    OTHER = "other", _("Other")


class State(models.TextChoices):
    RECEIVED = "received", _("Received")
    ACCEPTED = "accepted", _("Accepted")
    REJECTED = "rejected", _("Rejected")
    ASSIGNED = "assigned", _("Assigned")
    IN_PROGRESS = "in_progress", _("In progress")
    RESOLVED = "resolved", _("Resolved")
    RATED = "rated", _("Rated")
    CLOSED = "closed", _("Closed")
    MERGED = "merged", _("Merged into another case")


OPEN_STATES = (State.RECEIVED, State.ACCEPTED, State.ASSIGNED, State.IN_PROGRESS)


class Priority(models.TextChoices):
    NORMAL = "normal", _("Normal")
    URGENT = "urgent", _("Urgent")


class AssigneeKind(models.TextChoices):
    WORKER = "worker", _("Community worker")
    GRID = "grid", _("Grid worker")
    PROPERTY = "property", _("Property company")
    PARTNER = "partner", _("Partner institution")
    PARTY = "party", _("Party member")


class Rating(models.IntegerChoices):
    VERY_SATISFIED = 5, _("Very satisfied")
    SATISFIED = 4, _("Satisfied")
    NEUTRAL = 3, _("Neutral")
    DISSATISFIED = 2, _("Dissatisfied")
    VERY_DISSATISFIED = 1, _("Very dissatisfied")


class Case(models.Model):
    # The tracking code is the resident's secret: with it they follow and rate their case at
    # /r/t/<code>/. Nothing public shows it. Open311 names a case by ``public_id`` instead, an
    # independent random token that tells nothing about the code (see docs/cases.md).
    code = models.CharField(_("tracking code"), max_length=12, unique=True, editable=False)
    public_id = models.CharField(_("public id"), max_length=16, unique=True, editable=False)
    channel = models.CharField(_("channel"), max_length=16, choices=Channel.choices)
    category = models.ForeignKey(
        Category, models.PROTECT, related_name="cases", verbose_name=_("category")
    )
    place = models.ForeignKey(
        "places.Place",
        models.PROTECT,
        db_index=False,  # reads go by path
        related_name="cases",
        verbose_name=_("place"),
    )
    # Copied from the place when the case is taken in: scope is then a range on this table.
    path = PathField(max_length=70, editable=False)
    grid = models.ForeignKey(
        "places.Grid", models.SET_NULL, null=True, blank=True, db_index=False, related_name="+"
    )
    lane = models.ForeignKey(
        "places.Lane", models.SET_NULL, null=True, blank=True, db_index=False, related_name="+"
    )
    title = models.CharField(_("title"), max_length=80)
    description = models.TextField(_("description"), max_length=4000)
    priority = models.CharField(
        _("priority"), max_length=8, choices=Priority.choices, default=Priority.NORMAL
    )
    state = models.CharField(_("state"), max_length=12, choices=State.choices)

    # Who raised it. A resident filing online may stay anonymous and leave no phone number.
    resident = models.ForeignKey(
        "people.Resident",
        models.PROTECT,
        null=True,
        blank=True,
        related_name="cases",
        verbose_name=_("resident"),
    )
    reporter_name = models.CharField(_("name given"), max_length=50, blank=True)
    reporter_phone = EncryptedTextField(_("phone given"), blank=True, default="")
    reporter_phone_index = models.CharField(max_length=32, blank=True, default="", editable=False)
    anonymous = models.BooleanField(_("anonymous"), default=False)
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        models.PROTECT,
        null=True,
        blank=True,
        related_name="+",
        verbose_name=_("taken in by"),
    )

    assignee = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        models.PROTECT,
        null=True,
        blank=True,
        related_name="assigned_cases",
        verbose_name=_("assigned to"),
    )
    assignee_kind = models.CharField(
        _("assigned to (kind)"), max_length=10, choices=AssigneeKind.choices, blank=True
    )

    received_at = models.DateTimeField(_("received"))
    respond_by = models.DateTimeField(_("answer due"))
    responded_at = models.DateTimeField(_("answered"), null=True, blank=True)
    accepted_at = models.DateTimeField(_("accepted"), null=True, blank=True)
    resolve_by = models.DateTimeField(_("resolution due"), null=True, blank=True)
    resolved_at = models.DateTimeField(_("resolved"), null=True, blank=True)
    rated_at = models.DateTimeField(_("rated"), null=True, blank=True)
    closed_at = models.DateTimeField(_("closed"), null=True, blank=True)
    overdue = models.BooleanField(_("overdue"), default=False)
    escalated_at = models.DateTimeField(_("escalated to the street"), null=True, blank=True)

    reject_reason = models.CharField(_("reason for rejecting"), max_length=500, blank=True)
    resolution = models.TextField(_("what was done"), max_length=4000, blank=True)
    rating = models.PositiveSmallIntegerField(
        _("rating"), choices=Rating.choices, null=True, blank=True
    )
    rating_comment = models.CharField(_("comment with the rating"), max_length=500, blank=True)
    # The answers to the category's attributes (``CategoryAttribute``), by attribute code: a
    # string, or a list of value keys for a multivaluelist. Checked by ``attributes.clean``.
    attributes = models.JSONField(_("details given"), default=dict, blank=True)
    merged_into = models.ForeignKey(
        "self",
        models.PROTECT,
        null=True,
        blank=True,
        related_name="merged_cases",
        verbose_name=_("merged into"),
    )
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        verbose_name = _("case")
        verbose_name_plural = _("cases")
        ordering = ["-received_at"]
        indexes = [
            # The inbox and the rates: a place range, by time.
            models.Index(fields=["path", "received_at"], name="case_path_received"),
            models.Index(fields=["grid", "received_at"], name="case_grid_received"),
            models.Index(fields=["lane", "received_at"], name="case_lane_received"),
            models.Index(fields=["assignee", "state"], name="case_assignee_state"),
            # The sweep: open cases by deadline.
            models.Index(
                fields=["respond_by"],
                name="case_open_respond_by",
                condition=Q(state="received", overdue=False),
            ),
            models.Index(
                fields=["resolve_by"],
                name="case_open_resolve_by",
                condition=Q(state__in=["accepted", "assigned", "in_progress"], overdue=False),
            ),
            models.Index(fields=["reporter_phone_index"], name="case_reporter_phone"),
            # The inbox of a wide area (a street, a district): open cases in the inbox's order,
            # walked from the start until a page is full.
            models.Index(
                fields=["-overdue", "-priority", "received_at", "id"],
                name="case_open_inbox",
                condition=Q(state__in=["received", "accepted", "assigned", "in_progress"]),
            ),
            # The three rates of a wide area: every column they count, so that the aggregate
            # reads this index alone over the period's range.
            models.Index(
                fields=[
                    "received_at",
                    "path",
                    "state",
                    "overdue",
                    "respond_by",
                    "responded_at",
                    "accepted_at",
                    "resolved_at",
                    "rating",
                ],
                name="case_rates_cover",
            ),
        ]
        constraints = [
            models.CheckConstraint(
                condition=Q(rating__isnull=True) | Q(rating__gte=1, rating__lte=5),
                name="case_rating_range",
            ),
        ]

    def __str__(self) -> str:
        return f"{self.code} {self.title}"

    @property
    def is_open(self) -> bool:
        return self.state in OPEN_STATES


class EventKind(models.TextChoices):
    STATE = "state", _("State changed")
    COMMENT = "comment", _("Comment")
    ESCALATE = "escalate", _("Escalated to the street")
    OVERDUE = "overdue", _("Flagged overdue")
    MERGE = "merge", _("Merged")
    PHOTO = "photo", _("Photo added")


class CaseEvent(models.Model):
    """One line of a case's timeline. ``public`` ones are shown to the resident too."""

    case = models.ForeignKey(Case, models.CASCADE, related_name="events")
    at = models.DateTimeField()
    actor = models.ForeignKey(
        settings.AUTH_USER_MODEL, models.PROTECT, null=True, blank=True, related_name="+"
    )
    kind = models.CharField(max_length=10, choices=EventKind.choices)
    from_state = models.CharField(max_length=12, choices=State.choices, blank=True)
    to_state = models.CharField(max_length=12, choices=State.choices, blank=True)
    note = models.TextField(max_length=4000, blank=True)
    public = models.BooleanField(default=True)

    class Meta:
        ordering = ["at", "id"]
        indexes = [models.Index(fields=["case", "at"], name="caseevent_case_at")]

    def __str__(self) -> str:
        return f"{self.kind} {self.to_state or self.note[:30]}"


class PhotoKind(models.TextChoices):
    INTAKE = "intake", _("With the request")
    RESOLUTION = "resolution", _("With the resolution")


class CasePhoto(models.Model):
    case = models.ForeignKey(Case, models.CASCADE, related_name="photos")
    kind = models.CharField(max_length=10, choices=PhotoKind.choices)
    # Stored under var/media/cases by a random name; served only through a scoped view.
    file = models.CharField(max_length=200)
    content_type = models.CharField(max_length=20)
    size = models.PositiveIntegerField()
    sha256 = models.CharField(max_length=64)
    uploaded_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["uploaded_at", "id"]

    def __str__(self) -> str:
        return self.file


class Notification(models.Model):
    """A timeline event for one user to read: the in-app inbox, written by the outbox handler.
    Its text is made when shown, in the reader's language."""

    user = models.ForeignKey(
        settings.AUTH_USER_MODEL, models.CASCADE, related_name="case_notifications"
    )
    event = models.ForeignKey(CaseEvent, models.CASCADE, related_name="+")
    created_at = models.DateTimeField()
    read_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["-created_at"]
        constraints = [
            # The outbox may run the handler twice for one event: the second writes nothing.
            models.UniqueConstraint(fields=["event", "user"], name="notification_once")
        ]
        indexes = [models.Index(fields=["user", "read_at"], name="notification_user_unread")]

    def __str__(self) -> str:
        return f"{self.user_id}: {self.event_id}"


class Open311Client(models.Model):
    """A program that files residents' cases through Open311 (``linli.cases.open311``): a WeChat
    mini program, a hotline's system, a neighbourhood app. It files into one community only, and
    at most ``hourly_limit`` cases an hour. Only the SHA-256 of its key is stored; the key is shown
    once, when it is issued (``linli open311 issue-key`` or the admin)."""

    name = models.CharField(_("name"), max_length=100)
    key_prefix = models.CharField(_("key starts with"), max_length=12, editable=False)
    key_digest = models.CharField(max_length=64, unique=True, editable=False)
    # PROTECT: a community that clients file into is not deleted by accident.
    community = models.ForeignKey(
        "places.Place",
        models.PROTECT,
        related_name="+",
        limit_choices_to={"kind": "community"},
        verbose_name=_("community"),
    )
    hourly_limit = models.PositiveIntegerField(_("cases an hour at most"), default=60)
    created_at = models.DateTimeField(_("issued"), default=timezone.now, editable=False)
    last_used_at = models.DateTimeField(_("last used"), null=True, blank=True, editable=False)
    revoked_at = models.DateTimeField(_("revoked"), null=True, blank=True, editable=False)
    # The rate limit: a fixed one-hour window, counted on this row under a row lock.
    window_started_at = models.DateTimeField(null=True, blank=True, editable=False)
    window_count = models.PositiveIntegerField(default=0, editable=False)

    class Meta:
        verbose_name = _("Open311 client")
        verbose_name_plural = _("Open311 clients")
        ordering = ["-created_at"]

    def __str__(self) -> str:
        return f"{self.name} ({self.key_prefix}…)"

    def clean(self) -> None:

        if self.hourly_limit is not None and self.hourly_limit < 1:
            raise ValidationError({"hourly_limit": _("Allow at least one case an hour.")})
        community = self.community if self.community_id else None
        if community is not None and (community.kind != "community" or community.retired_at):
            raise ValidationError({"community": _("A key files into one community: choose one.")})


# (code, parent code, label, answer within hours, resolve within days)
BUILTIN_CATEGORIES: list[tuple[str, str, object, int, int]] = [
    ("environment", "", _("Environment and sanitation"), 24, 3),
    ("rubbish", "environment", _("Rubbish sorting and removal"), 12, 2),
    ("greenery", "environment", _("Greenery"), 24, 7),
    ("repairs", "", _("Facilities and repairs"), 24, 7),
    ("lift", "repairs", _("Lift"), 4, 3),
    ("lighting", "repairs", _("Lighting"), 24, 5),
    ("leak", "repairs", _("Water leak"), 12, 5),
    ("property", "", _("Property management"), 24, 7),
    ("parking", "property", _("Parking"), 24, 7),
    ("neighbours", "", _("Disputes between neighbours"), 24, 10),
    ("noise", "neighbours", _("Noise"), 24, 7),
    ("safety", "", _("Safety and security"), 2, 3),
    ("fire", "safety", _("Fire hazard"), 2, 2),
    ("care", "", _("Elderly and disabled care"), 12, 7),
    ("policy", "", _("Policy questions"), 24, 5),
    ("suggestion", "", _("Opinions and suggestions"), 48, 15),
    ("other", "", _("Other"), 24, 7),
]
_BUILTIN_LABELS = {code: label for code, _p, label, _h, _d in BUILTIN_CATEGORIES}


def category_label(category: Category) -> str:
    label = _BUILTIN_LABELS.get(category.code)
    return str(label) if label is not None else category.name
