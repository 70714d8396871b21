"""The buttons on a case's admin page: each opens a small form and calls one service function.

The same service functions serve the caseworkers' pages; they lock the case, check scope and
role, and refuse a stale form (version). The view checks relief.workflow before anything else
(403), so posting a form by hand for a step the user may not take changes nothing.
"""

from collections.abc import Callable
from dataclasses import dataclass
from decimal import Decimal

from django import forms
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from relief import services
from relief import workflow as wf
from relief.forms.funds import AUTO_FUND, fund_field, fund_kwargs, offer_funds
from relief.idempotency import FIELD as IDEMPOTENCY_FIELD
from relief.idempotency import IdempotentFormMixin
from relief.models import PaymentMethod
from relief.models.money import yuan
from relief.models.visit import AttachmentKind, FollowUpMethod


def may_grant_advance(application) -> bool:
    """The policy allows an advance on this case and it has none yet."""
    from relief.services.advances import advance_refusal

    return not application.advances.exclude(state="cancelled").exists() and not advance_refusal(
        application
    )


def has_unpaid_advance(application) -> bool:
    return application.advances.filter(state="granted").exists()


class ActionForm(forms.Form):
    # The version the user saw: a case changed since is refused as a conflict.
    version = forms.IntegerField(widget=forms.HiddenInput)

    def service_kwargs(self) -> dict:
        return {
            k: v for k, v in self.cleaned_data.items() if k not in ("version", IDEMPOTENCY_FIELD)
        }


class CommentForm(ActionForm):
    comment = forms.CharField(
        label=_("comment"), widget=forms.Textarea(attrs={"rows": 3}), required=False
    )


class RequiredCommentForm(ActionForm):
    comment = forms.CharField(label=_("comment"), widget=forms.Textarea(attrs={"rows": 3}))


class ReasonForm(ActionForm):
    reason = forms.CharField(label=_("reason"), widget=forms.Textarea(attrs={"rows": 3}))


class AmountForm(ActionForm):
    """Recommend: the amount starts at the request; the page shows the request, the caps and
    what the worker already has this year (relief.services.caps.amount_context)."""

    needs_application = True
    shows_amounts = True
    amount = forms.DecimalField(
        label=_("amount (yuan)"), max_digits=12, decimal_places=2, min_value=0.01
    )
    amount_reason = forms.CharField(
        label=_("reason for an amount above the request"),
        required=False,
        widget=forms.Textarea(attrs={"rows": 2}),
        help_text=_(
            "Required when the amount is more than the requested amount; kept in the trail."
        ),
    )
    comment = forms.CharField(label=_("comment"), widget=forms.Textarea(attrs={"rows": 3}))

    def __init__(self, *args, application, **kwargs):
        super().__init__(*args, **kwargs)
        self.initial.setdefault("amount", self.starting_amount(application))

    def starting_amount(self, application):
        return application.requested_amount


class OptionalCommentAmountForm(AmountForm):
    """Approve: the amount starts at the town's recommendation."""

    comment = forms.CharField(
        label=_("comment"), widget=forms.Textarea(attrs={"rows": 3}), required=False
    )

    def starting_amount(self, application):
        return application.recommended_amount or application.requested_amount


class DisbursementForm(IdempotentFormMixin, ActionForm):
    """A payout of this case: the accounts of its town that have money, any year, with the
    oldest one that can pay what is outstanding chosen (relief.forms.funds.offer_funds)."""

    needs_application = True
    error_fields = {"fund_source": "fund", "fund_year": "fund"}
    amount = forms.DecimalField(
        label=_("amount (yuan)"), max_digits=12, decimal_places=2, min_value=0.01
    )
    paid_on = forms.DateField(label=_("paid on"), initial=timezone.localdate)
    method = forms.ChoiceField(label=_("method"), choices=PaymentMethod.choices)
    fund = fund_field()
    voucher_no = forms.CharField(label=_("voucher number"), max_length=50, required=False)
    comment = forms.CharField(
        label=_("comment"), widget=forms.Textarea(attrs={"rows": 2}), required=False
    )

    def __init__(self, *args, application, **kwargs):
        super().__init__(*args, **kwargs)
        outstanding = application.outstanding_amount
        self.initial.setdefault("amount", outstanding)
        default = offer_funds(self.fields["fund"], application.union.parent, outstanding)
        self.initial.setdefault("fund", default)

    def service_kwargs(self) -> dict:
        data = super().service_kwargs()
        data.update(fund_kwargs(data.pop("fund")))
        return data


class VerifyForm(CommentForm):
    """Verification; with a pending proposal (a new phone or payout account the caseworker
    recorded for a worker held elsewhere), the reviewer confirms or declines it here."""

    needs_application = True
    proposal = forms.ChoiceField(
        label=_("Proposed phone or payout account"),
        choices=[
            ("confirm", _("Confirm: pay this case to the proposed account")),
            ("decline", _("Decline: keep the worker's record as it is")),
        ],
        widget=forms.RadioSelect,
    )

    def __init__(self, *args, application=None, **kwargs):
        super().__init__(*args, **kwargs)
        from relief.services.proposals import pending_proposal

        pending = pending_proposal(application) if application is not None else None
        if pending is None:
            del self.fields["proposal"]
            return
        self.fields["proposal"].help_text = _("Proposed by %(user)s: %(what)s") % {
            "user": pending.proposed_by,
            "what": pending.summary(),
        }


class PayoutAccountForm(ActionForm):
    """A new payout account for an approved, unpaid case; the old one is kept in the trail."""

    bank_name = forms.CharField(label=_("bank"), max_length=50)
    bank_branch = forms.CharField(label=_("branch"), max_length=100, required=False)
    bank_card = forms.CharField(
        label=_("new card number"),
        max_length=40,
        widget=forms.TextInput(attrs={"inputmode": "numeric", "autocomplete": "off"}),
    )
    reason = forms.CharField(label=_("reason"), widget=forms.Textarea(attrs={"rows": 3}))


class FollowUpForm(ActionForm):
    follow_up_date = forms.DateField(label=_("date"), initial=timezone.localdate)
    method = forms.ChoiceField(label=_("method"), choices=FollowUpMethod.choices)
    findings = forms.CharField(label=_("findings"), widget=forms.Textarea(attrs={"rows": 3}))


class AttachmentForm(ActionForm):
    # attachment_add reports problems with the file under "file".
    error_fields = {"file": "upload"}
    upload = forms.FileField(label=_("file"))
    kind = forms.ChoiceField(label=_("kind"), choices=AttachmentKind.choices)


class AdvanceGrantForm(IdempotentFormMixin, ActionForm):
    """先行救助: the amount (at most the policy's advance cap and the request) and why it
    cannot wait; without a home visit, for the categories the policy names, the phone call."""

    needs_application = True
    amount = forms.DecimalField(
        label=_("advance amount (yuan)"), max_digits=12, decimal_places=2, min_value=0.01
    )
    reason = forms.CharField(
        label=_("reason for the advance"), widget=forms.Textarea(attrs={"rows": 3})
    )
    phone_verified_on = forms.DateField(
        label=_("phone verification date"), required=False, initial=timezone.localdate
    )
    phone_contact = forms.CharField(label=_("person called"), max_length=100, required=False)
    phone_findings = forms.CharField(
        label=_("what the call confirmed"),
        widget=forms.Textarea(attrs={"rows": 2}),
        required=False,
    )

    def __init__(self, *args, application, **kwargs):
        super().__init__(*args, **kwargs)
        from relief.services.advances import phone_may_stand_in

        policy = application.policy
        cap = policy.advance_cap or 0
        self.initial.setdefault("amount", min(cap, application.requested_amount or 0) or None)
        self.fields["amount"].help_text = _(
            "At most %(cap)s (the advance cap of %(policy)s) and the requested amount."
        ) % {"cap": yuan(cap), "policy": policy}
        if application.home_visits.exists() or not phone_may_stand_in(application):
            for name in ("phone_verified_on", "phone_contact", "phone_findings"):
                del self.fields[name]


class AdvancePayForm(IdempotentFormMixin, ActionForm):
    """The payment of the granted advance, from an account the policy allows for advances."""

    needs_application = True
    error_fields = {"fund_source": "fund", "fund_year": "fund"}
    paid_on = forms.DateField(label=_("paid on"), initial=timezone.localdate)
    method = forms.ChoiceField(label=_("method"), choices=PaymentMethod.choices)
    fund = fund_field()
    voucher_no = forms.CharField(label=_("voucher number"), max_length=50, required=False)
    comment = forms.CharField(
        label=_("comment"), widget=forms.Textarea(attrs={"rows": 2}), required=False
    )

    def __init__(self, *args, application, **kwargs):
        super().__init__(*args, **kwargs)
        from relief.models import Advance
        from relief.services.advances import advance_fund_choices

        advance = Advance.objects.filter(application=application, state="granted").first()
        amount = advance.amount if advance else None
        choices = advance_fund_choices(application, Decimal("0.01"))
        self.fields["fund"].choices = [("", AUTO_FUND), *((c.key, c.label) for c in choices)]
        self.fields["fund"].help_text = _(
            "Only the fund sources %(policy)s allows for advances."
        ) % {"policy": application.policy}
        chosen = next((c for c in choices if amount is not None and c.available >= amount), None)
        self.initial.setdefault("fund", chosen.key if chosen else "")
        if amount is not None:
            self.advance_amount = amount

    def service_kwargs(self) -> dict:
        data = super().service_kwargs()
        data.update(fund_kwargs(data.pop("fund")))
        return data


@dataclass(frozen=True)
class Action:
    form: type[ActionForm]
    service: Callable
    # Whether the step is offered on this case beyond role and state (None: always).
    applies: Callable | None = None


# Every transition in relief.workflow but mark_disbursed (reached by recording payouts), and
# the non-transition steps a reviewer takes on a case page.
ACTIONS = {
    "submit": Action(CommentForm, services.application_submit),
    "resubmit": Action(CommentForm, services.application_resubmit),
    "withdraw": Action(CommentForm, services.application_withdraw),
    "verify": Action(VerifyForm, services.application_verify),
    "return_for_info": Action(RequiredCommentForm, services.application_return),
    "return_verified": Action(RequiredCommentForm, services.application_return_verified),
    "recommend": Action(AmountForm, services.application_recommend),
    "reject": Action(ReasonForm, services.application_reject),
    "approve": Action(OptionalCommentAmountForm, services.application_approve),
    "send_back": Action(RequiredCommentForm, services.application_send_back),
    "close": Action(CommentForm, services.application_close),
    "disburse": Action(DisbursementForm, services.disbursement_record),
    "follow_up": Action(FollowUpForm, services.follow_up_record),
    "attach": Action(AttachmentForm, services.attachment_add),
    "payout_account": Action(PayoutAccountForm, services.payout_account_change),
    "advance_grant": Action(AdvanceGrantForm, services.advance_grant, may_grant_advance),
    "advance_pay": Action(AdvancePayForm, services.advance_pay, has_unpaid_advance),
    "advance_cancel": Action(ReasonForm, services.advance_cancel, has_unpaid_advance),
}


# Button wording where the trail's (past-tense) label does not fit a button.
BUTTON_LABELS = {
    "disburse": _("Record a payout"),
    "follow_up": _("Record a follow-up"),
    "payout_account": _("Change the payout account"),
    "advance_grant": _("Grant an emergency advance"),
    "advance_pay": _("Record the advance's payment"),
    "advance_cancel": _("Cancel the advance"),
}


def label(name: str) -> str:
    return BUTTON_LABELS.get(name) or wf.TRANSITION_LABELS[name]


# How each step shows on the case page: the steps that move the case on are the primary
# buttons, the ones that send it back or end it are marked as such, the rest (a file, a
# follow-up, the payout account) are plain. Primary first, the ones that turn back last.
FORWARD = {"submit", "resubmit", "verify", "recommend", "approve", "disburse", "close"}
BACKWARD = {
    "withdraw",
    "return_for_info",
    "return_verified",
    "reject",
    "send_back",
    "advance_cancel",
}
KIND_ORDER = {"primary": 0, "secondary": 1, "danger": 2}


def step_kind(name: str) -> str:
    if name in FORWARD:
        return "primary"
    return "danger" if name in BACKWARD else "secondary"


def available_actions(user, application) -> list[tuple[str, str]]:
    """(name, label) of the steps this user may take on this case now, in table order."""
    return [
        (name, label(name))
        for name, spec in ACTIONS.items()
        if wf.role_may(user, name, application.state)
        and (spec.applies is None or spec.applies(application))
    ]
