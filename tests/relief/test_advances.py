"""先行救助 (issue 15): granting, paying, settling and cancelling emergency advances.

Every expectation is written from the issue: the policy decides whether, how much, for which
categories and from which funds; the town grants on a home visit (a phone verification for a
disaster); the town or the district pays it from an allowed fund; approval at least the
advance settles it, less or a rejection records a shortfall borne by the fund it came from,
and the money stays in every total; an open advance whose file is not completed in time is
overdue.
"""

import datetime as dt
from decimal import Decimal

import pytest
from django.core.exceptions import ValidationError
from django.utils import translation

from relief import services
from relief import workflow as wf
from relief.errors import NotAllowed, OutOfScope
from relief.models import (
    Advance,
    AdvanceShortfall,
    Application,
    AuditEntry,
    Disbursement,
    FundAccount,
    HardshipCategory,
    Policy,
)
from relief.selectors.advances import overdue_advance_count, overdue_advances
from relief.services.advances import advance_cancel, advance_grant, advance_pay
from relief.services.caps import amount_context
from relief.workdays import add_workdays
from tests.factories import WorkerFactory, file_case, fund, walk
from tests.relief.helpers import english, footprint, message_of

TODAY = dt.date.today()
D = Decimal


def allow_advances(*, cap="3000.00", sources=("town",), workdays=10):
    policy = Policy.objects.get()
    policy.advance_allowed = True
    policy.advance_cap = D(cap)
    policy.advance_from_town = "town" in sources
    policy.advance_from_donation = "donation" in sources
    policy.advance_from_district = "district" in sources
    policy.advance_file_workdays = workdays
    policy.save()
    cats = HardshipCategory.objects.filter(name__in=["重大疾病", "意外伤害", "自然灾害"])
    policy.advance_categories.set(cats)
    policy.advance_phone_categories.set(HardshipCategory.objects.filter(name="自然灾害"))
    return policy


def visited(app, people):
    services.home_visit_record(
        application=app,
        user=people.carol,
        visit_date=TODAY,
        visitors="梁慧敏",
        findings="情况属实，急需手术费",
        verified_household_income=D("1800.00"),
        verified_monthly_expenses=D("3200.00"),
    )
    app.refresh_from_db()
    return app


def submitted(people, *, amount="5000.00", categories=("重大疾病",), worker=None):
    app = file_case(people.alice, worker, amount=amount, categories=categories)
    return services.application_submit(application=app, user=people.alice)


def granted(people, amount="3000.00", **kw):
    app = visited(submitted(people, **kw), people)
    advance_grant(
        application=app, user=people.carol, amount=D(amount), reason="肾源已到，需即付手术费"
    )
    app.refresh_from_db()
    return app


def paid(people, amount="3000.00", *, user=None, **kw):
    app = granted(people, amount, **kw)
    advance_pay(application=app, user=user or people.carol, paid_on=TODAY, method="cash")
    app.refresh_from_db()
    return app


def town_account(people, source="town", year=2022):
    # well_funded: the oldest account that can pay is used first (2022).
    return FundAccount.objects.get(town=people.carol.union, source=source, year=year)


@pytest.fixture
def setup(people, well_funded):
    allow_advances()
    return people


# --- granting --------------------------------------------------------------------------------


def test_grant_records_the_advance_with_its_deadline_and_trail(setup):
    app = granted(setup)
    advance = Advance.objects.get(application=app)
    assert advance.state == "granted" and advance.amount == D("3000.00")
    assert advance.basis == "home_visit"
    assert advance.file_due_on == add_workdays(TODAY, 10)
    assert app.audit_entries.filter(action="advance_grant").count() == 1
    assert app.paid_amount == 0 and app.advance_amount == 0


@pytest.mark.parametrize(
    "change, words",
    [
        ({"advance_allowed": False}, "does not allow emergency advances"),
        ({"categories": ["子女就学"]}, "only these hardship categories qualify"),
    ],
)
def test_grant_refused_by_the_policy(setup, change, words):
    policy = Policy.objects.get()
    if "advance_allowed" in change:
        policy.advance_allowed = False
        policy.save()
    app = visited(submitted(setup, categories=change.get("categories", ("重大疾病",))), setup)
    before = footprint(app)
    with english(), pytest.raises(ValidationError) as exc:
        advance_grant(application=app, user=setup.carol, amount=D("1000.00"), reason="急")
    assert words in message_of(exc)
    assert footprint(app) == before and not Advance.objects.exists()


@pytest.mark.parametrize(
    "amount, words",
    [
        ("3000.01", "above the advance cap of ¥3,000.00"),
        ("0", "greater than zero"),
        ("10.001", "two decimals"),
    ],
)
def test_grant_amount_within_the_cap(setup, amount, words):
    app = visited(submitted(setup), setup)
    with english(), pytest.raises(ValidationError) as exc:
        advance_grant(application=app, user=setup.carol, amount=D(amount), reason="急")
    assert words in message_of(exc)
    assert not Advance.objects.exists()


def test_grant_not_above_the_request(setup):
    app = visited(submitted(setup, amount="2000.00"), setup)
    with english(), pytest.raises(ValidationError) as exc:
        advance_grant(application=app, user=setup.carol, amount=D("2500.00"), reason="急")
    assert "more than the ¥2,000.00 requested" in message_of(exc)


def test_grant_within_the_yearly_cap_counting_what_the_worker_had(setup):
    policy = Policy.objects.get()
    policy.max_per_worker_year = D("6000.00")
    policy.save()
    worker = WorkerFactory(union=setup.alice.union)
    first = walk(
        file_case(setup.alice, worker, amount="5000.00"),
        "closed",
        caseworker=setup.alice,
        reviewer=setup.carol,
        officer=setup.erin,
    )
    assert first.paid_amount == D("5000.00")
    app = visited(submitted(setup, worker=worker, amount="3000.00"), setup)
    with english(), pytest.raises(ValidationError) as exc:
        advance_grant(application=app, user=setup.carol, amount=D("1500.00"), reason="急")
    assert "above the yearly cap" in message_of(exc)
    advance_grant(application=app, user=setup.carol, amount=D("1000.00"), reason="急")


def test_grant_needs_a_home_visit_or_for_a_disaster_a_phone_verification(setup):
    app = submitted(setup)
    with english(), pytest.raises(ValidationError) as exc:
        advance_grant(application=app, user=setup.carol, amount=D("1000.00"), reason="急")
    assert "Record a home visit first" in message_of(exc)

    flood = submitted(setup, categories=("自然灾害",))
    with english(), pytest.raises(ValidationError) as exc:
        advance_grant(application=flood, user=setup.carol, amount=D("1000.00"), reason="洪水")
    assert set(exc.value.message_dict) == {"phone_verified_on", "phone_findings"}
    advance_grant(
        application=flood,
        user=setup.carol,
        amount=D("1000.00"),
        reason="洪水冲毁住房",
        phone_verified_on=TODAY,
        phone_contact="村委会主任",
        phone_findings="住房倒塌属实",
    )
    advance = Advance.objects.get(application=flood)
    assert advance.basis == "phone" and advance.phone_findings == "住房倒塌属实"


def test_one_advance_per_case(setup):
    app = granted(setup, "1000.00")
    with english(), pytest.raises(ValidationError) as exc:
        advance_grant(application=app, user=setup.carol, amount=D("500.00"), reason="再给")
    assert "already has an emergency advance" in message_of(exc)


def test_grant_scope_and_role(setup):
    app = visited(submitted(setup), setup)
    with pytest.raises(OutOfScope):
        advance_grant(application=app, user=setup.dave, amount=D("1000.00"), reason="急")
    for user in (setup.alice, setup.erin):
        with pytest.raises(NotAllowed):
            advance_grant(application=app, user=user, amount=D("1000.00"), reason="急")
    assert not Advance.objects.exists()


# --- paying ------------------------------------------------------------------------------------


def test_pay_draws_on_town_funds_and_counts_as_paid(setup):
    before = town_account(setup).paid_total
    app = paid(setup)
    advance = Advance.objects.get(application=app)
    assert advance.state == "paid"
    payout = advance.payout
    assert payout.amount == D("3000.00") and payout.fund_source == "town"
    assert town_account(setup).paid_total == before + D("3000.00")
    assert app.paid_amount == D("3000.00") == app.advance_amount
    assert app.state == "submitted" and app.approved_amount is None
    assert app.audit_entries.filter(action="advance_pay", disbursement=payout).exists()


def test_pay_only_from_a_source_the_policy_allows(setup):
    app = granted(setup)
    with english(), pytest.raises(ValidationError) as exc:
        advance_pay(
            application=app,
            user=setup.erin,
            paid_on=TODAY,
            method="cash",
            fund_source="district",
            fund_year=TODAY.year,
        )
    assert "allows advances only from: Town funds" in message_of(exc)
    assert not Disbursement.objects.filter(application=app).exists()


def test_pay_refused_when_the_allowed_fund_cannot_cover_it(people):
    allow_advances()
    fund(people.carol, people.carol.union, "1000.00", source="town")
    fund(people.erin, people.carol.union, "100000.00")  # district money is not allowed
    app = granted(people, "2000.00")
    with english(), pytest.raises(ValidationError) as exc:
        advance_pay(application=app, user=people.carol, paid_on=TODAY, method="cash")
    assert "has ¥2,000.00 available" in message_of(exc) or "No account" in message_of(exc)
    app.refresh_from_db()
    assert app.paid_amount == 0 and app.advance_amount == 0


def test_pay_by_the_district_and_by_bank_fixes_the_payout_account(setup):
    app = granted(setup)
    advance_pay(application=app, user=setup.erin, paid_on=TODAY, method="bank", voucher_no="XJ-1")
    app.refresh_from_db()
    assert app.payout_card == app.worker.bank_card


def test_pay_once_only(setup):
    app = paid(setup)
    with english(), pytest.raises(ValidationError) as exc:
        advance_pay(application=app, user=setup.carol, paid_on=TODAY, method="cash")
    assert "no emergency advance awaiting payment" in message_of(exc)
    assert Disbursement.objects.filter(application=app).count() == 1


def test_pay_scope(setup):
    app = granted(setup)
    with pytest.raises(OutOfScope):
        advance_pay(application=app, user=setup.dave, paid_on=TODAY, method="cash")
    with pytest.raises(NotAllowed):
        advance_pay(application=app, user=setup.alice, paid_on=TODAY, method="cash")


def test_the_advance_payout_cannot_be_reversed(setup):
    app = paid(setup)
    app = walk_on(app, setup, "approved", amount="5000.00")
    with english(), pytest.raises(ValidationError) as exc:
        services.disbursement_reverse(
            payout=app.advances.get().payout, user=setup.erin, reason="退票"
        )
    assert "emergency advance" in message_of(exc)


# --- the district's decision -------------------------------------------------------------------


def walk_on(app, people, state, *, amount):
    """On from submitted, through verification and recommendation, to `state`."""
    steps = {"verified": 1, "recommended": 2, "approved": 3}[state]
    if not app.home_visits.exists():
        visited(app, people)
    app = services.application_verify(application=app, user=people.carol)
    if steps >= 2:
        app = services.application_recommend(
            application=app, user=people.carol, amount=D(amount), comment="研讨同意"
        )
    if steps >= 3:
        app = services.application_approve(application=app, user=people.erin, amount=D(amount))
    return app


def test_approval_above_the_advance_settles_it_and_payouts_reach_the_approved_amount(setup):
    app = walk_on(paid(setup), setup, "approved", amount="5000.00")
    assert app.advances.get().state == "settled"
    assert app.state == "approved" and app.outstanding_amount == D("2000.00")
    with english(), pytest.raises(ValidationError) as exc:
        services.disbursement_record(
            application=app, user=setup.erin, amount=D("2000.01"), paid_on=TODAY, method="cash"
        )
    assert "more than the ¥2,000.00 still to be paid" in message_of(exc)
    services.disbursement_record(
        application=app, user=setup.erin, amount=D("2000.00"), paid_on=TODAY, method="cash"
    )
    app.refresh_from_db()
    assert app.state == "disbursed" and app.paid_amount == D("5000.00")
    assert not AdvanceShortfall.objects.exists()


def test_approval_equal_to_the_advance_is_paid_already(setup):
    app = walk_on(paid(setup), setup, "approved", amount="3000.00")
    assert app.state == "disbursed" and app.paid_amount == app.approved_amount
    assert app.advances.get().state == "settled"


def test_approval_below_the_advance_records_the_shortfall_borne_by_town_funds(setup):
    account_before = None
    app = paid(setup)
    account_before = town_account(setup).paid_total
    app = walk_on(app, setup, "approved", amount="2000.00")
    app.refresh_from_db()
    assert app.state == "disbursed"
    assert app.approved_amount == D("2000.00") and app.paid_amount == D("3000.00")
    assert app.outstanding_amount == 0
    short = AdvanceShortfall.objects.get(application=app)
    assert short.amount == D("1000.00") and short.cause == "approved_less"
    assert (short.fund_source, short.fund_year) == ("town", 2022)
    assert app.advances.get().state == "short"
    # Nothing paid back, nothing negative: the fund keeps the advance as paid.
    assert town_account(setup).paid_total == account_before
    assert not Disbursement.objects.filter(application=app, amount__lt=0).exists()
    assert sum(d.amount for d in app.disbursements.all()) == app.paid_amount
    with pytest.raises(ValidationError):
        services.disbursement_record(
            application=app, user=setup.erin, amount=D("0.01"), paid_on=TODAY, method="cash"
        )


@pytest.mark.parametrize("by", ["town", "district"])
def test_rejection_records_the_whole_advance_as_shortfall(setup, by):
    app = paid(setup)
    if by == "town":
        app = services.application_reject(application=app, user=setup.carol, reason="经核实不符")
    else:
        app = walk_on(app, setup, "recommended", amount="3000.00")
        app = services.application_reject(application=app, user=setup.erin, reason="不予批准")
    assert app.state == "rejected" and app.paid_amount == D("3000.00")
    short = AdvanceShortfall.objects.get(application=app)
    assert short.amount == D("3000.00") and short.cause == "rejected"
    assert short.approved_amount is None


def test_withdrawal_after_a_paid_advance_records_the_shortfall(setup):
    app = paid(setup)
    app = services.application_withdraw(application=app, user=setup.alice, comment="已康复")
    assert AdvanceShortfall.objects.get(application=app).cause == "withdrawn"


def test_an_unpaid_advance_lapses_with_the_decision(setup):
    app = walk_on(granted(setup), setup, "approved", amount="4000.00")
    assert app.advances.get().state == "cancelled"
    assert app.state == "approved" and app.paid_amount == 0


def test_the_shortfall_counts_against_the_yearly_cap(setup):
    policy = Policy.objects.get()
    policy.max_per_worker_year = D("8000.00")
    policy.save()
    worker = WorkerFactory(union=setup.alice.union)
    app = paid(setup, worker=worker)
    services.application_reject(application=app, user=setup.carol, reason="经核实不符")
    second = visited(submitted(setup, worker=worker, amount="6000.00"), setup)
    assert amount_context(second).already_this_year == D("3000.00")
    second = services.application_verify(application=second, user=setup.carol)
    with english(), pytest.raises(ValidationError) as exc:
        services.application_recommend(
            application=second, user=setup.carol, amount=D("5500.00"), comment="同意"
        )
    assert "above the yearly cap" in message_of(exc)


# --- cancelling --------------------------------------------------------------------------------


def test_cancel_an_unpaid_advance_then_grant_again(setup):
    app = granted(setup)
    advance_cancel(application=app, user=setup.carol, reason="家属已筹到钱")
    assert app.advances.get().state == "cancelled"
    app.refresh_from_db()
    advance_grant(application=app, user=setup.carol, amount=D("2000.00"), reason="再次急需")
    assert app.advances.filter(state="granted").count() == 1


def test_a_paid_advance_cannot_be_cancelled(setup):
    app = paid(setup)
    with english(), pytest.raises(ValidationError) as exc:
        advance_cancel(application=app, user=setup.carol, reason="撤销")
    assert "cannot be cancelled" in message_of(exc)


# --- overdue paperwork -------------------------------------------------------------------------


def test_overdue_when_the_file_is_not_completed_in_time(setup):
    app = paid(setup)
    advance = app.advances.get()
    due = advance.file_due_on
    assert list(overdue_advances(setup.carol, today=due)) == []
    after = due + dt.timedelta(days=1)
    assert list(overdue_advances(setup.carol, today=after)) == [advance]
    assert overdue_advance_count(setup.erin, today=after) == 1
    assert advance.paperwork_overdue(after)
    # Another town and its caseworkers' siblings see nothing of it.
    assert overdue_advance_count(setup.dave, today=after) == 0
    assert overdue_advance_count(setup.bob, today=after) == 0
    # Recommending completes the file.
    walk_on(app, setup, "recommended", amount="3000.00")
    assert overdue_advance_count(setup.carol, today=after) == 0


def test_an_overdue_advance_is_in_the_towns_and_the_districts_queue(setup):
    from relief.queues import overdue_for, queue_for
    from relief.workdays import workdays_between

    app = paid(setup)
    due = app.advances.get().file_due_on
    later = due + dt.timedelta(days=10)

    def group(user, today):
        return next(g for g in queue_for(user, today=today).groups if g.key == "advances")

    assert group(setup.carol, due).items == []
    [item] = group(setup.carol, later).items
    assert (item.reference, item.due, item.overdue) == (app.reference, due, True)
    assert item.overdue_by == workdays_between(due, later) > 0
    assert item.url == f"/admin/relief/application/{app.pk}/change/"
    assert [i.reference for i in group(setup.erin, later).items] == [app.reference]
    assert group(setup.dave, later).items == []
    assert app.reference in [i.reference for i in overdue_for(setup.carol, today=later)]


def test_no_limit_no_overdue(people, well_funded):
    allow_advances(workdays=None)
    app = paid(people)
    assert app.advances.get().file_due_on is None
    assert overdue_advance_count(people.carol, today=TODAY + dt.timedelta(days=400)) == 0


# --- the database refuses what the services would not do ----------------------------------------


def test_paid_amount_above_both_approved_and_advance_is_refused(setup):
    from django.db import IntegrityError, transaction

    app = paid(setup)
    with pytest.raises(IntegrityError), transaction.atomic():
        Application.objects.filter(pk=app.pk).update(paid_amount=D("3000.01"))


# --- pages -------------------------------------------------------------------------------------


def test_the_admin_case_page_offers_the_steps_and_the_grant_works(client, setup):
    from django.urls import reverse

    app = visited(submitted(setup), setup)
    client.force_login(setup.carol)
    page = client.get(reverse("admin:relief_application_change", args=[app.pk])).content.decode()
    grant_url = reverse("admin:relief_application_act", args=[app.pk, "advance_grant"])
    assert grant_url in page and "先行救助" in page
    form = client.get(grant_url)
    assert form.status_code == 200 and "先行救助上限" in form.content.decode()
    response = client.post(
        grant_url,
        {"version": app.version, "amount": "3500.00", "reason": "急", "idempotency_key": "k-1"},
    )
    assert response.status_code == 200 and "超过" in response.content.decode()
    assert not Advance.objects.exists()
    response = client.post(
        grant_url,
        {"version": app.version, "amount": "3000.00", "reason": "急", "idempotency_key": "k-1"},
    )
    assert response.status_code == 302
    app.refresh_from_db()
    pay_url = reverse("admin:relief_application_act", args=[app.pk, "advance_pay"])
    body = {
        "version": app.version,
        "paid_on": TODAY.isoformat(),
        "method": "cash",
        "fund": "",
        "idempotency_key": "k-2",
    }
    assert client.post(pay_url, body).status_code == 302
    # The same form again (a retry after a lost response): nothing more is paid.
    assert client.post(pay_url, body).status_code == 302
    assert Disbursement.objects.filter(application=app).count() == 1
    # Another town's reviewer: the steps and the lists do not exist for him.
    client.force_login(setup.dave)
    assert client.get(pay_url).status_code == 404
    advance = Advance.objects.get(application=app)
    assert client.get(reverse("admin:relief_advance_change", args=[advance.pk])).status_code == 404
    assert (
        app.reference not in client.get(reverse("admin:relief_advance_changelist")).content.decode()
    )


def test_no_grant_button_when_the_policy_allows_none(client, setup):
    from django.urls import reverse

    policy = Policy.objects.get()
    policy.advance_allowed = False
    policy.save()
    app = visited(submitted(setup), setup)
    client.force_login(setup.carol)
    page = client.get(reverse("admin:relief_application_change", args=[app.pk])).content.decode()
    assert "advance_grant" not in page


def test_case_page_dashboard_funds_and_reports_show_the_advance(client, setup):
    from unittest import mock

    from django.urls import reverse

    from reports import documents
    from reports.figures import Period

    app = paid(setup)
    walk_on(app, setup, "approved", amount="2000.00")
    client.force_login(setup.alice)
    page = client.get(reverse("relief:case_detail", args=[app.pk])).content.decode()
    assert 'data-testid="advance"' in page and "¥1,000.00" in page
    assert "由2022 镇自筹承担" in page
    client.force_login(setup.carol)
    # The shortfall is borne by a past year's account: on the page of every year.
    funds = client.get(reverse("funds:overview"), {"year": "all"}).content.decode()
    assert 'data-testid="shortfalls"' in funds and app.reference in funds
    rows = [
        row
        for _u, row in documents.payout_detail_rows(
            setup.carol.union, Period(first_year=TODAY.year, last_year=TODAY.year)
        )
    ]
    assert [r.fund_source for r in rows] == ["镇自筹（先行救助）"]
    assert rows[0].worker_all_time_total == D("3000.00")

    late = paid(setup)
    due = late.advances.get().file_due_on
    with mock.patch("django.utils.timezone.localdate", return_value=due + dt.timedelta(days=1)):
        dash = client.get(reverse("reports:dashboard")).content.decode()
        case_page = client.get(reverse("relief:case_detail", args=[late.pk]))
    assert 'data-testid="overdue-advances"' in dash
    assert '?overdue=1">1</a>' in dash
    assert 'data-testid="advance-overdue"' in case_page.content.decode()


def test_the_advances_words_in_the_trail_are_chinese_whoever_decides_in_english(setup):
    """What the services add to the record is in the site's language (relief.services.audit.
    site_language), not the deciding officer's interface language."""
    with translation.override("en"):
        short = walk_on(paid(setup), setup, "approved", amount="2000.00")
        lapsed = walk_on(granted(setup), setup, "approved", amount="4000.00")
    shortfall = AuditEntry.objects.get(application=short, action="advance_shortfall")
    assert shortfall.comment == "先行救助中¥1,000.00未获区批准，由2022 镇自筹承担。"
    covered = AuditEntry.objects.get(application=short, action="mark_disbursed")
    assert covered.comment == "已发先行救助已足额覆盖批准金额。"
    cancelled = AuditEntry.objects.get(application=lapsed, action="advance_cancel")
    assert cancelled.comment == "区审批前未发放，先行救助失效。"
    advance = lapsed.advances.get()
    with translation.override("zh-hans"):
        assert advance.cancel_reason == str(wf.TRANSITION_LABELS["approve"])
