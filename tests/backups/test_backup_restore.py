"""Issue 12: back up a populated database, restore it into an empty one, compare everything.

The comparisons here are made by the test itself (its own SQL, the ORM, hashlib), not by the
manifest code under test: every table's row count, the money per fund account and per case,
and the attachment files' hashes, between the live database and the restored one. A restore
into a database or media folder that is not empty is refused without touching it.
"""

import hashlib
import io
import json
import os
import stat
import subprocess
import sys
from decimal import Decimal
from pathlib import Path

import pytest
from django.conf import settings
from django.core.management import call_command
from django.core.management.base import CommandError
from django.db import connection
from django.db.models import Sum

from relief.models import Attachment, Disbursement, FundAccount
from tests.backups.conftest import attach, open_target, pg_connect
from tests.factories import tiny_png

# Committed data (pg_dump reads from another process); the categories and policy the
# migrations seed are brought back for each test (a transactional test's flush removes them).
pytestmark = pytest.mark.django_db(transaction=True, serialized_rollback=True)


def backup(folder: Path, **options) -> Path:
    out = io.StringIO()
    call_command("backup", str(folder), stdout=out, lang="en", **options)
    archives = sorted(p for p in folder.iterdir() if p.name.startswith("relief-"))
    assert archives, out.getvalue()
    return archives[-1]


def restore(archive: Path, target, media_root: Path) -> str:
    out = io.StringIO()
    call_command(
        "restore",
        str(archive),
        database_url=target.url,
        media_root=str(media_root),
        stdout=out,
        lang="en",
    )
    return out.getvalue()


def verify(archive: Path, *args) -> str:
    out, err = io.StringIO(), io.StringIO()
    try:
        call_command("verify_backup", str(archive), *args, stdout=out, stderr=err, lang="en")
    except CommandError as exc:
        raise AssertionError(f"{exc}\n{err.getvalue()}") from exc
    return out.getvalue()


def verify_fails(archive: Path, *args) -> str:
    """verify_backup must fail; returns its error and the problems it listed."""
    err = io.StringIO()
    with pytest.raises(CommandError) as failed:
        call_command(
            "verify_backup", str(archive), *args, stdout=io.StringIO(), stderr=err, lang="en"
        )
    return f"{failed.value}\n{err.getvalue()}"


# What the test compares, read with its own SQL ------------------------------------------


def quoted(name: str) -> str:
    return '"' + name + '"'


def row_counts(cursor, tables) -> dict:
    counts = {}
    for table in tables:
        cursor.execute(f"SELECT COUNT(*) FROM {quoted(table)}")
        counts[table] = cursor.fetchone()[0]
    return counts


def live_tables() -> list[str]:
    return sorted(connection.introspection.table_names())


def target_tables(cursor, vendor) -> list[str]:
    if vendor == "sqlite":
        cursor.execute(
            "SELECT name FROM sqlite_master WHERE type='table' AND name NOT LIKE 'sqlite_%'"
        )
    else:
        cursor.execute("SELECT tablename FROM pg_tables WHERE schemaname = 'public'")
    return sorted(row[0] for row in cursor.fetchall())


MONEY_SQL = {
    "accounts": (
        "SELECT u.code, a.source, a.year, a.income_total, a.paid_total, "
        "(SELECT SUM(i.amount) FROM relief_fundincome i WHERE i.account_id = a.id), "
        "(SELECT SUM(d.amount) FROM relief_disbursement d WHERE d.town_id = a.town_id "
        " AND d.fund_source = a.source AND d.fund_year = a.year) "
        "FROM relief_fundaccount a JOIN unions_union u ON u.id = a.town_id"
    ),
    "cases": (
        "SELECT a.reference, a.approved_amount, a.paid_amount, "
        "(SELECT SUM(d.amount) FROM relief_disbursement d WHERE d.application_id = a.id) "
        "FROM relief_application a"
    ),
}


def cents(value) -> Decimal | None:
    # SQLite hands decimals back as int or float; two decimal places make them exact again.
    return None if value is None else Decimal(str(value)).quantize(Decimal("0.01"))


def money(cursor) -> dict:
    result = {}
    for what, query in MONEY_SQL.items():
        cursor.execute(query)
        for row in cursor.fetchall():
            key = (what, *row[: 3 if what == "accounts" else 1])
            values = row[3:] if what == "accounts" else row[1:]
            result[key] = tuple(cents(v) for v in values)
    return result


def hashes(root: Path) -> dict:
    return {
        path.relative_to(root).as_posix(): hashlib.sha256(path.read_bytes()).hexdigest()
        for path in sorted(Path(root).rglob("*"))
        if path.is_file()
    }


def assert_restored_like_live(target, media_root: Path) -> dict:
    """Every table's row count, money per account and per case, attachment hashes."""
    with connection.cursor() as cursor:
        tables = live_tables()
        live_counts = row_counts(cursor, tables)
        live_money = money(cursor)
    conn = open_target(target)
    try:
        cursor = conn.cursor()
        vendor = "sqlite" if target.path else "postgresql"
        assert target_tables(cursor, vendor) == tables
        assert row_counts(cursor, tables) == live_counts
        assert money(cursor) == live_money
    finally:
        conn.close()
    # The raw sums agree with the ORM's, so the comparison above compares the right figures.
    for account in FundAccount.objects.select_related("town"):
        income = account.incomes.aggregate(s=Sum("amount"))["s"]
        paid = Disbursement.objects.filter(
            town=account.town, fund_source=account.source, fund_year=account.year
        ).aggregate(s=Sum("amount"))["s"]
        key = ("accounts", account.town.code, account.source, account.year)
        assert live_money[key] == (account.income_total, account.paid_total, income, paid)
    live_files = hashes(settings.MEDIA_ROOT)
    assert (
        len([f for f in live_files if f.startswith("attachments/")]) == Attachment.objects.count()
    )
    assert hashes(media_root) == live_files
    return live_counts


def assert_private(archive: Path) -> None:
    """Backups hold personal data: nobody but their owner may read them."""
    for path in [archive, *archive.rglob("*")]:
        mode = stat.S_IMODE(path.stat().st_mode)
        assert mode == (0o700 if path.is_dir() else 0o600), (path, oct(mode))


def migrate_check(url: str, media_root: Path) -> subprocess.CompletedProcess:
    """The application itself, started on the restored database: no migration missing."""
    env = {**os.environ, "DEBUG": "1", "DATABASE_URL": url, "MEDIA_ROOT": str(media_root)}
    return subprocess.run(
        [sys.executable, "manage.py", "migrate", "--check"],
        cwd=settings.BASE_DIR,
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
    )


# The round trip ------------------------------------------------------------------------


def test_a_backup_restores_into_an_empty_database_with_everything_equal(
    populated, empty_database, tmp_path
):
    archive = backup(tmp_path / "backups")
    assert_private(archive)
    assert "is intact" in verify(archive)
    target = empty_database()
    restored_media = tmp_path / "restored-media"

    output = restore(archive, target, restored_media)

    assert "matches the backup" in output
    counts = assert_restored_like_live(target, restored_media)
    assert counts["relief_disbursement"] == 4  # a payout, a reversal pair, a part payment
    assert counts["relief_attachment"] == 3
    assert migrate_check(target.url, restored_media).returncode == 0


def test_the_demo_with_attachments_round_trips(transactional_db, media, empty_database, tmp_path):
    call_command("load_demo", verbosity=0)
    from relief.models import Application

    for app in Application.objects.filter(state="submitted").select_related("created_by"):
        attach(app, app.created_by, "病历.png", tiny_png((5, 5)), "diagnosis")
    archive = backup(tmp_path / "backups")
    target = empty_database()

    restore(archive, target, tmp_path / "restored-media")

    counts = assert_restored_like_live(target, tmp_path / "restored-media")
    assert counts["relief_attachment"] >= 1
    assert counts["relief_donationcollection"] > 0
    assert sum(1 for n in counts.values() if n) > 20  # most tables hold rows


@pytest.mark.postgres
def test_the_database_guards_are_back_and_on_after_a_restore(populated, empty_database, tmp_path):
    archive = backup(tmp_path / "backups")
    target = empty_database()
    restore(archive, target, tmp_path / "restored-media")
    query = (
        "SELECT c.relname || '.' || t.tgname, t.tgenabled FROM pg_trigger t "
        "JOIN pg_class c ON c.oid = t.tgrelid WHERE NOT t.tgisinternal ORDER BY 1"
    )
    with connection.cursor() as cursor:
        cursor.execute(query)
        live = cursor.fetchall()
    with pg_connect(target.name) as conn:
        assert conn.execute(query).fetchall() == live
        assert ("relief_auditentry.relief_auditentry_append_only", "O") in live
        with pytest.raises(Exception, match="append-only"):
            conn.execute("UPDATE relief_auditentry SET comment = 'changed'")
        conn.rollback()
        with pytest.raises(Exception, match="approved amount"):
            # One yuan more on the fully paid case, from the account its payout drew on.
            conn.execute(
                "INSERT INTO relief_disbursement (application_id, amount, paid_on, method, "
                "fund_source, voucher_no, town_id, fund_year, reason, notes, recorded_by_id, "
                "recorded_at) SELECT application_id, 1, now(), 'bank', fund_source, '', "
                "town_id, fund_year, '', '', recorded_by_id, now() FROM relief_disbursement "
                "WHERE application_id = (SELECT id FROM relief_application "
                "WHERE state = 'disbursed' LIMIT 1)"
            )


# Refusals ------------------------------------------------------------------------------


def non_empty(target):
    conn = open_target(target)
    conn.cursor().execute("CREATE TABLE unrelated (id integer)")
    conn.commit()
    conn.close()


def table_count(target) -> int:
    conn = open_target(target)
    try:
        cursor = conn.cursor()
        return len(target_tables(cursor, "sqlite" if target.path else "postgresql"))
    finally:
        conn.close()


def test_a_restore_into_a_database_that_is_not_empty_is_refused_and_changes_nothing(
    populated, empty_database, tmp_path
):
    archive = backup(tmp_path / "backups")
    target = empty_database()
    non_empty(target)
    media_root = tmp_path / "restored-media"

    with pytest.raises(CommandError, match="not empty"):
        restore(archive, target, media_root)

    assert table_count(target) == 1
    assert not media_root.exists()


@pytest.mark.postgres
def test_a_restore_over_the_running_database_is_refused(populated, tmp_path):
    archive = backup(tmp_path / "backups")
    before = row_counts(connection.cursor(), live_tables())
    with pytest.raises(CommandError, match="not empty"):
        call_command(
            "restore", str(archive), media_root=str(tmp_path / "m"), stdout=io.StringIO(), lang="en"
        )
    assert row_counts(connection.cursor(), live_tables()) == before


def test_a_restore_into_a_media_folder_that_is_not_empty_is_refused(
    populated, empty_database, tmp_path
):
    archive = backup(tmp_path / "backups")
    target = empty_database()
    media_root = tmp_path / "restored-media"
    media_root.mkdir()
    (media_root / "keep.txt").write_text("someone's file")

    with pytest.raises(CommandError, match="media folder"):
        restore(archive, target, media_root)

    assert table_count(target) == 0
    assert [p.name for p in media_root.iterdir()] == ["keep.txt"]


def test_a_damaged_backup_is_not_restored(populated, empty_database, tmp_path):
    archive = backup(tmp_path / "backups")
    attachment = next((archive / "media").rglob("*.png"))
    attachment.write_bytes(attachment.read_bytes() + b"x")
    target = empty_database()

    with pytest.raises(CommandError):
        restore(archive, target, tmp_path / "restored-media")

    assert table_count(target) == 0
    assert not (tmp_path / "restored-media").exists()


def test_a_backup_of_one_kind_is_not_restored_into_the_other(populated, tmp_path):
    archive = backup(tmp_path / "backups")
    other = (
        "postgres://postgres@127.0.0.1:5432/never_created"
        if connection.vendor == "sqlite"
        else f"sqlite:///{tmp_path / 'x.sqlite3'}"
    )
    with pytest.raises(CommandError, match="restores only into"):
        call_command(
            "restore", str(archive), database_url=other, media_root=str(tmp_path / "m"), lang="en"
        )
    assert not (tmp_path / "x.sqlite3").exists()


# Verification --------------------------------------------------------------------------


def test_a_corrupted_or_missing_attachment_fails_verification(populated, tmp_path):
    archive = backup(tmp_path / "backups")
    files = sorted((archive / "media").rglob("*.*"))
    corrupted, missing = files[0], files[1]
    data = bytearray(corrupted.read_bytes())
    data[len(data) // 2] ^= 0xFF
    corrupted.write_bytes(bytes(data))
    missing.unlink()

    report = verify_fails(archive)

    name = corrupted.relative_to(archive / "media").as_posix()
    gone = missing.relative_to(archive / "media").as_posix()
    assert name in report
    assert gone in report
    assert "2" in report.splitlines()[0]  # two differences


def test_a_tampered_dump_fails_verification(populated, tmp_path):
    archive = backup(tmp_path / "backups")
    dump = next(archive.glob("database.*"))
    with open(dump, "r+b") as f:
        f.seek(dump.stat().st_size // 2)
        byte = f.read(1)
        f.seek(-1, 1)
        f.write(bytes([byte[0] ^ 0x01]))

    assert dump.name in verify_fails(archive)


def test_a_dump_altered_behind_a_matching_hash_is_found_by_its_content(
    populated, empty_database, tmp_path
):
    """Someone (or a faulty tool) removed a fund income and wrote the dump's new hash into the
    manifest: the counts and money of the dump no longer match (SQLite: read directly;
    PostgreSQL: found by the test restore)."""
    archive = backup(tmp_path / "backups")
    dump = next(archive.glob("database.*"))
    if connection.vendor == "sqlite":
        import sqlite3

        conn = sqlite3.connect(dump)
        conn.execute(
            "DELETE FROM relief_fundincome WHERE id = (SELECT MAX(id) FROM relief_fundincome)"
        )
        conn.commit()
        conn.close()
        args = ()
    else:
        scratch = empty_database()
        env = {**os.environ, "PGPASSWORD": connection.settings_dict["PASSWORD"] or ""}
        common = ["-h", connection.settings_dict["HOST"] or "127.0.0.1"]
        common += ["-p", str(connection.settings_dict["PORT"] or 5432)]
        common += ["-U", connection.settings_dict["USER"]]
        subprocess.run(
            ["pg_restore", *common, "--no-owner", "-d", scratch.name, str(dump)],
            check=True,
            env=env,
        )
        with pg_connect(scratch.name) as conn:
            conn.execute("SET session_replication_role = replica")  # past the append-only guard
            conn.execute(
                "DELETE FROM relief_fundincome WHERE id = (SELECT MAX(id) FROM relief_fundincome)"
            )
        subprocess.run(
            ["pg_dump", *common, "-Fc", "-f", str(dump), scratch.name], check=True, env=env
        )
        args = ("--restore-test",)
    manifest_path = archive / "manifest.json"
    manifest = json.loads(manifest_path.read_text())
    manifest["database"]["dump"]["sha256"] = hashlib.sha256(dump.read_bytes()).hexdigest()
    manifest["database"]["dump"]["bytes"] = dump.stat().st_size
    manifest_path.write_text(json.dumps(manifest))

    report = verify_fails(archive, *args)

    assert "tables.relief_fundincome" in report
    assert "income_sum" in report


@pytest.mark.postgres
def test_a_test_restore_passes_and_leaves_no_database_behind(populated, tmp_path):
    archive = backup(tmp_path / "backups")
    query = "SELECT datname FROM pg_database WHERE datname LIKE 'relief_restore_test_%'"
    with pg_connect(connection.settings_dict["NAME"]) as conn:
        before = conn.execute(query).fetchall()

    assert "restores to the same data" in verify(archive, "--restore-test")

    with pg_connect(connection.settings_dict["NAME"]) as conn:
        assert conn.execute(query).fetchall() == before


def test_keep_deletes_only_older_complete_backups(populated, tmp_path):
    folder = tmp_path / "backups"
    folder.mkdir()
    (folder / "relief-20200101-000000").mkdir()
    (folder / "relief-20200101-000000" / "manifest.json").write_text("{}")
    (folder / "notes").mkdir()
    backup(folder)
    newest = backup(folder, keep=1)

    assert sorted(p.name for p in folder.iterdir()) == sorted(["notes", newest.name])


def test_a_backup_inside_the_media_folder_is_refused(populated, tmp_path):
    with pytest.raises(CommandError, match="MEDIA_ROOT"):
        call_command("backup", str(Path(settings.MEDIA_ROOT) / "backups"), lang="en")
    assert not (Path(settings.MEDIA_ROOT) / "backups").exists()


def test_an_attachment_whose_file_is_gone_is_reported_and_the_backup_still_made(
    populated, tmp_path
):
    gone = Attachment.objects.first()
    Path(gone.file.path).unlink()
    err = io.StringIO()
    call_command("backup", str(tmp_path / "backups"), stdout=io.StringIO(), stderr=err, lang="en")

    assert gone.file.name in err.getvalue()
    archive = next((tmp_path / "backups").iterdir())
    assert json.loads((archive / "manifest.json").read_text())["media"]["missing"] == [
        gone.file.name
    ]
    assert "is intact" in verify(archive)
