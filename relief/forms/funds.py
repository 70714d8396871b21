"""Plain forms for the funds admin: they parse input; relief.services decide and write."""

from decimal import Decimal

from django import forms
from django.core.exceptions import ValidationError
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from relief import workflow as wf
from relief.idempotency import IdempotentFormMixin
from relief.models import (
    OPEN_BATCH_STATES,
    DonationCampaign,
    FundSource,
    PaymentMethod,
    Worker,
)
from relief.models.money import yuan
from relief.selectors import applications_for_user
from unions.models import Level
from unions.selectors import scope_q, unions_in_scope

MONEY = {"max_digits": 12, "decimal_places": 2, "min_value": Decimal("0.01")}


def _this_year() -> int:
    return timezone.localdate().year


class CaseChoiceField(forms.ModelChoiceField):
    def label_from_instance(self, obj):
        return f"{obj.reference} {obj.worker.name} {yuan(obj.outstanding_amount)}"


class CasesChoiceField(forms.ModelMultipleChoiceField):
    def label_from_instance(self, obj):
        return f"{obj.reference} {obj.worker.name} {obj.union.name} {yuan(obj.outstanding_amount)}"


class ServiceForm(forms.Form):
    """Every form here is built with the user it is for (some narrow their choices by it)."""

    def __init__(self, *args, user=None, **kwargs):
        self.user = user
        super().__init__(*args, **kwargs)


class FundIncomeForm(IdempotentFormMixin, ServiceForm):
    town = forms.ModelChoiceField(label=_("town federation"), queryset=None)
    source = forms.ChoiceField(
        label=_("fund source"),
        choices=[
            (FundSource.DISTRICT, FundSource.DISTRICT.label),
            (FundSource.TOWN, FundSource.TOWN.label),
        ],
    )
    year = forms.IntegerField(label=_("year"), initial=_this_year)
    amount = forms.DecimalField(label=_("amount"), **MONEY)
    received_on = forms.DateField(label=_("received on"), initial=timezone.localdate)
    document_no = forms.CharField(
        label=_("document number"),
        required=False,
        help_text=_("Required for a district allocation (拨款文号)."),
    )
    note = forms.CharField(label=_("note"), required=False)

    def __init__(self, *args, user, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["town"].queryset = unions_in_scope(user).filter(level=Level.TOWN)


class PayoutCaseField(CaseChoiceField):
    """Offers the approved cases; a case in the user's scope that has moved on since the form
    was loaded (paid in full by someone else) is explained, who and when, not "invalid"."""

    in_scope = None

    def to_python(self, value):
        try:
            return super().to_python(value)
        except ValidationError as exc:
            if exc.code != "invalid_choice" or self.in_scope is None:
                raise
            try:
                moved_on = self.in_scope.filter(pk=int(value)).first()
            except (TypeError, ValueError):
                moved_on = None
            if moved_on is None:  # outside the scope: it does not exist for this user
                raise
            from relief.conflicts import stale_text

            raise ValidationError(stale_text(moved_on, "disburse"), code="stale") from None


class PayoutForm(IdempotentFormMixin, ServiceForm):
    application = PayoutCaseField(label=_("application"), queryset=None)
    amount = forms.DecimalField(label=_("amount"), **MONEY)
    paid_on = forms.DateField(label=_("paid on"), initial=timezone.localdate)
    method = forms.ChoiceField(label=_("method"), choices=PaymentMethod.choices)
    fund_source = forms.ChoiceField(label=_("fund source"), choices=FundSource.choices)
    fund_year = forms.IntegerField(
        label=_("fund year"), required=False, help_text=_("Empty: the year of the payment.")
    )
    voucher_no = forms.CharField(label=_("voucher number"), required=False)

    def __init__(self, *args, user, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["application"].queryset = applications_for_user(user).filter(
            state=wf.S_APPROVED
        )
        self.fields["application"].in_scope = applications_for_user(user)


class ReasonForm(ServiceForm):
    reason = forms.CharField(label=_("reason"), widget=forms.Textarea(attrs={"rows": 3}))


class ReversalForm(IdempotentFormMixin, ReasonForm):
    reversed_on = forms.DateField(label=_("returned by the bank on"), initial=timezone.localdate)


class BatchForm(ServiceForm):
    title = forms.CharField(label=_("title"), help_text=_("For example the review meeting."))
    fund_source = forms.ChoiceField(label=_("fund source"), choices=FundSource.choices)
    fund_year = forms.IntegerField(label=_("fund year"), initial=_this_year)
    applications = CasesChoiceField(
        label=_("approved cases"), queryset=None, widget=forms.CheckboxSelectMultiple
    )

    def __init__(self, *args, user, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["applications"].queryset = (
            applications_for_user(user)
            .filter(state=wf.S_APPROVED)
            .exclude(batch_items__batch__state__in=OPEN_BATCH_STATES)
            .order_by("union__path", "reference")
        )


class MarkPaidForm(IdempotentFormMixin, ServiceForm):
    bank_paid_on = forms.DateField(label=_("paid by the bank on"), initial=timezone.localdate)


class CampaignForm(ServiceForm):
    town = forms.ModelChoiceField(label=_("town federation"), queryset=None)
    year = forms.IntegerField(label=_("year"), initial=_this_year)
    starts_on = forms.DateField(
        label=_("starts on"), required=False, help_text=_("Empty: 1 April.")
    )
    ends_on = forms.DateField(
        label=_("ends on"), required=False, help_text=_("Empty: 30 September.")
    )

    def __init__(self, *args, user, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["town"].queryset = unions_in_scope(user).filter(level=Level.TOWN)


def parse_donors(text: str) -> list[dict]:
    """One donor per line: name, ID number (may be empty), amount, receipt number."""
    donors = []
    for n, raw in enumerate((text or "").splitlines(), start=1):
        line = raw.strip()
        if not line:
            continue
        parts = [p.strip() for p in line.replace("，", ",").split(",")]
        if len(parts) != 4:
            raise ValidationError(
                _("Line %(n)d: write name, ID number, amount, receipt number.") % {"n": n}
            )
        try:
            amount = Decimal(parts[2])
        except ArithmeticError:
            raise ValidationError(
                _("Line %(n)d: %(value)s is not an amount.") % {"n": n, "value": parts[2]}
            ) from None
        donors.append(
            {"name": parts[0], "id_number": parts[1], "amount": amount, "receipt_no": parts[3]}
        )
    return donors


class CollectionForm(ServiceForm):
    campaign = forms.ModelChoiceField(label=_("campaign"), queryset=None)
    union = forms.ModelChoiceField(label=_("grassroots union"), queryset=None)
    collected_on = forms.DateField(label=_("collected on"), initial=timezone.localdate)
    donor_count = forms.IntegerField(label=_("number of donors"), min_value=1)
    amount = forms.DecimalField(label=_("amount"), **MONEY)
    receipt_numbers = forms.CharField(label=_("receipt numbers"), required=False)
    donors = forms.CharField(
        label=_("individual donors (optional)"),
        required=False,
        widget=forms.Textarea(attrs={"rows": 4}),
        help_text=_("One per line: name, ID number (may be empty), amount, receipt number."),
    )

    def __init__(self, *args, user, **kwargs):
        super().__init__(*args, **kwargs)
        towns = unions_in_scope(user).filter(level=Level.TOWN)
        self.fields["campaign"].queryset = DonationCampaign.objects.filter(
            town__in=towns
        ).select_related("town")
        self.fields["union"].queryset = unions_in_scope(user).filter(level=Level.GRASSROOTS)

    def clean_donors(self):
        return parse_donors(self.cleaned_data.get("donors"))


class HardshipFileForm(ReasonForm):
    worker = forms.ModelChoiceField(label=_("worker"), queryset=None)
    action = forms.ChoiceField(
        label=_("action"),
        choices=[("close", _("Close the file")), ("reopen", _("Reopen the file"))],
    )
    field_order = ["worker", "action", "reason"]

    def __init__(self, *args, user, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["worker"].queryset = Worker.objects.filter(scope_q(user, "union"))
