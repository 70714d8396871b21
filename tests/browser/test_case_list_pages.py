"""The case list's keyset pages on a phone: older, newer and back to the first page, with a
filter kept, no horizontal scroll (relief.paging; issue 16). KEYSET_SCREENSHOTS=<dir> keeps
a screenshot of each page."""

import datetime as dt
import os
import re

import pytest
from playwright.sync_api import Page, expect

from relief.models import Application
from tests.browser.conftest import PHONE
from tests.browser.test_caseworker import no_horizontal_scroll, sign_in
from tests.factories import file_case

pytestmark = pytest.mark.django_db(transaction=True)


def _shot(page: Page, name: str) -> None:
    """The top of the page and its end (the page links), as a phone shows them."""
    folder = os.environ.get("KEYSET_SCREENSHOTS")
    if folder:
        page.evaluate("window.scrollTo(0, 0)")
        page.screenshot(path=os.path.join(folder, f"{name}-top.png"))
        page.evaluate("window.scrollTo(0, document.body.scrollHeight)")
        page.screenshot(path=os.path.join(folder, f"{name}-end.png"))


def test_a_caseworker_pages_through_the_list_on_a_phone(page: Page, live_server, people):
    cases = [file_case(people.alice) for _ in range(45)]
    today = dt.date.today()
    for i, case in enumerate(cases):  # a few a day, as a busy union files them
        Application.objects.filter(pk=case.pk).update(
            application_date=today - dt.timedelta(days=i // 3)
        )
    newest_first = list(
        Application.objects.order_by("-application_date", "-pk").values_list("reference", flat=True)
    )
    sign_in(page, live_server, people.alice, next_path="/cases/")
    assert page.viewport_size == PHONE
    rows = page.locator("table.cases tbody tr")
    expect(rows).to_have_count(20)
    expect(page.get_by_text("共 45 件")).to_be_visible()
    expect(page.locator("a[rel=prev]")).to_have_count(0)
    no_horizontal_scroll(page)
    _shot(page, "1-first")

    older = page.locator("a[rel=next]")
    older.scroll_into_view_if_needed()
    box = older.bounding_box()
    assert box["height"] >= 40, box  # a thumb's target
    older.click()
    expect(page).to_have_url(re.compile(r"\?after=\d{4}-\d{2}-\d{2}\.\d+$"))
    expect(rows.first.locator("td.ref")).to_have_text(newest_first[20])
    expect(page.locator("a[rel=prev]")).to_be_visible()
    expect(page.locator("a.first-page")).to_be_visible()
    no_horizontal_scroll(page)
    _shot(page, "2-second")

    page.locator("a[rel=next]").click()
    expect(rows).to_have_count(5)
    expect(rows.last.locator("td.ref")).to_have_text(newest_first[-1])
    expect(page.locator("a[rel=next]")).to_have_count(0)
    no_horizontal_scroll(page)
    _shot(page, "3-last")

    page.locator("a[rel=prev]").click()
    expect(rows.first.locator("td.ref")).to_have_text(newest_first[20])
    # Newer, first page and older share one row, on the phone and on a desktop.
    for size in (PHONE, {"width": 1280, "height": 800}):
        page.set_viewport_size(size)
        boxes = [
            page.locator(sel).bounding_box()
            for sel in ("a[rel=prev]", "a.first-page", "a[rel=next]")
        ]
        assert len({round(b["y"] + b["height"] / 2) for b in boxes}) == 1, boxes
        assert boxes[0]["x"] < boxes[1]["x"] < boxes[2]["x"], boxes
        _shot(page, f"2-second-{size['width']}")
    page.set_viewport_size(PHONE)
    page.locator("a.first-page").click()
    expect(rows.first.locator("td.ref")).to_have_text(newest_first[0])
    expect(page.locator("a[rel=prev]")).to_have_count(0)

    # A filter rides along in the links.
    page.get_by_label("状态").select_option("draft")
    page.locator("main").get_by_role("button", name="搜索").click()
    page.locator("a[rel=next]").click()
    expect(page).to_have_url(re.compile(r"state=draft"))
    expect(page.get_by_label("状态")).to_have_value("draft")
    _shot(page, "4-filtered-second")
