"""Browser tests: real Chromium (Debian's /usr/bin/chromium) against Django's live_server.

They run with `make test` like every other test. Without /usr/bin/chromium they are skipped
with the reason; `playwright install` is never needed (and would need the internet).
"""

import importlib
import os
from pathlib import Path

import pytest

from tests.conftest import IdNumberInUrl, check_url_has_no_id_number

# Playwright's sync API keeps an event loop running in the main thread, where the tests also
# use the ORM to arrange data; Django refuses that unless told it is safe (it is: one thread).
os.environ["DJANGO_ALLOW_ASYNC_UNSAFE"] = "true"

CHROMIUM = "/usr/bin/chromium"
CHROMIUM_ARGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--no-first-run",
]
PHONE = {"width": 390, "height": 844}
HERE = Path(__file__).resolve().parent


def _is_browser_test(item) -> bool:
    return Path(str(item.fspath)).resolve().is_relative_to(HERE)


@pytest.hookimpl(trylast=True)
def pytest_collection_modifyitems(config, items):
    # Last of all: live_server flushes the database after each test, so the tests that use
    # the migrations' data run first (pytest's own grouping by the session-scoped browser
    # parameter can otherwise move these tests between them).
    items.sort(key=_is_browser_test)
    if os.access(CHROMIUM, os.X_OK):
        return
    skip = pytest.mark.skip(
        reason=f"{CHROMIUM} is missing: install Debian's chromium package "
        "(make install does) to run the browser tests"
    )
    for item in items:
        if _is_browser_test(item):
            item.add_marker(skip)


@pytest.fixture(scope="session")
def browser_type_launch_args(browser_type_launch_args):
    return {**browser_type_launch_args, "executable_path": CHROMIUM, "args": CHROMIUM_ARGS}


@pytest.fixture(scope="session")
def browser_context_args(browser_context_args):
    # A phone by default: the caseworkers' usual screen.
    return {
        **browser_context_args,
        "viewport": PHONE,
        "is_mobile": True,
        "has_touch": True,
        "locale": "zh-CN",
        "timezone_id": "Asia/Shanghai",
    }


@pytest.fixture(autouse=True)
def _media(settings, tmp_path):
    settings.MEDIA_ROOT = tmp_path / "media"


@pytest.fixture(autouse=True)
def _seeded(live_server, transactional_db):
    """The hardship categories and the policy the migrations seed.

    live_server's flush after each test empties every table. (serialized_rollback cannot be
    relied on here: Playwright's greenlets see their own copy of Django's connection object,
    without the serialized contents.)
    """
    from django.apps import apps

    seed = importlib.import_module("relief.migrations.0002_seed_categories_and_policy").seed
    seed(apps, None)


@pytest.fixture
def id_urls_requested():
    """The addresses with an ID number the browser requested in this test (should be none)."""
    return []


def watch_for_id_numbers(context, found: list) -> None:
    """Record every request of this browser context (navigations, redirects followed,
    fetches, from every page) whose address holds an ID number."""

    def on_request(request):
        try:
            check_url_has_no_id_number(f"The browser's {request.method}", request.url)
        except IdNumberInUrl as exc:
            found.append(str(exc))

    context.on("request", on_request)


@pytest.fixture(autouse=True)
def _no_id_numbers_in_browser_urls(monkeypatch, id_urls_requested):
    """Every browser context of the test (pytest-playwright's and any a test opens itself) is
    watched; a request with an ID number in its address fails the test."""
    from playwright.sync_api import Browser

    new_context = Browser.new_context

    def watched_new_context(self, *args, **kwargs):
        context = new_context(self, *args, **kwargs)
        watch_for_id_numbers(context, id_urls_requested)
        return context

    monkeypatch.setattr(Browser, "new_context", watched_new_context)
    yield
    # Raised here, not in the listener: Playwright only logs a listener's exceptions.
    assert not id_urls_requested, "\n".join(id_urls_requested)


@pytest.fixture
def page(page):
    page.set_default_timeout(10_000)
    return page
