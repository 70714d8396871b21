"""Per-month totals for the dashboard, the payout reports and the funds page.

A cache of the ledger (Disbursement, FundIncome), kept by relief.services.totals in the same
transaction as each money movement, with upserts that add to the row in SQL (INSERT ... ON
CONFLICT DO UPDATE), so concurrent writers never lose an increment. Amounts are whole fen
(integers): SQLite adds decimals in floating point. `manage.py check_totals` recomputes them
from the ledger and reports (or repairs, --repair) any difference.

MonthlyTotal has one row per union, primary hardship category, fund source and month. Payouts
are counted on the grassroots union of their case and again on its town (so a district reads
a few hundred town rows); income on the town of its fund account, and a ten-yuan collection
also on the grassroots union that handed it in. Payout figures are those of payouts that
reached the worker (Disbursement.objects.received()): a reversal takes its payout out of the
month the payout was paid in, and is counted there under `reversals`.

Distinct people (人数) do not add up across months or unions: each (worker, union, category,
source, month) with a payout has a MonthlyPerson row, the worker's own record. The figures read
PersonCount instead, which holds them in a form that does add up: per unit (grassroots union,
town, district), breakdown and year, the number of workers paid there that year, split by the
previous year they were paid under the same unit and breakdown (`previous`, 0 for none). The
workers paid at least once in the years A..B are those with a year in A..B whose previous year
is before A, counted once each: SUM(persons) over year in A..B and previous < A, a few hundred
rows whatever the number of payouts. Per month (only ever shown within one year) the rows are
plain counts.

No CHECK keeps these at or above zero: a reversal adds negative amounts through the same
upsert, and CHECK constraints apply to the row proposed for INSERT before ON CONFLICT turns it
into an update. A row that went wrong (payouts written around the services, by hand or by a
bulk load) is found and mended by check_totals instead of refusing the reversal.
"""

from django.db import models
from django.db.models import Q
from django.utils.translation import gettext_lazy as _

# `category` when the case has no hardship category.
NO_CATEGORY = 0


class MonthlyTotal(models.Model):
    union = models.ForeignKey(
        "unions.Union", verbose_name=_("union"), on_delete=models.PROTECT, related_name="+"
    )
    # The case's first hardship category (by the categories' order), 0 for none or income.
    category = models.PositiveIntegerField(_("hardship category"), default=NO_CATEGORY)
    source = models.CharField(_("fund source"), max_length=10)
    year = models.PositiveSmallIntegerField(_("year"))
    month = models.PositiveSmallIntegerField(_("month"))
    payouts = models.IntegerField(_("payouts"), default=0)
    paid_cents = models.BigIntegerField(_("paid (fen)"), default=0)
    largest_cents = models.BigIntegerField(_("largest payout (fen)"), default=0)
    reversals = models.IntegerField(_("reversals"), default=0)
    reversed_cents = models.BigIntegerField(_("reversed (fen)"), default=0)
    incomes = models.IntegerField(_("income entries"), default=0)
    income_cents = models.BigIntegerField(_("income (fen)"), default=0)
    donors = models.IntegerField(_("number of donors"), default=0)

    class Meta:
        verbose_name = _("monthly total")
        verbose_name_plural = _("monthly totals")
        constraints = [
            models.UniqueConstraint(
                fields=["union", "category", "source", "year", "month"], name="monthly_total_key"
            ),
        ]
        indexes = [
            models.Index(fields=["year", "union"], name="monthly_total_year"),
            # What reports.figures.summary sums for a period (the dashboard, the yearly PDF):
            # a town's or the district's towns' paid rows of some years as one index-only
            # range, not a bitmap heap scan per query (9-12 ms -> 4 ms each at a city's scale).
            models.Index(
                fields=["union", "year"],
                include=["month", "category", "source", "payouts", "paid_cents", "largest_cents"],
                condition=Q(payouts__gt=0),
                name="monthly_total_paid",
            ),
        ]

    def __str__(self):
        return f"{self.union_id} {self.source} {self.year}-{self.month:02d}"


class MonthlyPerson(models.Model):
    worker = models.ForeignKey(
        "relief.Worker", verbose_name=_("worker"), on_delete=models.PROTECT, related_name="+"
    )
    union = models.ForeignKey(
        "unions.Union", verbose_name=_("union"), on_delete=models.PROTECT, related_name="+"
    )
    town = models.ForeignKey(
        "unions.Union", verbose_name=_("town"), on_delete=models.PROTECT, related_name="+"
    )
    category = models.PositiveIntegerField(_("hardship category"), default=NO_CATEGORY)
    source = models.CharField(_("fund source"), max_length=10)
    year = models.PositiveSmallIntegerField(_("year"))
    month = models.PositiveSmallIntegerField(_("month"))
    # Payouts of this worker under this key that reached them; 0 once all were reversed.
    payouts = models.IntegerField(_("payouts"), default=0)

    class Meta:
        verbose_name = _("monthly person")
        verbose_name_plural = _("monthly persons")
        constraints = [
            models.UniqueConstraint(
                fields=["worker", "union", "category", "source", "year", "month"],
                name="monthly_person_key",
            ),
        ]
        indexes = [
            models.Index(fields=["town", "year", "worker"], name="monthly_person_town"),
            models.Index(fields=["union", "year", "worker"], name="monthly_person_union"),
        ]

    def __str__(self):
        return f"{self.worker_id} {self.union_id} {self.year}-{self.month:02d}"


class PersonCount(models.Model):
    """Distinct workers paid per unit, breakdown and year, split by their previous year.

    `kind`: ALL (everyone in the unit), CATEGORY (`value` the primary category's id, "0" for
    none), SOURCE (`value` the fund source) or MONTH (`value` the month, `previous` always 0).
    Kept with MonthlyPerson in the same upsert as every payout and reversal (per worker, from
    the worker's rows before and after), recomputed by check_totals.
    """

    ALL = "a"
    CATEGORY = "c"
    SOURCE = "s"
    MONTH = "m"

    union = models.ForeignKey(
        "unions.Union", verbose_name=_("union"), on_delete=models.PROTECT, related_name="+"
    )
    kind = models.CharField(_("breakdown"), max_length=1)
    value = models.CharField(_("breakdown value"), max_length=10, blank=True, default="")
    year = models.PositiveSmallIntegerField(_("year"))
    previous = models.PositiveSmallIntegerField(_("previous year paid"), default=0)
    persons = models.IntegerField(_("number of persons"), default=0)

    class Meta:
        verbose_name = _("person count")
        verbose_name_plural = _("person counts")
        constraints = [
            models.UniqueConstraint(
                fields=["union", "kind", "value", "year", "previous"], name="person_count_key"
            ),
        ]

    def __str__(self):
        return f"{self.union_id} {self.kind}{self.value} {self.year}<-{self.previous}"
