"""The demo agrees with itself: every case's steps in order, in the case's own year, approval
before payment, and the audit trail dated as the timestamps are (issue 13.7)."""

import io
import itertools

import pytest
from django.core.management import call_command
from django.utils import timezone

from relief.models import Application, Disbursement, FollowUp, FundIncome, HomeVisit

# A case's timestamps in the order its steps are taken.
STEPS = [
    "submitted_at",
    "verified_at",
    "recommended_at",
    "approved_at",
    "disbursed_at",
    "closed_at",
]


def _local(value):
    return timezone.localtime(value).date() if value else None


@pytest.fixture
def demo(db):
    call_command("load_demo", stdout=io.StringIO())


def test_every_demo_case_is_consistent_with_itself(demo):
    cases = list(Application.objects.prefetch_related("disbursements__advance", "audit_entries"))
    assert len(cases) >= 16
    paid = [c for c in cases if c.approved_at and c.disbursements.all()]
    assert len(paid) >= 8  # the current year's paid cases and 梁志明's six years
    problems = []
    for case in cases:
        applied = case.application_date
        stamps = [(name, getattr(case, name)) for name in STEPS if getattr(case, name)]
        for (a, earlier), (b, later) in itertools.pairwise(stamps):
            if earlier > later:
                problems.append(f"{case.reference}: {a} {earlier} after {b} {later}")
        for name, value in stamps:
            if _local(value) < applied or _local(value).year != applied.year:
                problems.append(f"{case.reference}: {name} {_local(value)}, applied {applied}")
        for payout in case.disbursements.all():
            if payout.paid_on.year != applied.year or payout.paid_on < applied:
                problems.append(f"{case.reference}: paid {payout.paid_on}, applied {applied}")
            # An emergency advance (先行救助) is the one payout made before the approval.
            is_advance = hasattr(payout, "advance")
            if case.approved_at and _local(case.approved_at) > payout.paid_on and not is_advance:
                problems.append(
                    f"{case.reference}: approved {_local(case.approved_at)} after paid "
                    f"{payout.paid_on}"
                )
        for entry in case.audit_entries.all():
            if _local(entry.at) < applied or _local(entry.at).year != applied.year:
                problems.append(f"{case.reference}: {entry.action} at {_local(entry.at)}")
        if case.approved_at:
            approve = [e for e in case.audit_entries.all() if e.action == "approve"]
            if [_local(e.at) for e in approve] != [_local(case.approved_at)]:
                problems.append(f"{case.reference}: the trail's approval is not approved_at")
    assert problems == []


def test_visits_follow_ups_and_income_are_dated_with_their_cases(demo):
    for visit in HomeVisit.objects.select_related("application"):
        app = visit.application
        assert app.application_date <= visit.visit_date <= _local(app.verified_at)
        assert _local(visit.recorded_at) == visit.visit_date
    for follow_up in FollowUp.objects.select_related("application"):
        app = follow_up.application
        paid = max(d.paid_on for d in app.disbursements.all())
        assert paid <= follow_up.follow_up_date <= _local(app.closed_at)
    for payout in Disbursement.objects.all():
        assert _local(payout.recorded_at) == payout.paid_on
    # The town funds that paid 梁志明's past years came in (and were recorded) before.
    for income in FundIncome.objects.filter(account__year__lt=2025, account__source="town"):
        assert _local(income.recorded_at) == income.received_on
        assert income.received_on.year == income.account.year


def test_liang_was_approved_before_each_payment(demo):
    """The walk through the reports found 梁志明's approvals dated after his payouts."""
    cases = Application.objects.filter(worker__name="梁志明").order_by("application_date")
    assert [c.application_date.year for c in cases] == [2019, 2020, 2021, 2022, 2023, 2024]
    for case in cases:
        payout = case.disbursements.get()
        assert case.application_date < _local(case.approved_at) < payout.paid_on
        assert case.grassroots_opinion  # the caseworker's opinion, as entered
