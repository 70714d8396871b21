"""What a backup must bring back, measured the same way in the source and in the restore.

Everything here reads through a plain DB-API cursor (sqlite3 or psycopg), not the ORM: the
backup measures the copy it made (SQLite) or the snapshot pg_dump reads (PostgreSQL), and the
restore measures a database that Django is not connected to. Money is summed in Python as
Decimal: SQLite hands decimals back as int or float, and summing floats in SQL would not be
exact.
"""

import hashlib
import os
from collections import defaultdict
from decimal import Decimal
from pathlib import Path

CENT = Decimal("0.01")
CHUNK = 1024 * 1024


def money(value) -> Decimal:
    return Decimal(str(value if value is not None else 0)).quantize(CENT)


def quote(name: str) -> str:
    return '"' + name.replace('"', '""') + '"'


def table_names(cursor, vendor: str) -> list[str]:
    if vendor == "postgresql":
        cursor.execute(
            "SELECT tablename FROM pg_tables WHERE schemaname = current_schema() ORDER BY 1"
        )
    else:
        cursor.execute(
            "SELECT name FROM sqlite_master WHERE type = 'table' "
            "AND name NOT LIKE 'sqlite_%' ORDER BY 1"
        )
    return [row[0] for row in cursor.fetchall()]


def row_counts(cursor, tables: list[str]) -> dict[str, int]:
    counts = {}
    for table in tables:
        cursor.execute(f"SELECT COUNT(*) FROM {quote(table)}")  # noqa: S608 (names from the catalog)
        counts[table] = cursor.fetchone()[0]
    return counts


def triggers(cursor, vendor: str) -> list[str]:
    """The database's own guards (append-only tables, payout checks), and whether each is on."""
    if vendor == "postgresql":
        cursor.execute(
            "SELECT c.relname, t.tgname, t.tgenabled FROM pg_trigger t "
            "JOIN pg_class c ON c.oid = t.tgrelid "
            "JOIN pg_namespace n ON n.oid = c.relnamespace "
            "WHERE NOT t.tgisinternal AND n.nspname = current_schema() ORDER BY 1, 2"
        )
        # tgenabled 'O' is on; 'D' disabled, 'R'/'A' replica-only or always.
        return [f"{table}.{name} ({enabled})" for table, name, enabled in cursor.fetchall()]
    cursor.execute("SELECT tbl_name, name FROM sqlite_master WHERE type = 'trigger' ORDER BY 1, 2")
    return [f"{table}.{name}" for table, name in cursor.fetchall()]


def applied_migrations(cursor) -> list[str]:
    cursor.execute("SELECT app, name FROM django_migrations ORDER BY app, name")
    return [f"{app}.{name}" for app, name in cursor.fetchall()]


def fund_accounts(cursor) -> dict[str, dict]:
    """Per fund account (town code / source / year): the cached totals and the entries' sums."""
    cursor.execute("SELECT id, code FROM unions_union")
    codes = dict(cursor.fetchall())
    accounts: dict[tuple, dict] = {}

    def account(town_id, source, year) -> dict:
        key = (codes.get(town_id, f"#{town_id}"), source, int(year))
        return accounts.setdefault(
            key,
            {
                "income_total": CENT * 0,
                "paid_total": CENT * 0,
                "income_entries": 0,
                "income_sum": CENT * 0,
                "payout_entries": 0,
                "payout_sum": CENT * 0,
            },
        )

    cursor.execute(
        "SELECT id, town_id, source, year, income_total, paid_total FROM relief_fundaccount"
    )
    by_id = {}
    for pk, town_id, source, year, income_total, paid_total in cursor.fetchall():
        entry = account(town_id, source, year)
        entry["income_total"] = money(income_total)
        entry["paid_total"] = money(paid_total)
        by_id[pk] = entry
    cursor.execute("SELECT account_id, amount FROM relief_fundincome")
    for account_id, amount in cursor.fetchall():
        entry = by_id[account_id]
        entry["income_entries"] += 1
        entry["income_sum"] += money(amount)
    cursor.execute("SELECT town_id, fund_source, fund_year, amount FROM relief_disbursement")
    for town_id, source, year, amount in cursor.fetchall():
        entry = account(town_id, source, year)
        entry["payout_entries"] += 1
        entry["payout_sum"] += money(amount)
    return {
        "/".join(map(str, key)): {k: str(v) for k, v in entry.items()}
        for key, entry in sorted(accounts.items())
    }


def cases(cursor) -> dict[str, dict]:
    """Per case (reference): the amounts on the case and the sum of its payouts."""
    paid = defaultdict(lambda: CENT * 0)
    cursor.execute("SELECT application_id, amount FROM relief_disbursement")
    for application_id, amount in cursor.fetchall():
        paid[application_id] += money(amount)
    cursor.execute(
        "SELECT id, reference, requested_amount, recommended_amount, approved_amount, "
        "paid_amount FROM relief_application"
    )
    result = {}
    for pk, reference, requested, recommended, approved, paid_amount in cursor.fetchall():
        result[reference] = {
            "requested": str(money(requested)),
            "recommended": None if recommended is None else str(money(recommended)),
            "approved": None if approved is None else str(money(approved)),
            "paid_amount": str(money(paid_amount)),
            "payout_sum": str(paid[pk]),
        }
    return dict(sorted(result.items()))


def attachment_files(cursor) -> list[str]:
    cursor.execute("SELECT file FROM relief_attachment ORDER BY 1")
    return [row[0] for row in cursor.fetchall()]


def database_stats(connection, vendor: str) -> dict:
    """Row counts of every table, migrations, triggers, money per account and per case."""
    cursor = connection.cursor()
    try:
        tables = table_names(cursor, vendor)
        stats = {
            "tables": row_counts(cursor, tables),
            "triggers": triggers(cursor, vendor),
            "migrations": applied_migrations(cursor) if "django_migrations" in tables else [],
        }
        if {"relief_fundaccount", "relief_application", "unions_union"} <= set(tables):
            accounts = fund_accounts(cursor)
            per_case = cases(cursor)
            stats["money"] = {
                "totals": {
                    "income": str(sum(money(a["income_sum"]) for a in accounts.values())),
                    "payouts": str(sum(money(a["payout_sum"]) for a in accounts.values())),
                    "approved": str(
                        sum(money(c["approved"]) for c in per_case.values() if c["approved"])
                    ),
                },
                "fund_accounts": accounts,
                "cases": per_case,
            }
        stats["attachment_files"] = (
            attachment_files(cursor) if "relief_attachment" in tables else []
        )
        return stats
    finally:
        cursor.close()


def file_hash(path: Path) -> str:
    digest = hashlib.sha256()
    with open(path, "rb") as f:
        while chunk := f.read(CHUNK):
            digest.update(chunk)
    return digest.hexdigest()


def media_files(root: Path) -> dict[str, dict]:
    """SHA-256 and size of every regular file under `root`, by path relative to it."""
    result = {}
    if not root.is_dir():
        return result
    for folder, dirs, files in os.walk(root):
        dirs.sort()
        for name in sorted(files):
            path = Path(folder) / name
            if path.is_symlink() or not path.is_file():
                continue
            relative = path.relative_to(root).as_posix()
            result[relative] = {"sha256": file_hash(path), "bytes": path.stat().st_size}
    return result
