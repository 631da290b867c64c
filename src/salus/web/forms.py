"""Forms of the staff web app. They validate input and build the arguments of the do_* actions;
they never save anything themselves."""

from __future__ import annotations

import datetime as dt
import uuid
from dataclasses import asdict

from django import forms
from django.core import signing
from django.urls import reverse_lazy
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from salus.clients import uic as uicmod
from salus.clients.actions import ClientAttributes
from salus.clients.models import Substance
from salus.services.actions import ContactServices, program_tz
from salus.services.models import (
    Contact,
    OSTDose,
    OSTEpisode,
    OverdoseEvent,
    Referral,
    ReferralService,
    TestResult,
)
from salus.stock.models import Commodity, StockMovement

# A registration token carries the UIC's keyed hashes (never the raw code) from the search
# page to the contact form. Half an hour covers a slow conversation, not a forgotten tab.
UIC_TOKEN_SALT = "salus.web.uic-hashes"
UIC_TOKEN_MAX_AGE = 30 * 60

YES_NO_UNKNOWN = [("", _("Not asked")), ("yes", _("Yes")), ("no", _("No"))]
COUNT_FIELDS = ("syringes_given", "syringes_returned", "other_equipment_given", "condoms_given", "naloxone_kits_given")


def sign_hashes(hashes: uicmod.UICHashes) -> str:
    return signing.dumps(asdict(hashes), salt=UIC_TOKEN_SALT, compress=True)


def unsign_hashes(token: str) -> uicmod.UICHashes | None:
    """The hashes in a registration token, or None if it is forged, malformed or expired."""
    try:
        data = signing.loads(token or "", salt=UIC_TOKEN_SALT, max_age=UIC_TOKEN_MAX_AGE)
        return uicmod.UICHashes(
            uic_hash=data["uic_hash"], neighbour_keys=tuple(data["neighbour_keys"]),
            birth_year=data["birth_year"], sex=data["sex"],
        )
    except (signing.BadSignature, KeyError, TypeError):
        return None


class UICForm(forms.Form):
    """One input per component of the program's UIC recipe."""

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.components = uicmod.recipe()
        for c in self.components:
            attrs = {"autocomplete": "off", "autocapitalize": "characters", "spellcheck": "false", "size": max(c.length + 2, 4)}
            if c.kind == "digits":
                attrs["inputmode"] = "numeric"
            self.fields[c.name] = forms.CharField(label=c.label, max_length=c.length + 8, widget=forms.TextInput(attrs=attrs))

    def clean(self):
        super().clean()
        data = self.cleaned_data
        canonical = []
        for c in self.components:
            if c.name not in data:
                return data
            try:
                canonical.append(uicmod.normalise_part(data[c.name], c))
            except uicmod.InvalidUIC as exc:
                self.add_error(c.name, str(exc))
        if not self.errors:
            self.hashes = uicmod.hash_parts(canonical, self.components)
        return data


def tri_state(value: str) -> bool | None:
    return {"yes": True, "no": False}.get(value)


class ContactForm(forms.Form):
    """Everything given in one contact. ``sites`` are the sites where the user may record."""

    contact_id = forms.UUIDField(widget=forms.HiddenInput)
    site = forms.ChoiceField(label=_("Site"))
    occurred_at = forms.DateTimeField(
        label=_("Date and time"), widget=forms.DateTimeInput(attrs={"type": "datetime-local"}, format="%Y-%m-%dT%H:%M"),
        input_formats=["%Y-%m-%dT%H:%M", "%Y-%m-%d %H:%M", "%Y-%m-%dT%H:%M:%S"],
    )
    setting = forms.ChoiceField(label=_("Setting"), choices=Contact.Setting.choices)
    syringes_given = forms.IntegerField(label=_("Syringes and needles given"), min_value=0, max_value=100000, initial=0)
    syringes_returned = forms.IntegerField(label=_("Used syringes returned"), min_value=0, max_value=100000, initial=0)
    other_equipment_given = forms.IntegerField(label=_("Other injecting equipment given"), min_value=0, max_value=100000, initial=0)
    condoms_given = forms.IntegerField(label=_("Condoms given"), min_value=0, max_value=100000, initial=0)
    naloxone_kits_given = forms.IntegerField(label=_("Naloxone kits given"), min_value=0, max_value=100000, initial=0)
    education = forms.BooleanField(label=_("Information and education"), required=False)
    hiv_test_result = forms.ChoiceField(label=_("HIV test"), required=False, choices=[("", _("No test"))] + TestResult.choices)
    hcv_test_result = forms.ChoiceField(label=_("Hepatitis C test"), required=False, choices=[("", _("No test"))] + TestResult.choices)
    art_status = forms.ChoiceField(
        label=_("ART status"), required=False,
        choices=[("", _("Not asked")), ("on_art", _("On ART")), ("not_on_art", _("Not on ART"))],
    )
    sti_screened = forms.BooleanField(label=_("STI screening"), required=False)
    tb_screened = forms.BooleanField(label=_("TB screening"), required=False)
    hbv_vaccinated = forms.BooleanField(label=_("Hepatitis B vaccination"), required=False)
    wound_care = forms.BooleanField(label=_("Wound care"), required=False)
    referrals = forms.MultipleChoiceField(
        label=_("Referred to"), required=False, choices=ReferralService.choices, widget=forms.CheckboxSelectMultiple,
    )
    released_from_detention_on = forms.DateField(
        label=_("Released from prison or detention on"), required=False, widget=forms.DateInput(attrs={"type": "date"}),
    )
    left_treatment_on = forms.DateField(
        label=_("Left OST, detox or an abstinence period on"), required=False, widget=forms.DateInput(attrs={"type": "date"}),
    )
    overdose_since_last_contact = forms.ChoiceField(label=_("Overdose since the last contact"), required=False, choices=YES_NO_UNKNOWN)
    uses_alone = forms.ChoiceField(label=_("Often uses alone"), required=False, choices=YES_NO_UNKNOWN)
    mixes_depressants = forms.ChoiceField(
        label=_("Mixes opioids with benzodiazepines, alcohol or other depressants"), required=False, choices=YES_NO_UNKNOWN,
    )
    notes = forms.CharField(label=_("Notes"), required=False, max_length=2000, widget=forms.Textarea(attrs={
        "rows": 3,
        # Person-first language hints while typing (salus.care.language); a hint, never a block.
        "hx-post": reverse_lazy("care-language-check"), "hx-trigger": "input changed delay:600ms",
        "hx-target": "#notes-language",
    }))

    CLINICAL_FIELDS = ("hiv_test_result", "hcv_test_result", "art_status")

    def __init__(self, *args, sites=(), registering: bool = False, clinical: bool = True, **kwargs):
        """``clinical`` is whether the user may record test results (clinical.record)."""
        super().__init__(*args, **kwargs)
        if not clinical:
            for name in self.CLINICAL_FIELDS:
                del self.fields[name]
        self.sites = {s.code: s for s in sites}
        site_field = self.fields["site"]
        assert isinstance(site_field, forms.ChoiceField)  # declared above
        site_field.choices = [(s.code, str(s)) for s in sites]
        if len(self.sites) == 1:
            self.fields["site"].initial = next(iter(self.sites))
        self.fields["contact_id"].initial = uuid.uuid4()
        now = timezone.localtime(timezone.now(), program_tz()).replace(second=0, microsecond=0)
        self.fields["occurred_at"].initial = now.replace(tzinfo=None)
        self.registering = registering
        if registering:
            self.fields["injects"] = forms.ChoiceField(label=_("Injects drugs"), required=False, choices=YES_NO_UNKNOWN)
            self.fields["substances"] = forms.MultipleChoiceField(
                label=_("Main substances"), required=False, choices=Substance.choices, widget=forms.CheckboxSelectMultiple,
            )
            self.fields["consent_follow_up"] = forms.BooleanField(label=_("Consents to follow-up"), required=False)

    def clean_occurred_at(self):
        # The browser sends wall-clock time without a zone; Django has attached its own zone to it.
        # Read the wall-clock time in the program's time zone instead.
        value = timezone.make_aware(self.cleaned_data["occurred_at"].replace(tzinfo=None), program_tz())
        if value > timezone.now() + dt.timedelta(minutes=10):
            raise forms.ValidationError(_("A contact cannot be in the future."))
        return value

    def site_obj(self):
        return self.sites[self.cleaned_data["site"]]

    def services(self) -> ContactServices:
        d = self.cleaned_data
        return ContactServices(
            setting=d["setting"],
            **{name: d[name] for name in COUNT_FIELDS},
            education=d["education"],
            hiv_test_result=d.get("hiv_test_result", ""), hcv_test_result=d.get("hcv_test_result", ""),
            art_status=d.get("art_status", ""),
            sti_screened=d["sti_screened"], tb_screened=d["tb_screened"], hbv_vaccinated=d["hbv_vaccinated"],
            wound_care=d["wound_care"],
            released_from_detention_on=d["released_from_detention_on"], left_treatment_on=d["left_treatment_on"],
            overdose_since_last_contact=tri_state(d["overdose_since_last_contact"]),
            uses_alone=tri_state(d["uses_alone"]), mixes_depressants=tri_state(d["mixes_depressants"]),
            notes=d["notes"].strip(), referrals=list(d["referrals"]),
        )

    def attributes(self) -> ClientAttributes | None:
        if not self.registering:
            return None
        d = self.cleaned_data
        return ClientAttributes(
            injects=tri_state(d["injects"]), substances=list(d["substances"]) or None,
            consent_follow_up=d["consent_follow_up"],
        )

    def count_fields(self):
        return [self[name] for name in COUNT_FIELDS]


class ReferralUpdateForm(forms.Form):
    status = forms.ChoiceField(
        label=_("Outcome"),
        choices=[(s, label) for s, label in Referral.Status.choices if s != Referral.Status.MADE],
    )
    outcome_on = forms.DateField(label=_("Outcome date"), required=False, widget=forms.DateInput(attrs={"type": "date"}))

    def __init__(self, *args, referral=None, **kwargs):
        super().__init__(*args, **kwargs)
        self.referral = referral
        self.fields["outcome_on"].initial = timezone.localdate()

    def clean_outcome_on(self):
        value = self.cleaned_data["outcome_on"]
        if value and self.referral and value < self.referral.made_on:
            raise forms.ValidationError(_("The outcome date cannot be before the referral was made."))
        if value and value > timezone.localdate() + dt.timedelta(days=1):
            raise forms.ValidationError(_("The outcome date cannot be in the future."))
        return value


class SiteChoiceMixin(forms.Form):
    def set_sites(self, sites):
        self.sites = {s.code: s for s in sites}
        field = self.fields["site"]
        assert isinstance(field, forms.ChoiceField)  # each form using the mixin declares it so
        field.choices = [(s.code, str(s)) for s in sites]
        if len(self.sites) == 1:
            field.initial = next(iter(self.sites))

    def site_obj(self):
        return self.sites[self.cleaned_data["site"]]


class StockMovementForm(SiteChoiceMixin, forms.Form):
    site = forms.ChoiceField(label=_("Site"))
    commodity = forms.ModelChoiceField(label=_("Commodity"), queryset=Commodity.objects.all())
    kind = forms.ChoiceField(
        label=_("Kind"),
        choices=[(k, label) for k, label in StockMovement.Kind.choices if k != StockMovement.Kind.DISTRIBUTION],
    )
    quantity = forms.IntegerField(
        label=_("Quantity"), min_value=-1000000, max_value=1000000,
        help_text=_("Receipts are positive. For an adjustment, a loss or expiry is negative."),
    )
    occurred_on = forms.DateField(label=_("Date"), widget=forms.DateInput(attrs={"type": "date"}))
    note = forms.CharField(label=_("Note"), required=False, max_length=200)

    def __init__(self, *args, sites=(), **kwargs):
        super().__init__(*args, **kwargs)
        self.set_sites(sites)
        self.fields["occurred_on"].initial = timezone.localdate()

    def clean(self):
        super().clean()
        data = self.cleaned_data
        kind, qty = data.get("kind"), data.get("quantity")
        if qty is not None and kind:
            if qty == 0:
                self.add_error("quantity", _("The quantity cannot be zero."))
            elif kind in (StockMovement.Kind.RECEIPT, StockMovement.Kind.TRANSFER_IN) and qty < 0:
                self.add_error("quantity", _("A receipt must be a positive quantity."))
        return data


class OSTStartForm(SiteChoiceMixin, forms.Form):
    site = forms.ChoiceField(label=_("Site"))
    medication = forms.ChoiceField(label=_("Medication"), choices=OSTEpisode.Medication.choices)
    start_date = forms.DateField(label=_("Start date"), widget=forms.DateInput(attrs={"type": "date"}))

    def __init__(self, *args, sites=(), **kwargs):
        super().__init__(*args, **kwargs)
        self.set_sites(sites)
        self.fields["start_date"].initial = timezone.localdate()


class OSTDoseForm(forms.Form):
    date = forms.DateField(label=_("Date"), widget=forms.DateInput(attrs={"type": "date"}))
    dose_mg = forms.DecimalField(label=_("Dose (mg)"), min_value=0, max_value=2000, max_digits=7, decimal_places=2)
    phase = forms.ChoiceField(label=_("Phase"), choices=OSTDose.Phase.choices, initial=OSTDose.Phase.MAINTENANCE)
    take_home_doses = forms.IntegerField(label=_("Take-home doses"), min_value=0, max_value=60, initial=0)

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["date"].initial = timezone.localdate()


class OSTEndForm(forms.Form):
    end_date = forms.DateField(label=_("End date"), widget=forms.DateInput(attrs={"type": "date"}))
    end_reason = forms.ChoiceField(label=_("Reason"), choices=OSTEpisode.EndReason.choices)

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["end_date"].initial = timezone.localdate()


class OverdoseForm(SiteChoiceMixin, forms.Form):
    site = forms.ChoiceField(label=_("Site"))
    date = forms.DateField(label=_("Date"), widget=forms.DateInput(attrs={"type": "date"}))
    involvement = forms.ChoiceField(label=_("The client"), choices=OverdoseEvent.Involvement.choices)
    naloxone_given = forms.BooleanField(label=_("Naloxone given"), required=False)
    naloxone_kits_used = forms.IntegerField(label=_("Naloxone kits used"), min_value=0, max_value=50, initial=0)
    emergency_called = forms.BooleanField(label=_("Emergency services called"), required=False)
    outcome = forms.ChoiceField(label=_("Outcome"), choices=OverdoseEvent.Outcome.choices)
    details = forms.CharField(label=_("Details"), required=False, max_length=2000, widget=forms.Textarea(attrs={
        "rows": 3,
        # Person-first language hints while typing (salus.care.language); a hint, never a block.
        "hx-post": reverse_lazy("care-language-check"), "hx-trigger": "input changed delay:600ms",
        "hx-target": "#notes-language",
    }))

    def __init__(self, *args, sites=(), **kwargs):
        super().__init__(*args, **kwargs)
        self.set_sites(sites)
        self.fields["date"].initial = timezone.localdate()

    def clean_date(self):
        value = self.cleaned_data["date"]
        if value > timezone.localdate() + dt.timedelta(days=1):
            raise forms.ValidationError(_("The date cannot be in the future."))
        return value
