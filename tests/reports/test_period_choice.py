"""The reports page: one year or a range is one choice, and a refused request shows the page
again with the message next to the field (issue 13.12)."""

import datetime as dt
import re

import pytest
from django.urls import reverse

PDF = "application/pdf"
THIS_YEAR = dt.date.today().year


@pytest.fixture
def erin(client, people, payouts):
    client.force_login(people.erin)
    return client


def _section(page: str, section_id: str) -> str:
    found = re.search(rf'<section class="card" id="{section_id}">(.*?)</section>', page, re.S)
    assert found, section_id
    return found.group(1)


def test_the_page_offers_year_or_range_as_one_choice(erin):
    page = erin.get(reverse("reports:index")).content.decode()
    form = _section(page, "payout-report")
    assert re.search(r'name="span" value="year"[^>]*checked', form)
    assert 'name="span" value="range"' in form
    year = re.search(r'<input id="pr-year"[^>]*>', form).group(0)
    assert f'value="{THIS_YEAR}"' in year and 'data-selects="pr-span-year"' in year
    assert 'data-selects="pr-span-range"' in form


@pytest.mark.parametrize("view", ["reports:payout_report", "reports:ledger"])
def test_a_range_is_taken_though_the_year_is_still_filled_in(erin, view):
    data = {"unit": "NH", "span": "range", "year": THIS_YEAR, "first_year": 2022}
    data |= {"last_year": 2023, "format": "csv"}
    response = erin.post(reverse(view), data)
    assert response.status_code == 200, response.content[:300]
    name = response["Content-Disposition"]
    assert "2022%E2%80%942023" in name  # 2022—2023年, percent-encoded


def test_a_year_is_taken_though_a_range_was_typed_too(erin):
    data = {"unit": "NH", "span": "year", "year": 2023, "first_year": "x", "last_year": 1}
    response = erin.post(reverse("reports:payout_report"), data)
    assert response.status_code == 200 and response["Content-Type"] == PDF


@pytest.mark.parametrize(
    ("data", "field_id", "message"),
    [
        ({"span": "range", "first_year": 2024, "last_year": 2022}, "pr-last", "不能早于"),
        ({"span": "range", "first_year": 2022}, "pr-last", "请填写范围的起止年度"),
        ({"span": "year", "year": ""}, "pr-year", "请填写年度"),
        ({"span": "year", "year": "1999"}, "pr-year", "2000"),
    ],
)
def test_a_refused_period_shows_the_form_again_with_the_message(erin, data, field_id, message):
    response = erin.post(reverse("reports:payout_report"), {"unit": "XQ", **data})
    assert response.status_code == 400
    page = response.content.decode()
    form = _section(page, "payout-report")
    assert 'action="/reports/payouts/"' in form  # the form, not a bare error page
    error = re.search(rf'id="{field_id}-error">(.*?)</ul>', form, re.S)
    assert error and message in error.group(1)
    assert f'id="{field_id}"' in form and 'aria-invalid="true"' in form
    # What was sent is kept: the unit and the choice.
    assert re.search(r'<option value="XQ" selected>', form)
    checked = re.search(r'name="span" value="(\w+)"[^>]*checked', form).group(1)
    assert checked == data["span"]
    # The other forms of the page are there, untouched.
    assert "id-error" not in _section(page, "ledger")


def test_a_refused_ledger_shows_the_page(erin):
    response = erin.get(reverse("reports:ledger"), {"unit": "NH", "year": "abc"})
    assert response.status_code == 400
    assert 'id="lg-year-error"' in _section(response.content.decode(), "ledger")


def test_a_request_without_the_choice_still_works(erin):
    """An older page or a bookmark sends a year, or a range, without `span`."""
    ledger = reverse("reports:ledger")
    assert erin.get(ledger, {"unit": "NH", "year": 2023, "format": "csv"}).status_code == 200
    response = erin.get(ledger, {"unit": "NH", "first_year": 2022, "last_year": 2023})
    assert response.status_code == 200
