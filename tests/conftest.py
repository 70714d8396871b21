"""Shared fixtures: a small named tree and one named user per role.

    district 南海 (NH)
      town 西樵 (XQ): grassroots XQ-S01 (社区), XQ-E01 (企业)
      town 大沥 (DL): grassroots DL-V01 (村居)

Users: alice (caseworker, XQ-S01), bob (caseworker, DL-V01), carol (town reviewer, XQ),
dave (town reviewer, DL), erin (district officer, NH), root (superuser).
"""

import copy
import datetime as dt
import re
from decimal import Decimal
from types import SimpleNamespace
from urllib.parse import unquote, unquote_plus

import pytest
from django.db import connection, connections, transaction
from django.test import Client, RequestFactory, override_settings

from relief import services
from tests.factories import build_people, build_tree, fund


@pytest.fixture(scope="session", autouse=True)
def serialized_reload_starts_from_empty_tables():
    """A transactional test without serialized_rollback ends with a flush whose post_migrate
    fills the tables again (content types, permissions, the role groups of
    unions.roles.sync_role_groups) under new ids, since SQLite's AUTOINCREMENT does not reuse
    them; a serialized_rollback test after it then reloads the saved rows on top and fails on
    a unique name (`pytest tests/test_replica.py tests/reports/test_tasks.py`). The saved
    contents hold all those rows, so the reload starts from empty tables, as after the flush
    of a serialized test (post_migrate inhibited)."""
    from django.core.management import call_command
    from django.db.backends.base.creation import BaseDatabaseCreation

    original = BaseDatabaseCreation.deserialize_db_from_string

    def deserialize(self, data):
        call_command(
            "flush",
            database=self.connection.alias,
            interactive=False,
            verbosity=0,
            inhibit_post_migrate=True,
        )
        return original(self, data)

    BaseDatabaseCreation.deserialize_db_from_string = deserialize
    yield
    BaseDatabaseCreation.deserialize_db_from_string = original


@pytest.fixture(scope="session", autouse=True)
def serialized_test_leaves_the_tables_as_a_flush_does():
    """The other half: a serialized_rollback test ends with a flush whose post_migrate Django
    inhibits (the next serialized test reloads its saved rows), which leaves no content
    types, permissions or role groups behind. A plain transactional test after it then ran
    without them: load_demo's officer had no permission on the case list
    (`pytest tests/reports/ tests/browser/test_admin_layout.py`). post_migrate is sent after
    such a flush, so every transactional test starts as after an ordinary one; the reload
    above starts from empty tables either way."""
    from django.core.management.sql import emit_post_migrate_signal
    from django.test import TransactionTestCase

    original = TransactionTestCase._fixture_teardown

    def teardown(self):
        original(self)
        if self.serialized_rollback and self.available_apps is None:
            for alias in self._databases_names(include_mirrors=False):
                emit_post_migrate_signal(verbosity=0, interactive=False, db=alias)

    TransactionTestCase._fixture_teardown = teardown
    yield
    TransactionTestCase._fixture_teardown = original


@pytest.fixture(scope="session")
def django_db_setup(django_db_setup, django_db_blocker):
    """pytest-django's test databases, with the connection pools closed before they are
    dropped: threads of the live server and of the concurrency tests return their PostgreSQL
    connections to the pool (config.env: pool on by default), which kept them open, and the
    drop at the end of a full run failed with "database is being accessed by other users"
    and left the test database behind."""
    yield
    with django_db_blocker.unblock():
        for alias in connections:
            wrapper = connections[alias]
            # Only a pool that exists (asking for `pool` would make one). Django closes the
            # default alias's itself; the mirrored `replica` alias (config/settings_test.py)
            # has a pool of its own on the same test database.
            if alias in getattr(wrapper, "_connection_pools", {}):
                wrapper.close()
                wrapper.close_pool()


@pytest.fixture(autouse=True)
def _fast_password_hashing(settings):
    # PBKDF2 at full strength costs ~0.3 s per user; tests create many users.
    settings.PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]


# An ID number: 17 digits then a digit or X. No request of the test suite may carry one in its
# path or query string (issue 10): addresses end up in access logs and browser history.
ID_IN_URL = re.compile(r"[0-9]{17}[0-9Xx]")


class IdNumberInUrl(AssertionError):
    """A request's address held an ID number."""


def _decodings(text: str):
    """The text as sent and as decoded once and twice (%2520 hides a %20 behind another)."""
    yield text
    for _ in range(2):
        text = unquote_plus(unquote(text))
        yield text


def check_url_has_no_id_number(what: str, *parts) -> None:
    for part in parts:
        if isinstance(part, bytes):
            part = part.decode("latin-1")
        for text in _decodings(str(part or "")):
            if ID_IN_URL.search(text):
                raise IdNumberInUrl(
                    f"{what} carries an ID number in its address ({part!r}). "
                    "ID numbers must never be in a URL (access logs, browser history): "
                    "POST them, or use the search token (relief.search_tokens)."
                )


def pytest_configure(config):
    config.addinivalue_line(
        "markers",
        "id_in_url: the test sends an ID number in an address on purpose, to prove the old "
        "addresses are refused (turns the suite-wide guard off for that test only)",
    )


@pytest.fixture(autouse=True)
def _no_id_numbers_in_urls(request, monkeypatch):
    """Every request built by Django's test Client or RequestFactory, in every test, and every
    redirect a response asks the browser to follow, is checked for an ID number."""
    if request.node.get_closest_marker("id_in_url"):
        return
    base_environ = RequestFactory._base_environ
    client_request = Client.request

    def checked_environ(self, **request):
        environ = base_environ(self, **request)
        check_url_has_no_id_number(
            f"The request {environ.get('REQUEST_METHOD', 'GET')} {environ.get('PATH_INFO')}",
            environ.get("PATH_INFO"),
            environ.get("QUERY_STRING"),
        )
        return environ

    def checked_request(self, **request):
        response = client_request(self, **request)
        if response.has_header("Location"):
            check_url_has_no_id_number(
                f"The redirect from {request.get('PATH_INFO')}", response["Location"]
            )
        return response

    monkeypatch.setattr(RequestFactory, "_base_environ", checked_environ)
    monkeypatch.setattr(Client, "request", checked_request)


FAST_HASHER = "django.contrib.auth.hashers.MD5PasswordHasher"


# The module-scoped fixtures that build a module's data once (most complete first).
SHARED = ("module_payouts", "module_well_funded", "module_people")


def _shared(request):
    """This test's own deep copy of the data its module built once (module_people or
    module_well_funded), or None when the module builds it per test."""
    for name in SHARED:
        if name in request.fixturenames:
            if not hasattr(request.node, "_shared_copy"):
                # Like TestCase.setUpTestData: each test gets fresh Python objects for the
                # same rows, so what one test caches on them does not leak into the next.
                request.node._shared_copy = copy.deepcopy(request.getfixturevalue(name))
            return request.node._shared_copy
    return None


@pytest.fixture
def tree(request, db):
    shared = _shared(request)
    return shared.tree if shared else build_tree()


@pytest.fixture
def people(request, tree):
    shared = _shared(request)
    return shared.people if shared else build_people(tree)


@pytest.fixture
def well_funded(request, people):
    """District money for both towns in every year a lifecycle test may pay in, so that tests
    about cases are not about fund balances (those have their own tests)."""
    shared = _shared(request)
    if shared and shared.funded:
        return  # the module's data has it
    fund_both_towns(people)


def built_once_for_the_module(django_db_blocker, build):
    """Like TestCase.setUpTestData: `build` runs once inside a transaction that stays open
    for the module and is rolled back at its end; each test runs in a savepoint inside it
    (the `db` fixture), so whatever a test changes is undone before the next one. For modules
    without transactional tests (their commits would need the outer transaction closed)."""
    with django_db_blocker.unblock():
        outer = transaction.atomic()
        outer.__enter__()
        try:
            with override_settings(PASSWORD_HASHERS=[FAST_HASHER]):
                built = build()
        except BaseException:
            transaction.set_rollback(True)
            outer.__exit__(None, None, None)
            raise
    yield built
    with django_db_blocker.unblock():
        transaction.set_rollback(True)
        outer.__exit__(None, None, None)


def _tree_and_people():
    tree = build_tree()
    return SimpleNamespace(tree=tree, people=build_people(tree), funded=False)


def _tree_people_and_funds():
    built = _tree_and_people()
    fund_both_towns(built.people)
    built.funded = True
    return built


@pytest.fixture(scope="module")
def module_people(django_db_setup, django_db_blocker):
    """`tree` and `people` built once for the module (opt in with
    `pytestmark = pytest.mark.usefixtures("module_people")`); each test gets its own copy."""
    yield from built_once_for_the_module(django_db_blocker, _tree_and_people)


@pytest.fixture(scope="module")
def module_well_funded(django_db_setup, django_db_blocker):
    """`tree`, `people` and `well_funded` built once for the module (opt in with
    `pytestmark = pytest.mark.usefixtures("module_well_funded")`)."""
    yield from built_once_for_the_module(django_db_blocker, _tree_people_and_funds)


def fund_both_towns(people):
    today = dt.date.today()
    for reviewer in (people.carol, people.dave):
        town = reviewer.union
        grassroots = town.children.first()
        # The years the lifecycle tests date their cases in, and this one.
        for year in sorted({2022, 2023, 2024, 2025, today.year}):
            fund(people.erin, town, "10000000.00", year=year)
            fund(reviewer, town, "10000000.00", source="town", year=year)
            campaign = services.donation_campaign_create(user=reviewer, town=town, year=year)
            services.donation_collection_record(
                user=reviewer,
                campaign=campaign,
                union=grassroots,
                collected_on=campaign.starts_on,
                donor_count=1000,
                amount=Decimal("10000000.00"),
            )


@pytest.fixture
def is_postgres():
    return connection.vendor == "postgresql"


def pytest_collection_modifyitems(config, items):
    skip = pytest.mark.skip(reason="needs PostgreSQL (set DATABASE_URL=postgres://...)")
    if connection.vendor != "postgresql":
        for item in items:
            if item.get_closest_marker("postgres"):
                item.add_marker(skip)
