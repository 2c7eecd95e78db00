from __future__ import annotations

from typing import Any

from django import forms
from django.utils.translation import gettext_lazy as _

from linli.accounts.roles import Cap
from linli.accounts.scope import scope_for
from linli.accounts.types import Viewer
from linli.places.models import Place, PlaceKind

from .models import Category, Channel, Priority, Rating
from .photos import check
from .queries import category_choices

STAFF_CHANNELS = [(c.value, c.label) for c in Channel if c not in (Channel.QR, Channel.OPEN311)]


class PhotoField(forms.FileField):
    def clean(self, data: Any, initial: Any = None) -> Any:
        upload = super().clean(data, initial)
        if upload:
            check(upload)
        return upload


class _CaseFields(forms.Form):
    category = forms.TypedChoiceField(label=_("What is it about"), coerce=int)
    description = forms.CharField(
        label=_("Describe it"), widget=forms.Textarea(attrs={"rows": 5}), max_length=4000
    )
    photo = PhotoField(
        label=_("Photo (optional)"),
        required=False,
        widget=forms.ClearableFileInput(attrs={"accept": "image/jpeg,image/png,image/webp"}),
    )
    reporter_name = forms.CharField(label=_("Name (optional)"), required=False, max_length=50)
    reporter_phone = forms.CharField(label=_("Mobile (optional)"), required=False, max_length=20)
    anonymous = forms.BooleanField(label=_("Keep my name hidden"), required=False)

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.fields["category"].choices = category_choices()  # type: ignore[attr-defined]

    def category_object(self) -> Category:
        return Category.objects.get(pk=self.cleaned_data["category"])


class PublicCaseForm(_CaseFields):
    """What a resident fills in after scanning the building's QR code."""


class IntakeForm(_CaseFields):
    place = forms.TypedChoiceField(label=_("Building or compound"), coerce=int)
    channel = forms.ChoiceField(label=_("Channel"), choices=STAFF_CHANNELS)
    priority = forms.ChoiceField(label=_("Priority"), choices=Priority.choices)
    field_order = [
        "place",
        "category",
        "channel",
        "priority",
        "description",
        "photo",
        "reporter_name",
        "reporter_phone",
        "anonymous",
    ]

    def __init__(self, user: Viewer, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.places = intake_places(user)
        self.fields["place"].choices = [("", "—")] + [  # type: ignore[attr-defined]
            (str(p.pk), p.name) for p in self.places
        ]

    def place_object(self) -> Place:
        return next(p for p in self.places if p.pk == self.cleaned_data["place"])


def intake_places(user: Viewer, limit: int = 1000) -> list[Place]:
    """The compounds and buildings a user may take cases in for, in tree order."""
    scope = scope_for(user, Cap.CASES_INTAKE)
    return list(
        Place.objects.filter(scope.q(), kind__in=(PlaceKind.COMPOUND, PlaceKind.BUILDING))
        .order_by("path")
        .only("id", "name", "code", "path", "kind", "grid_id", "lane_id")[:limit]
    )


class PasteForm(forms.Form):
    text = forms.CharField(
        label=_("Paste the message"), widget=forms.Textarea(attrs={"rows": 4}), max_length=4000
    )


class ReasonForm(forms.Form):
    reason = forms.CharField(label=_("Reason"), max_length=500)


class ResolveForm(forms.Form):
    resolution = forms.CharField(
        label=_("What was done"), widget=forms.Textarea(attrs={"rows": 3}), max_length=4000
    )
    photo = PhotoField(label=_("Photo (optional)"), required=False)


class RateForm(forms.Form):
    rating = forms.TypedChoiceField(
        label=_("How satisfied are you?"),
        choices=Rating.choices,
        coerce=int,
        widget=forms.RadioSelect,
    )
    comment = forms.CharField(label=_("Anything to add (optional)"), required=False, max_length=500)


class MergeForm(forms.Form):
    primary = forms.CharField(label=_("Tracking code of the case to merge into"), max_length=12)


class CommentForm(forms.Form):
    text = forms.CharField(
        label=_("Note"), widget=forms.Textarea(attrs={"rows": 2}), max_length=4000
    )
    public = forms.BooleanField(label=_("The resident sees it"), required=False)
