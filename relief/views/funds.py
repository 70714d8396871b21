"""The funds page: income, paid, committed and available per town, source and year."""

from collections import defaultdict

from django.contrib.auth.decorators import login_required
from django.shortcuts import render

from relief.selectors.advances import shortfalls_for_user
from relief.selectors.funds import donation_totals, fund_overview, fund_years


@login_required
def funds(request):
    years = fund_years(request.user)
    try:
        year = int(request.GET.get("year") or 0) or None
    except ValueError:
        year = None
    overview = fund_overview(request.user, year)
    donations = donation_totals(request.user, year)
    donation_by_town = defaultdict(lambda: {"donors": 0, "amount": 0})
    for row in donations:
        key = (row.year, row.town)
        donation_by_town[key]["donors"] += row.donors
        donation_by_town[key]["amount"] += row.amount
    return render(
        request,
        "relief/funds.html",
        {
            "overview": overview,
            "years": years,
            "year": year,
            "donations": donations,
            # 先行救助 not covered by the district: paid from these accounts, borne by them.
            "shortfalls": shortfalls_for_user(request.user, year).order_by(
                "-fund_year", "town__path", "-recorded_at"
            ),
            "donation_towns": [
                {"year": y, "town": t, **totals} for (y, t), totals in donation_by_town.items()
            ],
        },
    )
