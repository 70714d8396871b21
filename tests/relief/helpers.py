"""Helpers shared by the relief lifecycle tests (not fixtures: plain functions)."""

import datetime as dt
from decimal import Decimal

from django.utils import translation

from relief import services
from relief.models import AuditEntry
from tests.factories import PATH, file_case, fund


def walk(app, state, *, caseworker, reviewer, officer, paid_on=None, amount=None):
    """Drive a draft `app` through the real services into `state` (as case_in_state does,
    but for a case filed by the caller, e.g. with its own application date or categories)."""
    today = dt.date.today()
    amount = Decimal(amount) if amount is not None else app.requested_amount
    for step in PATH[state]:
        if step == "submit":
            app = services.application_submit(application=app, user=caseworker)
        elif step == "return":
            app = services.application_return(application=app, user=reviewer, comment="缺诊断书")
        elif step == "visit":
            services.home_visit_record(
                application=app,
                user=reviewer,
                visit_date=today,
                visitors="梁慧敏、何建华",
                findings="情况属实",
                verified_household_income=Decimal("1800.00"),
                verified_monthly_expenses=Decimal("3200.00"),
            )
        elif step == "verify":
            app = services.application_verify(application=app, user=reviewer)
        elif step == "recommend":
            app = services.application_recommend(
                application=app, user=reviewer, amount=amount, comment="研讨同意"
            )
        elif step == "approve":
            app = services.application_approve(application=app, user=officer, amount=amount)
        elif step == "pay":
            fund(officer, app.union.parent, app.approved_amount, year=(paid_on or today).year)
            services.disbursement_record(
                application=app,
                user=officer,
                amount=app.approved_amount,
                paid_on=paid_on or today,
                method="bank",
                fund_source="district",
                voucher_no="PZ-001",
            )
            app.refresh_from_db()
        elif step == "follow_up":
            services.follow_up_record(
                application=app,
                user=reviewer,
                follow_up_date=today,
                method="phone",
                findings="已收到",
            )
        elif step == "close":
            app = services.application_close(application=app, user=reviewer)
        elif step == "reject":
            app = services.application_reject(application=app, user=reviewer, reason="不符合条件")
        elif step == "withdraw":
            app = services.application_withdraw(application=app, user=caseworker)
    assert app.state == state
    return app


def dated_case(
    people, state, application_date, *, worker=None, amount="5000.00", by=None, reviewer=None, **kw
):
    """A case filed by `by` (alice at XQ-S01 unless told) with `application_date`, driven into
    `state` by the town's reviewer (carol unless told) and erin; payouts dated that day."""
    by = by or people.alice
    app = file_case(by, worker, amount=amount, application_date=application_date, **kw)
    return walk(
        app,
        state,
        caseworker=by,
        reviewer=reviewer or people.carol,
        officer=people.erin,
        paid_on=application_date,
    )


def footprint(app):
    """What a refused action must leave exactly as it was."""
    app.refresh_from_db()
    return {
        "state": app.state,
        "version": app.version,
        "audit": AuditEntry.objects.count(),
        "recommended": app.recommended_amount,
        "approved": app.approved_amount,
        "paid": app.paid_amount,
        "visits": app.home_visits.count(),
        "follow_ups": app.follow_ups.count(),
        "payouts": app.disbursements.count(),
    }


def message_of(exc_info) -> str:
    """All messages of a ValidationError (or other error) as one string."""
    exc = exc_info.value
    return " ".join(getattr(exc, "messages", None) or [str(exc)])


def english():
    """Messages in English (the msgids) whatever the project's default language."""
    return translation.override("en")


FAST_HASHER = "django.contrib.auth.hashers.MD5PasswordHasher"
