"""The place tree: district → street → community → compound → building → unit → dwelling.

Grids (网格) partition a community and lanes (街/巷) run through it; both hang off the community and
are linked to its buildings. Units and dwellings carry their building's grid and lane as well
(denormalized, kept in step by ``places.actions``) so that "everything in grid G" is one indexed
query like "everything under place P".
"""

from __future__ import annotations

from django.core.exceptions import ValidationError
from django.db import models
from django.db.models import Q
from django.utils.translation import gettext_lazy as _
from simple_history.models import HistoricalRecords

from linli.core.paths import PathField, ancestors, path_end
from linli.places import codes


class PlaceKind(models.TextChoices):
    DISTRICT = "district", _("District")
    STREET = "street", _("Street / town")
    COMMUNITY = "community", _("Community / village")
    COMPOUND = "compound", _("Compound")
    BUILDING = "building", _("Building")
    UNIT = "unit", _("Unit")
    DWELLING = "dwelling", _("Dwelling")


# Which kinds may sit directly under which. Old neighbourhoods have buildings straight under the
# community (no compound), and low-rise buildings have dwellings without units.
ALLOWED_PARENTS: dict[str, tuple[str, ...]] = {
    PlaceKind.DISTRICT: (),
    PlaceKind.STREET: (PlaceKind.DISTRICT,),
    PlaceKind.COMMUNITY: (PlaceKind.STREET,),
    PlaceKind.COMPOUND: (PlaceKind.COMMUNITY,),
    PlaceKind.BUILDING: (PlaceKind.COMPOUND, PlaceKind.COMMUNITY),
    PlaceKind.UNIT: (PlaceKind.BUILDING,),
    PlaceKind.DWELLING: (PlaceKind.UNIT, PlaceKind.BUILDING),
}

# Kinds whose code is a national one and therefore unique across the whole database.
NATIONAL_CODE_KINDS = (PlaceKind.DISTRICT, PlaceKind.STREET, PlaceKind.COMMUNITY)
# Kinds below the community: they carry the grid and lane of their building.
BUILDING_LEVEL = (PlaceKind.BUILDING, PlaceKind.UNIT, PlaceKind.DWELLING)


class Place(models.Model):
    kind = models.CharField(_("kind"), max_length=16, choices=PlaceKind.choices)
    code = models.CharField(
        _("code"),
        max_length=32,
        help_text=_("National code for districts, streets and communities; a local number below."),
    )
    name = models.CharField(_("name"), max_length=100)
    # PROTECT: a place with children is never deleted by accident; places are retired instead.
    parent = models.ForeignKey(
        "self",
        models.PROTECT,
        db_index=False,  # covered by the (parent, path) index below
        null=True,
        blank=True,
        related_name="children",
        verbose_name=_("parent"),
    )
    path = PathField(_("path"), max_length=70, unique=True, editable=False)
    # SET_NULL: removing a grid or lane leaves its buildings unassigned, not deleted.
    grid = models.ForeignKey(
        "places.Grid",
        models.SET_NULL,
        db_index=False,  # covered by the (grid, kind) index below
        null=True,
        blank=True,
        related_name="places",
        verbose_name=_("grid"),
    )
    lane = models.ForeignKey(
        "places.Lane",
        models.SET_NULL,
        db_index=False,  # covered by the (lane, kind) index below
        null=True,
        blank=True,
        related_name="places",
        verbose_name=_("street or lane"),
    )
    floors = models.PositiveSmallIntegerField(_("floors above ground"), null=True, blank=True)
    floor = models.SmallIntegerField(_("floor"), null=True, blank=True)
    floor_area = models.DecimalField(
        _("floor area (m²)"), max_digits=9, decimal_places=2, null=True, blank=True
    )
    lon = models.FloatField(_("longitude"), null=True, blank=True)
    lat = models.FloatField(_("latitude"), null=True, blank=True)
    address = models.CharField(_("address"), max_length=200, blank=True)
    retired_at = models.DateField(_("retired on"), null=True, blank=True)
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)

    history = HistoricalRecords(excluded_fields=["updated_at"])

    class Meta:
        verbose_name = _("place")
        verbose_name_plural = _("places")
        ordering = ["path"]
        constraints = [
            models.UniqueConstraint(
                fields=["kind", "code"],
                condition=Q(kind__in=NATIONAL_CODE_KINDS),
                name="place_national_code_unique",
                violation_error_message=_("This code is already used by another place."),
            ),
            models.UniqueConstraint(
                fields=["parent", "code"],
                name="place_code_unique_in_parent",
                violation_error_message=_("Another place here already has this code."),
            ),
            models.CheckConstraint(
                condition=Q(floor_area__isnull=True) | Q(floor_area__gt=0),
                name="place_floor_area_positive",
            ),
        ]
        indexes = [
            # Children of a place in order, and the last child's path when adding one. Without
            # it PostgreSQL may walk the whole path index backwards looking for a parent's last
            # child.
            models.Index(fields=["parent", "path"], name="place_parent_path"),
            models.Index(fields=["grid", "kind"], name="place_grid_kind"),
            models.Index(fields=["lane", "kind"], name="place_lane_kind"),
            models.Index(fields=["kind", "path"], name="place_kind_path"),
            # The dwellings in use, in path order: visit coverage walks a street's or a
            # community's households from this index alone (no row reads). The condition is
            # written as literals in those queries so that SQLite uses it.
            models.Index(
                fields=["path"],
                condition=Q(kind="dwelling", retired_at__isnull=True),
                name="place_live_dwelling_path",
            ),
        ]

    def __str__(self) -> str:
        return self.name

    @property
    def path_end(self) -> str:
        return path_end(self.path)

    def descendants(self) -> models.QuerySet[Place]:
        """This place and everything under it: one range scan on the path index."""
        return Place.objects.filter(path__gte=self.path, path__lt=self.path_end)

    def ancestors(self) -> list[Place]:
        paths = ancestors(self.path)
        found = {p.path: p for p in Place.objects.filter(path__in=paths)}
        return [found[p] for p in paths if p in found]

    def clean(self) -> None:
        allowed = ALLOWED_PARENTS.get(self.kind, ())
        parent_kind = self.parent.kind if self.parent_id and self.parent else None
        if allowed and parent_kind not in allowed:
            raise ValidationError(
                {
                    "parent": _("A %(kind)s must be placed under a %(allowed)s.")
                    % {
                        "kind": PlaceKind(self.kind).label,
                        "allowed": " / ".join(str(PlaceKind(k).label) for k in allowed),
                    }
                }
            )
        if not allowed and self.parent_id:
            raise ValidationError({"parent": _("A district has no parent place.")})
        parent_code = self.parent.code if self.parent_id and self.parent else None
        if self.kind == PlaceKind.DISTRICT:
            codes.validate_district_code(self.code)
        elif self.kind == PlaceKind.STREET:
            codes.validate_street_code(self.code, parent_code)
        elif self.kind == PlaceKind.COMMUNITY:
            codes.validate_community_code(self.code, parent_code)
        elif not self.code.strip():
            raise ValidationError({"code": _("Give the place a number or short code.")})
        if self.floor_area is not None and self.kind != PlaceKind.DWELLING:
            raise ValidationError({"floor_area": _("Only dwellings have a floor area.")})


class Grid(models.Model):
    # PROTECT: a community with grids is never deleted by accident.
    community = models.ForeignKey(
        Place,
        models.PROTECT,
        related_name="grids",
        verbose_name=_("community"),
        limit_choices_to={"kind": PlaceKind.COMMUNITY},
    )
    code = models.CharField(_("grid code"), max_length=15, unique=True)
    name = models.CharField(_("name"), max_length=100)
    polygon = models.JSONField(_("area (GeoJSON polygon)"), null=True, blank=True)
    created_at = models.DateTimeField(auto_now_add=True)

    history = HistoricalRecords()

    class Meta:
        verbose_name = _("grid")
        verbose_name_plural = _("grids")
        ordering = ["code"]

    def __str__(self) -> str:
        return self.name

    def clean(self) -> None:
        if self.community_id and self.community.kind != PlaceKind.COMMUNITY:
            raise ValidationError({"community": _("A grid belongs to a community.")})
        codes.validate_grid_code(self.code, self.community.code if self.community_id else None)
        if self.polygon is not None:
            codes.validate_polygon(self.polygon)


class LaneKind(models.TextChoices):
    STREET = "street", _("Street (街)")
    LANE = "lane", _("Lane (巷)")


class Lane(models.Model):
    """A street or lane inside a community: what a street chief or lane chief looks after."""

    # PROTECT: as for grids.
    community = models.ForeignKey(
        Place,
        models.PROTECT,
        related_name="lanes",
        verbose_name=_("community"),
        limit_choices_to={"kind": PlaceKind.COMMUNITY},
    )
    kind = models.CharField(_("kind"), max_length=8, choices=LaneKind.choices)
    code = models.CharField(_("code"), max_length=32)
    name = models.CharField(_("name"), max_length=100)
    created_at = models.DateTimeField(auto_now_add=True)

    history = HistoricalRecords()

    class Meta:
        verbose_name = _("street or lane")
        verbose_name_plural = _("streets and lanes")
        ordering = ["community", "code"]
        constraints = [
            models.UniqueConstraint(
                fields=["community", "code"],
                name="lane_code_unique",
                violation_error_message=_("Another street or lane here already has this code."),
            ),
        ]

    def __str__(self) -> str:
        return self.name

    def clean(self) -> None:
        if self.community_id and self.community.kind != PlaceKind.COMMUNITY:
            raise ValidationError({"community": _("A street or lane belongs to a community.")})
