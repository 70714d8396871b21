"""Money coming in: fund accounts per town, source and year, and the income recorded on them.

A FundAccount is one pot: the 镇自筹 of 西樵镇总工会 for 2024, say. Its balance is income minus
payouts. The totals on the row are a cache kept by relief.services in the same transaction as
each entry, under the row's lock; the entries (FundIncome, Disbursement) are the truth, and the
database refuses a cache that would go below zero (CHECK) and, on PostgreSQL, a payout that the
entries themselves cannot cover (trigger, migration 0004).
"""

from django.conf import settings
from django.db import models
from django.db.models import F, Q
from django.utils.translation import gettext_lazy as _

from relief.models.disbursement import FundSource
from relief.models.money import MoneyField


class FundAccount(models.Model):
    town = models.ForeignKey(
        "unions.Union",
        verbose_name=_("town federation"),
        on_delete=models.PROTECT,
        related_name="fund_accounts",
        limit_choices_to={"level": "town"},
    )
    source = models.CharField(_("fund source"), max_length=10, choices=FundSource.choices)
    year = models.PositiveSmallIntegerField(_("year"))
    income_total = MoneyField(_("income"), default=0, editable=False)
    paid_total = MoneyField(_("paid"), default=0, editable=False)

    class Meta:
        verbose_name = _("fund account")
        verbose_name_plural = _("fund accounts")
        ordering = ["-year", "town__path", "source"]
        constraints = [
            models.UniqueConstraint(
                fields=["town", "source", "year"], name="fund_account_town_source_year"
            ),
            models.CheckConstraint(
                name="fund_account_income_not_negative", condition=Q(income_total__gte=0)
            ),
            models.CheckConstraint(
                name="fund_account_paid_not_negative", condition=Q(paid_total__gte=0)
            ),
            # No source below zero.
            models.CheckConstraint(
                name="fund_account_not_overdrawn", condition=Q(paid_total__lte=F("income_total"))
            ),
        ]

    def __str__(self):
        return f"{self.town} · {self.get_source_display()} · {self.year}"

    @property
    def balance(self):
        return self.income_total - self.paid_total


class FundIncome(models.Model):
    """资金收入: money put into a fund account. Never edited or deleted."""

    account = models.ForeignKey(
        FundAccount,
        verbose_name=_("fund account"),
        on_delete=models.PROTECT,
        related_name="incomes",
    )
    amount = MoneyField(_("amount"))
    received_on = models.DateField(_("received on"))
    # 区拨款 carries the number of the district's allocation document (拨款文号).
    document_no = models.CharField(_("document number"), max_length=60, blank=True)
    # Set when the income is a 十元捐 collection (one income per collection).
    collection = models.OneToOneField(
        "relief.DonationCollection",
        verbose_name=_("donation collection"),
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="income",
    )
    note = models.CharField(_("note"), max_length=200, blank=True)
    recorded_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("recorded by"),
        on_delete=models.PROTECT,
        related_name="+",
    )
    recorded_at = models.DateTimeField(_("recorded at"), auto_now_add=True)

    class Meta:
        verbose_name = _("fund income")
        verbose_name_plural = _("fund income")
        ordering = ["-received_on", "-pk"]
        constraints = [
            models.CheckConstraint(name="fund_income_amount_positive", condition=Q(amount__gt=0)),
        ]

    def __str__(self):
        return f"{self.account} +{self.amount}"
