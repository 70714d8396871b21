"""Issue 13, items 5, 13 and 18 in Chromium, at phone (390x844) and laptop (1366x768) size.

- 5: the home-visit form of its own, reached from the admin's case page, fits both screens,
  and the admin's case page no longer overflows a laptop.
- 13: the error summary's links take the user to the field, focused.
- 18: what is typed survives a lost signal (the network cut between typing and sending), is
  put back with a notice, is sent once, and the copy is gone afterwards; another user of the
  phone never sees it; signing out clears it.

Set SCREENSHOT_DIR to keep the screenshots these tests take.
"""

import datetime as dt
import os
import re
from decimal import Decimal
from pathlib import Path

import pytest
from playwright.sync_api import Error as PlaywrightError
from playwright.sync_api import Page, expect

from relief import services
from relief.models import Application, HomeVisit
from tests.browser.conftest import PHONE
from tests.factories import case_in_state, caseworker, make_id_number, tiny_png

pytestmark = pytest.mark.django_db(transaction=True)

PASSWORD = "pw-for-tests-1"
LAPTOP = {"width": 1366, "height": 768}
SIZES = {"phone": PHONE, "laptop": LAPTOP}
DRAFTS = "Object.keys(localStorage).filter(k => k.startsWith('relief-draft:'))"


@pytest.fixture(params=["phone", "laptop"])
def screen(request, browser):
    """A page at phone or laptop size (Chinese, Shanghai time)."""
    size = request.param
    context = browser.new_context(
        viewport=SIZES[size],
        is_mobile=size == "phone",
        has_touch=size == "phone",
        locale="zh-CN",
        timezone_id="Asia/Shanghai",
    )
    page = context.new_page()
    page.set_default_timeout(10_000)
    yield size, page
    context.close()


def shot(page: Page, name: str) -> None:
    folder = os.environ.get("SCREENSHOT_DIR")
    if folder:
        Path(folder).mkdir(parents=True, exist_ok=True)
        page.screenshot(path=str(Path(folder) / f"{name}.png"), full_page=True)


def sign_in(page: Page, live_server, user, next_path: str = "/"):
    page.goto(f"{live_server.url}/login/?next={next_path}")
    page.get_by_label("用户名").fill(user.username)
    page.get_by_label("密码").fill(PASSWORD)
    page.locator("main").get_by_role("button", name="登录").click()
    expect(page.get_by_test_id("who")).to_be_visible()
    # The page's deferred scripts (the form's kept copy, form-draft.js) have run by its load
    # event; the header shows before that, and typing earlier went unseen on a loaded machine.
    page.wait_for_load_state("load")


def admin_sign_in(page: Page, live_server, user):
    page.goto(f"{live_server.url}/admin/login/")
    page.locator("#id_username").fill(user.username)
    page.locator("#id_password").fill(PASSWORD)
    page.locator("#login-form [type=submit]").click()
    expect(page).to_have_url(re.compile(r"/admin/$"))


def overflow(page: Page) -> tuple[int, int]:
    return tuple(
        page.evaluate(
            "[document.documentElement.scrollWidth, document.documentElement.clientWidth]"
        )
    )


def assert_fits(page: Page):
    wide, shown = overflow(page)
    assert wide <= shown, f"{page.url}: content {wide}px wide in {shown}px"


def submitted_case(people):
    return case_in_state(
        "submitted", caseworker=people.alice, reviewer=people.carol, officer=people.erin
    )


def record_visit(app, people, findings):
    services.home_visit_record(
        application=app,
        user=people.carol,
        visit_date=dt.date.today(),
        visitors="梁慧敏、何建华、黄志强",
        findings=findings,
        verified_household_income=Decimal("1800"),
        verified_monthly_expenses=Decimal("3200"),
    )


# --- item 5: the home-visit form ----------------------------------------------------------


def test_the_admin_case_page_fits_a_laptop_with_visits_on_file(screen, live_server, people):
    size, page = screen
    if size != "laptop":
        pytest.skip("the admin is the reviewers' laptop page")
    app = submitted_case(people)
    record_visit(app, people, "母亲长期卧床，需要专人照顾；" * 12)
    admin_sign_in(page, live_server, people.carol)
    page.goto(f"{live_server.url}/admin/relief/application/{app.pk}/change/")
    expect(page.get_by_text("母亲长期卧床").first).to_be_visible()
    shot(page, "admin-case-laptop")
    assert_fits(page)


def test_a_visit_is_recorded_from_the_admin_on_the_visit_page(
    screen, live_server, people, settings, tmp_path
):
    size, page = screen
    settings.MEDIA_ROOT = tmp_path / "media"
    app = submitted_case(people)
    admin_sign_in(page, live_server, people.carol)
    page.goto(f"{live_server.url}/admin/relief/application/{app.pk}/change/")
    page.get_by_role("link", name="登记入户核实").click()
    expect(page.get_by_role("heading", level=1)).to_have_text("登记入户核实")
    camera = page.get_by_label("拍照")
    assert camera.get_attribute("capture") == "environment"
    assert_fits(page)
    shot(page, f"visit-form-{size}")

    page.get_by_label("走访人员").fill("何建华、梁慧敏")
    page.get_by_label("情况记录").fill("母亲卧床，儿子读初中，家中无其他收入。")
    page.get_by_label("核实的家庭月收入").fill("1800")
    page.get_by_label("核实的每月支出").fill("3200")
    camera.set_input_files(
        files=[{"name": "IMG_0001.png", "mimeType": "image/png", "buffer": tiny_png()}]
    )
    page.get_by_role("button", name="保存入户核实").click()

    expect(page.locator(".messages")).to_contain_text("入户核实已登记")
    visits = page.get_by_test_id("visits")
    expect(visits).to_contain_text("母亲卧床")
    expect(visits).to_contain_text("IMG_0001.png")
    assert_fits(page)
    shot(page, f"visit-done-{size}")
    visit = HomeVisit.objects.get(application=app)
    assert visit.attachments.get().kind == "photo"
    # Back to the admin from the case page.
    page.get_by_role("link", name="在管理后台打开").click()
    expect(page).to_have_url(re.compile(rf"/admin/relief/application/{app.pk}/change/$"))
    expect(page.locator("body")).to_contain_text("母亲卧床")


# --- item 13: the error summary's links -------------------------------------------------


def test_the_error_summary_links_focus_each_field(screen, live_server, people):
    size, page = screen
    sign_in(page, live_server, people.alice, next_path="/cases/new/")
    page.get_by_label("身份证号码").fill(make_id_number(901))
    page.get_by_role("button", name="下一步").click()
    page.locator("#id_name").fill("何美玲")
    page.get_by_label("家庭月收入").fill("1800")
    page.get_by_label("每月医疗支出").fill("2600")
    page.get_by_role("button", name="提交镇审核").click()

    summary = page.locator("#error-summary")
    expect(summary).to_be_focused()
    links = page.get_by_test_id("error-links").get_by_role("link")
    expect(links).to_have_count(3)  # categories, situation, amount
    shot(page, f"error-summary-{size}")
    for target in ("id_requested_amount", "id_narrative", "id_categories_0"):
        page.evaluate("window.scrollTo(0, 0)")
        page.locator(f'a[href="#{target}"]').click()
        expect(page.locator(f"#{target}")).to_be_focused()
        expect(page.locator(f"#{target}")).to_be_in_viewport()
    assert_fits(page)


def test_the_visit_forms_error_summary_links_too(screen, live_server, people):
    _size, page = screen
    app = submitted_case(people)
    sign_in(page, live_server, people.carol, next_path=f"/cases/{app.pk}/visit/")
    page.get_by_label("核实的家庭月收入").fill("1800")
    page.get_by_role("button", name="保存入户核实").click()
    expect(page.locator("#error-summary")).to_be_focused()
    page.locator('a[href="#id_verified_monthly_expenses"]').click()
    expect(page.locator("#id_verified_monthly_expenses")).to_be_focused()
    assert_fits(page)


# --- item 18: a lost signal --------------------------------------------------------------


def type_an_intake(page: Page, number: str):
    page.get_by_label("身份证号码").fill(number)
    page.get_by_role("button", name="下一步").click()
    page.locator("#id_name").fill("陈建华")
    page.get_by_label("联系电话").fill("13912345678")
    page.get_by_label("工作单位").fill("樵山食品有限公司")
    page.locator("#id_new_bank_card").fill("6228480000000000009")
    page.get_by_role("button", name="添加家庭成员").click()
    page.locator("#id_household-0-relation").fill("妻子")
    page.locator("#id_household-0-name").fill("黄丽萍")
    page.locator("#id_household-0-age").fill("41")
    page.get_by_text("重大疾病", exact=True).click()
    page.get_by_label("困难情况").fill("本人确诊白血病，需长期化疗。")
    page.get_by_label("家庭月收入").fill("1500")
    page.get_by_label("每月医疗支出").fill("4000")
    page.get_by_label("申请金额").fill("6000")


def send_without_signal(page: Page, button: str):
    """Press the button with the network cut: the browser shows its own error page."""
    page.context.set_offline(True)
    try:
        page.get_by_role("button", name=button).click()
        page.wait_for_load_state()
    except PlaywrightError:
        pass
    page.context.set_offline(False)


def test_an_intake_survives_a_lost_signal_and_is_filed_once(screen, live_server, people):
    size, page = screen
    number = make_id_number(902)
    sign_in(page, live_server, people.alice, next_path="/cases/new/")
    type_an_intake(page, number)
    assert len(page.evaluate(DRAFTS)) == 1
    send_without_signal(page, "提交镇审核")
    assert not Application.objects.exists()

    # Back in signal: the intake offers the kept case, its ID number masked.
    page.goto(f"{live_server.url}/cases/new/")
    resume = page.get_by_test_id("draft-resume")
    expect(resume).to_be_visible()
    expect(resume).to_contain_text(f"{number[:6]}********{number[-4:]}")
    expect(resume).not_to_contain_text(number)
    resume.get_by_role("button", name="继续填写").click()

    notice = page.get_by_test_id("draft-notice")
    expect(notice).to_be_visible()
    expect(notice).to_contain_text("附件和银行卡号不会保存")
    expect(page.locator("#id_name")).to_have_value("陈建华")
    expect(page.locator("#id_household-0-name")).to_have_value("黄丽萍")
    expect(page.get_by_label("重大疾病")).to_be_checked()
    expect(page.get_by_label("申请金额")).to_have_value("6000")
    expect(page.locator("#id_new_bank_card")).to_have_value("")  # never kept
    assert_fits(page)
    shot(page, f"intake-restored-{size}")

    page.locator("#id_new_bank_card").fill("6228480000000000009")
    page.get_by_role("button", name="提交镇审核").click()
    expect(page.get_by_test_id("state")).to_have_text("待镇审核")
    case = Application.objects.get()
    assert case.worker.id_number == number
    assert [m.name for m in case.worker.household.all()] == ["黄丽萍"]
    assert page.evaluate(DRAFTS) == []


def test_an_intake_the_server_had_is_not_filed_twice(page: Page, live_server, people):
    """The signal goes after the server got the form, before its answer arrived."""
    number = make_id_number(903)
    sign_in(page, live_server, people.alice, next_path="/cases/new/")
    type_an_intake(page, number)

    def answer_lost(route):
        body = route.request.post_data_buffer or b""
        if route.request.method == "POST" and b'name="action"' in body:
            route.fetch(max_redirects=0)  # the server files the case ...
            route.abort("internetdisconnected")  # ... and the phone never hears of it
        else:
            route.continue_()

    page.route("**/cases/new/", answer_lost)
    try:
        page.get_by_role("button", name="提交镇审核").click()
        page.wait_for_load_state()
    except PlaywrightError:
        pass
    page.unroute("**/cases/new/")
    case = Application.objects.get()

    page.goto(f"{live_server.url}/cases/new/")
    assert len(page.evaluate(DRAFTS)) == 1  # the phone still holds it: no answer came
    page.get_by_test_id("draft-resume").get_by_role("button", name="继续填写").click()
    expect(page).to_have_url(re.compile(rf"/cases/{case.pk}/$"))
    expect(page.locator(".messages")).to_contain_text("未重复登记")
    assert Application.objects.count() == 1
    assert page.evaluate(DRAFTS) == []


def test_a_visit_survives_a_lost_signal(screen, live_server, people):
    size, page = screen
    app = submitted_case(people)
    sign_in(page, live_server, people.carol, next_path=f"/cases/{app.pk}/visit/")
    page.get_by_label("情况记录").fill("房屋漏雨，母亲卧床。")
    page.get_by_label("核实的家庭月收入").fill("1800")
    page.get_by_label("核实的每月支出").fill("3200")
    send_without_signal(page, "保存入户核实")
    assert not HomeVisit.objects.exists()

    page.goto(f"{live_server.url}/cases/{app.pk}/visit/")
    expect(page.get_by_test_id("draft-notice")).to_be_visible()
    expect(page.get_by_label("情况记录")).to_have_value("房屋漏雨，母亲卧床。")
    shot(page, f"visit-restored-{size}")
    page.get_by_role("button", name="保存入户核实").click()
    expect(page.get_by_test_id("visits")).to_contain_text("房屋漏雨")
    assert HomeVisit.objects.count() == 1
    assert page.evaluate(DRAFTS) == []


def test_a_kept_copy_can_be_discarded(page: Page, live_server, people):
    app = submitted_case(people)
    sign_in(page, live_server, people.carol, next_path=f"/cases/{app.pk}/visit/")
    page.get_by_label("情况记录").fill("草稿内容")
    page.wait_for_function(f"{DRAFTS}.length === 1")  # kept before the page goes
    page.reload()
    notice = page.get_by_test_id("draft-notice")
    notice.get_by_role("button", name="丢弃，重新填写").click()
    expect(notice).to_be_hidden()
    expect(page.get_by_label("情况记录")).to_have_value("")
    assert page.evaluate(DRAFTS) == []
    page.reload()
    expect(page.get_by_test_id("draft-notice")).to_be_hidden()


def test_another_user_of_the_phone_never_sees_it_and_signing_out_clears_it(
    page: Page, live_server, people, tree
):
    other = caseworker(tree.xq_s01, username="alice2")
    number = make_id_number(904)
    sign_in(page, live_server, people.alice, next_path="/cases/new/")
    type_an_intake(page, number)
    # Alice's session ends without signing out (idle time); a colleague signs in here.
    page.context.clear_cookies()
    sign_in(page, live_server, other, next_path="/cases/new/")
    expect(page.get_by_label("身份证号码")).to_be_visible()
    expect(page.get_by_test_id("draft-resume")).to_be_hidden()
    page.get_by_label("身份证号码").fill(number)
    page.get_by_role("button", name="下一步").click()
    expect(page.get_by_test_id("draft-notice")).to_be_hidden()
    expect(page.locator("#id_name")).to_have_value("")
    # Alice, back, gets hers; signing out leaves nothing on the phone.
    page.context.clear_cookies()
    sign_in(page, live_server, people.alice, next_path="/cases/new/")
    expect(page.get_by_test_id("draft-resume")).to_be_visible()
    assert len(page.evaluate(DRAFTS)) == 1
    page.get_by_role("button", name="退出登录").click()
    expect(page).to_have_url(re.compile(r"/login/$"))
    assert page.evaluate("Object.keys(localStorage)") == []
