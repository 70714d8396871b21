"""Shared fixtures: a small named tree and one named user per role.

    district 南海 (NH)
      town 西樵 (XQ): grassroots XQ-S01 (社区), XQ-E01 (企业)
      town 大沥 (DL): grassroots DL-V01 (村居)

Users: alice (caseworker, XQ-S01), bob (caseworker, DL-V01), carol (town reviewer, XQ),
dave (town reviewer, DL), erin (district officer, NH), root (superuser).
"""

import pytest
from django.db import connection

from tests.factories import build_people, build_tree


@pytest.fixture(autouse=True)
def _fast_password_hashing(settings):
    # PBKDF2 at full strength costs ~0.3 s per user; tests create many users.
    settings.PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]


@pytest.fixture
def tree(db):
    return build_tree()


@pytest.fixture
def people(tree):
    return build_people(tree)


@pytest.fixture
def is_postgres():
    return connection.vendor == "postgresql"


def pytest_collection_modifyitems(config, items):
    skip = pytest.mark.skip(reason="needs PostgreSQL (set DATABASE_URL=postgres://...)")
    if connection.vendor != "postgresql":
        for item in items:
            if item.get_closest_marker("postgres"):
                item.add_marker(skip)
