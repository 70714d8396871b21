"""The funds page: income, paid, committed and available per town, source and year; 十元捐
per town and year, and per grassroots union on a page of its own for one town and year."""

from django.contrib.auth.decorators import login_required
from django.core.paginator import Paginator
from django.db.models import Count, Sum
from django.http import Http404
from django.shortcuts import render
from django.utils import timezone
from django.views.decorators.http import require_GET

from relief.models import DonationCollection
from relief.models.money import to_cents
from relief.selectors.advances import shortfalls_for_user
from relief.selectors.funds import (
    donation_rows,
    donation_town_totals,
    donation_union_rows,
    fund_overview,
    fund_towns_for_user,
    fund_years,
)

# Grassroots unions per page of one town's 十元捐 (a town has a few hundred at most).
DONATION_PAGE_SIZE = 100
# The years a fund account or campaign may have (relief.models: PositiveSmallIntegerField).
MIN_YEAR, MAX_YEAR = 1900, 9999


ALL_YEARS = "all"
# The shortfall table's columns (templates/relief/funds.html).
SHORTFALL_COLUMNS = [
    "cause",
    "amount",
    "advance_amount",
    "approved_amount",
    "fund_source",
    "fund_year",
    "application__reference",
    "town__name",
]


def chosen_year(request) -> int | None:
    """The year the funds page shows: the one asked for, None for "all" (every year), and this
    year (the local date's, Asia/Shanghai) when none is asked for or it is not a year an
    account may have. One year by default: a district's accounts and campaigns of every year
    made a page of hundreds of rows, slow to render and to read (issue 16)."""
    asked = request.GET.get("year", "").strip()
    if asked == ALL_YEARS:
        return None
    try:
        year = int(asked)
    except ValueError:
        year = None
    if year is None or not MIN_YEAR <= year <= MAX_YEAR:
        return timezone.localdate().year
    return year


@login_required
def funds(request):
    year = chosen_year(request)
    # Read once for the figures below (each would otherwise ask for the towns again).
    towns = list(fund_towns_for_user(request.user))
    # The years with accounts, and this year and the one shown even before their first income.
    years = sorted(
        {*fund_years(request.user, towns), timezone.localdate().year, *([year] if year else [])},
        reverse=True,
    )
    return render(
        request,
        "relief/funds.html",
        {
            "overview": fund_overview(request.user, year, towns),
            "years": years,
            "year": year,
            "all_years": ALL_YEARS,
            # One row per town and year; its unions on funds:donations.
            "donation_towns": donation_town_totals(request.user, year, towns),
            # 先行救助 not covered by the district: paid from these accounts, borne by them.
            # Only what the table shows (not the case's narrative, nor the worker's card).
            "shortfalls": shortfalls_for_user(request.user, year)
            .select_related(None)
            .select_related("application", "town")
            .only(*SHORTFALL_COLUMNS)
            .order_by("-fund_year", "town__path", "-recorded_at"),
        },
    )


@login_required
@require_GET
def donations(request, town: str, year: int):
    """十元捐 of one town in one year, per grassroots union (a page of them at a time)."""
    found = fund_towns_for_user(request.user).filter(code=town).first()
    if found is None or not MIN_YEAR <= year <= MAX_YEAR:
        raise Http404
    rows = donation_union_rows(request.user, year, found)
    page = Paginator(rows, DONATION_PAGE_SIZE).get_page(request.GET.get("page"))
    total = DonationCollection.objects.filter(campaign__town=found, campaign__year=year).aggregate(
        n=Count("pk"), donors=Sum("donor_count"), amount=Sum("amount")
    )
    return render(
        request,
        "relief/funds_donations.html",
        {
            "town": found,
            "year": year,
            "page": page,
            "rows": donation_rows(page.object_list),
            "total": {
                "collections": total["n"],
                "donors": total["donors"] or 0,
                "amount": to_cents(total["amount"]),
            },
        },
    )
