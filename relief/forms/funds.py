"""Plain forms for the funds admin: they parse input; relief.services decide and write."""

from decimal import Decimal

from django import forms
from django.core.exceptions import ValidationError
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from relief import workflow as wf
from relief.forms.choices import BoundedModelMultipleChoiceField
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
from relief.services.funds import fund_choices, parse_fund_key, pick_fund, source_label
from unions.models import Level
from unions.selectors import scope_q, unions_in_scope

MONEY = {"max_digits": 12, "decimal_places": 2, "min_value": Decimal("0.01")}


def _this_year() -> int:
    return timezone.localdate().year


class CaseChoiceField(forms.ModelChoiceField):
    def label_from_instance(self, obj):
        return f"{obj.reference} {obj.worker.name} {yuan(obj.outstanding_amount)}"


class CasesChoiceField(BoundedModelMultipleChoiceField):
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


AUTO_FUND = _("Automatic: the oldest account with enough money")


class FundAccountField(forms.ChoiceField):
    """The fund account a payout draws on. Only accounts with money available are offered, so
    an account that another payout or batch emptied after the form was loaded is no longer a
    choice when the form comes back: the user is told that, naming the account and what to do,
    not Django's "选择一个有效的选项。2:town:2026 不在可用的选项中。" with the raw value."""

    def validate(self, value):
        try:
            super().validate(value)
        except ValidationError as exc:
            if exc.code != "invalid_choice":
                raise
            raise ValidationError(_account_gone(value), code="fund_unavailable") from None


def _account_gone(value: str) -> str:
    # "source:year", or "town id:source:year" on the pages that offer several towns' accounts.
    source, _sep, year = str(value).rpartition(":")
    source = source.rpartition(":")[2]
    if source not in FundSource.values or not year.isdecimal() or len(year) != 4:
        return _("Choose one of the fund accounts offered.")
    return _(
        "The fund account %(account)s has no money available any more (another payout or a "
        "payment batch may just have used it), so it is no longer offered. Choose another "
        "account, or the automatic choice."
    ) % {"account": f"{year} {source_label(source)}"}


def fund_field() -> forms.ChoiceField:
    return FundAccountField(
        label=_("fund account"),
        required=False,
        help_text=_(
            "The accounts of the case's town with money available (income less payouts and "
            "open payment batches), oldest first."
        ),
    )


def offer_funds(field, town, amount=None) -> str:
    """Give `field` the town's fund accounts; return the key of the sensible default (the
    oldest account that can pay `amount` whole), or "" when none can."""
    choices = fund_choices([town])[town.pk]
    field.choices = [("", AUTO_FUND), *((c.key, c.label) for c in choices)]
    if not choices:
        field.help_text = _(
            "No fund account of %(town)s has money available: record its income first."
        ) % {"town": town.name}
    chosen = pick_fund(choices, amount) if amount is not None else None
    return chosen.key if chosen is not None else ""


def fund_kwargs(key: str) -> dict:
    """The service's fund_source and fund_year for a chosen account ("" lets it choose)."""
    parsed = parse_fund_key(key)
    return {} if parsed is None else {"fund_source": parsed[0], "fund_year": parsed[1]}


class PayoutForm(IdempotentFormMixin, ServiceForm):
    """A payout of any approved case; opened from a case (?application=) it offers that case's
    town's accounts with the default chosen, otherwise every town's, grouped by town."""

    error_fields = {"fund_source": "fund", "fund_year": "fund"}
    application = PayoutCaseField(label=_("application"), queryset=None)
    amount = forms.DecimalField(label=_("amount"), **MONEY)
    paid_on = forms.DateField(label=_("paid on"), initial=timezone.localdate)
    method = forms.ChoiceField(label=_("method"), choices=PaymentMethod.choices)
    fund = fund_field()
    voucher_no = forms.CharField(label=_("voucher number"), required=False)

    def __init__(self, *args, user, case=None, **kwargs):
        super().__init__(*args, **kwargs)
        approved = applications_for_user(user).filter(state=wf.S_APPROVED)
        self.fields["application"].queryset = approved
        self.fields["application"].in_scope = applications_for_user(user)
        if case is not None:
            self.initial.setdefault("application", case.pk)
            self.initial.setdefault("amount", case.outstanding_amount)
            default = offer_funds(self.fields["fund"], case.union.parent, case.outstanding_amount)
            self.initial.setdefault("fund", f"{case.union.parent_id}:{default}" if default else "")
            self.fields["fund"].choices = [
                (f"{case.union.parent_id}:{k}" if k else k, label)
                for k, label in self.fields["fund"].choices
            ]
            return
        towns = list(unions_in_scope(user).filter(level=Level.TOWN).order_by("path"))
        by_town = fund_choices(towns)
        self.fields["fund"].choices = [("", AUTO_FUND)] + [
            (town.name, [(f"{town.pk}:{c.key}", c.label) for c in by_town[town.pk]])
            for town in towns
            if by_town[town.pk]
        ]

    def clean(self):
        data = super().clean()
        key = data.pop("fund", "")
        case = data.get("application")
        if key and case is not None:
            town_pk, _sep, key = key.partition(":")
            if town_pk != str(case.union.parent_id):
                self.add_error(
                    "fund",
                    _("This account is not %(town)s's: a case is paid from its own town's funds.")
                    % {"town": case.union.parent.name},
                )
                return data
        else:
            key = ""
        data.update(fund_kwargs(key))
        return data


class ReasonForm(ServiceForm):
    reason = forms.CharField(label=_("reason"), widget=forms.Textarea(attrs={"rows": 3}))


class ReversalForm(IdempotentFormMixin, ReasonForm):
    reversed_on = forms.DateField(label=_("returned by the bank on"), initial=timezone.localdate)


class BatchForm(ServiceForm):
    error_fields = {"fund_source": "fund", "fund_year": "fund"}
    title = forms.CharField(label=_("title"), help_text=_("For example the review meeting."))
    fund = FundAccountField(
        label=_("fund account"),
        required=False,
        help_text=_(
            "Source and year; each case is paid from its own town's account of that source and "
            "year. Automatic: the oldest one that can pay every chosen case."
        ),
    )
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
        towns = list(unions_in_scope(user).filter(level=Level.TOWN).order_by("path"))
        self.fields["fund"].choices = [("", AUTO_FUND), *batch_fund_options(towns)]

    def clean(self):
        data = super().clean()
        data.update(fund_kwargs(data.pop("fund", "")))
        return data


def batch_fund_options(towns) -> list[tuple[str, str]]:
    """(source, year) pairs some town can pay from, each with what every town has available."""
    per_key: dict[tuple, list[str]] = {}
    by_town = fund_choices(towns)
    for town in towns:
        for choice in by_town[town.pk]:
            per_key.setdefault((choice.year, choice.source), []).append(
                f"{town.name} {yuan(choice.available)}"
            )
    return [
        (
            f"{source}:{year}",
            _("%(year)d %(source)s (%(towns)s)")
            % {"year": year, "source": FundSource(source).label, "towns": "、".join(towns_)},
        )
        for (year, source), towns_ in sorted(
            per_key.items(), key=lambda kv: (kv[0][0], FundSource.values.index(kv[0][1]))
        )
    ]


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
