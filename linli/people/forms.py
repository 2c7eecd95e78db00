from __future__ import annotations

from typing import Any

from django import forms
from django.utils.translation import gettext_lazy as _

from linli.people.models import CareTag, Gender, IdType, Relation, ResidenceType


class ResidentForm(forms.Form):
    name = forms.CharField(label=_("Name"), max_length=50)
    id_type = forms.ChoiceField(label=_("Identity document"), choices=IdType.choices)
    id_number = forms.CharField(label=_("Document number"), max_length=40, required=False)
    gender = forms.ChoiceField(
        label=_("Gender"),
        choices=[("", _("From the ID number")), *Gender.choices],
        required=False,
    )
    birth_date = forms.DateField(
        label=_("Date of birth"),
        required=False,
        help_text=_("Read from a citizen ID number when left empty."),
        widget=forms.DateInput(attrs={"type": "date"}),
    )
    ethnicity = forms.CharField(label=_("Ethnicity"), max_length=20, required=False)
    phone = forms.CharField(label=_("Mobile number"), max_length=30, required=False)
    residence_type = forms.ChoiceField(label=_("Residence"), choices=ResidenceType.choices)

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.fields["id_number"].widget.attrs.update({"autocomplete": "off", "inputmode": "text"})
        self.fields["phone"].widget.attrs.update({"autocomplete": "off", "inputmode": "tel"})


class NewResidentForm(ResidentForm):
    relation = forms.ChoiceField(label=_("Relation to the dwelling"), choices=Relation.choices)
    is_head = forms.BooleanField(label=_("Head of household"), required=False)


class TagsForm(forms.Form):
    tags = forms.ModelMultipleChoiceField(
        label=_("Care tags"),
        queryset=CareTag.objects.none(),
        required=False,
        widget=forms.CheckboxSelectMultiple,
    )

    def __init__(self, *args: Any, sensitive: bool, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        qs = CareTag.objects.all()
        if not sensitive:
            qs = qs.filter(sensitive=False)
        field = self.fields["tags"]
        assert isinstance(field, forms.ModelMultipleChoiceField)
        field.queryset = qs


class LeaveForm(forms.Form):
    what = forms.ChoiceField(
        label=_("What happened"),
        choices=[("moved_out", _("Moved out")), ("deceased", _("Died"))],
    )
    on = forms.DateField(label=_("On"), widget=forms.DateInput(attrs={"type": "date"}))


class RevealForm(forms.Form):
    reason = forms.CharField(
        label=_("Why do you need the full number?"),
        max_length=200,
        widget=forms.TextInput(attrs={"placeholder": _("e.g. applying for the old-age allowance")}),
    )


class SearchForm(forms.Form):
    q = forms.CharField(label=_("Name, pinyin, mobile or ID number"), max_length=40, required=False)
    tag = forms.CharField(required=False)
