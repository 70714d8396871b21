"""A large admin export as the reviewer sees it: the export page sends them to the job's page,
which says the file is being prepared, shows the progress, then the download link.
Screenshots go to the test's tmp_path."""

import pytest
from django.core.management import call_command
from playwright.sync_api import Page, expect

from tests.browser.conftest import PHONE
from tests.browser.test_admin_layout import LAPTOP, admin_sign_in

pytestmark = pytest.mark.django_db(transaction=True)


def test_a_large_admin_export_shows_its_progress_then_the_download(
    page: Page, live_server, settings, tmp_path
):
    call_command("load_demo", verbosity=0)
    settings.EXPORTS_DIRECT_MAX_ROWS = 1
    page.set_viewport_size(LAPTOP)
    admin_sign_in(page, live_server, "nh-officer")
    page.goto(f"{live_server.url}/admin/relief/application/export/")
    page.locator("#id_format").select_option(label="xlsx")
    page.locator("form [type=submit]").last.click()
    expect(page.locator("#job")).to_be_visible()
    expect(page.locator(".messages")).to_contain_text("后台")
    expect(page.locator("#job")).to_contain_text("我最近的报表")
    page.screenshot(path=tmp_path / "job-queued-1366.png", full_page=True)
    page.set_viewport_size(PHONE)
    page.screenshot(path=tmp_path / "job-queued-390.png", full_page=True)
    assert page.evaluate("document.documentElement.scrollWidth") <= PHONE["width"]

    call_command("db_worker", "--batch", "--no-startup-delay", verbosity=0)
    expect(page.locator("#job-download a")).to_be_visible(timeout=10_000)  # job.js polls
    expect(page.locator("#job-preparing")).to_be_hidden()
    page.screenshot(path=tmp_path / "job-done-390.png", full_page=True)
    with page.expect_download() as download:
        page.locator("#job-download a").click()
    assert download.value.suggested_filename.endswith(".xlsx")
