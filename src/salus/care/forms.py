"""Forms of the care pages. Labels are translatable; validation of values lives in actions."""

from __future__ import annotations

from django import forms
from django.utils.translation import gettext_lazy as _

from salus.care.actions import MAX_TEXT
from salus.care.models import ClientWants, Perpetrator, RightsReport, ViolationType
from salus.core.models import Area


class SiteChoiceField(forms.ModelChoiceField):
    def label_from_instance(self, obj):
        return f"{obj.code} {obj.name}"


class RightsReportForm(forms.Form):
    site = SiteChoiceField(label=_("Site taking the report"), queryset=None)
    occurred_on = forms.DateField(label=_("When it happened"), widget=forms.DateInput(attrs={"type": "date"}))
    area = forms.ModelChoiceField(
        label=_("Area where it happened"), queryset=Area.objects.all(),
        help_text=_("The area only, never the exact place."),
    )
    violation_type = forms.ChoiceField(label=_("What happened"), choices=ViolationType.choices)
    perpetrator = forms.ChoiceField(label=_("Who did it"), choices=Perpetrator.choices)
    client_wants = forms.MultipleChoiceField(
        label=_("What the client wants"), choices=ClientWants.choices, required=False,
        widget=forms.CheckboxSelectMultiple,
    )
    details = forms.CharField(
        label=_("What happened, in the client's words (optional)"), required=False, max_length=MAX_TEXT,
        widget=forms.Textarea(attrs={"rows": 4}),
        help_text=_("Stored encrypted. Write no names, addresses or other details that identify anyone."),
    )
    consent_advocacy = forms.BooleanField(
        label=_("The client agrees that this report is counted, without any detail that identifies them, in advocacy reports"),
        required=False,
    )

    def __init__(self, *args, sites, **kwargs):
        super().__init__(*args, **kwargs)
        _limit_sites(self, sites)


def _limit_sites(form: forms.Form, sites) -> None:
    """Offer ``sites`` (the user's) in the form's ``site`` field, chosen already when only one."""
    from salus.core.models import Site

    field = form.fields["site"]
    assert isinstance(field, SiteChoiceField)  # each form calling this declares it so
    field.queryset = Site.objects.filter(pk__in=[s.pk for s in sites])
    if len(sites) == 1:
        field.initial = sites[0].pk


class RightsResponseForm(forms.Form):
    response = forms.CharField(
        label=_("Response given"), required=False, max_length=MAX_TEXT, widget=forms.Textarea(attrs={"rows": 4})
    )
    outcome = forms.ChoiceField(label=_("Outcome"), choices=RightsReport.Outcome.choices)
    consent_advocacy = forms.BooleanField(label=_("Consents to use in anonymous advocacy reports"), required=False)


SATISFACTION_CHOICES = [
    ("5", _("Very happy")), ("4", _("Happy")), ("3", _("Neither happy nor unhappy")),
    ("2", _("Unhappy")), ("1", _("Very unhappy")),
]


class FeedbackForm(forms.Form):
    satisfaction = forms.ChoiceField(
        label=_("How happy are you with this service?"), choices=SATISFACTION_CHOICES, required=False,
        widget=forms.RadioSelect,
    )
    missing = forms.CharField(
        label=_("What is missing?"), required=False, max_length=MAX_TEXT, widget=forms.Textarea(attrs={"rows": 3})
    )
    went_wrong = forms.CharField(
        label=_("Did something go wrong?"), required=False, max_length=MAX_TEXT, widget=forms.Textarea(attrs={"rows": 3})
    )
    suggestions = forms.CharField(
        label=_("What would you change?"), required=False, max_length=MAX_TEXT, widget=forms.Textarea(attrs={"rows": 3})
    )

    def clean(self):
        super().clean()
        data = self.cleaned_data
        if not any(data.get(k) for k in ("satisfaction", "missing", "went_wrong", "suggestions")):
            raise forms.ValidationError(_("Please answer at least one question."))
        return data


class FeedbackResponseForm(forms.Form):
    site = SiteChoiceField(label=_("Site"), queryset=None)
    you_said = forms.CharField(label=_("You said"), max_length=1000, widget=forms.Textarea(attrs={"rows": 2}))
    we_did = forms.CharField(label=_("We did"), max_length=1000, widget=forms.Textarea(attrs={"rows": 2}))
    published = forms.BooleanField(label=_("Show it on the feedback page and poster"), required=False, initial=True)

    def __init__(self, *args, sites, **kwargs):
        super().__init__(*args, **kwargs)
        _limit_sites(self, sites)
