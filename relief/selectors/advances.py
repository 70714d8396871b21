"""Scoped reads of emergency advances (先行救助), for the case pages, the dashboard and the
work queues (relief.queues wires `overdue_advances` in).

An advance's paperwork is overdue when the town has not completed the file (recommended the
case) by `Advance.file_due_on`, the policy's working days after the grant (relief.workdays),
while the advance is still open (granted or paid, the district not having decided).
"""

import datetime as dt

from django.db.models import QuerySet
from django.utils import timezone

from relief.models import Advance, AdvanceShortfall
from relief.models.advance import FILE_INCOMPLETE_STATES, OPEN_ADVANCE_STATES
from unions.selectors import scope_q


def advances_for_user(user) -> QuerySet[Advance]:
    """Every advance on a case in the user's union subtree (another town's: not there)."""
    return Advance.objects.filter(scope_q(user, "application__union")).select_related(
        "application",
        "application__worker",
        "application__union",
        "application__union__parent",
        "payout",
        "granted_by",
    )


def overdue_advances(user, today: dt.date | None = None) -> QuerySet[Advance]:
    """The user's advances whose file was due before `today` (default: today in Shanghai) and
    is still not complete, the longest overdue first. Each row has `file_due_on`; the age in
    working days is relief.workdays.workdays_between(advance.file_due_on, today)."""
    today = today or timezone.localdate()
    return (
        advances_for_user(user)
        .filter(
            state__in=OPEN_ADVANCE_STATES,
            file_due_on__lt=today,
            application__state__in=FILE_INCOMPLETE_STATES,
        )
        .order_by("file_due_on", "pk")
    )


def overdue_advance_count(user, today: dt.date | None = None) -> int:
    return overdue_advances(user, today).count()


def shortfalls_for_user(user, year: int | None = None) -> QuerySet[AdvanceShortfall]:
    """Shortfalls borne by the fund accounts of the user's towns (of one fund year if given)."""
    rows = AdvanceShortfall.objects.filter(scope_q(user, "application__union")).select_related(
        "application", "application__worker", "town"
    )
    return rows.filter(fund_year=year) if year else rows
