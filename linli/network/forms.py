"""Forms of the chief's pages, contact records and the chiefs' register."""

from __future__ import annotations

import uuid
from typing import Any

from django import forms
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from linli.cases.models import Category, Priority
from linli.cases.queries import category_choices

from .models import ChiefKind, ChiefStatus, ContactKind, Method


def _when() -> forms.DateTimeField:
    """When the contact happened; empty for now."""
    return forms.DateTimeField(
        label=_("When (empty: now)"),
        required=False,
        widget=forms.DateTimeInput(attrs={"type": "datetime-local"}, format="%Y-%m-%dT%H:%M"),
    )


class _NeedFields(forms.Form):
    """An optional need found on the way, taken in as a case in the same step."""

    client_key = forms.CharField(widget=forms.HiddenInput, required=False, max_length=40)
    need_category = forms.TypedChoiceField(
        label=_("What is it about"), coerce=int, required=False, empty_value=None
    )
    need_description = forms.CharField(
        label=_("Describe the need (it becomes a case)"),
        required=False,
        max_length=4000,
        widget=forms.Textarea(attrs={"rows": 3}),
    )
    need_priority = forms.ChoiceField(
        label=_("Priority"), choices=Priority.choices, initial=Priority.NORMAL, required=False
    )

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.fields["need_category"].choices = category_choices()  # type: ignore[attr-defined]
        if not self.is_bound:
            self.initial.setdefault("client_key", uuid.uuid4().hex)

    def clean(self) -> dict[str, Any]:
        data = super().clean() or {}
        if data.get("need_description", "").strip() and not data.get("need_category"):
            self.add_error("need_category", _("Choose what the need is about."))
        if data.get("need_category") and not data.get("need_description", "").strip():
            self.add_error("need_description", _("Describe the need in a few words."))
        return data

    NEED_FIELDS = ("need_category", "need_description", "need_priority")

    @property
    def main_fields(self) -> list[Any]:
        return [self[name] for name in self.fields if name not in self.NEED_FIELDS]

    @property
    def need_fields(self) -> list[Any]:
        return [self[name] for name in self.NEED_FIELDS]

    @property
    def need_open(self) -> bool:
        return any(self[name].errors or self[name].value() for name in self.NEED_FIELDS[:2])

    def need_category_object(self) -> Category | None:
        pk = self.cleaned_data.get("need_category")
        return Category.objects.filter(pk=pk).first() if pk else None


class VisitForm(_NeedFields):
    method = forms.ChoiceField(label=_("How"), choices=Method.choices, initial=Method.HOME)
    at = _when()
    with_whom = forms.CharField(label=_("Who else came (optional)"), required=False, max_length=200)
    summary = forms.CharField(
        label=_("What was found"),
        required=False,
        max_length=4000,
        widget=forms.Textarea(attrs={"rows": 3}),
    )
    field_order = [
        "method",
        "at",
        "with_whom",
        "summary",
        "need_category",
        "need_description",
        "need_priority",
        "client_key",
    ]


class ContactForm(_NeedFields):
    """A patrol or a reception day."""

    kind = forms.ChoiceField(
        label=_("Kind"),
        choices=[
            (ContactKind.PATROL, ContactKind.PATROL.label),
            (ContactKind.RECEPTION, ContactKind.RECEPTION.label),
        ],
    )
    place = forms.TypedChoiceField(label=_("Where"), coerce=int)
    at = _when()
    route = forms.CharField(label=_("Route (patrols)"), required=False, max_length=300)
    location = forms.CharField(label=_("Spot (reception days)"), required=False, max_length=200)
    attendance = forms.IntegerField(
        label=_("Residents who came (reception days)"), required=False, min_value=0, max_value=10000
    )
    with_whom = forms.CharField(label=_("Who staffed it"), required=False, max_length=200)
    summary = forms.CharField(
        label=_("What was found or raised"),
        required=False,
        max_length=4000,
        widget=forms.Textarea(attrs={"rows": 4}),
    )
    field_order = [
        "kind",
        "place",
        "at",
        "route",
        "location",
        "attendance",
        "with_whom",
        "summary",
        "need_category",
        "need_description",
        "need_priority",
        "client_key",
    ]

    def __init__(self, places: list[tuple[int, str]], *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.fields["place"].choices = [("", "—"), *places]  # type: ignore[attr-defined]


class RecruitForm(forms.Form):
    person = forms.TypedChoiceField(label=_("Person"), coerce=int)
    kind = forms.ChoiceField(label=_("Kind"), choices=ChiefKind.choices)
    note = forms.CharField(label=_("Note"), required=False, max_length=200)

    def __init__(self, people: list[tuple[int, str]], *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.fields["person"].choices = [("", "—"), *people]  # type: ignore[attr-defined]


class DecideForm(forms.Form):
    to_status = forms.ChoiceField(label=_("New status"), choices=ChiefStatus.choices)
    on = forms.DateField(
        label=_("Decided on"),
        initial=timezone.localdate,
        widget=forms.DateInput(attrs={"type": "date"}),
    )
    note = forms.CharField(label=_("Note"), required=False, max_length=200)

    def __init__(self, allowed: list[str], *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.fields["to_status"].choices = [  # type: ignore[attr-defined]
            (s, ChiefStatus(s).label) for s in allowed
        ]


class AssignForm(forms.Form):
    target = forms.TypedChoiceField(label=_("Building or street/lane"), coerce=str)
    since = forms.DateField(
        label=_("Since"), initial=timezone.localdate, widget=forms.DateInput(attrs={"type": "date"})
    )

    def __init__(self, targets: list[tuple[str, str]], *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.fields["target"].choices = [("", "—"), *targets]  # type: ignore[attr-defined]
