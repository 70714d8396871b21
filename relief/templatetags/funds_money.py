"""{{ value|money }}: 1,234.50 from a Decimal, whatever the language's number format; and the
funds page's table rows, joined in Python.

The funds page shows a district's twenty towns, each with a table of its accounts, and a row
per town of 十元捐: as template loops (a filter and a lookup per cell, a URL tag per row) they
were 40 % of the page's time at scale (bench/RESULTS.md, session 27). The rows below are the
same markup, each cell escaped or a number formatted here.
"""

from decimal import Decimal

from django import template
from django.contrib.humanize.templatetags.humanize import intcomma
from django.urls import reverse
from django.utils.html import escape
from django.utils.safestring import mark_safe
from django.utils.translation import gettext

register = template.Library()


@register.filter
def money(value) -> str:
    if value is None or value == "":
        return ""
    return f"{Decimal(value):,.2f}"


@register.filter
def fund_line_rows(lines) -> str:
    """A town's account lines (relief.selectors.funds.FundLine) as <tr> rows."""
    rows = []
    for line in lines:
        available = line.available
        short = " error" if available < 0 else ""
        rows.append(
            f'<tr><td class="year">{line.year}</td>'
            f'<td class="source">{escape(line.source_label)}</td>'
            f'<td class="num">{money(line.income)}</td><td class="num">{money(line.paid)}</td>'
            f'<td class="num">{money(line.balance)}</td>'
            f'<td class="num">{money(line.committed)}</td>'
            f'<td class="num{short}">{money(available)}</td></tr>'
        )
    return mark_safe("\n".join(rows))  # noqa: S308 (escaped or numbers, above)


@register.filter
def donation_town_rows(totals) -> str:
    """十元捐 per town and year (relief.selectors.funds.TownDonationTotal) as <tr> rows, each
    linking to the amounts per grassroots union."""
    link_text = escape(gettext("Per grassroots union"))
    rows = []
    for total in totals:
        url = escape(reverse("funds:donations", args=[total.town.code, total.year]))
        rows.append(
            f'<tr><td class="year">{total.year}</td>'
            f'<td class="source">{escape(total.town.name)}</td>'
            f'<td class="num">{escape(intcomma(total.collections))}</td>'
            f'<td class="num">{escape(intcomma(total.donors))}</td>'
            f'<td class="num">{money(total.amount)}</td>'
            f'<td><a href="{url}">{link_text}</a></td></tr>'
        )
    return mark_safe("\n".join(rows))  # noqa: S308 (escaped or numbers, above)
