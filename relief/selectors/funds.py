"""Scoped reads for the funds page: balances per town, source and year; donation totals.

Each figure is one aggregate query whatever the number of towns or years.
"""

from collections import defaultdict
from dataclasses import dataclass, field
from decimal import Decimal

from django.db.models import Count, F, Sum

from relief import workflow as wf
from relief.errors import NotAllowed
from relief.models import (
    OPEN_BATCH_STATES,
    Application,
    BatchItem,
    DonationCollection,
    FundAccount,
    FundSource,
)
from relief.models.money import to_cents
from unions.models import Level, Role, Union
from unions.selectors import unions_in_scope

ZERO = Decimal("0.00")
FUND_PAGE_ROLES = {Role.DISTRICT_OFFICER, Role.TOWN_REVIEWER}


def fund_towns_for_user(user):
    """District officers (and superusers) see every town; a town sees its own; others none."""
    if not (user.is_superuser or user.role in FUND_PAGE_ROLES):
        raise NotAllowed
    return unions_in_scope(user).filter(level=Level.TOWN).order_by("path")


@dataclass
class FundLine:
    year: int
    source: str
    income: Decimal = ZERO
    paid: Decimal = ZERO
    # In open payment batches drawing on this account, not yet paid.
    committed: Decimal = ZERO

    @property
    def source_label(self) -> str:
        return FundSource(self.source).label

    @property
    def balance(self) -> Decimal:
        return self.income - self.paid

    @property
    def available(self) -> Decimal:
        return self.income - self.paid - self.committed


@dataclass
class TownFunds:
    town: Union
    lines: list[FundLine] = field(default_factory=list)
    # Approved cases not yet in a payment batch: owed, but no source chosen yet.
    unassigned: Decimal = ZERO

    def total(self, attr: str) -> Decimal:
        return sum((getattr(line, attr) for line in self.lines), ZERO)


def fund_overview(user, year: int | None = None, towns=None) -> list[TownFunds]:
    """`towns`: fund_towns_for_user(user) already read, when the caller has it."""
    towns = list(fund_towns_for_user(user) if towns is None else towns)
    town_ids = [t.pk for t in towns]
    lines: dict[tuple, FundLine] = {}

    def line(town_id, source, year_):
        key = (town_id, year_, source)
        if key not in lines:
            lines[key] = FundLine(year=year_, source=source)
        return lines[key]

    accounts = FundAccount.objects.filter(town_id__in=town_ids)
    committed = BatchItem.objects.filter(
        batch__state__in=OPEN_BATCH_STATES, application__union__parent_id__in=town_ids
    )
    if year:
        accounts = accounts.filter(year=year)
        committed = committed.filter(batch__fund_year=year)
    for a in accounts.values("town_id", "source", "year", "income_total", "paid_total"):
        found = line(a["town_id"], a["source"], a["year"])
        found.income, found.paid = a["income_total"], a["paid_total"]
    for c in committed.values(
        "application__union__parent_id", "batch__fund_source", "batch__fund_year"
    ).annotate(total=Sum("amount")):
        found = line(
            c["application__union__parent_id"], c["batch__fund_source"], c["batch__fund_year"]
        )
        found.committed = to_cents(c["total"])
    unassigned = dict(
        Application.objects.filter(state=wf.S_APPROVED, union__parent_id__in=town_ids)
        .exclude(batch_items__batch__state__in=OPEN_BATCH_STATES)
        .values("union__parent_id")
        .annotate(total=Sum(F("approved_amount") - F("paid_amount")))
        .values_list("union__parent_id", "total")
    )
    by_town = defaultdict(list)
    order = {s: i for i, s in enumerate(FundSource.values)}
    for (town_id, _year, _source), found in sorted(
        lines.items(), key=lambda kv: (-kv[0][1], order[kv[0][2]])
    ):
        by_town[town_id].append(found)
    return [
        TownFunds(town=t, lines=by_town[t.pk], unassigned=to_cents(unassigned.get(t.pk)))
        for t in towns
    ]


@dataclass(frozen=True)
class DonationTotal:
    town: str
    union: str
    year: int
    collections: int
    donors: int
    amount: Decimal


@dataclass(frozen=True)
class TownDonationTotal:
    """十元捐 of one town in one year: the funds page's row, linking to its unions."""

    town: Union
    year: int
    collections: int
    donors: int
    amount: Decimal


def donation_town_totals(user, year: int | None = None, towns=None) -> list[TownDonationTotal]:
    """十元捐 per town and year (newest year first, towns in tree order), for the towns the
    user sees: one row per campaign, one query whatever the number of collections."""
    towns = {t.pk: t for t in (fund_towns_for_user(user) if towns is None else towns)}
    rows = DonationCollection.objects.filter(campaign__town__in=list(towns))
    if year:
        rows = rows.filter(campaign__year=year)
    grouped = (
        rows.values("campaign__town_id", "campaign__year")
        .annotate(n=Count("pk"), donors=Sum("donor_count"), amount=Sum("amount"))
        .order_by()
    )
    found = [
        TownDonationTotal(
            town=towns[r["campaign__town_id"]],
            year=r["campaign__year"],
            collections=r["n"],
            donors=r["donors"] or 0,
            amount=to_cents(r["amount"]),
        )
        for r in grouped
    ]
    return sorted(found, key=lambda r: (-r.year, r.town.path))


def donation_totals(user, year: int | None = None, town: Union | None = None):
    """十元捐 per grassroots union and year, for the towns the user sees (only `town`'s)."""
    return donation_rows(donation_union_rows(user, year, town))


def donation_union_rows(user, year: int | None = None, town: Union | None = None):
    """The rows of donation_totals() as a queryset of dicts, to slice or paginate first and
    turn into DonationTotal with donation_rows()."""
    towns = fund_towns_for_user(user)
    rows = DonationCollection.objects.filter(campaign__town__in=towns)
    if town is not None:
        rows = rows.filter(campaign__town=town)
    if year:
        rows = rows.filter(campaign__year=year)
    return (
        rows.values("campaign__year", "campaign__town__name", "campaign__town__path", "union__name")
        .annotate(n=Count("pk"), donors=Sum("donor_count"), amount=Sum("amount"))
        .order_by("-campaign__year", "campaign__town__path", "union__name")
    )


def donation_rows(grouped) -> list[DonationTotal]:
    return [
        DonationTotal(
            town=r["campaign__town__name"],
            union=r["union__name"],
            year=r["campaign__year"],
            collections=r["n"],
            donors=r["donors"],
            amount=to_cents(r["amount"]),
        )
        for r in grouped
    ]


def fund_years(user, towns=None) -> list[int]:
    """The years with a fund account in the user's towns, newest first (distinct in SQL: a
    district has an account per town, source and year)."""
    towns = fund_towns_for_user(user) if towns is None else [t.pk for t in towns]
    return list(
        FundAccount.objects.filter(town__in=towns)
        .values_list("year", flat=True)
        .distinct()
        .order_by("-year")
    )
