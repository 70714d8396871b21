"""Issue 13, items 11 and 17: the admin's case list and case page as reviewers see them.

11. The case list fits a 1,366 px laptop: nothing scrolls sideways (the page nor the table's
    own scroll box), the columns a reviewer scans first (reference, worker, state, application
    date, amounts) are on screen, and a reference is one line.
17. On the case page, the steps this user may take now are the most visible thing: primary
    buttons at the top, inside the first screen, only the steps the workflow allows this user;
    the object tools keep only the history.

Screenshots of each page are written to the test's tmp_path (look at them when changing the
layout).
"""

import pytest
from django.core.management import call_command
from playwright.sync_api import Page, expect

from relief import workflow as wf
from relief.admin.actions import available_actions
from relief.models import Application
from relief.selectors import applications_for_user
from tests.browser.conftest import PHONE
from unions.demo import DEMO_PASSWORD
from unions.models import User

pytestmark = pytest.mark.django_db(transaction=True)

LAPTOP = {"width": 1366, "height": 768}
SCANNED_FIRST = ["申请编号", "职工", "状态", "申请日期", "申请金额", "建议救助金额", "批准金额"]


@pytest.fixture
def demo():
    call_command("load_demo", verbosity=0)


def admin_sign_in(page: Page, live_server, username: str) -> None:
    page.goto(f"{live_server.url}/admin/login/")
    page.locator("#id_username").fill(username)
    page.locator("#id_password").fill(DEMO_PASSWORD)
    page.locator("input[type=submit]").click()
    expect(page.locator("#user-tools")).to_be_visible()


def overflow(page: Page, selector: str) -> tuple[int, int]:
    return page.locator(selector).evaluate("e => [e.scrollWidth, e.clientWidth]")


@pytest.mark.parametrize("username", ["nh-officer", "xq-reviewer"])
def test_the_case_list_fits_a_laptop_screen(page: Page, live_server, demo, username, tmp_path):
    page.set_viewport_size(LAPTOP)
    admin_sign_in(page, live_server, username)
    page.goto(f"{live_server.url}/admin/relief/application/")
    expect(page.locator("#result_list")).to_be_visible()
    page.screenshot(path=tmp_path / f"case-list-{username}-1366.png")

    page_width, viewport = overflow(page, "html")
    assert page_width <= viewport, f"the page is {page_width}px wide in {viewport}px"
    table_width, box = overflow(page, "#changelist .results")
    assert table_width <= box, f"the table scrolls sideways: {table_width}px in {box}px"
    headers = page.locator("#result_list thead th")
    for title in SCANNED_FIRST:
        header = headers.filter(has_text=title).first
        expect(header).to_be_visible()
        right = header.evaluate("e => e.getBoundingClientRect().right")
        assert right <= LAPTOP["width"], f"{title} ends at {right}px, off the screen"
    references = page.locator("#result_list .field-reference a")
    user = User.objects.get(username=username)
    assert references.count() == applications_for_user(user).count() > 5
    for i in range(references.count()):
        lines = references.nth(i).evaluate("e => e.getClientRects().length")
        assert lines == 1, f"{references.nth(i).inner_text()} wraps over {lines} lines"
    # The masked ID number is still there, under the name.
    first = page.locator("#result_list tbody tr").first
    case = Application.objects.get(reference=first.locator(".field-reference").inner_text())
    expect(first.locator(".field-worker_name .list-id")).to_have_text(case.worker.masked_id_number)


def steps_shown(page: Page) -> list[str]:
    return page.locator("[data-testid=case-steps] a.case-step").evaluate_all(
        "links => links.map(a => a.dataset.step)"
    )


def allowed_steps(user, case) -> set[str]:
    # The admin's own list: the role's steps in this state that apply to this case.
    allowed = {name for name, _label in available_actions(user, case)}
    if wf.role_may(user, "home_visit", case.state):
        allowed.add("home_visit")
    return allowed


@pytest.mark.parametrize("viewport", [LAPTOP, PHONE], ids=["1366x768", "390x844"])
def test_the_steps_a_reviewer_may_take_are_the_first_thing_on_the_case_page(
    page: Page, live_server, demo, viewport, tmp_path
):
    case = Application.objects.get(state="submitted")
    reviewer = User.objects.get(username="xq-reviewer")
    page.set_viewport_size(viewport)
    admin_sign_in(page, live_server, reviewer.username)
    page.goto(f"{live_server.url}/admin/relief/application/{case.pk}/change/")
    panel = page.get_by_test_id("case-steps")
    expect(panel).to_be_visible()
    page.screenshot(path=tmp_path / f"case-page-reviewer-{viewport['width']}.png")

    shown = steps_shown(page)
    assert set(shown) == allowed_steps(reviewer, case)
    # (The demo's policy allows emergency advances: a qualifying case offers 先行救助 too.)
    expected = {"verify", "return_for_info", "reject", "attach", "home_visit"}
    assert set(shown) - expected <= {"advance_grant"} and expected <= set(shown)
    # The step that moves the case on comes first and is the primary button.
    primary = panel.locator("a.case-step-primary")
    assert [shown[0]] == primary.evaluate_all("links => links.map(a => a.dataset.step)")
    expect(primary).to_have_text("标记为已核实")
    # Inside the first screen, large enough to hit with a thumb, in the primary colour.
    box = primary.bounding_box()
    assert box["y"] + box["height"] <= viewport["height"], box
    assert box["height"] >= 40, box
    colour = primary.evaluate("e => getComputedStyle(e).backgroundColor")
    assert colour not in ("rgba(0, 0, 0, 0)", "rgb(255, 255, 255)"), colour
    panel_box = panel.bounding_box()
    assert panel_box["x"] + panel_box["width"] <= viewport["width"], panel_box
    # The print buttons each on one line (inline, the second broke in mid-label on a phone),
    # and no navigation sidebar beside the case.
    for link in page.get_by_test_id("print-links").locator("a.button").all():
        assert link.evaluate("e => e.getClientRects().length") == 1, link.inner_text()
    expect(page.locator("#nav-sidebar")).to_have_count(0)
    # The object tools keep the history and nothing else.
    expect(page.locator(".object-tools a")).to_have_count(1)
    expect(page.locator(".object-tools a")).to_have_text("历史")

    primary.click()
    assert page.url.endswith(f"/admin/relief/application/{case.pk}/act/verify/"), page.url
    expect(page.locator("#content-main form")).to_be_visible()


@pytest.mark.parametrize("viewport", [LAPTOP, PHONE], ids=["1366x768", "390x844"])
def test_the_officer_sees_payment_first_and_no_steps_where_there_are_none(
    page: Page, live_server, demo, viewport, tmp_path
):
    officer = User.objects.get(username="nh-officer")
    approved = Application.objects.get(state="approved")
    submitted = Application.objects.get(state="submitted")
    page.set_viewport_size(viewport)
    admin_sign_in(page, live_server, officer.username)

    page.goto(f"{live_server.url}/admin/relief/application/{approved.pk}/change/")
    page.screenshot(path=tmp_path / f"case-page-officer-{viewport['width']}.png")
    shown = steps_shown(page)
    assert set(shown) == allowed_steps(officer, approved)
    assert shown[0] == "disburse"
    expect(page.locator("a.case-step-primary")).to_have_text("登记发放")
    box = page.locator("a.case-step-primary").bounding_box()
    assert box["y"] + box["height"] <= viewport["height"], box

    # A case waiting for the town: the district has nothing to do, and is told so.
    page.goto(f"{live_server.url}/admin/relief/application/{submitted.pk}/change/")
    expect(page.get_by_test_id("case-steps")).to_contain_text("没有需要您办理的步骤")
    assert steps_shown(page) == []
    expect(page.locator(".object-tools a")).to_have_text("历史")


def test_select_all_and_a_row_click_work_with_the_prebuilt_rows(page: Page, live_server, demo):
    """The case list's rows come from relief.admin.result_table: Django's actions.js still
    finds its checkboxes (select all, the counter, a row highlighted when checked)."""
    page.set_viewport_size(LAPTOP)
    admin_sign_in(page, live_server, "nh-officer")
    page.goto(f"{live_server.url}/admin/relief/application/")
    boxes = page.locator("#result_list tbody input.action-select")
    count = boxes.count()
    assert count > 1
    page.locator("#action-toggle").check()
    for i in range(count):
        expect(boxes.nth(i)).to_be_checked()
    expect(page.locator(".action-counter")).to_have_text(f"选中了 {count} 个中的 {count} 个")
    page.locator("#action-toggle").uncheck()
    boxes.first.check()
    expect(page.locator("#result_list tbody tr").first).to_have_class("selected")
    expect(page.locator(".action-counter")).to_have_text(f"选中了 {count} 个中的 1 个")
