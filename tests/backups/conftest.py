"""A populated database with attachments, and empty databases to restore into.

The data must be committed (transactional_db): on PostgreSQL pg_dump reads it from another
process. Restores go into a database of their own: a new SQLite file, or on PostgreSQL a
throwaway database created on the test server and dropped afterwards.
"""

import datetime as dt
import uuid
from decimal import Decimal
from types import SimpleNamespace

import psycopg
import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.db import connection
from psycopg import sql

from relief import services
from tests.factories import (
    build_people,
    build_tree,
    case_in_state,
    fund,
    tiny_jpeg,
    tiny_pdf,
    tiny_png,
)


def attach(app, user, name: str, data: bytes, kind: str = "other"):
    return services.attachment_add(
        application=app, user=user, upload=SimpleUploadedFile(name, data), kind=kind
    )


@pytest.fixture
def media(settings, tmp_path):
    settings.MEDIA_ROOT = tmp_path / "media"
    return settings.MEDIA_ROOT


@pytest.fixture
def populated(transactional_db, media):
    """Two towns' money, paid, part-paid and reversed cases, attachments from two roles."""
    tree = build_tree()
    p = build_people(tree)
    year = dt.date.today().year
    fund(p.erin, tree.xq, "100000.00")
    fund(p.carol, tree.xq, "20000.00", source="town")
    fund(p.erin, tree.dl, "30000.00")
    paid = case_in_state("disbursed", caseworker=p.alice, reviewer=p.carol, officer=p.erin)
    approved = case_in_state(
        "approved", caseworker=p.alice, reviewer=p.carol, officer=p.erin, amount="6000.00"
    )
    first = services.disbursement_record(
        application=approved,
        user=p.erin,
        amount=Decimal("2500.00"),
        paid_on=dt.date.today(),
        method="bank",
        fund_source="town",
        fund_year=year,
        voucher_no="PZ-002",
    )
    services.disbursement_reverse(payout=first, user=p.erin, reason="银行退回：卡号有误")
    approved.refresh_from_db()
    services.disbursement_record(
        application=approved,
        user=p.erin,
        amount=Decimal("1234.56"),
        paid_on=dt.date.today(),
        method="cash",
        fund_source="district",
        fund_year=year,
    )
    submitted = case_in_state("submitted", caseworker=p.alice, reviewer=p.carol, officer=p.erin)
    attach(submitted, p.alice, "诊断书.pdf", tiny_pdf(), "diagnosis")
    attach(submitted, p.alice, "照片.png", tiny_png((3, 3)), "photo")
    attach(submitted, p.carol, "入户.jpg", tiny_jpeg((4, 4)), "photo")
    case_in_state("submitted", caseworker=p.bob, reviewer=p.dave, officer=p.erin)
    return SimpleNamespace(tree=tree, people=p, paid=paid, approved=approved, media=media)


def server_params() -> dict:
    entry = connection.settings_dict
    return {
        "host": entry["HOST"] or None,
        "port": entry["PORT"] or None,
        "user": entry["USER"] or None,
        "password": entry["PASSWORD"] or None,
    }


def pg_connect(dbname: str, **kwargs):
    return psycopg.connect(dbname=dbname, **server_params(), **kwargs)


def pg_url(name: str) -> str:
    entry = connection.settings_dict
    auth = entry["USER"] + (f":{entry['PASSWORD']}" if entry["PASSWORD"] else "")
    return f"postgres://{auth}@{entry['HOST'] or '127.0.0.1'}:{entry['PORT'] or 5432}/{name}"


@pytest.fixture
def empty_database(tmp_path):
    """A URL naming a new, empty database (SQLite: a file that does not exist yet)."""
    made = []

    def make() -> SimpleNamespace:
        if connection.vendor == "sqlite":
            path = tmp_path / f"restored-{uuid.uuid4().hex[:8]}.sqlite3"
            return SimpleNamespace(url=f"sqlite:///{path}", path=path, name=None)
        name = f"relief_restore_{uuid.uuid4().hex[:12]}"
        with pg_connect(connection.settings_dict["NAME"], autocommit=True) as conn:
            conn.execute(sql.SQL("CREATE DATABASE {}").format(sql.Identifier(name)))
        made.append(name)
        return SimpleNamespace(url=pg_url(name), path=None, name=name)

    yield make
    for name in made:
        with pg_connect(connection.settings_dict["NAME"], autocommit=True) as conn:
            conn.execute(
                sql.SQL("DROP DATABASE IF EXISTS {} WITH (FORCE)").format(sql.Identifier(name))
            )


def open_target(target):
    """A DB-API connection to a restore target made by `empty_database`."""
    import sqlite3

    if target.path is not None:
        return sqlite3.connect(target.path)
    return pg_connect(target.name)
