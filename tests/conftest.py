"""Shared fixtures: a small named tree and one named user per role.

    district 南海 (NH)
      town 西樵 (XQ): grassroots XQ-S01 (社区), XQ-E01 (企业)
      town 大沥 (DL): grassroots DL-V01 (村居)

Users: alice (caseworker, XQ-S01), bob (caseworker, DL-V01), carol (town reviewer, XQ),
dave (town reviewer, DL), erin (district officer, NH), root (superuser).
"""

from types import SimpleNamespace

import pytest
from django.db import connection

from tests.factories import UserFactory, caseworker, district_officer, town_reviewer
from unions.models import Kind, Level
from unions.services import union_create


@pytest.fixture(autouse=True)
def _fast_password_hashing(settings):
    # PBKDF2 at full strength costs ~0.3 s per user; tests create many users.
    settings.PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]


@pytest.fixture
def tree(db):
    nh = union_create(code="NH", name="南海区总工会", level=Level.DISTRICT)
    xq = union_create(code="XQ", name="西樵镇总工会", level=Level.TOWN, parent=nh)
    dl = union_create(code="DL", name="大沥镇总工会", level=Level.TOWN, parent=nh)
    xq_s01 = union_create(
        code="XQ-S01", name="樵园社区工会", level=Level.GRASSROOTS, kind=Kind.COMMUNITY, parent=xq
    )
    xq_e01 = union_create(
        code="XQ-E01", name="樵山食品工会", level=Level.GRASSROOTS, kind=Kind.ENTERPRISE, parent=xq
    )
    dl_v01 = union_create(
        code="DL-V01", name="凤池村工会", level=Level.GRASSROOTS, kind=Kind.VILLAGE, parent=dl
    )
    return SimpleNamespace(nh=nh, xq=xq, dl=dl, xq_s01=xq_s01, xq_e01=xq_e01, dl_v01=dl_v01)


@pytest.fixture
def people(tree):
    return SimpleNamespace(
        alice=caseworker(tree.xq_s01, username="alice"),
        bob=caseworker(tree.dl_v01, username="bob"),
        carol=town_reviewer(tree.xq, username="carol"),
        dave=town_reviewer(tree.dl, username="dave"),
        erin=district_officer(tree.nh, username="erin"),
        root=UserFactory(username="root", is_superuser=True, is_staff=True),
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
