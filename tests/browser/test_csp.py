"""The Content Security Policy (no inline script or style) breaks nothing: every kind of page
of every role, the site's and Django's admin, loads in Chromium without a CSP violation, and
the scripts moved out of the templates still work."""

import re

import pytest
from playwright.sync_api import Page, expect

from tests.factories import case_in_state, file_case

pytestmark = pytest.mark.django_db(transaction=True)

PASSWORD = "pw-for-tests-1"

# Reported by the page itself, whatever Chromium prints on its console.
RECORD_VIOLATIONS = """
window.__csp = [];
document.addEventListener("securitypolicyviolation", function (e) {
  window.__csp.push(e.violatedDirective + " " + (e.blockedURI || "inline") + " " +
                    (e.sourceFile || "") + ":" + e.lineNumber + " " + (e.sample || ""));
});
"""


@pytest.fixture
def watched(page: Page):
    page.add_init_script(RECORD_VIOLATIONS)
    console = []
    page.on(
        "console",
        lambda m: console.append(m.text) if "Content Security Policy" in m.text else None,
    )
    return page, console


def sign_in(page: Page, live_server, user):
    page.goto(f"{live_server.url}/login/")
    page.get_by_label("用户名").fill(user.username)
    page.get_by_label("密码").fill(PASSWORD)
    page.locator("main").get_by_role("button", name="登录").click()
    expect(page.get_by_test_id("who")).to_be_visible()
    # The page's deferred scripts (the form's kept copy, form-draft.js) have run by its load
    # event; the header shows before that, and typing earlier went unseen on a loaded machine.
    page.wait_for_load_state("load")


def visit_all(page: Page, console: list, live_server, paths):
    problems = {}
    for path in paths:
        response = page.goto(live_server.url + path)
        assert response.status == 200, path
        assert "unsafe-inline" not in response.headers["content-security-policy"]
        page.wait_for_load_state("load")
        page.wait_for_timeout(300)  # console reports arrive after the load event
        found = page.evaluate("window.__csp") + console[:]
        console.clear()
        if found:
            problems[path] = found
    assert not problems, problems


def test_the_caseworkers_pages_run_under_the_csp(watched, live_server, people):
    page, console = watched
    case = case_in_state(
        "submitted", caseworker=people.alice, reviewer=people.carol, officer=people.erin
    )
    draft = file_case(people.alice)
    sign_in(page, live_server, people.alice)
    visit_all(
        page,
        console,
        live_server,
        [
            "/",
            "/cases/",
            "/cases/new/",
            f"/cases/{case.pk}/",
            f"/cases/{draft.pk}/edit/",
            "/account/password/",
            "/reports/",
        ],
    )
    # case-form.js (a static file) still runs: it shows the "add a member" button.
    page.goto(f"{live_server.url}/cases/{draft.pk}/edit/")
    expect(page.locator("[data-add-member]")).to_be_visible()
    # The language switcher submits itself on change (static/js/site.js, no onchange=).
    page.goto(live_server.url + "/")
    page.locator("#language-select").select_option("en")
    expect(page.locator("html")).to_have_attribute("lang", "en")
    assert page.evaluate("window.__csp") == [] and console == []


@pytest.mark.parametrize("who", ["carol", "erin", "root"])
def test_the_admin_runs_under_the_csp(watched, live_server, people, who):
    page, console = watched
    case = case_in_state(
        "submitted", caseworker=people.alice, reviewer=people.carol, officer=people.erin
    )
    user = getattr(people, who)
    page.goto(f"{live_server.url}/admin/login/")
    page.locator("#id_username").fill(user.username)
    page.locator("#id_password").fill(PASSWORD)
    page.locator("#login-form [type=submit]").click()
    expect(page).to_have_url(re.compile(r"/admin/$"))
    common = [
        "/admin/",
        "/admin/relief/application/",
        f"/admin/relief/application/{case.pk}/change/",
        "/admin/relief/worker/",
        f"/admin/relief/worker/{case.worker.pk}/change/",
        "/admin/relief/auditentry/",
        "/admin/password_change/",
    ]
    more = {
        "carol": [
            f"/cases/{case.pk}/visit/",  # the home-visit form (issue 13, item 5)
            "/admin/relief/application/import/",
            "/admin/relief/application/export/",
            "/admin/relief/reviewmeeting/add/",
            "/funds/",
        ],
        "erin": [
            "/admin/axes/accessattempt/",
            "/admin/axes/accessfailurelog/",
            "/admin/privacy/accesslog/",
            "/admin/relief/paymentbatch/add/",
            "/admin/relief/fundincome/add/",
        ],
        "root": [
            "/admin/unions/user/add/",
            f"/admin/unions/user/{people.alice.pk}/change/",
            "/admin/auth/group/add/",
            "/admin/unions/union/add/",
            "/admin/axes/accessattempt/",
        ],
    }[who]
    visit_all(page, console, live_server, common + more)
