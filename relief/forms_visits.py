"""The home-visit form (入户核实) a town reviewer fills in on a phone during the visit."""

from django import forms
from django.core.exceptions import ValidationError
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from relief.forms import ACCEPT, MultipleFileField, MultipleFileInput, check_uploads, money_field
from relief.idempotency import IdempotentFormMixin


class HomeVisitForm(IdempotentFormMixin, forms.Form):
    version = forms.IntegerField(widget=forms.HiddenInput)
    visit_date = forms.DateField(
        label=_("visit date"), widget=forms.DateInput(attrs={"type": "date"}, format="%Y-%m-%d")
    )
    visitors = forms.CharField(
        label=_("visitors"),
        max_length=200,
        help_text=_("Who went on the visit, separated by commas."),
    )
    findings = forms.CharField(
        label=_("findings"),
        max_length=5000,
        widget=forms.Textarea(attrs={"rows": 6}),
        help_text=_("What you saw: living conditions, illness, who earns, what is spent."),
    )
    verified_household_income = money_field(_("verified household monthly income"))
    verified_monthly_expenses = money_field(_("verified monthly expenses"))
    # `capture` opens the phone's camera directly; the second input takes photos already
    # taken (or a scan). Both are checked like every upload (relief.uploads).
    camera_photos = MultipleFileField(
        label=_("take photos"),
        required=False,
        widget=MultipleFileInput(attrs={"accept": "image/*", "capture": "environment"}),
    )
    other_files = MultipleFileField(
        label=_("photos or files already on the phone"),
        required=False,
        help_text=_("PDF, JPEG, PNG, HEIC or WebP, at most 10 MB each."),
        widget=MultipleFileInput(attrs={"accept": ACCEPT}),
    )

    def clean_visit_date(self):
        day = self.cleaned_data["visit_date"]
        if day > timezone.localdate():
            raise ValidationError(_("The visit date cannot be in the future."))
        return day

    def clean_camera_photos(self):
        return check_uploads(self.cleaned_data["camera_photos"])

    def clean_other_files(self):
        return check_uploads(self.cleaned_data["other_files"])

    def visit_data(self) -> dict:
        keys = (
            "visit_date",
            "visitors",
            "findings",
            "verified_household_income",
            "verified_monthly_expenses",
        )
        return {k: self.cleaned_data[k] for k in keys}

    def uploads(self) -> list:
        return [*self.cleaned_data["camera_photos"], *self.cleaned_data["other_files"]]
