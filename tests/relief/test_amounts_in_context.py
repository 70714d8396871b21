"""Amounts in context (issue 13, item 3): the recommend and approve forms show the request,
the caps and what the worker already has this year; above the request needs a reason, kept
in the trail (the service refuses without it)."""

import datetime as dt
from decimal import Decimal

import pytest
from django.core.exceptions import ValidationError
from django.urls import reverse

from relief import services
from relief.models import Application, AuditEntry, Policy
from relief.services.caps import amount_context
from tests.factories import case_in_state
from tests.relief.helpers import english


def act_url(app, action):
    return reverse("admin:relief_application_act", args=[app.pk, action])


@pytest.fixture
def yearly_cap(db):
    Policy.objects.update(max_per_worker_year=Decimal("8000.00"))


@pytest.fixture
def verified(people):
    return case_in_state(
        "verified", caseworker=people.alice, reviewer=people.carol, officer=None, amount="3000.00"
    )


def test_the_recommend_form_shows_the_request_the_caps_and_the_year_so_far(
    client, people, well_funded, yearly_cap
):
    earlier = case_in_state(
        "closed", caseworker=people.alice, reviewer=people.carol, officer=people.erin
    )
    app = case_in_state(
        "verified",
        caseworker=people.alice,
        reviewer=people.carol,
        officer=None,
        worker=earlier.worker,
        amount="2000.00",
    )
    client.force_login(people.carol)
    response = client.get(act_url(app, "recommend"))
    amounts = response.context["amounts"]
    assert amounts.requested == Decimal("2000.00")
    assert amounts.already_this_year == Decimal("5000.00")
    assert amounts.most == Decimal("3000.00")  # 8,000 a year less the 5,000 already approved
    page = response.content.decode()
    for figure in ("¥2,000.00", "¥10,000.00", "¥8,000.00", "¥5,000.00", "¥3,000.00"):
        assert figure in page
    assert response.context["form"]["amount"].value() == Decimal("2000.00")


def test_the_approve_form_shows_the_towns_recommendation(client, people):
    app = case_in_state("recommended", caseworker=people.alice, reviewer=people.carol, officer=None)
    client.force_login(people.erin)
    response = client.get(act_url(app, "approve"))
    assert response.context["amounts"].recommended == Decimal("5000.00")
    assert response.context["form"]["amount"].value() == Decimal("5000.00")
    assert "¥5,000.00" in response.content.decode()


def test_above_the_request_without_a_reason_is_refused_by_the_service(people, verified):
    with english(), pytest.raises(ValidationError) as info:
        services.application_recommend(
            application=verified, user=people.carol, amount=Decimal("4000"), comment="研讨同意"
        )
    assert "amount_reason" in info.value.message_dict
    assert "3,000.00" in info.value.message_dict["amount_reason"][0]
    assert Application.objects.get(pk=verified.pk).state == "verified"


def test_above_the_request_with_a_reason_keeps_the_reason_in_the_trail(people, verified):
    services.application_recommend(
        application=verified,
        user=people.carol,
        amount=Decimal("4000"),
        comment="研讨同意",
        amount_reason="入户发现透析费用每月增加1,000元",
    )
    entry = AuditEntry.objects.filter(application=verified, action="recommend").get()
    assert entry.changes["amount_reason"] == [None, "入户发现透析费用每月增加1,000元"]


def test_the_admin_form_puts_the_missing_reason_next_to_its_field(client, people, verified):
    client.force_login(people.carol)
    response = client.post(
        act_url(verified, "recommend"),
        {"version": verified.version, "amount": "4000.00", "comment": "研讨同意"},
    )
    assert response.status_code == 200
    assert response.context["form"].errors["amount_reason"]
    assert Application.objects.get(pk=verified.pk).state == "verified"


def test_the_district_approving_above_the_request_needs_a_reason(client, people):
    app = case_in_state("recommended", caseworker=people.alice, reviewer=people.carol, officer=None)
    client.force_login(people.erin)
    data = {"version": app.version, "amount": "6000.00"}
    response = client.post(act_url(app, "approve"), data)
    assert response.context["form"].errors["amount_reason"]
    response = client.post(act_url(app, "approve"), {**data, "amount_reason": "二次手术"})
    assert response.status_code == 302
    entry = AuditEntry.objects.filter(application=app, action="approve").get()
    assert entry.changes["amount_reason"] == [None, "二次手术"]
    assert entry.changes["approved_amount"][1] == "6000.00"


def test_at_or_below_the_request_needs_no_reason(people, verified):
    services.application_recommend(
        application=verified, user=people.carol, amount=Decimal("3000"), comment="同意"
    )
    assert (
        "amount_reason"
        not in AuditEntry.objects.get(application=verified, action="recommend").changes
    )


def test_amount_context_of_a_worker_without_other_cases(people, verified):
    context = amount_context(verified)
    assert context.already_this_year == Decimal("0")
    assert context.most == context.per_payout
    assert context.year == verified.application_date.year == dt.date.today().year


def test_the_reason_is_shown_in_both_timelines(client, people, verified):
    services.application_recommend(
        application=verified,
        user=people.carol,
        amount=Decimal("4000"),
        comment="研讨同意",
        amount_reason="透析费用增加",
    )
    client.force_login(people.carol)
    page = client.get(reverse("admin:relief_application_change", args=[verified.pk]))
    assert "透析费用增加" in page.content.decode()
    client.force_login(people.alice)
    page = client.get(reverse("relief:case_detail", args=[verified.pk]))
    assert "透析费用增加" in page.content.decode()
