"""New facts on a case (visits, follow-ups, files) and how amounts may be given."""

import datetime as dt
from decimal import Decimal

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile

from relief import services
from relief.errors import Conflict
from relief.models import Application, Policy
from tests.factories import case_in_state, tiny_pdf

PDF = tiny_pdf()

# Payouts here are about cases, not balances: the towns have money.
pytestmark = pytest.mark.usefixtures("module_well_funded")


def test_a_home_visit_makes_copies_loaded_before_it_stale(people):
    app = case_in_state("submitted", caseworker=people.alice, reviewer=people.carol, officer=None)
    stale = Application.objects.get(pk=app.pk)
    services.home_visit_record(
        application=app,
        user=people.carol,
        visit_date=dt.date.today(),
        visitors="梁慧敏",
        findings="家中另有商铺收入",
        verified_household_income=Decimal("9000"),
        verified_monthly_expenses=Decimal("1000"),
    )
    with pytest.raises(Conflict):
        services.application_verify(application=stale, user=people.carol)


def test_a_follow_up_makes_copies_loaded_before_it_stale(people):
    app = case_in_state(
        "disbursed", caseworker=people.alice, reviewer=people.carol, officer=people.erin
    )
    stale = Application.objects.get(pk=app.pk)
    services.follow_up_record(
        application=app,
        user=people.carol,
        follow_up_date=dt.date.today(),
        method="visit",
        findings="已康复",
    )
    with pytest.raises(Conflict):
        services.application_close(application=stale, user=people.carol)


def test_an_attachment_is_stored_under_the_suffix_of_its_real_type(people, settings, tmp_path):
    settings.MEDIA_ROOT = tmp_path
    app = case_in_state("draft", caseworker=people.alice, reviewer=None, officer=None)
    version_before = app.version
    upload = SimpleUploadedFile("诊断书.html", PDF, content_type="text/html")
    attachment = services.attachment_add(
        application=app, user=people.alice, upload=upload, kind="diagnosis"
    )
    assert attachment.file.name.endswith(".pdf")
    assert attachment.content_type == "application/pdf"
    assert attachment.original_name == "诊断书.html"
    assert (tmp_path / attachment.file.name).read_bytes() == PDF
    assert Application.objects.get(pk=app.pk).version == version_before + 1


def test_whole_yuan_amounts_may_be_given_as_integers(people):
    app = case_in_state(
        "verified", caseworker=people.alice, reviewer=people.carol, officer=people.erin
    )
    app = services.application_recommend(
        application=app, user=people.carol, amount=3000, comment="同意"
    )
    app = services.application_approve(application=app, user=people.erin, amount=3000)
    assert app.approved_amount == Decimal("3000.00")
    payout = services.disbursement_record(
        application=app,
        user=people.erin,
        amount=3000,
        paid_on=dt.date.today(),
        method="cash",
        fund_source="district",
    )
    assert payout.amount == Decimal("3000")


def test_floats_are_never_money(people):
    app = case_in_state(
        "verified", caseworker=people.alice, reviewer=people.carol, officer=people.erin
    )
    with pytest.raises(TypeError):
        services.application_recommend(
            application=app, user=people.carol, amount=3000.1, comment="同意"
        )


def test_a_policy_already_applied_cannot_have_its_caps_changed_in_the_admin(client, people):
    case_in_state("draft", caseworker=people.alice, reviewer=None, officer=None)
    policy = Policy.objects.get()
    client.force_login(people.root)
    response = client.post(
        f"/admin/relief/policy/{policy.pk}/change/",
        {
            "name": policy.name,
            "effective_from": "2018-01-01",
            "max_per_payout": "50000",
            "notes": "x",
            "notice_workdays": "5",  # required since issue 15 (the notice period)
        },
    )
    assert response.status_code == 302
    policy.refresh_from_db()
    assert policy.max_per_payout == Decimal("10000.00")
    assert policy.notes == "x"
