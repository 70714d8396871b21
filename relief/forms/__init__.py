"""Forms of the caseworker pages. They check input; every write goes through relief.services."""

from decimal import Decimal

from django import forms
from django.core.exceptions import ValidationError
from django.core.validators import MaxValueValidator, MinValueValidator
from django.utils.translation import gettext_lazy as _
from django.utils.translation import pgettext_lazy

from relief.forms.choices import BoundedModelMultipleChoiceField
from relief.idcard import clean_card_number, normalize_id_number, validate_id_number
from relief.models import ApplicationState, HardshipCategory, Worker
from relief.models.money import yuan
from relief.models.visit import AttachmentKind
from relief.models.worker import birth_date_problem
from relief.phones import clean_phone_number
from relief.services.visits import MAX_ATTACHMENT_BYTES, sniff_type
from relief.services.workers import MEMBER_FIELDS, WORKER_FIELDS

MONEY_MAX = Decimal("9999999999.99")
RELATIONS = [
    pgettext_lazy("relation", "spouse"),
    pgettext_lazy("relation", "son"),
    pgettext_lazy("relation", "daughter"),
    pgettext_lazy("relation", "father"),
    pgettext_lazy("relation", "mother"),
    pgettext_lazy("relation", "father-in-law"),
    pgettext_lazy("relation", "mother-in-law"),
]


def money_field(label, *, required=True, minimum=Decimal("0"), help_text=""):
    return forms.DecimalField(
        label=label,
        required=required,
        max_digits=12,
        decimal_places=2,
        min_value=minimum,
        max_value=MONEY_MAX,
        help_text=help_text,
        localize=False,
        widget=forms.NumberInput(attrs={"inputmode": "decimal", "step": "0.01", "min": minimum}),
    )


class IdNumberForm(forms.Form):
    """Step one of the intake: who is this? The ID number decides everything that follows."""

    id_number = forms.CharField(
        label=_("ID number"),
        max_length=24,
        help_text=_("18 characters, as on the resident identity card."),
        widget=forms.TextInput(
            attrs={
                "autocomplete": "off",
                "autocapitalize": "characters",
                "spellcheck": "false",
                "maxlength": 24,
                "pattern": "[0-9 ]{17}[0-9Xx]",
            }
        ),
    )

    def clean_id_number(self):
        number = normalize_id_number(self.cleaned_data["id_number"])
        validate_id_number(number)
        return number


def phone_input(label):
    # Room for what people type (+86, brackets, spaces, 转 and an extension); the stored
    # shape (relief.phones) is at most 20 characters.
    return forms.CharField(
        label=label,
        required=False,
        max_length=40,
        help_text=_("Mobile (13912345678) or landline with area code (0757-86881234)."),
        widget=forms.TextInput(attrs={"inputmode": "tel", "autocomplete": "off"}),
    )


def card_input(label, help_text=""):
    """An input for a new card number: the stored number is never put into a form."""
    return forms.CharField(
        label=label,
        required=False,
        max_length=40,
        help_text=help_text,
        widget=forms.TextInput(
            # Never copied into the phone's storage with the rest of the form (form-draft.js).
            attrs={
                "inputmode": "numeric",
                "autocomplete": "off",
                "spellcheck": "false",
                "data-draft-skip": "",
            }
        ),
    )


def clean_card(value: str) -> str:
    return clean_card_number(value)


class WorkerForm(forms.ModelForm):
    """The worker's record without the ID number (fixed at intake) and the union (the filer's).

    The stored card number is not in the form: `new_bank_card` takes a new one, and an empty
    input keeps the card on file (shown masked beside it).
    """

    new_bank_card = card_input(_("card number"))
    phone = phone_input(_("phone"))

    class Meta:
        model = Worker
        fields = [f for f in WORKER_FIELDS if f not in ("id_number", "bank_card")]
        widgets = {
            "notes": forms.Textarea(attrs={"rows": 2}),
            "address": forms.TextInput(attrs={"autocomplete": "off"}),
        }
        help_texts = {
            "hukou": _("For information only: it is never a condition for relief."),
            "realname_verified": _("Information only, never a condition."),
        }

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        stored = self.instance.masked_card if self.instance.pk else ""
        if stored:
            field = self.fields["new_bank_card"]
            field.label = _("new card number")
            field.help_text = _("On file: %(card)s. Leave empty to keep it.") % {"card": stored}

    def clean_new_bank_card(self):
        return clean_card(self.cleaned_data["new_bank_card"])

    def clean_phone(self):
        return clean_phone_number(self.cleaned_data["phone"])

    def worker_data(self) -> dict:
        data = {k: v for k, v in self.cleaned_data.items() if k != "new_bank_card"}
        if self.cleaned_data.get("new_bank_card"):
            data["bank_card"] = self.cleaned_data["new_bank_card"]
        return data

    def _post_clean(self):
        # The services validate the whole record (with the ID number this form does not hold).
        pass


class ProposalForm(forms.Form):
    """For a worker whose record another union holds: what this case should use instead.

    It changes nothing by itself; the town reviewer confirms it when verifying the case.
    """

    phone = phone_input(_("new phone"))
    bank_name = forms.CharField(label=_("bank"), required=False, max_length=50)
    bank_branch = forms.CharField(label=_("branch"), required=False, max_length=100)
    bank_card = card_input(_("new card number"))

    def clean_bank_card(self):
        return clean_card(self.cleaned_data["bank_card"])

    def clean_phone(self):
        return clean_phone_number(self.cleaned_data["phone"])

    def clean(self):
        data = super().clean()
        if data.get("bank_card") and not data.get("bank_name"):
            self.add_error("bank_name", _("Name the bank of the new card."))
        return data


class HouseholdMemberForm(forms.Form):
    # The stored member this row continues: its ID number is shown masked, never put in the
    # input, and kept when the input is left empty (relief.services.workers._replace_members).
    member_pk = forms.IntegerField(required=False, widget=forms.HiddenInput)
    relation = forms.CharField(
        label=_("relation"),
        max_length=20,
        widget=forms.TextInput(attrs={"list": "relations", "autocomplete": "off"}),
    )
    name = forms.CharField(label=pgettext_lazy("person", "name"), max_length=50)
    id_number = forms.CharField(
        label=_("ID number"),
        max_length=24,
        required=False,
        help_text=_("Optional."),
        widget=forms.TextInput(attrs={"autocomplete": "off", "autocapitalize": "characters"}),
    )
    age = forms.IntegerField(
        label=_("age"),
        required=False,
        validators=[MinValueValidator(0), MaxValueValidator(130)],
        widget=forms.NumberInput(attrs={"inputmode": "numeric", "min": 0, "max": 130}),
    )
    birth_date = forms.DateField(
        label=_("birth date"),
        required=False,
        widget=forms.DateInput(attrs={"type": "date"}, format="%Y-%m-%d"),
    )
    occupation = forms.CharField(label=_("school or job"), max_length=100, required=False)
    health = forms.CharField(label=_("health condition"), max_length=200, required=False)
    monthly_income = money_field(_("monthly income"), required=False)

    def clean_id_number(self):
        number = normalize_id_number(self.cleaned_data["id_number"])
        if number:
            validate_id_number(number)
        return number

    def clean_monthly_income(self):
        value = self.cleaned_data["monthly_income"]
        return Decimal("0") if value is None else value

    def clean_birth_date(self):
        value = self.cleaned_data["birth_date"]
        problem = birth_date_problem(value)
        if problem:
            raise forms.ValidationError(problem)
        return value

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        masked = self.initial.get("masked_id_number")
        if masked:
            field = self.fields["id_number"]
            field.help_text = _("On file: %(number)s. Leave empty to keep it.") % {"number": masked}
            field.widget.attrs["placeholder"] = masked

    def member(self) -> dict:
        row = {k: self.cleaned_data[k] for k in MEMBER_FIELDS if k in self.cleaned_data}
        if self.cleaned_data.get("member_pk"):
            row["keep_id_of"] = self.cleaned_data["member_pk"]
        return row


class BaseHouseholdFormSet(forms.BaseFormSet):
    def members(self) -> list[dict]:
        """The rows that make up the household: kept rows and filled-in new rows."""
        rows = []
        for index, form in enumerate(self.forms):
            if self.can_delete and self._should_delete_form(form):
                continue
            if index >= self.initial_form_count() and not form.has_changed():
                continue
            rows.append(form.member())
        return rows


# Without JavaScript the two blank rows are there to fill in; the script adds and removes rows.
HouseholdFormSet = forms.formset_factory(
    HouseholdMemberForm,
    formset=BaseHouseholdFormSet,
    extra=2,
    can_delete=True,
    max_num=20,
    validate_max=True,
)


DRAFT_OPTIONAL = (
    "categories",
    "narrative",
    "household_monthly_income",
    "monthly_medical_expenses",
    "requested_amount",
)


class ApplicationForm(forms.Form):
    """The case's facts. The cap is the policy's in force today; the service checks it again."""

    categories = BoundedModelMultipleChoiceField(
        label=_("hardship categories"),
        queryset=HardshipCategory.objects.filter(is_active=True),
        widget=forms.CheckboxSelectMultiple,
        error_messages={"required": _("Choose at least one hardship category.")},
    )
    narrative = forms.CharField(
        label=_("situation"),
        widget=forms.Textarea(attrs={"rows": 5}),
        help_text=_("What happened, the illness or loss, the family's situation now."),
    )
    household_monthly_income = money_field(_("household monthly income"))
    monthly_medical_expenses = money_field(_("monthly medical expenses"))
    requested_amount = money_field(_("requested amount"), minimum=Decimal("0.01"))
    grassroots_opinion = forms.CharField(
        label=_("grassroots union's opinion"),
        required=False,
        max_length=2000,
        widget=forms.Textarea(attrs={"rows": 3}),
        help_text=_(
            "Printed on the approval form as written. Left empty, the form has blank lines "
            "to write the opinion by hand."
        ),
    )

    def __init__(self, *args, policy=None, draft=False, **kwargs):
        super().__init__(*args, **kwargs)
        self.policy = policy
        if draft:
            # Saving a draft needs only the worker; submitting checks these
            # (relief.services.applications.missing_for_submit).
            for name in DRAFT_OPTIONAL:
                self.fields[name].required = False
        if policy is not None:
            widget = self.fields["requested_amount"].widget
            cap = yuan(policy.max_per_payout)
            widget.attrs["data-cap"] = f"{policy.max_per_payout:.2f}"
            widget.attrs["data-over-text"] = _("Above the cap of %(cap)s per payout.") % {
                "cap": cap
            }
            widget.attrs["data-ok-text"] = _("Within the cap of %(cap)s.") % {"cap": cap}

    def clean_requested_amount(self):
        amount = self.cleaned_data["requested_amount"]
        if amount is not None and self.policy is not None and amount > self.policy.max_per_payout:
            raise ValidationError(
                _("%(amount)s is above the cap of %(cap)s per payout set by %(policy)s.")
                % {
                    "amount": yuan(amount),
                    "cap": yuan(self.policy.max_per_payout),
                    "policy": self.policy,
                }
            )
        return amount

    def case_data(self) -> dict:
        return {
            k: self.cleaned_data[k]
            for k in (
                "narrative",
                "household_monthly_income",
                "monthly_medical_expenses",
                "requested_amount",
                "grassroots_opinion",
            )
        }


class MultipleFileInput(forms.ClearableFileInput):
    allow_multiple_selected = True


class MultipleFileField(forms.FileField):
    def __init__(self, *args, **kwargs):
        kwargs.setdefault("widget", MultipleFileInput())
        super().__init__(*args, **kwargs)

    def clean(self, data, initial=None):
        one = super().clean
        uploads = list(data) if isinstance(data, (list, tuple)) else ([data] if data else [])
        if not uploads:
            if self.required:
                raise ValidationError(self.error_messages["required"], code="required")
            return []
        return [one(upload, initial) for upload in uploads]


ACCEPT = "image/*,application/pdf,.pdf,.jpg,.jpeg,.png,.heic,.webp"


class AttachmentForm(forms.Form):
    """Files for the case: a diagnosis, hospital bills, photos taken with the phone."""

    kind = forms.ChoiceField(
        label=_("kind"), choices=AttachmentKind.choices, initial=AttachmentKind.DIAGNOSIS
    )
    files = MultipleFileField(
        label=_("files"),
        required=False,
        help_text=_("PDF, JPEG, PNG, HEIC or WebP, at most 10 MB each."),
        widget=MultipleFileInput(attrs={"accept": ACCEPT}),
    )

    def __init__(self, *args, require_file=False, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["files"].required = require_file

    def clean_files(self):
        return check_uploads(self.cleaned_data["files"])


def check_uploads(files):
    """Size and type by the first bytes, before anything is stored (the service checks again
    and decodes the file: relief.uploads)."""
    errors = []
    for upload in files:
        if upload.size > MAX_ATTACHMENT_BYTES:
            errors.append(_("%(name)s is larger than 10 MB.") % {"name": upload.name})
            continue
        head = upload.read(16)
        upload.seek(0)
        if sniff_type(head) is None:
            errors.append(
                _("%(name)s is not a PDF, JPEG, PNG, HEIC or WebP file.") % {"name": upload.name}
            )
    if errors:
        raise ValidationError(errors)
    return files


class CommentForm(forms.Form):
    comment = forms.CharField(
        label=_("comment"),
        required=False,
        max_length=2000,
        widget=forms.Textarea(attrs={"rows": 3}),
    )


class CaseFilterForm(forms.Form):
    """The case list's filters, read from the query string."""

    q = forms.CharField(
        label=_("Name or ID number"),
        required=False,
        max_length=50,
        widget=forms.TextInput(attrs={"type": "search", "autocomplete": "off"}),
    )
    state = forms.ChoiceField(label=_("state"), required=False)
    year = forms.TypedChoiceField(label=_("year"), required=False, coerce=int, empty_value=None)
    category = forms.ModelChoiceField(
        label=_("hardship category"),
        required=False,
        queryset=HardshipCategory.objects.all(),
        empty_label=_("All categories"),
    )

    def __init__(self, *args, years=(), **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["state"].choices = [("", _("All states")), *ApplicationState.choices]
        self.fields["year"].choices = [("", _("All years")), *((y, y) for y in years)]
