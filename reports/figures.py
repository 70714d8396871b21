"""The numbers every report and the dashboard show, one aggregate query per breakdown.

A payout belongs to a period by its payment date (发放日期) and to a unit by the union that
filed the case. 人次 counts payouts, 人数 counts distinct workers. A case with several hardship
categories is counted under its first category (by the categories' configured order), so the
category breakdown adds up to the total like every other breakdown.
"""

import datetime as dt
from collections import defaultdict
from dataclasses import dataclass, field
from decimal import Decimal

from django.db.models import Count, F, Max, OuterRef, Q, QuerySet, Subquery, Sum
from django.db.models.functions import ExtractMonth, ExtractYear

from relief.models import (
    Disbursement,
    FundSource,
    HardshipCategory,
    MonthlyTotal,
    PersonCount,
)
from relief.models.totals import NO_CATEGORY
from unions.models import Level, Union

ZERO = Decimal("0.00")


@dataclass(frozen=True)
class Period:
    """Whole calendar years, first to last inclusive."""

    first_year: int
    last_year: int

    def __post_init__(self):
        if self.first_year > self.last_year:
            raise ValueError("the first year comes after the last")

    @property
    def start(self) -> dt.date:
        return dt.date(self.first_year, 1, 1)

    @property
    def end(self) -> dt.date:
        return dt.date(self.last_year, 12, 31)

    @property
    def single_year(self) -> bool:
        return self.first_year == self.last_year

    @property
    def years(self) -> list[int]:
        return list(range(self.first_year, self.last_year + 1))

    def label(self) -> str:
        if self.single_year:
            return f"{self.first_year}年"
        return f"{self.first_year}—{self.last_year}年"


def unit_payouts(unit: Union) -> QuerySet[Disbursement]:
    """Every payout on a case filed in the unit's subtree, whenever it was paid."""
    return Disbursement.objects.received().filter(application__union__path__startswith=unit.path)


def period_payouts(unit: Union, period: Period) -> QuerySet[Disbursement]:
    return unit_payouts(unit).filter(paid_on__gte=period.start, paid_on__lte=period.end)


def _primary_category(field: str):
    """A field of the payout's case's first category, as a correlated subquery."""
    return Subquery(
        HardshipCategory.objects.filter(applications=OuterRef("application_id"))
        .order_by("order", "name")
        .values(field)[:1]
    )


@dataclass
class Breakdown:
    """One row of a breakdown table or chart."""

    key: str
    label: str
    count: int
    persons: int
    total: Decimal


@dataclass
class Summary:
    count: int = 0
    persons: int = 0
    total: Decimal = ZERO
    largest: Decimal = ZERO
    by_category: list[Breakdown] = field(default_factory=list)
    by_union: list[Breakdown] = field(default_factory=list)
    by_fund_source: list[Breakdown] = field(default_factory=list)
    # Chart: per year for a range of years, per month for a single year.
    by_time: list[Breakdown] = field(default_factory=list)
    union_level_label: str = ""

    @property
    def average(self) -> Decimal:
        if not self.count:
            return ZERO
        return (self.total / self.count).quantize(Decimal("0.01"))


def _rows(qs, key_expr, label_of) -> list[Breakdown]:
    rows = (
        qs.annotate(k=key_expr)
        .values("k")
        .annotate(
            n=Count("pk"),
            p=Count("application__worker", distinct=True),
            s=Sum("amount"),
        )
        .order_by("k")
    )
    return [
        Breakdown(
            key=str(r["k"]),
            label=label_of(r["k"]),
            count=r["n"],
            persons=r["p"],
            total=r["s"] or ZERO,
        )
        for r in rows
    ]


def headline(qs: QuerySet[Disbursement]) -> dict:
    """人次, 人数, total and largest single payout in one query."""
    agg = qs.aggregate(
        n=Count("pk"),
        p=Count("application__worker", distinct=True),
        s=Sum("amount"),
        m=Max("amount"),
    )
    return {
        "count": agg["n"],
        "persons": agg["p"],
        "total": agg["s"] or ZERO,
        "largest": agg["m"] or ZERO,
    }


def by_category(qs) -> list[Breakdown]:
    rows = (
        qs.annotate(k=_primary_category("name"), o=_primary_category("order"))
        .values("k", "o")
        .annotate(
            n=Count("pk"),
            p=Count("application__worker", distinct=True),
            s=Sum("amount"),
        )
        .order_by("o", "k")
    )
    return [Breakdown(str(r["k"]), r["k"] or "—", r["n"], r["p"], r["s"] or ZERO) for r in rows]


def union_breakdown_level(unit: Union) -> str:
    """District reports break down by town; town and grassroots reports by grassroots union."""
    return Level.TOWN if unit.level == Level.DISTRICT else Level.GRASSROOTS


def by_union(qs, unit: Union) -> list[Breakdown]:
    """One row per town (district unit) or grassroots union (town unit), in tree order.

    Every active union of that level in the unit appears, with zeros if it paid nothing in
    the period: a town missing from the table reads as a town that does not exist. Two
    queries whatever the size: the unions, and the payouts grouped by union.
    """
    level = union_breakdown_level(unit)
    prefix = "application__union__parent" if level == Level.TOWN else "application__union"
    rows = (
        qs.values(f"{prefix}_id")
        .annotate(
            n=Count("pk"),
            p=Count("application__worker", distinct=True),
            s=Sum("amount"),
        )
        .order_by()
    )
    paid = {r[f"{prefix}_id"]: r for r in rows}
    unions = (
        Union.objects.filter(path__startswith=unit.path, level=level)
        .filter(Q(is_active=True) | Q(pk__in=list(paid)))
        .order_by("path")
        .values_list("pk", "name")
    )
    out = []
    for pk, name in unions:
        r = paid.get(pk, {})
        out.append(
            Breakdown(
                key=str(pk),
                label=name,
                count=r.get("n", 0),
                persons=r.get("p", 0),
                total=r.get("s") or ZERO,
            )
        )
    return out


def by_fund_source(qs) -> list[Breakdown]:
    labels = dict(FundSource.choices)
    order = list(labels)
    rows = _rows(qs, F("fund_source"), lambda k: str(labels.get(k, k)))
    return sorted(rows, key=lambda r: order.index(r.key) if r.key in order else len(order))


def by_time(qs, period: Period) -> list[Breakdown]:
    """Per month of a single year (all twelve), or per year of a range (every year)."""
    if period.single_year:
        found = {r.key: r for r in _rows(qs, ExtractMonth("paid_on"), lambda k: f"{k}月")}
        slots = [(str(m), f"{m}月") for m in range(1, 13)]
    else:
        found = {r.key: r for r in _rows(qs, ExtractYear("paid_on"), lambda k: f"{k}年")}
        slots = [(str(y), f"{y}年") for y in period.years]
    return [found.get(k) or Breakdown(k, label, 0, 0, ZERO) for k, label in slots]


def summary_from_ledger(unit: Union, period: Period) -> Summary:
    """The Summary aggregated from every payout: what summary() must equal (tests, checks)."""
    qs = period_payouts(unit, period)
    level = union_breakdown_level(unit)
    return Summary(
        **headline(qs),
        by_category=by_category(qs),
        by_union=by_union(qs, unit),
        by_fund_source=by_fund_source(qs),
        by_time=by_time(qs, period),
        union_level_label="镇（街道）" if level == Level.TOWN else "基层工会",
    )


def summary(unit: Union, period: Period) -> Summary:
    """The Summary read from the monthly totals (relief.models.totals): a few hundred rows of
    the district's towns, or a town's own rows (its grassroots unions' only for the per-union
    breakdown), whatever the number of payouts.

    人次 and amounts are sums of MonthlyTotal; 人数 sums of PersonCount (distinct workers per
    unit, breakdown and year, split by the previous year paid), never a COUNT(DISTINCT).
    """
    level = union_breakdown_level(unit)
    if unit.level == Level.GRASSROOTS:
        union_ids = [unit.pk]
    else:
        union_ids = list(
            Union.objects.filter(path__startswith=unit.path, level=level).values_list(
                "pk", flat=True
            )
        )
    in_period = {"year__gte": period.first_year, "year__lte": period.last_year}
    totals = MonthlyTotal.objects.filter(union_id__in=union_ids, payouts__gt=0, **in_period)
    # Every payout is counted on its grassroots union and again on that union's town: a
    # town's headline and its category, source and time breakdowns read the town's own rows
    # (one index range), not every row of its hundred unions; only the per-union breakdown
    # needs those.
    own = totals
    if unit.level == Level.TOWN:
        own = MonthlyTotal.objects.filter(union_id=unit.pk, payouts__gt=0, **in_period)
    time_field = "month" if period.single_year else "year"
    persons = _persons(unit, union_ids, period)

    # One query reads the sums of every breakdown at once (grouped by all of their keys, a
    # few thousand rows at most), folded here: not a query per breakdown over the same index
    # range (five ranges of 18,000 rows for the district at a city's scale). A town's own
    # rows leave out its unions, so its per-union breakdown is a second query.
    keys = ["category", "source", time_field]
    if own is totals:
        keys.append("union_id")
    rows = list(
        own.values(*keys)
        .annotate(n=Sum("payouts"), s=Sum("paid_cents"), m=Max("largest_cents"))
        .order_by()
    )
    if own is not totals:
        rows_by_union = list(
            totals.values("union_id").annotate(n=Sum("payouts"), s=Sum("paid_cents")).order_by()
        )
    else:
        rows_by_union = rows

    def grouped(by: str, kind: str, rows=rows) -> dict:
        """key -> (人次, 人数, total) for one breakdown, summed from the rows read above."""
        sums: dict = defaultdict(lambda: [0, 0])
        for r in rows:
            if r["n"]:
                sums[r[by]][0] += r["n"]
                sums[r[by]][1] += r["s"] or 0
        return {
            key: (n, persons.get((kind, str(key)), 0), _yuan(fen))
            for key, (n, fen) in sums.items()
            if n
        }

    result = Summary(
        count=sum(r["n"] or 0 for r in rows),
        persons=persons.get((PersonCount.ALL, ""), 0),
        total=_yuan(sum(r["s"] or 0 for r in rows)),
        largest=_yuan(max((r["m"] or 0 for r in rows), default=None)),
        union_level_label="镇（街道）" if level == Level.TOWN else "基层工会",
    )

    # Per union: every active union of the level, and any other that paid.
    paid = grouped("union_id", "union", rows_by_union)
    unions = (
        Union.objects.filter(path__startswith=unit.path, level=level)
        .filter(Q(is_active=True) | Q(pk__in=list(paid)))
        .order_by("path")
        .values_list("pk", "name")
    )
    result.by_union = [Breakdown(str(pk), name, *paid.get(pk, (0, 0, ZERO))) for pk, name in unions]

    found = grouped("category", PersonCount.CATEGORY)
    names = {
        c.pk: c
        for c in HardshipCategory.objects.filter(pk__in=[k for k in found if k != NO_CATEGORY])
    }

    def category_order(key):
        c = names.get(key)
        return (1, 0, "") if c is None else (0, c.order, c.name)

    result.by_category = [
        Breakdown(
            str(names[k].name) if k in names else "None",
            names[k].name if k in names else "—",
            *found[k],
        )
        for k in sorted(found, key=category_order)
    ]

    labels = dict(FundSource.choices)
    order = list(labels)
    found = grouped("source", PersonCount.SOURCE)
    result.by_fund_source = [
        Breakdown(k, str(labels.get(k, k)), *found[k])
        for k in sorted(found, key=lambda k: order.index(k) if k in order else len(order))
    ]

    found = grouped(time_field, PersonCount.MONTH if period.single_year else "year")
    if period.single_year:
        slots = [(m, f"{m}月") for m in range(1, 13)]
    else:
        slots = [(y, f"{y}年") for y in period.years]
    result.by_time = [Breakdown(str(k), label, *found.get(k, (0, 0, ZERO))) for k, label in slots]
    return result


def _persons(unit: Union, union_ids: list[int], period: Period) -> dict:
    """人数 of the unit in the period, one query over PersonCount.

    Keys: (ALL, "") the unit's headline; (CATEGORY, id) and (SOURCE, code) its breakdowns;
    ("union", str(id)) each of `union_ids`; ("year", str(y)) each year and (MONTH, str(m)) each
    month of a single year. A worker paid in several years of the period has a row for each
    year; only the row whose previous year is before the period counts them for the period.
    """
    first = period.first_year
    rows = PersonCount.objects.filter(
        Q(union_id=unit.pk) | Q(union_id__in=union_ids, kind=PersonCount.ALL),
        year__gte=first,
        year__lte=period.last_year,
    )
    if not period.single_year:
        rows = rows.exclude(kind=PersonCount.MONTH)
    found: dict = defaultdict(int)
    for union_id, kind, value, year, previous, n in rows.values_list(
        "union_id", "kind", "value", "year", "previous", "persons"
    ):
        in_period = previous < first
        if union_id == unit.pk:
            if kind == PersonCount.MONTH:
                found[(kind, value)] += n
                continue
            if in_period:
                found[(kind, value)] += n
            if kind == PersonCount.ALL:
                found[("year", str(year))] += n
        if union_id in union_ids and kind == PersonCount.ALL and in_period:
            found[("union", str(union_id))] += n
    return found


def _yuan(fen) -> Decimal:
    return (Decimal(fen or 0) / 100).quantize(Decimal("0.01"))


def worker_period_totals(unit: Union, period: Period) -> dict[int, Decimal]:
    """worker id -> total paid to them in the period (within the unit)."""
    rows = (
        period_payouts(unit, period)
        .values("application__worker_id")
        .annotate(s=Sum("amount"))
        .order_by()
    )
    return {r["application__worker_id"]: r["s"] for r in rows}


def worker_all_time_totals(unit: Union, period: Period) -> dict[int, Decimal]:
    """worker id -> everything ever paid to them up to the period's end, whichever union filed.

    Only for workers paid in the period; a worker helped through several towns over the years
    is still one person with one history.
    """
    in_period = period_payouts(unit, period).values("application__worker_id")
    rows = (
        Disbursement.objects.received()
        .filter(application__worker_id__in=in_period, paid_on__lte=period.end)
        .values("application__worker_id")
        .annotate(s=Sum("amount"))
        .order_by()
    )
    return {r["application__worker_id"]: r["s"] for r in rows}


def dashboard_figures(unit: Union, since_year: int, until_year: int) -> dict:
    """What the dashboard shows: the same Summary as the PDF for the same unit and period."""
    period = Period(since_year, until_year)
    return {"period": period, "summary": summary(unit, period)}
