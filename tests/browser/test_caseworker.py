"""A caseworker on a phone: sign in, file, follow and correct cases, in Chinese."""

import re

import pytest
from playwright.sync_api import Page, expect

from relief.models import Application, Worker
from tests.browser.conftest import PHONE
from tests.factories import case_in_state, make_id_number, tiny_png

# live_server needs committed data: each test runs in real transactions and the tables are
# emptied afterwards (conftest's _seeded puts the migrations' categories and policy back).
pytestmark = pytest.mark.django_db(transaction=True)

PASSWORD = "pw-for-tests-1"
PNG = tiny_png()


def sign_in(page: Page, live_server, user, next_path: str = "/"):
    page.goto(f"{live_server.url}/login/?next={next_path}")
    page.get_by_label("用户名").fill(user.username)
    page.get_by_label("密码").fill(PASSWORD)
    page.locator("main").get_by_role("button", name="登录").click()
    expect(page.get_by_test_id("who")).to_contain_text(user.get_full_name())


def no_horizontal_scroll(page: Page):
    widths = page.evaluate(
        "[document.documentElement.scrollWidth, document.documentElement.clientWidth]"
    )
    assert widths[0] <= widths[1], f"{page.url}: content {widths[0]}px wide in {widths[1]}px"


def fill_member(page: Page, index: int, relation: str, name: str, age: str):
    page.locator(f"#id_household-{index}-relation").fill(relation)
    page.locator(f"#id_household-{index}-name").fill(name)
    page.locator(f"#id_household-{index}-age").fill(age)


def test_sign_in_shows_name_role_and_union(page: Page, live_server, people):
    page.goto(live_server.url + "/")
    expect(page).to_have_url(re.compile(r"/login/\?next=/$"))
    expect(page.locator("h1")).to_have_text("登录")
    page.get_by_label("用户名").fill("alice")
    page.get_by_label("密码").fill("wrong password")
    page.locator("main").get_by_role("button", name="登录").click()
    expect(page.get_by_role("alert")).to_be_visible()
    sign_in(page, live_server, people.alice)
    who = page.get_by_test_id("who")
    expect(who).to_contain_text("基层经办人")
    expect(who).to_contain_text("樵园社区工会")
    expect(page.get_by_role("heading", level=1)).to_contain_text("欢迎")
    page.get_by_role("button", name="退出登录").click()
    expect(page).to_have_url(re.compile(r"/login/$"))


def test_file_a_new_case_with_two_household_members_and_an_attachment(
    page: Page, live_server, people, tmp_path
):
    sign_in(page, live_server, people.alice)
    page.get_by_role("link", name="新建案件").click()
    number = make_id_number(401)
    page.get_by_label("身份证号码").fill(number)
    page.get_by_role("button", name="下一步").click()
    expect(page.get_by_text("系统中没有该身份证号的职工")).to_be_visible()

    page.locator("#id_name").fill("陈建华")
    page.get_by_label("联系电话").fill("13912345678")
    page.get_by_label("工作单位").fill("樵山食品有限公司")

    # The script drops the blank rows and adds rows on demand.
    expect(page.locator("[data-member]")).to_have_count(0)
    add = page.get_by_role("button", name="添加家庭成员")
    add.click()
    fill_member(page, 0, "妻子", "黄丽萍", "41")
    add.click()
    fill_member(page, 1, "儿子", "陈子轩", "12")
    add.click()
    page.locator("[data-member]").nth(2).get_by_role("button", name="删除").click()
    expect(page.locator("[data-member]:visible")).to_have_count(2)

    page.get_by_text("重大疾病", exact=True).click()
    page.get_by_label("困难情况").fill("本人确诊白血病，需长期化疗，妻子收入微薄。")
    page.get_by_label("家庭月收入").fill("2200")
    page.get_by_label("每月医疗支出").fill("4000")
    amount = page.get_by_label("申请金额")
    amount.fill("12000")
    expect(page.locator("#id_requested_amount_live")).to_contain_text("超过每次救助上限 ¥10,000.00")
    amount.fill("6000")
    expect(page.locator("#id_requested_amount_live")).to_contain_text("未超过上限")

    photo = tmp_path / "诊断书.png"
    photo.write_bytes(PNG)
    page.get_by_label("文件").set_input_files(str(photo))
    page.get_by_role("button", name="提交镇审核").click()

    expect(page.get_by_test_id("state")).to_have_text("待镇审核")
    expect(page.get_by_role("link", name="诊断书.png")).to_be_visible()
    expect(page.get_by_text("妻子 黄丽萍")).to_be_visible()
    expect(page.get_by_text("儿子 陈子轩")).to_be_visible()
    no_horizontal_scroll(page)

    app = Application.objects.get(worker__id_number=number)
    assert app.state == "submitted"
    assert app.worker.household.count() == 2
    assert app.attachments.count() == 1

    page.get_by_role("link", name="案件", exact=True).click()
    page.get_by_label("姓名或身份证号").fill("陈建华")
    page.get_by_role("button", name="搜索").click()
    row = page.locator("table.cases tbody tr")
    expect(row).to_have_count(1)
    expect(row).to_contain_text(app.reference)
    expect(row).to_contain_text(f"{number[:6]}********{number[-4:]}")
    expect(row).not_to_contain_text(number)


def test_nothing_typed_is_lost_on_a_validation_error(page: Page, live_server, people):
    sign_in(page, live_server, people.alice, next_path="/cases/new/")
    page.get_by_label("身份证号码").fill(make_id_number(402))
    page.get_by_role("button", name="下一步").click()
    page.locator("#id_name").fill("何美玲")
    add = page.get_by_role("button", name="添加家庭成员")
    add.click()
    fill_member(page, 0, "丈夫", "李国强", "45")
    add.click()
    fill_member(page, 1, "女儿", "李欣", "9")
    page.locator("#id_household-1-id_number").fill("440605201501011234")  # bad check digit
    page.get_by_text("子女就学", exact=True).click()
    page.get_by_text("家庭成员患病", exact=True).click()
    page.get_by_label("家庭月收入").fill("1800")
    page.get_by_label("每月医疗支出").fill("2600")
    page.get_by_label("申请金额").fill("3000")
    # No situation written: the server refuses and shows the page again.
    page.get_by_role("button", name="提交镇审核").click()

    expect(page.locator("#error-summary")).to_be_visible()
    expect(page.locator(".field-narrative .errorlist")).to_contain_text("这个字段是必填项")
    expect(page.locator(".field-id_number .errorlist").first).to_contain_text("校验位")
    expect(page.locator("#id_name")).to_have_value("何美玲")
    expect(page.locator("#id_household-0-name")).to_have_value("李国强")
    expect(page.locator("#id_household-1-name")).to_have_value("李欣")
    expect(page.locator("#id_household-1-id_number")).to_have_value("440605201501011234")
    expect(page.get_by_label("子女就学")).to_be_checked()
    expect(page.get_by_label("家庭成员患病")).to_be_checked()
    expect(page.get_by_label("申请金额")).to_have_value("3000")
    no_horizontal_scroll(page)

    page.locator("#id_household-1-id_number").fill("")
    page.get_by_label("困难情况").fill("丈夫工伤在家，女儿读小学。")
    page.get_by_role("button", name="保存草稿").click()
    expect(page.get_by_test_id("state")).to_have_text("草稿")
    worker = Worker.objects.get(name="何美玲")
    assert [m.name for m in worker.household.all()] == ["李国强", "李欣"]
    app = worker.applications.get()
    assert sorted(app.categories.values_list("name", flat=True)) == ["子女就学", "家庭成员患病"]


def test_a_returned_case_is_corrected_and_resubmitted(page: Page, live_server, people):
    app = case_in_state(
        "returned", caseworker=people.alice, reviewer=people.carol, officer=people.erin
    )
    sign_in(page, live_server, people.alice)
    # The 待办 line opens the correction page, where the step is taken.
    todo = page.locator(".todo-item", has_text=app.worker.name)
    expect(todo).to_contain_text("缺诊断书")
    todo.get_by_role("link").click()
    expect(page.get_by_test_id("returned-comment")).to_contain_text("缺诊断书")

    page.get_by_label("困难情况").fill("补充：住院诊断证明已附上。")
    page.get_by_role("button", name="添加家庭成员").click()
    fill_member(page, 0, "母亲", "梁陈氏", "76")
    page.get_by_role("button", name="保存并重新提交").click()

    expect(page.get_by_test_id("state")).to_have_text("待镇审核")
    timeline = page.get_by_test_id("timeline")
    expect(timeline).to_contain_text("退回补充材料 → 待镇审核")
    expect(timeline).to_contain_text("缺诊断书")
    app.refresh_from_db()
    assert app.state == "submitted"
    assert app.narrative == "补充：住院诊断证明已附上。"
    assert [m.name for m in app.worker.household.all()] == ["梁陈氏"]


def test_an_existing_worker_comes_prefilled_with_prior_relief(page: Page, live_server, people):
    old = case_in_state(
        "closed",
        caseworker=people.alice,
        reviewer=people.carol,
        officer=people.erin,
        amount="5000.00",
    )
    worker = old.worker
    sign_in(page, live_server, people.alice, next_path="/cases/new/")
    page.get_by_label("身份证号码").fill(worker.id_number)
    page.get_by_role("button", name="下一步").click()
    prior = page.get_by_test_id("prior-relief")
    expect(prior).to_contain_text("救助次数")
    expect(prior).to_contain_text("1")
    expect(prior).to_contain_text("¥5,000.00")
    expect(prior).to_contain_text("西樵镇总工会")
    expect(page.locator("#id_name")).to_have_value(worker.name)
    expect(page.locator("#id_phone")).to_have_value(worker.phone)
    no_horizontal_scroll(page)


def test_phone_screens_have_no_horizontal_scroll_and_reachable_actions(
    page: Page, live_server, people
):
    draft = case_in_state("draft", caseworker=people.alice, reviewer=people.carol, officer=None)
    case_in_state("approved", caseworker=people.alice, reviewer=people.carol, officer=people.erin)
    sign_in(page, live_server, people.alice)
    for path in ["/", "/cases/", "/cases/new/", f"/cases/{draft.pk}/", f"/cases/{draft.pk}/edit/"]:
        page.goto(live_server.url + path)
        assert page.viewport_size == PHONE
        no_horizontal_scroll(page)
        for button in page.locator("main button:visible, main a.button:visible").all():
            box = button.bounding_box()
            assert box and box["x"] >= 0 and box["x"] + box["width"] <= PHONE["width"], path
    page.goto(f"{live_server.url}/cases/{draft.pk}/")
    for name in ["编辑", "提交镇审核", "撤回"]:
        expect(
            page.locator("main")
            .get_by_role("button", name=name)
            .or_(page.locator("main").get_by_role("link", name=name))
        ).to_be_visible()


def test_the_desktop_list_is_a_table(page: Page, live_server, people):
    case_in_state("submitted", caseworker=people.alice, reviewer=people.carol, officer=None)
    page.set_viewport_size({"width": 1280, "height": 800})
    sign_in(page, live_server, people.alice, next_path="/cases/")
    expect(page.get_by_role("columnheader", name="编号")).to_be_visible()
    expect(page.get_by_role("columnheader", name="状态")).to_be_visible()
    no_horizontal_scroll(page)


def test_a_caseworker_of_another_union_gets_not_found(page: Page, live_server, people):
    theirs = case_in_state(
        "submitted", caseworker=people.alice, reviewer=people.carol, officer=None
    )
    sign_in(page, live_server, people.bob)
    response = page.goto(f"{live_server.url}/cases/{theirs.pk}/")
    assert response.status == 404
    expect(page.get_by_role("heading", name="未找到")).to_be_visible()
    response = page.goto(f"{live_server.url}/cases/{theirs.pk}/edit/")
    assert response.status == 404
    page.goto(f"{live_server.url}/cases/")
    expect(page.get_by_text(theirs.reference)).to_have_count(0)


def test_the_form_works_without_javascript(browser, live_server, people):
    context = browser.new_context(java_script_enabled=False, viewport=PHONE, locale="zh-CN")
    page = context.new_page()
    try:
        sign_in(page, live_server, people.alice, next_path="/cases/new/")
        number = make_id_number(403)
        page.get_by_label("身份证号码").fill(number)
        page.get_by_role("button", name="下一步").click()
        page.locator("#id_name").fill("罗志强")
        # Two blank rows are there to fill; an unused one is ignored.
        expect(page.locator("[data-member]")).to_have_count(2)
        fill_member(page, 0, "妻子", "吴小燕", "39")
        page.get_by_text("意外伤害", exact=True).click()
        page.get_by_label("困难情况").fill("工伤致残，暂无收入。")
        page.get_by_label("家庭月收入").fill("0")
        page.get_by_label("每月医疗支出").fill("1500")
        page.get_by_label("申请金额").fill("4000")
        page.get_by_role("button", name="提交镇审核").click()
        expect(page.get_by_test_id("state")).to_have_text("待镇审核")
        worker = Worker.objects.get(id_number=number)
        assert [m.name for m in worker.household.all()] == ["吴小燕"]
    finally:
        context.close()


def test_labels_keyboard_and_visible_focus(page: Page, live_server, people):
    sign_in(page, live_server, people.alice, next_path="/cases/new/")
    page.get_by_label("身份证号码").fill(make_id_number(404))
    page.keyboard.press("Enter")
    expect(page.get_by_role("button", name="添加家庭成员")).to_be_visible()
    unlabelled = page.evaluate(
        """[...document.querySelectorAll('main input, main select, main textarea')]
            .filter(el => el.type !== 'hidden' && el.offsetParent !== null)
            .filter(el => !el.labels || el.labels.length === 0)
            .map(el => el.name)"""
    )
    assert unlabelled == []
    # Keyboard only: reach the add button, press it, type into the new row.
    add = page.get_by_role("button", name="添加家庭成员")
    add.focus()
    page.keyboard.press("Enter")
    expect(page.locator("#id_household-0-relation")).to_be_focused()
    page.keyboard.type("母亲")
    page.keyboard.press("Tab")
    expect(page.locator("#id_household-0-name")).to_be_focused()
    outline = page.evaluate("getComputedStyle(document.activeElement).outlineStyle")
    assert outline == "solid"
