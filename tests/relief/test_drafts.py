"""Saving a draft (issue 13, item 4): a draft needs only the ID number and the name; the rest
is checked on submit, and the case and correction pages list what is still missing, linked to
the fields."""

import pytest
from django.core.exceptions import ValidationError
from django.db import IntegrityError, transaction
from django.urls import reverse

from relief import services
from relief.models import Application, Worker
from tests.factories import WorkerFactory, category, make_id_number
from tests.relief.test_views import html_of, in_state, intake_post, management

EMPTY_FACTS = {
    "categories": [],
    "narrative": "",
    "household_monthly_income": "",
    "monthly_medical_expenses": "",
    "requested_amount": "",
}


def bare_intake(number, **overrides) -> dict:
    """Only the ID number and the name: what a caseworker has at the door."""
    data = intake_post(number, action="draft", **EMPTY_FACTS, **management(total=0))
    for key in ("phone", "employer", "address", "hukou", "bank_name", "bank_branch"):
        data[key] = ""
    data["new_bank_card"] = ""
    data.update(overrides)
    return data


def test_a_draft_needs_only_the_id_number_and_the_name(client, people):
    client.force_login(people.alice)
    number = make_id_number(501)
    response = client.post(reverse("relief:case_new"), bare_intake(number))
    assert response.status_code == 302
    case = Application.objects.get(worker__id_number=number)
    assert case.state == "draft"
    assert case.worker.name == "陈建华"
    assert case.requested_amount is None and case.household_monthly_income is None
    assert not case.categories.exists() and case.narrative == ""


def test_a_draft_without_a_name_is_refused_next_to_the_name(client, people):
    client.force_login(people.alice)
    number = make_id_number(502)
    response = client.post(reverse("relief:case_new"), bare_intake(number, name=""))
    assert response.status_code == 400
    assert response.context["forms"].worker.errors["name"]
    assert not Worker.objects.filter(id_number=number).exists()


def test_submitting_still_checks_everything(client, people):
    client.force_login(people.alice)
    number = make_id_number(503)
    response = client.post(reverse("relief:case_new"), bare_intake(number, action="submit"))
    assert response.status_code == 400
    errors = response.context["forms"].case.errors
    assert set(errors) == set(EMPTY_FACTS)
    assert not Application.objects.filter(worker__id_number=number).exists()


def test_the_case_page_lists_what_is_missing_linked_to_the_fields(client, people):
    client.force_login(people.alice)
    number = make_id_number(504)
    client.post(reverse("relief:case_new"), bare_intake(number, narrative="住院中，材料待补"))
    case = Application.objects.get(worker__id_number=number)
    page = client.get(reverse("relief:case_detail", args=[case.pk]))
    edit = reverse("relief:case_edit", args=[case.pk])
    items = page.context["missing"]
    assert [i.url for i in items] == [
        f"{edit}#id_categories_0",
        f"{edit}#id_household_monthly_income",
        f"{edit}#id_monthly_medical_expenses",
        f"{edit}#id_requested_amount",
    ]
    html = html_of(page)
    assert 'data-testid="still-missing"' in html and f'href="{edit}#id_requested_amount"' in html
    assert (
        "relief:case_submit" not in html
        and reverse("relief:case_submit", args=[case.pk]) not in html
    )
    # The correction page lists them too, linked to the fields on the same page, whose ids exist.
    form_page = html_of(client.get(edit))
    for item in items:
        anchor = item.url.split("#", 1)[1]
        assert f'href="#{anchor}"' in form_page and f'id="{anchor}"' in form_page


def test_a_draft_completed_on_the_correction_page_is_submitted(client, people):
    client.force_login(people.alice)
    number = make_id_number(505)
    client.post(reverse("relief:case_new"), bare_intake(number))
    case = Application.objects.get(worker__id_number=number)
    edit = reverse("relief:case_edit", args=[case.pk])
    data = bare_intake(number, version=str(case.version), action="save")
    data.pop("step")
    data.pop("id_number")
    assert client.post(edit, {**data, "requested_amount": "3000"}).status_code == 302
    case.refresh_from_db()
    assert case.requested_amount == 3000 and case.state == "draft"
    complete = {
        **data,
        "version": str(case.version),
        "action": "submit",
        "categories": [str(category("重大疾病").pk)],
        "narrative": "确诊白血病。",
        "household_monthly_income": "1500",
        "monthly_medical_expenses": "4000",
        "requested_amount": "3000",
    }
    assert client.post(edit, complete).status_code == 302
    case.refresh_from_db()
    assert case.state == "submitted"
    assert client.get(reverse("relief:case_detail", args=[case.pk])).context["missing"] == []


def test_the_service_refuses_to_submit_an_incomplete_draft(people):
    worker = WorkerFactory(union=people.alice.union)
    draft = services.application_create(user=people.alice, worker=worker, categories=[])
    with pytest.raises(ValidationError) as info:
        services.application_submit(application=draft, user=people.alice)
    assert set(info.value.message_dict) == {
        "categories",
        "narrative",
        "requested_amount",
    }  # the incomes default to 0 when a service caller leaves them out


def test_a_returned_case_cannot_be_saved_incomplete(people):
    case = in_state(people, "returned")
    with pytest.raises(ValidationError) as info:
        services.application_update(
            application=case, user=people.alice, data={"requested_amount": None}
        )
    assert "requested_amount" in info.value.message_dict
    case.refresh_from_db()
    assert case.requested_amount is not None


def test_the_database_keeps_every_case_past_the_draft_complete(people):
    case = in_state(people, "submitted")
    with pytest.raises(IntegrityError), transaction.atomic():
        Application.objects.filter(pk=case.pk).update(requested_amount=None)
