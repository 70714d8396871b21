from django.conf import settings
from django.db import models
from django.db.models import Exists, OuterRef, Q
from django.utils.translation import gettext_lazy as _

from relief.models.money import MoneyField


class PaymentMethod(models.TextChoices):
    BANK_TRANSFER = "bank", _("Bank transfer to the real-name card")
    CASH = "cash", _("Cash")


class FundSource(models.TextChoices):
    DISTRICT = "district", _("District allocation")
    TOWN = "town", _("Town funds")
    DONATION = "donation", _("Ten-yuan donations")


class DisbursementQuerySet(models.QuerySet):
    def received(self):
        """Payouts that reached the worker: without ones the bank returned and their reversals.

        Counts (人次) and lists use this; sums come out the same either way, since a reversal
        cancels its payout exactly.
        """
        # NOT EXISTS, not `reversal__isnull=True`: Django writes that as a LEFT JOIN with
        # `IS NULL` on the reversal's primary key, which PostgreSQL does not turn into an
        # anti-join and estimates at one row; a plan built on "one row" (a server-side cursor
        # over a year of payouts joined to 2,000 unions) took 9 s instead of 0.6 s.
        reversals = Disbursement.objects.filter(reverses=OuterRef("pk"))
        return self.filter(~Exists(reversals), reverses__isnull=True)


class Disbursement(models.Model):
    """发放: money actually paid against an approved application. Never edited or deleted.

    A payout the bank returned is undone by a reversal: a new row with the negative amount that
    points at it (`reverses`) and says why. Each payout is drawn from one fund account: the
    `fund_source` of the case's `town` for `fund_year`.
    """

    application = models.ForeignKey(
        "relief.Application",
        verbose_name=_("application"),
        on_delete=models.PROTECT,
        related_name="disbursements",
    )
    amount = MoneyField(_("amount"))
    paid_on = models.DateField(_("paid on"))
    method = models.CharField(_("method"), max_length=10, choices=PaymentMethod.choices)
    fund_source = models.CharField(_("fund source"), max_length=10, choices=FundSource.choices)
    voucher_no = models.CharField(_("voucher number"), max_length=50, blank=True)
    town = models.ForeignKey(
        "unions.Union",
        verbose_name=_("town federation"),
        on_delete=models.PROTECT,
        related_name="+",
    )
    fund_year = models.PositiveSmallIntegerField(_("fund year"))
    reverses = models.OneToOneField(
        "self",
        verbose_name=_("reverses payout"),
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="reversal",
    )
    reason = models.TextField(_("reason for the reversal"), blank=True)
    # 备注 of a historical ledger row; kept so an export gives back what was imported.
    notes = models.TextField(_("notes"), blank=True)
    recorded_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("recorded by"),
        on_delete=models.PROTECT,
        related_name="+",
    )
    recorded_at = models.DateTimeField(_("recorded at"), auto_now_add=True)

    objects = DisbursementQuerySet.as_manager()

    class Meta:
        verbose_name = _("payout")
        verbose_name_plural = _("payouts")
        ordering = ["paid_on", "pk"]
        constraints = [
            # A payout is positive; a reversal is negative, points at its payout, says why.
            models.CheckConstraint(
                name="disbursement_amount_sign",
                condition=Q(reverses__isnull=True, amount__gt=0, reason="")
                | (Q(reverses__isnull=False, amount__lt=0) & ~Q(reason="")),
            ),
        ]
        indexes = [
            models.Index(fields=["paid_on"], name="disbursement_paid_on"),
            models.Index(fields=["town", "fund_source", "fund_year"], name="disbursement_fund"),
        ]

    def __str__(self):
        return f"{self.application} {self.amount} {self.paid_on:%Y-%m-%d}"

    @property
    def is_reversal(self) -> bool:
        return self.reverses_id is not None
