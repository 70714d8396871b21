"""Searching by ID number in a real browser: the number is typed and posted, never in an address
(every request of these tests is also watched by tests/browser/conftest.py)."""

import re
from urllib.parse import parse_qs, urlsplit

import pytest
from playwright.sync_api import Page, expect

from tests.browser.conftest import PHONE
from tests.browser.test_caseworker import no_horizontal_scroll, sign_in
from tests.factories import WorkerFactory, case_in_state

pytestmark = pytest.mark.django_db(transaction=True)


def two_cases(people):
    mine = case_in_state("submitted", caseworker=people.alice, reviewer=people.carol, officer=None)
    other = case_in_state("draft", caseworker=people.alice, reviewer=people.carol, officer=None)
    return mine, other


def test_a_caseworker_finds_a_case_by_id_number_on_a_phone(page: Page, live_server, people):
    mine, other = two_cases(people)
    sign_in(page, live_server, people.alice, next_path="/cases/")
    page.get_by_label("姓名或身份证号").fill(mine.worker.id_number)
    page.get_by_label("状态").select_option("submitted")
    page.locator("main").get_by_role("button", name="搜索").click()
    expect(page.get_by_role("link", name=mine.reference)).to_be_visible()
    expect(page.get_by_text(other.reference)).to_have_count(0)
    query = parse_qs(urlsplit(page.url).query)
    assert set(query) == {"s", "state"} and query["state"] == ["submitted"], page.url
    expect(page.get_by_label("姓名或身份证号")).to_have_value(mine.worker.id_number)
    assert page.viewport_size == PHONE
    no_horizontal_scroll(page)
    # Reloading the list neither posts again nor loses the search.
    page.reload()
    expect(page.get_by_role("link", name=mine.reference)).to_be_visible()


def test_the_search_works_without_javascript(browser, live_server, people):
    mine, other = two_cases(people)
    context = browser.new_context(java_script_enabled=False, viewport=PHONE, locale="zh-CN")
    page = context.new_page()
    try:
        sign_in(page, live_server, people.alice, next_path="/cases/")
        page.get_by_label("姓名或身份证号").fill(other.worker.id_number)
        page.locator("main").get_by_role("button", name="搜索").click()
        expect(page.get_by_role("link", name=other.reference)).to_be_visible()
        expect(page.get_by_text(mine.reference)).to_have_count(0)
        assert "?s=" in page.url
        no_horizontal_scroll(page)
    finally:
        context.close()


def test_a_reviewer_searches_the_admin_by_id_number(page: Page, live_server, people):
    liang = WorkerFactory(union=people.alice.union, name="梁志明")
    WorkerFactory(union=people.alice.union, name="陈建华")
    page.set_viewport_size({"width": 1280, "height": 800})
    sign_in(page, live_server, people.carol)
    page.goto(f"{live_server.url}/admin/relief/worker/")
    page.locator("#searchbar").fill(liang.id_number)
    page.locator("#changelist-search").get_by_role("button", name="搜索").click()
    expect(page.locator("#result_list")).to_contain_text("梁志明")
    expect(page.locator("#result_list")).not_to_contain_text("陈建华")
    expect(page.locator("#searchbar")).to_have_value(liang.id_number)
    assert re.search(r"/admin/relief/worker/\?s=[\w-]{8}$", page.url), page.url


def test_the_browser_guard_catches_an_id_number_in_an_address(
    page: Page, live_server, people, id_urls_requested
):
    mine, _other = two_cases(people)
    sign_in(page, live_server, people.alice, next_path="/cases/")
    page.goto(f"{live_server.url}/cases/?q={mine.worker.id_number}")
    # The server refuses the old address (and says why); the guard saw the request.
    expect(page.locator(".messages")).to_contain_text("按身份证号搜索只能通过搜索框")
    assert not re.search(r"q=", page.url)
    assert len(id_urls_requested) == 1 and mine.worker.id_number in id_urls_requested[0]
    id_urls_requested.clear()  # proven; the test itself must not fail on it
