"""Helpers shared by the relief lifecycle tests (not fixtures: plain functions)."""

from django.utils import translation

from relief.models import AuditEntry
from tests.factories import file_case, walk


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
