"""Shared fixtures: a small named tree and one named user per role.

    district 南海 (NH)
      town 西樵 (XQ): grassroots XQ-S01 (社区), XQ-E01 (企业)
      town 大沥 (DL): grassroots DL-V01 (村居)

Users: alice (caseworker, XQ-S01), bob (caseworker, DL-V01), carol (town reviewer, XQ),
dave (town reviewer, DL), erin (district officer, NH), root (superuser).
"""

import datetime as dt
from decimal import Decimal

import pytest
from django.db import connection

from relief import services
from tests.factories import build_people, build_tree, fund


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
def well_funded(people):
    """District money for both towns in every year a lifecycle test may pay in, so that tests
    about cases are not about fund balances (those have their own tests)."""
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
