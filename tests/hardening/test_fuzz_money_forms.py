"""Issue 11, finding 4, continued: fuzz the money forms (the officer's and the towns').

Hostile values in the payout, fund income and donation forms of the admin and in the district's
case actions (approve, record a payout, change the payout account): the answer is the form
again (200/400), a refusal (403) or a redirect after a complete write; never a 500, and a
refused submission changes no money, no case and no trail.
"""

import datetime as dt

from django.urls import reverse
from hypothesis import given
from hypothesis import strategies as st

from relief.models import Application, AuditEntry, Disbursement, FundIncome
from tests.factories import case_in_state
from tests.hardening.test_fuzz_inputs import FUZZ, form_value


def money_snapshot() -> tuple:
    return (
        Disbursement.objects.count(),
        FundIncome.objects.count(),
        AuditEntry.objects.count(),
        list(Application.objects.order_by("pk").values_list("state", "paid_amount", "version")),
    )


def approved_case(people):
    return Application.objects.filter(state="approved").first() or case_in_state(
        "approved", caseworker=people.alice, reviewer=people.carol, officer=people.erin
    )


def _post_and_check(client, url, data):
    before = money_snapshot()
    response = client.post(url, data)
    assert response.status_code in (200, 302, 400, 403), response.status_code
    if response.status_code != 302:
        assert money_snapshot() == before, "a refused form wrote something"
    return response


def payout_body(app) -> dict:
    """A complete, valid admin payout of 100 yuan on `app` (the fuzz changes some fields)."""
    return {
        "application": app.pk,
        "amount": "100.00",
        "paid_on": dt.date.today().isoformat(),
        "method": "bank",
        "fund": "",
        "voucher_no": "PZ-1",
    }


def income_body(people) -> dict:
    """A complete, valid district allocation to 西樵."""
    return {
        "town": people.carol.union.pk,
        "source": "district",
        "year": str(dt.date.today().year),
        "amount": "1000.00",
        "received_on": dt.date.today().isoformat(),
        "document_no": "南工字〔2026〕1号",
        "note": "",
    }


PAYOUT_FIELDS = ["amount", "paid_on", "method", "fund", "voucher_no"]


@FUZZ
@given(changes=st.dictionaries(st.sampled_from(PAYOUT_FIELDS), form_value, min_size=1, max_size=3))
def test_fuzz_the_admin_payout_form(client, people, well_funded, changes):
    app = approved_case(people)
    client.force_login(people.erin)
    data = {**payout_body(app), **changes}
    _post_and_check(client, reverse("admin:relief_disbursement_add"), data)


INCOME_FIELDS = ["source", "year", "amount", "received_on", "document_no", "note"]


@FUZZ
@given(changes=st.dictionaries(st.sampled_from(INCOME_FIELDS), form_value, min_size=1, max_size=3))
def test_fuzz_the_fund_income_form(client, people, changes):
    client.force_login(people.erin)
    data = {**income_body(people), **changes}
    _post_and_check(client, reverse("admin:relief_fundincome_add"), data)


OFFICER_ACTIONS = {
    "approve": ["amount", "comment"],
    "disburse": ["amount", "paid_on", "method", "fund", "voucher_no"],
    "payout_account": ["bank_name", "bank_branch", "bank_card", "reason"],
}


@FUZZ
@given(
    action=st.sampled_from(sorted(OFFICER_ACTIONS)),
    values=st.lists(form_value, min_size=5, max_size=5),
)
def test_fuzz_the_officers_case_actions(client, people, well_funded, action, values):
    state = "recommended" if action == "approve" else "approved"
    app = Application.objects.filter(state=state).first() or case_in_state(
        state, caseworker=people.alice, reviewer=people.carol, officer=people.erin
    )
    client.force_login(people.erin)
    data = dict(zip(OFFICER_ACTIONS[action], values, strict=False))
    data["version"] = app.version
    _post_and_check(client, reverse("admin:relief_application_act", args=[app.pk, action]), data)


def test_the_fuzzed_forms_accept_their_baseline(client, people, well_funded):
    """The unfuzzed bodies above are complete and valid: the fuzz starts from a real write."""
    app = approved_case(people)
    client.force_login(people.erin)
    payout = payout_body(app)
    assert client.post(reverse("admin:relief_disbursement_add"), payout).status_code == 302
    income = income_body(people)
    assert client.post(reverse("admin:relief_fundincome_add"), income).status_code == 302
    assert Disbursement.objects.filter(application=app, amount="100.00").exists()
