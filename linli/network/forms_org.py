"""Forms of the network's organisation pages: a person, an association and its members, a team
and its members. They shape and check the input; the rules live in ``network.actions``."""

from __future__ import annotations

import datetime
from typing import Any

from django import forms
from django.core.exceptions import ValidationError
from django.db.models import QuerySet
from django.http import Http404
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from linli.accounts.models import User
from linli.accounts.queries import login_with_phone
from linli.accounts.types import Viewer
from linli.people.queries import access_resident
from linli.places.models import Place, PlaceKind

from .models import AssociationRole, Person, TeamKind


class DateInput(forms.DateInput):
    input_type = "date"

    def __init__(self, **kwargs: Any) -> None:
        super().__init__(format="%Y-%m-%d", **kwargs)


def not_in_future(value: datetime.date | None) -> None:
    if value is not None and value > timezone.localdate():
        raise ValidationError(_("The date is in the future."))


class CommunityField(forms.ModelChoiceField):  # type: ignore[type-arg]  # not subscriptable at run time
    def label_from_instance(self, obj: Any) -> str:
        return str(obj.name)


class CompoundField(forms.ModelChoiceField):  # type: ignore[type-arg]  # not subscriptable at run time
    """Compounds of several communities: each named with its community when there are several."""

    def __init__(self, *args: Any, communities: list[Place], **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.community_names = {c.path: c.name for c in communities}

    def label_from_instance(self, obj: Any) -> str:
        if len(self.community_names) < 2:
            return str(obj.name)
        community = next(
            (name for path, name in self.community_names.items() if obj.path.startswith(path)), ""
        )
        return f"{community} › {obj.name}"


class _InCommunities(forms.Form):
    """A form whose first field is one of the user's communities (those they may manage)."""

    def __init__(self, communities: list[Place], *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.communities = communities
        field = self.fields["community"]
        assert isinstance(field, forms.ModelChoiceField)
        field.queryset = Place.objects.filter(pk__in=[c.pk for c in communities]).order_by("path")
        if len(communities) == 1 and not self.is_bound:
            self.initial.setdefault("community", communities[0].pk)


class PersonForm(_InCommunities):
    community = CommunityField(label=_("Community"), queryset=Place.objects.none())
    name = forms.CharField(
        label=_("Name"),
        max_length=50,
        required=False,
        help_text=_("May be left empty when a resident is chosen: their name is used."),
    )
    phone = forms.CharField(label=_("Mobile number (optional)"), max_length=20, required=False)
    resident = forms.IntegerField(
        label=_("Resident of the roster (optional)"),
        required=False,
        min_value=1,
        widget=forms.HiddenInput,
    )
    login_phone = forms.CharField(
        label=_("Login (optional): the mobile number of an existing account"),
        max_length=20,
        required=False,
    )
    skills = forms.CharField(label=_("Skills (optional)"), max_length=200, required=False)
    note = forms.CharField(
        label=_("Note (optional)"),
        max_length=2000,
        required=False,
        widget=forms.Textarea(attrs={"rows": 3}),
    )

    def __init__(self, user: Viewer, communities: list[Place], *args: Any, **kwargs: Any) -> None:
        super().__init__(communities, *args, **kwargs)
        self.user = user
        self.resident_object: Any = None
        self.login_object: User | None = None

    def clean_resident(self) -> int | None:
        resident_id = self.cleaned_data.get("resident")
        if resident_id is None:
            return None
        try:
            self.resident_object = access_resident(self.user, resident_id)
        except Http404:
            raise ValidationError(_("No resident you may see has this number.")) from None
        return int(resident_id)

    def clean_login_phone(self) -> str:
        raw = str(self.cleaned_data.get("login_phone", "")).strip()
        if not raw:
            return ""
        found = login_with_phone(raw)
        if found is None:
            raise ValidationError(_("No account has this mobile number."))
        self.login_object = found
        return raw

    def clean(self) -> dict[str, Any]:
        cleaned = super().clean() or {}
        if (
            not cleaned.get("name", "").strip()
            and self.resident_object is None
            and "name" not in self.errors
        ):
            self.add_error("name", _("Give the person's name, or choose a resident."))
        return cleaned


class AssociationForm(_InCommunities):
    community = CommunityField(label=_("Community"), queryset=Place.objects.none())
    compound = CompoundField(
        label=_("Compound (optional)"),
        queryset=Place.objects.none(),
        required=False,
        communities=[],
        empty_label=_("The whole community"),
    )
    name = forms.CharField(label=_("Name"), max_length=100)
    founded_on = forms.DateField(
        label=_("Founded on (optional)"),
        required=False,
        widget=DateInput(),
        validators=[not_in_future],
    )

    def __init__(self, communities: list[Place], *args: Any, **kwargs: Any) -> None:
        super().__init__(communities, *args, **kwargs)
        compound = self.fields["compound"]
        assert isinstance(compound, CompoundField)
        compound.community_names = {c.path: c.name for c in communities}
        compound.queryset = compounds_of(communities)


def compounds_of(communities: list[Place]) -> QuerySet[Place]:
    qs = Place.objects.none()
    for community in communities:
        qs |= Place.objects.filter(
            path__gt=community.path,
            path__lt=community.path_end,
            kind=PlaceKind.COMPOUND,
            retired_at__isnull=True,
        )
    return qs.order_by("path")


class TeamForm(_InCommunities):
    community = CommunityField(label=_("Community"), queryset=Place.objects.none())
    name = forms.CharField(label=_("Name"), max_length=100)
    kind = forms.ChoiceField(label=_("Kind"), choices=TeamKind.choices)
    founded_on = forms.DateField(
        label=_("Founded on (optional)"),
        required=False,
        widget=DateInput(),
        validators=[not_in_future],
    )
    description = forms.CharField(
        label=_("What the team does (optional)"),
        max_length=300,
        required=False,
        widget=forms.Textarea(attrs={"rows": 3}),
    )


class PersonField(forms.ModelChoiceField):  # type: ignore[type-arg]  # not subscriptable at run time
    def label_from_instance(self, obj: Any) -> str:
        return str(obj.name)


class _JoinForm(forms.Form):
    person = PersonField(label=_("Person"), queryset=Person.objects.none())
    joined_on = forms.DateField(
        label=_("Joined on"), widget=DateInput(), validators=[not_in_future]
    )

    def __init__(self, people: QuerySet[Person], *args: Any, **kwargs: Any) -> None:
        kwargs.setdefault("initial", {}).setdefault("joined_on", timezone.localdate())
        super().__init__(*args, **kwargs)
        field = self.fields["person"]
        assert isinstance(field, forms.ModelChoiceField)
        field.queryset = people


class AssociationMemberForm(_JoinForm):
    role = forms.ChoiceField(
        label=_("Role"), choices=AssociationRole.choices, initial=AssociationRole.MEMBER
    )
    field_order = ["person", "role", "joined_on"]


class TeamMemberForm(_JoinForm):
    leader = forms.BooleanField(label=_("Team leader"), required=False)
    field_order = ["person", "leader", "joined_on"]


class LeaveForm(forms.Form):
    left_on = forms.DateField(label=_("Left on"), widget=DateInput(), validators=[not_in_future])
