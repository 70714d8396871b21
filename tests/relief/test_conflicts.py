"""Issue 12, findings 1 and 2: a conflict or a stale post ends in the form or on the case page
with a message saying who changed the case and when, never in a 500 or a bare 403."""

import datetime as dt
from decimal import Decimal
from unittest import mock

import pytest
from django.contrib.messages import get_messages
from django.db import OperationalError
from django.urls import reverse
from django.utils import timezone

from relief import services
from relief.conflicts import as_conflict, last_change_text
from relief.models import Application, Disbursement
from relief.workflow import TRANSITION_LABELS
from tests.factories import case_in_state, fund
from tests.relief.helpers import english

TODAY = dt.date.today()


def approved(people):
    return case_in_state(
        "approved", caseworker=people.alice, reviewer=people.carol, officer=people.erin
    )


def pay(people, app, amount="1000.00", *, record=None):
    return (record or services.disbursement_record)(
        application=Application.objects.get(pk=app.pk),
        user=people.erin,
        amount=Decimal(amount),
        paid_on=TODAY,
        method="cash",
        fund_source="district",
    )


def payout_form(app, amount="1000.00"):
    return {
        "application": app.pk,
        "amount": amount,
        "paid_on": TODAY.isoformat(),
        "method": "cash",
        "fund": "",  # the oldest account with enough money
    }


def test_a_payout_racing_another_on_the_admin_add_page_is_a_message_not_a_500(client, people, tree):
    """The case changes between loading the form and locking the row (another payout commits
    in between): Conflict from lock_application. Before issue 12 this was a 500."""
    app = approved(people)
    fund(people.erin, tree.xq, "10000.00")
    real = services.disbursement_record

    def other_payout_first(*, application, **kwargs):
        pay(people, app, record=real)  # another payout commits while this request runs
        return real(application=application, **kwargs)

    client.force_login(people.erin)
    with mock.patch("relief.admin.funds.services.disbursement_record", other_payout_first):
        response = client.post(reverse("admin:relief_disbursement_add"), payout_form(app))
    assert response.status_code == 200
    errors = " ".join(response.context["form"].non_field_errors())
    local = timezone.localtime(app.disbursements.get().recorded_at)
    assert people.erin.get_full_name() in errors
    assert local.strftime("%H:%M") in errors
    assert Disbursement.objects.filter(application=app).count() == 1  # only the other one


def test_a_stale_step_on_the_admin_case_page_says_who_moved_the_case_not_403(client, people, tree):
    """Erin approves from her case page while another officer has already approved."""
    app = case_in_state(
        "recommended", caseworker=people.alice, reviewer=people.carol, officer=people.erin
    )
    stale_version = app.version
    services.application_approve(
        application=Application.objects.get(pk=app.pk), user=people.erin, amount=Decimal("5000")
    )
    client.force_login(people.erin)
    url = reverse("admin:relief_application_act", args=[app.pk, "approve"])
    response = client.post(url, {"version": stale_version, "amount": "5000", "comment": "x"})
    assert response.status_code == 302
    assert response.url == reverse("admin:relief_application_change", args=[app.pk])
    [message] = [str(m) for m in get_messages(response.wsgi_request)]
    assert people.erin.get_full_name() in message
    assert Application.objects.get(pk=app.pk).get_state_display() in message
    # And the GET of the same stale form says the same instead of 403.
    assert client.get(url).status_code == 302


def test_a_role_that_never_takes_the_step_is_still_403(client, people, tree):
    app = case_in_state(
        "recommended", caseworker=people.alice, reviewer=people.carol, officer=people.erin
    )
    client.force_login(people.carol)
    url = reverse("admin:relief_application_act", args=[app.pk, "approve"])
    response = client.post(url, {"version": app.version, "amount": "5000", "comment": "x"})
    assert response.status_code == 403


def test_a_stale_version_on_the_case_page_payout_form_shows_the_form_with_who_and_when(
    client, people, tree
):
    app = approved(people)
    fund(people.erin, tree.xq, "10000.00")
    stale_version = app.version
    pay(people, app)
    client.force_login(people.erin)
    url = reverse("admin:relief_application_act", args=[app.pk, "disburse"])
    data = {**payout_form(app), "version": stale_version}
    response = client.post(url, data)
    assert response.status_code == 200
    errors = " ".join(response.context["form"].non_field_errors())
    assert people.erin.get_full_name() in errors
    assert str(TRANSITION_LABELS["disburse"]) in errors
    assert Disbursement.objects.filter(application=app).count() == 1


def test_the_message_names_the_last_change_from_the_audit_trail(people, tree):
    app = approved(people)
    with english():
        text = last_change_text(Application.objects.get(pk=app.pk))
    assert people.erin.get_full_name() in text
    assert "Approve" in text and "approved" in text.lower()


def test_a_conflict_no_page_caught_is_turned_into_a_message_by_the_middleware(client, people, tree):
    """The safety net: a Conflict escaping any view ends on the case page with the message."""
    from relief.errors import Conflict

    app = approved(people)
    client.force_login(people.alice)

    def boom(request, pk):
        raise Conflict(application=Application.objects.get(pk=pk))

    with mock.patch(
        "relief.views.cases.render_case", side_effect=lambda *a, **k: boom(a[0], pk=app.pk)
    ):
        response = client.get(reverse("relief:case_detail", args=[app.pk]))
    assert response.status_code == 302
    assert response.url == reverse("relief:case_detail", args=[app.pk])
    [message] = [str(m) for m in get_messages(response.wsgi_request)]
    assert people.erin.get_full_name() in message


def test_a_lock_timeout_is_a_conflict():
    class LockNotAvailable(Exception):
        sqlstate = "55P03"

    error = OperationalError("canceling statement due to lock timeout")
    error.__cause__ = LockNotAvailable()
    assert as_conflict(error) is not None
    assert as_conflict(OperationalError("server closed the connection")) is None


@pytest.mark.postgres
@pytest.mark.django_db(transaction=True, serialized_rollback=True)
def test_a_payout_waiting_on_a_held_lock_ends_as_a_conflict_message(client, people, tree, settings):
    """PostgreSQL: another transaction holds the case's row lock longer than lock_timeout."""
    import threading

    from django.db import connections, transaction

    settings.RELIEF_LOCK_TIMEOUT_MS = 300
    app = approved(people)
    fund(people.erin, tree.xq, "10000.00")
    held, release = threading.Event(), threading.Event()

    def hold_lock():
        try:
            with transaction.atomic():
                Application.objects.select_for_update().get(pk=app.pk)
                held.set()
                release.wait(10)
        finally:
            connections.close_all()

    holder = threading.Thread(target=hold_lock)
    holder.start()
    try:
        assert held.wait(10)
        client.force_login(people.erin)
        url = reverse("admin:relief_application_act", args=[app.pk, "disburse"])
        response = client.post(url, {**payout_form(app), "version": app.version})
    finally:
        release.set()
        holder.join()
    assert response.status_code == 200
    assert response.context["form"].non_field_errors()
    assert not Disbursement.objects.filter(application=app).exists()


@pytest.mark.postgres
@pytest.mark.django_db(transaction=True, serialized_rollback=True)
def test_simultaneous_partial_payouts_on_the_admin_add_page_never_500(people, tree):
    """Finding 1 as measured: concurrent partial payouts of one case from the admin form.
    Each loses the race either with a message on the form (200) or records (302)."""
    from django.test import Client

    from relief.idempotency import FIELD, new_key
    from tests.relief.test_concurrency import race

    app = approved(people)
    fund(people.erin, tree.xq, "10000.00")
    url = reverse("admin:relief_disbursement_add")

    def post():
        client = Client()
        client.force_login(people.erin)
        response = client.post(url, {**payout_form(app, "500.00"), FIELD: new_key()})
        return response.status_code

    outcomes = race(*[post] * 6)
    assert all(kind == "ok" for kind, _ in outcomes), outcomes  # an exception is a 500
    statuses = [status for _, status in outcomes]
    assert set(statuses) <= {200, 302}
    print(f"\n6 simultaneous payouts: {statuses.count(302)} recorded, {statuses.count(200)} told")
    paid = Application.objects.get(pk=app.pk).paid_amount
    assert paid == Decimal("500.00") * statuses.count(302) <= Decimal("5000.00")


def test_a_case_paid_since_the_admin_payout_form_loaded_is_explained_not_invalid(
    client, people, tree
):
    app = approved(people)
    fund(people.erin, tree.xq, "10000.00")
    client.force_login(people.erin)
    pay(people, app, "5000.00")  # someone else pays it in full meanwhile
    response = client.post(reverse("admin:relief_disbursement_add"), payout_form(app))
    assert response.status_code == 200
    [error] = response.context["form"].errors["application"]
    assert people.erin.get_full_name() in error
    assert Application.objects.get(pk=app.pk).get_state_display() in error
    assert Disbursement.objects.filter(application=app).count() == 1


def test_sqlite_busy_is_a_conflict_only_on_sqlite():
    from django.db import connection

    busy = OperationalError("database is locked")
    if connection.vendor == "sqlite":
        with english():
            assert "busy" in str(as_conflict(busy))
    else:
        assert as_conflict(busy) is None


def test_a_payout_that_waited_out_sqlites_busy_timeout_is_a_message_not_a_503(client, people, tree):
    """SQLite (finding 6): BEGIN IMMEDIATE waited its timeout behind an import's write and
    failed with "database is locked": the form comes back saying the database was busy."""
    from django.db import connection

    if connection.vendor != "sqlite":
        pytest.skip("SQLite's busy timeout")
    app = approved(people)
    fund(people.erin, tree.xq, "10000.00")
    client.force_login(people.erin)
    url = reverse("admin:relief_application_act", args=[app.pk, "disburse"])
    with (
        english(),
        mock.patch(
            "relief.services.disbursements.lock_application",
            side_effect=OperationalError("database is locked"),
        ),
    ):
        response = client.post(url, {**payout_form(app), "version": app.version})
    assert response.status_code == 200
    [error] = response.context["form"].non_field_errors()
    # The request runs in the user's language (zh-hans by default), whatever override is active.
    assert "数据库正忙" in error and "重试" in error
    assert not Disbursement.objects.filter(application=app).exists()
