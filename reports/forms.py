import datetime as dt

from django import forms
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from relief.idcard import normalize_id_number, validate_id_number
from reports.figures import Period

YEAR_MIN, YEAR_MAX = 2000, 2100


class PeriodForm(forms.Form):
    """A unit and either one year or a range of years."""

    unit = forms.CharField(label=_("Union"), max_length=32)
    year = forms.IntegerField(
        label=_("Year"), required=False, min_value=YEAR_MIN, max_value=YEAR_MAX
    )
    first_year = forms.IntegerField(
        label=_("From year"), required=False, min_value=YEAR_MIN, max_value=YEAR_MAX
    )
    last_year = forms.IntegerField(
        label=_("To year"), required=False, min_value=YEAR_MIN, max_value=YEAR_MAX
    )

    def clean(self):
        data = super().clean()
        year, first, last = data.get("year"), data.get("first_year"), data.get("last_year")
        if year and (first or last):
            raise forms.ValidationError(_("Give either one year or a range of years, not both."))
        if year:
            data["period"] = Period(year, year)
        elif first and last:
            if first > last:
                raise forms.ValidationError(
                    {"last_year": _("The last year cannot come before the first.")}
                )
            data["period"] = Period(first, last)
        elif not self.errors:
            raise forms.ValidationError(_("Give a year or a range of years."))
        return data


class LedgerForm(PeriodForm):
    format = forms.ChoiceField(
        label=_("Format"),
        choices=[("xlsx", "Excel (XLSX)"), ("csv", "CSV")],
        required=False,
    )

    full_id_numbers = forms.BooleanField(label=_("Full ID numbers"), required=False)

    def clean_format(self):
        return self.cleaned_data.get("format") or "xlsx"


class NoticeForm(forms.Form):
    unit = forms.CharField(label=_("Town"), max_length=32)
    stage = forms.ChoiceField(
        label=_("Cases"),
        choices=[
            ("recommended", _("Recommended by the town")),
            ("approved", _("Approved by the district")),
        ],
    )
    year = forms.IntegerField(label=_("Year"), min_value=YEAR_MIN, max_value=YEAR_MAX)
    starts = forms.DateField(label=_("Notice from"))
    ends = forms.DateField(label=_("Notice until"))

    def clean(self):
        data = super().clean()
        if data.get("starts") and data.get("ends") and data["ends"] < data["starts"]:
            raise forms.ValidationError({"ends": _("The notice cannot end before it starts.")})
        return data


class StatementForm(forms.Form):
    """POSTed, never in the address (reports.views.worker_statement)."""

    # Room for the spaces people type between groups of digits; the number is checked below.
    id_number = forms.CharField(label=_("ID number"), max_length=24)

    def clean_id_number(self):
        number = normalize_id_number(self.cleaned_data["id_number"])
        validate_id_number(number)
        return number


def notice_initial() -> dict:
    today = timezone.localdate()
    return {"year": today.year, "starts": today, "ends": today + dt.timedelta(days=7)}
