"""A case with `rows` entries in every history its admin page shows (visits with photos,
attachments, meeting decisions, advances and shortfalls, payouts, follow-ups, notices with
objections), for the query-count test and bench/case_page.py.

The rows are written directly, not through the services: the page is what is measured, and
a long history through the workflow would take most of a minute. They are still rows the
services could have written, so PostgreSQL's guards accept them: the case is approved for
more than its payouts, and its town's fund account holds them (`fund` below).
"""

import datetime as dt
from decimal import Decimal

from relief.models import (
    Advance,
    Application,
    Attachment,
    AuditEntry,
    Disbursement,
    FollowUp,
    HomeVisit,
    NoticeItem,
    Objection,
    PublicNotice,
    ReviewDecision,
    ReviewMeeting,
)
from relief.models.advance import AdvanceShortfall
from tests.factories import fund

PAYOUT = Decimal("1.00")


def long_history(case, people, rows: int, *, funded: bool = False):
    """Give `case` (a draft of alice's, in carol's town) `rows` rows in every history. The
    town's fund account is filled for the payouts unless `funded` (well_funded did it)."""
    town = case.union.parent
    today = dt.date.today()
    approved = PAYOUT * rows * 2 + 1000
    Application.objects.filter(pk=case.pk).update(
        state="approved",
        recommended_amount=approved,
        approved_amount=approved,
        followed_up=rows > 0,  # as follow_up_record marks a case with a follow-up on file
    )
    if not funded:
        fund(people.erin, town, str(PAYOUT * rows * 2), year=today.year)
    for i in range(rows):
        visit = HomeVisit.objects.create(
            application=case,
            visit_date=today - dt.timedelta(days=i),
            visitors="梁慧敏、何建华",
            findings=f"情况属实\n第 {i} 次",
            verified_household_income=Decimal("1800.00"),
            verified_monthly_expenses=Decimal("3200.50"),
            recorded_by=people.carol,
        )
        for home_visit, kind in ((visit, "photo"), (None, "diagnosis")):
            Attachment.objects.create(
                application=case,
                home_visit=home_visit,
                kind=kind,
                file=f"attachments/test/{i}-{kind}.jpg",
                original_name=f"{kind}-{i}.jpg",
                content_type="image/jpeg",
                size=1234 + i,
                uploaded_by=people.alice if home_visit is None else people.carol,
            )
        meeting = ReviewMeeting.objects.create(
            town=town,
            meeting_date=today - dt.timedelta(days=i),
            attendees="梁慧敏、何建华",
            minutes="研讨",
            recorded_by=people.carol,
        )
        recommend = i % 2 == 0
        ReviewDecision.objects.create(
            meeting=meeting,
            application=case,
            decision="recommend" if recommend else "return",
            amount=Decimal("1000.00") if recommend else None,
            comment=f"研讨意见 {i}",
        )
        payout = Disbursement.objects.create(
            application=case,
            amount=PAYOUT,
            paid_on=today,
            method="cash" if i % 2 else "bank",
            fund_source="district",
            town=town,
            fund_year=today.year,
            voucher_no=f"PZ-{i}",
            notes="补发" if i % 2 else "",
            recorded_by=people.erin,
        )
        FollowUp.objects.create(
            application=case,
            follow_up_date=today,
            method="phone",
            findings=f"已收到 {i}",
            recorded_by=people.carol,
        )
        # One advance per case that is not cancelled (a database constraint): the earlier
        # ones were cancelled, the last one was paid.
        last = i == rows - 1
        advance = Advance.objects.create(
            application=case,
            amount=Decimal("500.00"),
            reason=f"住院押金 {i}",
            basis="home_visit" if i % 2 else "phone",
            phone_verified_on=today,
            phone_findings="电话核实属实",
            state="paid" if last else "cancelled",
            granted_by=people.erin,
            file_due_on=today - dt.timedelta(days=1),
            payout=payout if last else None,
        )
        AdvanceShortfall.objects.create(
            advance=advance,
            application=case,
            amount=Decimal("100.00"),
            cause="approved_less",
            advance_amount=Decimal("500.00"),
            approved_amount=Decimal("400.00"),
            town=town,
            fund_source="town",
            fund_year=today.year,
            recorded_by=people.erin,
        )
        recommendation = AuditEntry.objects.create(
            application=case, actor=people.carol, action="recommend", comment=f"推荐 {i}"
        )
        notice = PublicNotice.objects.create(
            town=town,
            year=today.year,
            seq=PublicNotice.objects.filter(town=town, year=today.year).count() + 1,
            posted_at="各基层工会公示栏",
            starts_on=today - dt.timedelta(days=10),
            workdays=5,
            ends_on=today - dt.timedelta(days=3),
            opened_by=people.carol,
        )
        item = NoticeItem.objects.create(
            notice=notice, application=case, recommendation=recommendation, amount=approved
        )
        Objection.objects.create(
            item=item,
            received_on=today - dt.timedelta(days=5),
            channel="phone",
            content="有异议",
            handler="何建华",
            recorded_by=people.carol,
            **(
                {"outcome": "dismissed", "finding": "不属实", "resolved_on": today} if i % 2 else {}
            ),
        )
    return case
