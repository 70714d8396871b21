"""Saving a draft in Chromium (issue 13, item 4): only the ID number and the name, then the
case page lists what is missing, each item a link to its field; on a phone and a laptop."""

import pytest
from playwright.sync_api import Page, expect

from relief.models import Application
from tests.browser.test_caseworker import no_horizontal_scroll, sign_in
from tests.factories import make_id_number

pytestmark = pytest.mark.django_db(transaction=True)

LAPTOP = {"width": 1366, "height": 768}


def save_a_bare_draft(page: Page, live_server, people, n: int) -> Application:
    sign_in(page, live_server, people.alice)
    page.goto(f"{live_server.url}/cases/new/")
    page.locator("#id_id_number").fill(make_id_number(n))
    page.locator("form:has(input[name=step][value=lookup]) button").click()
    page.locator("#id_name").fill("罗志坚")
    page.locator("button[name=action][value=draft]").click()
    expect(page.get_by_test_id("state")).to_have_text("草稿")
    return Application.objects.get(worker__name="罗志坚")


def walk_the_missing_list(page: Page, case: Application):
    missing = page.get_by_test_id("still-missing")
    expect(missing).to_contain_text("提交前还需补充")
    expect(missing.get_by_role("link")).to_have_count(5)
    # No submit button while something is missing; the edit button leads there.
    expect(page.locator("main").get_by_role("button", name="提交镇审核")).to_have_count(0)
    no_horizontal_scroll(page)
    missing.get_by_role("link", name="申请金额").click()
    expect(page).to_have_url(
        f"{page.url.split('/cases/')[0]}/cases/{case.pk}/edit/#id_requested_amount"
    )
    amount = page.locator("#id_requested_amount")
    expect(amount).to_be_in_viewport()
    amount.fill("3000")
    page.locator("#id_categories_0").check()
    page.locator("#id_narrative").fill("确诊白血病，需长期化疗。")
    page.locator("#id_household_monthly_income").fill("1500")
    page.locator("#id_monthly_medical_expenses").fill("4000")
    page.locator("button[name=action][value=submit]").click()
    expect(page.get_by_test_id("state")).to_have_text("待镇审核")
    expect(page.get_by_test_id("still-missing")).to_have_count(0)


def test_a_bare_draft_on_a_phone(page: Page, live_server, people):
    case = save_a_bare_draft(page, live_server, people, 601)
    walk_the_missing_list(page, case)


def test_a_bare_draft_on_a_laptop(browser, live_server, people):
    context = browser.new_context(viewport=LAPTOP, locale="zh-CN", timezone_id="Asia/Shanghai")
    page = context.new_page()
    page.set_default_timeout(10_000)
    case = save_a_bare_draft(page, live_server, people, 602)
    walk_the_missing_list(page, case)
    context.close()
