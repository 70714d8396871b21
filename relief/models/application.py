from django.conf import settings
from django.core.validators import MinValueValidator
from django.db import models
from django.db.models import F, Q
from django.utils import timezone
from django.utils.translation import gettext_lazy as _
from django_fsm import FSMField, FSMModelMixin, transition

from relief import workflow as wf
from relief.models.money import MoneyField


class ApplicationState(models.TextChoices):
    DRAFT = wf.S_DRAFT, _("Draft")
    SUBMITTED = wf.S_SUBMITTED, _("Awaiting town review")
    RETURNED = wf.S_RETURNED, _("Returned for more information")
    VERIFIED = wf.S_VERIFIED, _("Verified")
    RECOMMENDED = wf.S_RECOMMENDED, _("Awaiting district approval")
    APPROVED = wf.S_APPROVED, _("Approved, awaiting payment")
    DISBURSED = wf.S_DISBURSED, _("Paid")
    CLOSED = wf.S_CLOSED, _("Closed")
    REJECTED = wf.S_REJECTED, _("Not granted")
    WITHDRAWN = wf.S_WITHDRAWN, _("Withdrawn")


S = ApplicationState


class Application(FSMModelMixin, models.Model):
    """救助申请: one request for relief for one worker, moved along by relief.services only."""

    reference = models.CharField(_("reference"), max_length=32, unique=True, editable=False)
    worker = models.ForeignKey(
        "relief.Worker",
        verbose_name=_("worker"),
        on_delete=models.PROTECT,
        related_name="applications",
    )
    union = models.ForeignKey(
        "unions.Union",
        verbose_name=_("filing union"),
        on_delete=models.PROTECT,
        related_name="applications",
    )
    categories = models.ManyToManyField(
        "relief.HardshipCategory",
        verbose_name=_("hardship categories"),
        related_name="applications",
    )
    # A draft needs only the worker (ID number and name): the facts below may be left empty
    # until it is submitted (relief.services.applications.missing_for_submit); a CHECK keeps
    # every case past the draft complete.
    narrative = models.TextField(_("situation"), blank=True)
    # 基层工会意见 as the caseworker wrote it: printed on the approval form as it is, and
    # left as blank lines to write on when empty (nothing is ever printed in its place).
    grassroots_opinion = models.TextField(_("grassroots union's opinion"), blank=True)
    household_monthly_income = MoneyField(
        _("household monthly income"),
        default=0,
        null=True,
        blank=True,
        validators=[MinValueValidator(0)],
    )
    monthly_medical_expenses = MoneyField(
        _("monthly medical expenses"),
        default=0,
        null=True,
        blank=True,
        validators=[MinValueValidator(0)],
    )
    requested_amount = MoneyField(
        _("requested amount"), null=True, blank=True, validators=[MinValueValidator(0.01)]
    )
    recommended_amount = MoneyField(_("recommended amount"), null=True, blank=True)
    approved_amount = MoneyField(_("approved amount"), null=True, blank=True)
    # Kept by relief.services.disbursements in the same transaction as each payout, so the
    # database can check "never paid above the approved amount" row by row.
    paid_amount = MoneyField(_("paid amount"), default=0, editable=False)
    # 先行救助 paid on this case before the district's decision (relief.models.advance), kept
    # by relief.services.advances: the paid amount may reach it before any approval, and stays
    # at it when the district approves less (the shortfall is recorded, never paid back).
    advance_amount = MoneyField(_("emergency advance paid"), default=0, editable=False)
    policy = models.ForeignKey(
        "relief.Policy",
        verbose_name=_("policy applied"),
        on_delete=models.PROTECT,
        related_name="applications",
    )
    application_date = models.DateField(_("application date"), default=timezone.localdate)
    # 收款账户: the account this case is paid to. Fixed when the district approves the case (from
    # the worker's record, or from a change the town confirmed at verification), so a later
    # change of the worker's card never redirects a case already approved; only the audited
    # service relief.services.payout_accounts.payout_account_change moves it afterwards.
    payout_bank_name = models.CharField(_("payout bank"), max_length=50, blank=True)
    payout_bank_branch = models.CharField(_("payout branch"), max_length=100, blank=True)
    payout_card = models.CharField(_("payout card number"), max_length=30, blank=True)
    state = FSMField(
        _("state"),
        max_length=20,
        choices=ApplicationState.choices,
        default=S.DRAFT,
        protected=True,
    )
    # Bumped on every write through the services: a form posted against an older version
    # is refused with "changed by someone else, reload" instead of silently overwriting.
    version = models.PositiveIntegerField(_("version"), default=1, editable=False)
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("filed by"),
        on_delete=models.PROTECT,
        related_name="+",
    )
    created_at = models.DateTimeField(_("created at"), auto_now_add=True)
    updated_at = models.DateTimeField(_("updated at"), auto_now=True)
    submitted_at = models.DateTimeField(_("submitted at"), null=True, blank=True)
    returned_at = models.DateTimeField(_("returned at"), null=True, blank=True)
    verified_at = models.DateTimeField(_("verified at"), null=True, blank=True)
    recommended_at = models.DateTimeField(_("recommended at"), null=True, blank=True)
    approved_at = models.DateTimeField(_("approved at"), null=True, blank=True)
    disbursed_at = models.DateTimeField(_("paid at"), null=True, blank=True)
    closed_at = models.DateTimeField(_("closed at"), null=True, blank=True)
    rejected_at = models.DateTimeField(_("rejected at"), null=True, blank=True)
    withdrawn_at = models.DateTimeField(_("withdrawn at"), null=True, blank=True)
    # Whether a follow-up is on file (set by relief.services.visits.follow_up_record, in the
    # same transaction as the follow-up). The dashboard's "paid, follow-up overdue" counts read
    # it from a partial index instead of anti-joining every follow-up ever recorded.
    followed_up = models.BooleanField(
        _("followed up"), default=False, db_default=False, editable=False
    )

    class Meta:
        verbose_name = _("relief application")
        verbose_name_plural = _("relief applications")
        ordering = ["-application_date", "-pk"]
        constraints = [
            models.UniqueConstraint(
                fields=["worker"],
                condition=Q(state__in=wf.IN_PROGRESS),
                name="one_application_in_progress_per_worker",
                violation_error_message=_("This worker already has a case in progress."),
            ),
            models.CheckConstraint(
                name="application_requested_positive",
                condition=Q(requested_amount__isnull=True) | Q(requested_amount__gt=0),
            ),
            models.CheckConstraint(
                name="application_facts_complete_after_draft",
                condition=Q(state__in=[S.DRAFT, S.WITHDRAWN])
                | Q(
                    requested_amount__isnull=False,
                    household_monthly_income__isnull=False,
                    monthly_medical_expenses__isnull=False,
                ),
            ),
            models.CheckConstraint(
                name="application_recommended_positive",
                condition=Q(recommended_amount__isnull=True) | Q(recommended_amount__gt=0),
            ),
            models.CheckConstraint(
                name="application_approved_positive",
                condition=Q(approved_amount__isnull=True) | Q(approved_amount__gt=0),
            ),
            models.CheckConstraint(
                name="application_incomes_not_negative",
                condition=(
                    Q(household_monthly_income__isnull=True) | Q(household_monthly_income__gte=0)
                )
                & (Q(monthly_medical_expenses__isnull=True) | Q(monthly_medical_expenses__gte=0)),
            ),
            models.CheckConstraint(
                name="application_paid_within_approved",
                condition=Q(paid_amount=0)
                | Q(
                    paid_amount__gt=0,
                    approved_amount__isnull=False,
                    paid_amount__lte=F("approved_amount"),
                )
                # An emergency advance is paid before approval, and stays paid when the
                # district approves less.
                | Q(paid_amount__gt=0, paid_amount__lte=F("advance_amount")),
            ),
            models.CheckConstraint(
                name="application_advance_not_negative", condition=Q(advance_amount__gte=0)
            ),
            models.CheckConstraint(
                name="application_approved_state_has_amount",
                condition=~Q(state__in=wf.COMMITTED) | Q(approved_amount__isnull=False),
            ),
            models.CheckConstraint(
                name="application_paid_state_fully_paid",
                condition=~Q(state__in=[S.DISBURSED, S.CLOSED])
                | Q(paid_amount=F("approved_amount"))
                | Q(advance_amount__gt=F("approved_amount"), paid_amount=F("advance_amount")),
            ),
        ]
        # The lists' orderings (issue 16): a union's cases newest first, with or without a
        # state; everything in scope newest first (a town's or the district's list).
        indexes = [
            models.Index(fields=["state", "application_date"], name="application_state_date"),
            models.Index(
                fields=["union", "state", "-application_date", "-id"],
                name="application_union_state_date",
            ),
            models.Index(
                fields=["union", "-application_date", "-id"], name="application_union_date"
            ),
            models.Index(fields=["-application_date", "-id"], name="application_date_desc"),
            # The paid cases waiting for their follow-up (relief.queues.overdue_by_town, the
            # dashboard): only those rows, by union, with what the deadline test reads, so that
            # a town's or the district's count is one index-only range (an anti-join with every
            # follow-up ever recorded took 100-140 ms at a city's scale).
            models.Index(
                fields=["union", "id"],
                include=["application_date", "disbursed_at", "state"],
                condition=Q(state=S.DISBURSED, followed_up=False),
                name="application_paid_followup",
            ),
            # The cases at a step with a deadline, short of the paid ones (overdue_by_town, the
            # dashboard): by union, with every clock the deadline test reads, so the count is
            # an index-only range instead of a heap visit per case (3,600 pages and 27 ms for
            # the district at a city's scale; 9 ms from this index).
            models.Index(
                fields=["union", "state"],
                include=[
                    "id",
                    "application_date",
                    "submitted_at",
                    "returned_at",
                    "recommended_at",
                    "approved_at",
                ],
                condition=Q(
                    state__in=[S.SUBMITTED, S.VERIFIED, S.RETURNED, S.RECOMMENDED, S.APPROVED]
                ),
                name="application_open_clock",
            ),
            # Approved and not yet paid in full (the funds page's "not in a batch" per town,
            # relief.selectors.funds): the amounts from the index, not a heap visit per case
            # (2,900 pages for 4,900 approved cases at a city's scale).
            models.Index(
                fields=["union", "id"],
                include=["approved_amount", "paid_amount"],
                condition=Q(state=S.APPROVED),
                name="application_approved_amounts",
            ),
        ]

    def __str__(self):
        return self.reference

    def clean_fields(self, exclude=None):
        # The protected FSM field refuses the re-assignment clean_fields does; transitions
        # alone set it, so there is nothing to clean.
        super().clean_fields(exclude={*(exclude or ()), "state"})

    @property
    def year(self) -> int:
        return self.application_date.year

    @property
    def outstanding_amount(self):
        # Never below zero: an advance above the approved amount is a shortfall, not a debt.
        return max((self.approved_amount or 0) - self.paid_amount, 0)

    @property
    def masked_payout_card(self) -> str:
        from relief.idcard import mask_card

        return mask_card(self.payout_card)

    @property
    def is_in_progress(self) -> bool:
        return self.state in wf.IN_PROGRESS

    # --- transitions: sources, targets and who may take them; effects live in the services.

    @transition(state, source=S.DRAFT, target=S.SUBMITTED, permission=wf.fsm_permission("submit"))
    def submit(self):
        self.submitted_at = timezone.now()

    @transition(
        state, source=S.RETURNED, target=S.SUBMITTED, permission=wf.fsm_permission("resubmit")
    )
    def resubmit(self):
        self.submitted_at = timezone.now()

    @transition(
        state,
        source=[S.DRAFT, S.SUBMITTED, S.RETURNED],
        target=S.WITHDRAWN,
        permission=wf.fsm_permission("withdraw"),
    )
    def withdraw(self):
        self.withdrawn_at = timezone.now()

    @transition(
        state,
        source=S.SUBMITTED,
        target=S.RETURNED,
        permission=wf.fsm_permission("return_for_info"),
    )
    def return_for_info(self):
        self.returned_at = timezone.now()

    @transition(
        state, source=S.SUBMITTED, target=S.VERIFIED, permission=wf.fsm_permission("verify")
    )
    def verify(self):
        self.verified_at = timezone.now()

    @transition(
        state, source=S.VERIFIED, target=S.RECOMMENDED, permission=wf.fsm_permission("recommend")
    )
    def recommend(self, amount):
        self.recommended_amount = amount
        self.recommended_at = timezone.now()

    @transition(
        state,
        source=[S.SUBMITTED, S.VERIFIED, S.RECOMMENDED],
        target=S.REJECTED,
        permission=wf.fsm_permission("reject"),
    )
    def reject(self):
        self.rejected_at = timezone.now()

    @transition(
        state, source=S.RECOMMENDED, target=S.APPROVED, permission=wf.fsm_permission("approve")
    )
    def approve(self, amount):
        self.approved_amount = amount
        self.approved_at = timezone.now()

    @transition(
        state,
        source=S.VERIFIED,
        target=S.RETURNED,
        permission=wf.fsm_permission("return_verified"),
    )
    def return_verified(self):
        # Found missing at the review meeting: the caseworker completes it and resubmits, and
        # the town verifies again (the home visits on file stay).
        self.returned_at = timezone.now()
        self.verified_at = None

    @transition(
        state, source=S.RECOMMENDED, target=S.VERIFIED, permission=wf.fsm_permission("send_back")
    )
    def send_back(self):
        self.verified_at = timezone.now()

    @transition(
        state,
        source=S.APPROVED,
        target=S.DISBURSED,
        permission=wf.fsm_permission("mark_disbursed"),
    )
    def mark_disbursed(self):
        self.disbursed_at = timezone.now()

    @transition(
        state,
        source=S.DISBURSED,
        target=S.APPROVED,
        permission=wf.fsm_permission("payment_reversed"),
    )
    def payment_reversed(self):
        # The bank returned a payout: the case owes money again until it is paid anew.
        self.disbursed_at = None

    @transition(state, source=S.DISBURSED, target=S.CLOSED, permission=wf.fsm_permission("close"))
    def close(self):
        self.closed_at = timezone.now()

    # An objection to the case's public notice, upheld by the town (relief.services.notices).
    @transition(
        state,
        source=S.RECOMMENDED,
        target=S.RETURNED,
        permission=wf.fsm_permission("objection_return"),
    )
    def objection_return(self):
        # The caseworker and the town look again; the town verifies again after resubmission.
        self.returned_at = timezone.now()
        self.verified_at = None

    @transition(
        state,
        source=S.RECOMMENDED,
        target=S.REJECTED,
        permission=wf.fsm_permission("objection_reject"),
    )
    def objection_reject(self):
        self.rejected_at = timezone.now()


class ReferenceCounter(models.Model):
    """The last reference number handed out per town and year (XQ-2024-0007)."""

    town = models.ForeignKey("unions.Union", on_delete=models.PROTECT, related_name="+")
    year = models.PositiveSmallIntegerField()
    last = models.PositiveIntegerField(default=0)

    class Meta:
        verbose_name = _("reference counter")
        verbose_name_plural = _("reference counters")
        constraints = [
            models.UniqueConstraint(fields=["town", "year"], name="reference_counter_town_year")
        ]

    def __str__(self):
        return f"{self.town_id}/{self.year}: {self.last}"
