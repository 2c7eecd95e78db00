from __future__ import annotations

import hashlib
import re

from django.contrib.auth.models import AbstractUser, UserManager
from django.core.exceptions import ValidationError
from django.db import models
from django.db.models import Q
from django.utils import timezone
from django.utils.translation import gettext_lazy as _
from simple_history.models import HistoricalRecords

from linli.accounts.roles import GRANTABLE_ON, Role
from linli.places.models import PlaceKind

MOBILE_RE = re.compile(r"^1[3-9]\d{9}$")


def normalize_phone(value: str) -> str:
    """Mainland mobile number in its 11 digits: spaces, dashes and a +86/0086 prefix removed."""
    digits = re.sub(r"[\s\-()]", "", value or "")
    for prefix in ("+86", "0086"):
        if digits.startswith(prefix):
            digits = digits[len(prefix) :]
    return digits


def validate_mobile(value: str) -> None:
    if not MOBILE_RE.match(value):
        raise ValidationError(_("Enter an 11-digit mainland mobile number."), code="mobile")


class User(AbstractUser):
    # The login phone of a staff member or volunteer. Residents' phone numbers live in the roster,
    # encrypted; this one is an account identifier like the username.
    phone = models.CharField(
        _("mobile number"),
        max_length=11,
        unique=True,
        null=True,
        blank=True,
        validators=[validate_mobile],
    )
    display_name = models.CharField(_("display name"), max_length=50, blank=True)

    objects = UserManager["User"]()  # type: ignore[misc]

    class Meta:
        verbose_name = _("user")
        verbose_name_plural = _("users")

    def __str__(self) -> str:
        return self.display_name or self.username

    def clean(self) -> None:
        super().clean()
        if self.phone:
            self.phone = normalize_phone(self.phone)
        if self.phone == "":
            self.phone = None


class Grant(models.Model):
    """A role held by a user on one place, grid or street/lane. Revoked, never deleted."""

    # CASCADE: a user is deactivated, not deleted; if an operator does delete one, their grants
    # mean nothing without them. The audit log keeps the user's id and name on its own.
    user = models.ForeignKey(User, models.CASCADE, related_name="grants", verbose_name=_("user"))
    role = models.CharField(_("role"), max_length=24, choices=Role.choices)
    # PROTECT: a place, grid or lane that someone holds a role on cannot vanish under them.
    place = models.ForeignKey(
        "places.Place",
        models.PROTECT,
        null=True,
        blank=True,
        related_name="grants",
        verbose_name=_("place"),
    )
    grid = models.ForeignKey(
        "places.Grid",
        models.PROTECT,
        null=True,
        blank=True,
        related_name="grants",
        verbose_name=_("grid"),
    )
    lane = models.ForeignKey(
        "places.Lane",
        models.PROTECT,
        null=True,
        blank=True,
        related_name="grants",
        verbose_name=_("street or lane"),
    )
    # SET_NULL: the grant stands even if the person who made it leaves.
    granted_by = models.ForeignKey(
        User,
        models.SET_NULL,
        null=True,
        blank=True,
        related_name="+",
        verbose_name=_("granted by"),
    )
    created_at = models.DateTimeField(_("granted at"), default=timezone.now)
    revoked_at = models.DateTimeField(_("revoked at"), null=True, blank=True)

    history = HistoricalRecords()

    class Meta:
        verbose_name = _("grant")
        verbose_name_plural = _("grants")
        ordering = ["user", "role", "id"]
        constraints = [
            models.CheckConstraint(
                condition=(
                    Q(place__isnull=False, grid__isnull=True, lane__isnull=True)
                    | Q(place__isnull=True, grid__isnull=False, lane__isnull=True)
                    | Q(place__isnull=True, grid__isnull=True, lane__isnull=False)
                ),
                name="grant_exactly_one_target",
            ),
            models.UniqueConstraint(
                fields=["user", "role", "place"],
                condition=Q(revoked_at__isnull=True, place__isnull=False),
                name="grant_active_unique_place",
            ),
            models.UniqueConstraint(
                fields=["user", "role", "grid"],
                condition=Q(revoked_at__isnull=True, grid__isnull=False),
                name="grant_active_unique_grid",
            ),
            models.UniqueConstraint(
                fields=["user", "role", "lane"],
                condition=Q(revoked_at__isnull=True, lane__isnull=False),
                name="grant_active_unique_lane",
            ),
        ]
        indexes = [models.Index(fields=["user", "revoked_at"], name="grant_user_active")]

    def __str__(self) -> str:
        return f"{self.get_role_display()} @ {self.target}"

    @property
    def target(self) -> object:
        return self.place or self.grid or self.lane

    @property
    def target_kind(self) -> str:
        if self.place_id:
            return self.place.kind if self.place else "place"
        return "grid" if self.grid_id else "lane"

    def clean(self) -> None:
        targets = [t for t in (self.place_id, self.grid_id, self.lane_id) if t]
        if len(targets) != 1:
            raise ValidationError(_("A grant names exactly one place, grid or street/lane."))
        allowed = GRANTABLE_ON.get(self.role, ())
        if self.target_kind not in allowed:
            kind = self.target_kind
            label = (
                PlaceKind(kind).label
                if kind in PlaceKind.values
                else _("grid")
                if kind == "grid"
                else _("street or lane")
            )
            raise ValidationError(
                _("The role %(role)s cannot be granted on a %(kind)s.")
                % {"role": self.get_role_display(), "kind": label}
            )


class ApiToken(models.Model):
    """A bearer token for the API. Only its SHA-256 is stored; the token is shown once."""

    # CASCADE: a token is worthless without its user.
    user = models.ForeignKey(User, models.CASCADE, related_name="api_tokens")
    name = models.CharField(_("name"), max_length=100)
    prefix = models.CharField(max_length=12, editable=False)
    digest = models.CharField(max_length=64, unique=True, editable=False)
    created_at = models.DateTimeField(default=timezone.now)
    expires_at = models.DateTimeField(_("expires at"), null=True, blank=True)
    last_used_at = models.DateTimeField(null=True, blank=True)
    revoked_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        verbose_name = _("API token")
        verbose_name_plural = _("API tokens")
        ordering = ["-created_at"]

    def __str__(self) -> str:
        return f"{self.name} ({self.prefix}…)"

    @staticmethod
    def digest_of(token: str) -> str:
        return hashlib.sha256(token.encode()).hexdigest()

    @property
    def is_usable(self) -> bool:
        now = timezone.now()
        return self.revoked_at is None and (self.expires_at is None or self.expires_at > now)


class LoginThrottle(models.Model):
    """Failed logins per login name and per client address, for locking out guessing."""

    key = models.CharField(max_length=200, unique=True)
    failures = models.PositiveIntegerField(default=0)
    window_started_at = models.DateTimeField(default=timezone.now)
    locked_until = models.DateTimeField(null=True, blank=True)

    class Meta:
        verbose_name = _("login throttle")
        verbose_name_plural = _("login throttles")

    def __str__(self) -> str:
        return self.key
