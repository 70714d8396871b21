import datetime as dt

from django.db import models
from django.db.models import Q
from django.utils.translation import gettext_lazy as _

from relief.models.money import MoneyField


class HardshipCategory(models.Model):
    """困难类别, seeded by a migration; kept as data so federations can add their own."""

    name = models.CharField(_("name"), max_length=30, unique=True)
    order = models.PositiveSmallIntegerField(_("order"), default=0)
    is_active = models.BooleanField(_("active"), default=True)

    class Meta:
        verbose_name = _("hardship category")
        verbose_name_plural = _("hardship categories")
        ordering = ["order", "name"]

    def __str__(self):
        return self.name


class Policy(models.Model):
    """救助办法: caps change over time, so each version has the date from which it applies."""

    name = models.CharField(_("name"), max_length=100)
    effective_from = models.DateField(_("effective from"), unique=True)
    max_per_payout = MoneyField(_("maximum per payout"))
    max_per_worker_year = MoneyField(
        _("maximum per worker per calendar year"), null=True, blank=True
    )
    one_per_category_per_year = models.BooleanField(
        _("one payout per worker per category per year"), default=False
    )
    # Time limits per step in working days (relief.workdays): flagged as overdue in the queues
    # and the overdue report. Empty: no limit for that step. Unlike the caps they may be
    # changed on a policy already in use: a limit decides what is flagged, not what is paid.
    review_workdays = models.PositiveSmallIntegerField(
        _("town review within (working days)"),
        null=True,
        blank=True,
        default=10,
        help_text=_("From submission to the town's recommendation (or return). Empty: no limit."),
    )
    approval_workdays = models.PositiveSmallIntegerField(
        _("district approval within (working days)"),
        null=True,
        blank=True,
        default=5,
        help_text=_("From the town's recommendation to the district's decision."),
    )
    payment_workdays = models.PositiveSmallIntegerField(
        _("payment within (working days)"),
        null=True,
        blank=True,
        default=5,
        help_text=_("From approval to the payment being recorded."),
    )
    # Not the town's or district's own step, but watched by them: a case returned to the
    # caseworker and not resubmitted within this many working days shows in the town's 待办;
    # a paid case without a follow-up (回访) after this many is due for one.
    resubmit_workdays = models.PositiveSmallIntegerField(
        _("returned case resubmitted within (working days)"),
        null=True,
        blank=True,
        default=10,
        help_text=_(
            "From the town's return to the caseworker's resubmission; later, the town is "
            "reminded. Empty: no limit."
        ),
    )
    follow_up_workdays = models.PositiveSmallIntegerField(
        _("follow-up within (working days)"),
        null=True,
        blank=True,
        default=20,
        help_text=_("From the payment to the town's follow-up call or visit. Empty: no limit."),
    )
    notes = models.TextField(_("notes"), blank=True)
    # Public notice (公示) before district approval (relief.services.notices). Like the time
    # limits, these may be changed on a policy in use: they decide what approval waits for.
    notice_required = models.BooleanField(
        _("public notice before district approval"),
        default=False,
        help_text=_(
            "Ticked: the district cannot approve a case until the town's public notice of it "
            "has ended without an unresolved objection."
        ),
    )
    notice_workdays = models.PositiveSmallIntegerField(
        _("notice period (working days)"),
        default=5,
        help_text=_("Counted on the working-day calendar, the first day of posting included."),
    )
    notice_shows_name = models.BooleanField(_("notice shows the masked name"), default=True)
    notice_shows_union = models.BooleanField(_("notice shows the grassroots union"), default=True)
    notice_shows_categories = models.BooleanField(
        _("notice shows the hardship categories"), default=True
    )
    notice_shows_amount = models.BooleanField(
        _("notice shows the recommended amount"),
        default=True,
        help_text=_("ID numbers, health details and addresses are never shown on a notice."),
    )
    notice_phone = models.CharField(
        _("complaint phone"),
        max_length=30,
        blank=True,
        help_text=_("Printed on every notice. Empty: the town federation's phone."),
    )
    # 先行救助 (relief.services.advances): whether the town may pay before district approval,
    # how much, for which categories, from which of its fund sources, and how many working
    # days it then has to complete the file (recommend the case).
    advance_allowed = models.BooleanField(
        _("town may grant an emergency advance (先行救助)"), default=False
    )
    advance_cap = MoneyField(_("advance cap"), null=True, blank=True)
    advance_categories = models.ManyToManyField(
        HardshipCategory,
        verbose_name=_("categories that qualify for an advance"),
        related_name="+",
        blank=True,
    )
    advance_phone_categories = models.ManyToManyField(
        HardshipCategory,
        verbose_name=_("categories where a phone verification may stand in for the home visit"),
        related_name="+",
        blank=True,
        help_text=_("Usually natural disasters, where a visit cannot wait."),
    )
    advance_from_town = models.BooleanField(_("advance from town funds (镇自筹)"), default=True)
    advance_from_donation = models.BooleanField(
        _("advance from ten-yuan donations (十元捐)"), default=False
    )
    advance_from_district = models.BooleanField(
        _("advance from the district allocation (区拨款)"), default=False
    )
    advance_file_workdays = models.PositiveSmallIntegerField(
        _("file completed within (working days) after an advance"),
        null=True,
        blank=True,
        default=10,
        help_text=_(
            "From the grant of an advance to the town's recommendation of the case. Empty: no "
            "limit."
        ),
    )

    class Meta:
        verbose_name = _("relief policy")
        verbose_name_plural = _("relief policies")
        ordering = ["-effective_from"]
        constraints = [
            models.CheckConstraint(name="policy_max_positive", condition=Q(max_per_payout__gt=0)),
            models.CheckConstraint(
                name="policy_year_cap_positive",
                condition=Q(max_per_worker_year__isnull=True) | Q(max_per_worker_year__gt=0),
            ),
            *[
                models.CheckConstraint(
                    name=f"policy_{field}_positive",
                    condition=Q(**{f"{field}__isnull": True}) | Q(**{f"{field}__gt": 0}),
                )
                for field in (
                    "review_workdays",
                    "approval_workdays",
                    "payment_workdays",
                    "resubmit_workdays",
                    "follow_up_workdays",
                )
            ],
            models.CheckConstraint(
                name="policy_notice_workdays_positive", condition=Q(notice_workdays__gt=0)
            ),
            models.CheckConstraint(
                name="policy_advance_cap_set",
                condition=Q(advance_allowed=False)
                | Q(advance_cap__isnull=False, advance_cap__gt=0),
                violation_error_message=_("An emergency advance needs a cap above zero."),
            ),
            models.CheckConstraint(
                name="policy_advance_file_workdays_positive",
                condition=Q(advance_file_workdays__isnull=True) | Q(advance_file_workdays__gt=0),
            ),
        ]

    def __str__(self):
        return f"{self.name} ({self.effective_from:%Y-%m-%d})"

    def advance_fund_sources(self) -> list[str]:
        """The fund sources an advance may be drawn on (FundSource values), in source order."""
        from relief.models.disbursement import FundSource

        allowed = {
            FundSource.DISTRICT: self.advance_from_district,
            FundSource.TOWN: self.advance_from_town,
            FundSource.DONATION: self.advance_from_donation,
        }
        return [source for source in FundSource.values if allowed[source]]

    @classmethod
    def in_force(cls, on: dt.date) -> "Policy | None":
        return cls.objects.filter(effective_from__lte=on).order_by("-effective_from").first()
