from __future__ import annotations

from django import forms
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from .models import Grade, MemberKind, PostKind


class RegisterForm(forms.Form):
    name = forms.CharField(label=_("Name"), max_length=50)
    phone = forms.CharField(
        label=_("Mobile number"),
        max_length=20,
        widget=forms.TextInput(attrs={"inputmode": "tel", "autocomplete": "tel"}),
        help_text=_("You log in with it once approved."),
    )
    unit_name = forms.CharField(label=_("Employer unit"), max_length=100)
    uscc = forms.CharField(
        label=_("Unit's unified social credit code"),
        max_length=30,
        help_text=_("18 characters, on the unit's business licence."),
    )
    skills = forms.CharField(
        label=_("Skills you offer"),
        max_length=200,
        required=False,
        widget=forms.TextInput(attrs={"placeholder": _("e.g. legal advice, first aid, tutoring")}),
    )
    availability = forms.CharField(
        label=_("When you are available"),
        max_length=200,
        required=False,
        widget=forms.TextInput(attrs={"placeholder": _("e.g. weekends, weekday evenings")}),
    )
    password = forms.CharField(
        label=_("Choose a password"),
        widget=forms.PasswordInput(attrs={"autocomplete": "new-password"}),
    )


class ReasonForm(forms.Form):
    reason = forms.CharField(label=_("Reason"), max_length=500)


class PostForm(forms.Form):
    kind = forms.ChoiceField(label=_("Kind"), choices=PostKind.choices)
    title = forms.CharField(label=_("Title"), max_length=80)
    description = forms.CharField(
        label=_("Description"),
        max_length=2000,
        required=False,
        widget=forms.Textarea(attrs={"rows": 3}),
    )
    capacity = forms.IntegerField(label=_("Places"), min_value=1, max_value=10000, initial=5)
    starts_on = forms.DateField(
        label=_("From"), required=False, widget=forms.DateInput(attrs={"type": "date"})
    )
    ends_on = forms.DateField(
        label=_("Until"), required=False, widget=forms.DateInput(attrs={"type": "date"})
    )


class HoursForm(forms.Form):
    served_on = forms.DateField(
        label=_("Date"), widget=forms.DateInput(attrs={"type": "date"}), initial=timezone.localdate
    )
    hours = forms.DecimalField(
        label=_("Hours"), min_value=0.1, max_value=24, decimal_places=1, initial=2
    )
    note = forms.CharField(label=_("What was done"), max_length=300, required=False)


class EvaluationForm(forms.Form):
    grade = forms.ChoiceField(label=_("Grade"), choices=Grade.choices)
    comment = forms.CharField(label=_("Comment"), max_length=300, required=False)


class MemberForm(forms.Form):
    name = forms.CharField(label=_("Name"), max_length=50)
    kind = forms.ChoiceField(
        label=_("Kind"),
        choices=[(k, v) for k, v in MemberKind.choices if k != MemberKind.DUAL_REPORT],
    )
    phone = forms.CharField(label=_("Mobile number"), max_length=20, required=False)
    org = forms.TypedChoiceField(
        label=_("Organisation"), coerce=int, required=False, empty_value=None
    )
    transferred_in_on = forms.DateField(
        label=_("Membership transferred in on"),
        required=False,
        widget=forms.DateInput(attrs={"type": "date"}),
    )
    transferred_from = forms.CharField(label=_("Transferred from"), max_length=100, required=False)


class ContactForm(forms.Form):
    login = forms.CharField(label=_("The mobile number of the contact's login"), max_length=20)
