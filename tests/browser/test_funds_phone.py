"""The funds page and a town's 十元捐 page on a phone: tables scroll inside their cards, the
page itself never sideways (a visually-hidden header once widened it by 80 px)."""

import datetime as dt

import pytest
from playwright.sync_api import Page, expect

from tests.browser.test_caseworker import no_horizontal_scroll, sign_in

pytestmark = pytest.mark.django_db(transaction=True)


def test_a_district_officer_reads_the_funds_on_a_phone(
    page: Page, live_server, people, well_funded
):
    sign_in(page, live_server, people.erin, "/funds/")
    page.goto(f"{live_server.url}/funds/")
    expect(page.get_by_role("heading", level=1)).to_have_text("资金")
    no_horizontal_scroll(page)
    # A year on one line, not one digit per line: its cell is no taller than a header's.
    year = page.locator("table.money td.year").first
    expect(year).to_have_text(str(dt.date.today().year))
    assert year.bounding_box()["height"] < 60
    # Nor the 十元捐 row's link one character per line (each row was five lines tall).
    link = page.get_by_role("link", name="按基层工会").first
    assert link.bounding_box()["height"] < 40
    link.click()
    expect(page.get_by_role("heading", level=1)).to_contain_text("十元捐")
    no_horizontal_scroll(page)
