"""先行救助: money the town pays before the district has approved a case, and what is left when
the district approves less or rejects it.

An Advance is granted by a town reviewer on a case awaiting the district (the policy in force
says whether, how much, for which categories and from which fund sources), and paid once: its
payment is an ordinary payout (Disbursement, `payout`), drawn on a fund account under the same
locks and guards as every payout, so fund balances, reports and the worker's totals include it.
The case keeps the advance paid in `Application.advance_amount`; its CHECKs allow the case's
paid amount up to the larger of the approved amount and the advance, nothing more.

The district's decision settles it (relief.services.advances.settle_advance): approved at least
the advance, it simply counts against the approved amount; approved less, rejected or withdrawn,
an AdvanceShortfall records the difference and that the fund it came from bears it.
"""

from django.conf import settings
from django.db import models
from django.db.models import Q
from django.utils import timezone
from django.utils.translation import gettext_lazy as _
from django_fsm import FSMField, FSMModelMixin, transition

from relief.models.money import MoneyField


class AdvanceState(models.TextChoices):
    GRANTED = "granted", _("Granted, awaiting payment")
    PAID = "paid", _("Paid, awaiting the district")
    SETTLED = "settled", _("Covered by the approved amount")
    SHORT = "short", _("Shortfall borne by the town")
    CANCELLED = "cancelled", _("Cancelled before payment")


class VerificationBasis(models.TextChoices):
    HOME_VISIT = "home_visit", _("Home visit on file")
    PHONE = "phone", _("Phone verification (disaster)")


A = AdvanceState
# An advance still waiting for the file to be completed: flagged when the time runs out.
OPEN_ADVANCE_STATES = (A.GRANTED, A.PAID)


class Advance(FSMModelMixin, models.Model):
    application = models.ForeignKey(
        "relief.Application",
        verbose_name=_("application"),
        on_delete=models.PROTECT,
        related_name="advances",
    )
    amount = MoneyField(_("advance amount"))
    reason = models.TextField(_("reason for the advance"))
    basis = models.CharField(_("verified by"), max_length=12, choices=VerificationBasis.choices)
    # A phone verification (for a disaster, where a visit cannot wait): when, with whom, what.
    phone_verified_on = models.DateField(_("phone verification date"), null=True, blank=True)
    phone_contact = models.CharField(_("person called"), max_length=100, blank=True)
    phone_findings = models.TextField(_("what the call confirmed"), blank=True)
    state = FSMField(
        _("state"), max_length=12, choices=AdvanceState.choices, default=A.GRANTED, protected=True
    )
    granted_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("granted by"),
        on_delete=models.PROTECT,
        related_name="+",
    )
    granted_at = models.DateTimeField(_("granted at"), default=timezone.now)
    # The last day for the town to complete the file (recommend the case), in working days
    # from the grant (relief.workdays); empty when the policy sets no limit.
    file_due_on = models.DateField(_("file to be completed by"), null=True, blank=True)
    payout = models.OneToOneField(
        "relief.Disbursement",
        verbose_name=_("payout"),
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="advance",
    )
    cancel_reason = models.TextField(_("reason for the cancellation"), blank=True)
    ended_at = models.DateTimeField(_("ended at"), null=True, blank=True)

    class Meta:
        verbose_name = _("emergency advance")
        verbose_name_plural = _("emergency advances")
        ordering = ["-granted_at", "-pk"]
        constraints = [
            models.CheckConstraint(name="advance_amount_positive", condition=Q(amount__gt=0)),
            models.CheckConstraint(name="advance_reason_given", condition=~Q(reason="")),
            # Paid, settled or short: the money went out; granted or cancelled: it did not.
            models.CheckConstraint(
                name="advance_paid_has_payout",
                condition=Q(state__in=[A.GRANTED, A.CANCELLED], payout__isnull=True)
                | Q(state__in=[A.PAID, A.SETTLED, A.SHORT], payout__isnull=False),
            ),
            models.CheckConstraint(
                name="advance_phone_basis_recorded",
                condition=~Q(basis=VerificationBasis.PHONE)
                | (Q(phone_verified_on__isnull=False) & ~Q(phone_findings="")),
            ),
            # One advance per case (a cancelled one may be followed by another).
            models.UniqueConstraint(
                fields=["application"],
                condition=~Q(state=A.CANCELLED),
                name="one_advance_per_application",
                violation_error_message=_("This case already has an advance."),
            ),
        ]
        indexes = [models.Index(fields=["state", "file_due_on"], name="advance_state_due")]

    def __str__(self):
        return f"{self.application} 先行救助 {self.amount}"

    def clean_fields(self, exclude=None):
        # The protected FSM field is set by transitions alone (as on Application).
        super().clean_fields(exclude={*(exclude or ()), "state"})

    def paperwork_overdue(self, today=None) -> bool:
        """The file was not completed (the case not recommended) by the policy's deadline."""
        today = today or timezone.localdate()
        return (
            self.state in OPEN_ADVANCE_STATES
            and self.file_due_on is not None
            and self.file_due_on < today
            and self.application.state in FILE_INCOMPLETE_STATES
        )

    # --- transitions; the effects and the checks live in relief.services.advances.

    @transition(state, source=A.GRANTED, target=A.PAID)
    def pay(self, payout):
        self.payout = payout

    @transition(state, source=A.GRANTED, target=A.CANCELLED)
    def cancel(self, reason):
        self.cancel_reason = reason
        self.ended_at = timezone.now()

    @transition(state, source=A.PAID, target=A.SETTLED)
    def settle(self):
        self.ended_at = timezone.now()

    @transition(state, source=A.PAID, target=A.SHORT)
    def fall_short(self):
        self.ended_at = timezone.now()


# The case has not been recommended yet: the town's file is not complete.
FILE_INCOMPLETE_STATES = ("submitted", "returned", "verified")


class ShortfallCause(models.TextChoices):
    APPROVED_LESS = "approved_less", _("The district approved less than the advance")
    REJECTED = "rejected", _("The case was rejected")
    WITHDRAWN = "withdrawn", _("The case was withdrawn")


class AdvanceShortfall(models.Model):
    """差额: the part of a paid advance the district's decision does not cover. The money was
    paid and stays paid (counted in every total); this records that the fund the advance came
    from (usually 镇自筹) bears it. Never edited or deleted."""

    advance = models.OneToOneField(
        Advance, verbose_name=_("advance"), on_delete=models.PROTECT, related_name="shortfall"
    )
    application = models.ForeignKey(
        "relief.Application",
        verbose_name=_("application"),
        on_delete=models.PROTECT,
        related_name="advance_shortfalls",
    )
    amount = MoneyField(_("shortfall"))
    cause = models.CharField(_("cause"), max_length=16, choices=ShortfallCause.choices)
    advance_amount = MoneyField(_("advance paid"))
    approved_amount = MoneyField(_("approved amount"), null=True, blank=True)
    # Who bears it: the fund account the advance was drawn on.
    town = models.ForeignKey(
        "unions.Union",
        verbose_name=_("town federation"),
        on_delete=models.PROTECT,
        related_name="+",
    )
    fund_source = models.CharField(_("borne by fund"), max_length=10)
    fund_year = models.PositiveSmallIntegerField(_("fund year"))
    recorded_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("recorded by"),
        on_delete=models.PROTECT,
        related_name="+",
    )
    recorded_at = models.DateTimeField(_("recorded at"), auto_now_add=True)

    class Meta:
        verbose_name = _("advance shortfall")
        verbose_name_plural = _("advance shortfalls")
        ordering = ["-recorded_at", "-pk"]
        constraints = [
            models.CheckConstraint(name="shortfall_amount_positive", condition=Q(amount__gt=0)),
            models.CheckConstraint(
                name="shortfall_within_advance", condition=Q(amount__lte=models.F("advance_amount"))
            ),
        ]

    def __str__(self):
        return f"{self.application} 差额 {self.amount}"

    @property
    def fund_label(self) -> str:
        from relief.models.disbursement import FundSource

        return f"{self.fund_year} {FundSource(self.fund_source).label}"
