from django import forms
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from relief.idcard import normalize_id_number, validate_id_number
from reports.figures import Period

YEAR_MIN, YEAR_MAX = 2000, 2100


SPAN_YEAR, SPAN_RANGE = "year", "range"
RANGE_FIELDS = ("first_year", "last_year")


class PeriodForm(forms.Form):
    """A unit and a period: one year, or a range of years, chosen with `span`.

    The fields of the choice not taken are ignored (a pre-filled year does not spoil a range),
    and each problem is reported on the field that caused it.
    """

    unit = forms.CharField(label=_("Union"), max_length=32)
    span = forms.ChoiceField(
        label=_("Period"),
        choices=[(SPAN_YEAR, _("One year")), (SPAN_RANGE, _("A range of years"))],
        required=False,
        widget=forms.RadioSelect,
    )
    year = forms.IntegerField(
        label=_("Year"), required=False, min_value=YEAR_MIN, max_value=YEAR_MAX
    )
    first_year = forms.IntegerField(
        label=_("From year"), required=False, min_value=YEAR_MIN, max_value=YEAR_MAX
    )
    last_year = forms.IntegerField(
        label=_("To year"), required=False, min_value=YEAR_MIN, max_value=YEAR_MAX
    )

    def chosen_span(self) -> str:
        """The choice made; a request without one (an older page) says it by what it holds."""
        span = self.data.get(self.add_prefix("span"))
        if span in (SPAN_YEAR, SPAN_RANGE):
            return span
        given = any(self.data.get(self.add_prefix(f)) for f in RANGE_FIELDS)
        return SPAN_RANGE if given and not self.data.get(self.add_prefix("year")) else SPAN_YEAR

    def shown_span(self) -> str:
        return self.chosen_span() if self.is_bound else self.initial.get("span", SPAN_YEAR)

    def clean(self):
        data = super().clean()
        span = self.chosen_span()
        data["span"] = span
        ignored = RANGE_FIELDS if span == SPAN_YEAR else ("year",)
        for name in ignored:
            self.errors.pop(name, None)
            data.pop(name, None)
        if span == SPAN_YEAR:
            year = data.get("year")
            if year is None and "year" not in self.errors:
                self.add_error("year", _("Give the year."))
            elif year is not None:
                data["period"] = Period(year, year)
            return data
        first, last = data.get("first_year"), data.get("last_year")
        for name in RANGE_FIELDS:
            if data.get(name) is None and name not in self.errors:
                self.add_error(name, _("Give the first and the last year of the range."))
        if first is not None and last is not None:
            if first > last:
                self.add_error("last_year", _("The last year cannot come before the first."))
            else:
                data["period"] = Period(first, last)
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


class StatementForm(forms.Form):
    """POSTed, never in the address (reports.views.worker_statement)."""

    # Room for the spaces people type between groups of digits; the number is checked below.
    id_number = forms.CharField(label=_("ID number"), max_length=24)

    def clean_id_number(self):
        number = normalize_id_number(self.cleaned_data["id_number"])
        validate_id_number(number)
        return number


def period_initial() -> dict:
    return {"span": SPAN_YEAR, "year": timezone.localdate().year}
