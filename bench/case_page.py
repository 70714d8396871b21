"""The admin's case page for a case with a long history: its queries and render time.

    .venv/bin/python bench/case_page.py                          # SQLite, 1 and 15 rows
    .venv/bin/python bench/case_page.py --rows 1 15 50 --runs 50
    .venv/bin/python bench/case_page.py postgres://postgres@127.0.0.1:5432/relief_case_page

Builds the test suite's named tree and users (tests.factories), files one case per --rows
value and gives it that many rows in every history the page shows (tests/relief/inline_rows.py:
visits, attachments, decisions, advances, shortfalls, payouts, follow-ups, notices), then asks
for each case's page with Django's test client in-process as the town reviewer: three requests
to warm up, then --runs timed ones. Prints per case the queries of one request and the p50 and
p95 time. The query count should not depend on the rows (tests/relief/test_list_queries.py).

The database: a throwaway SQLite file by default; a URL given is DROPPED and re-created
(PostgreSQL) or its file replaced (SQLite), then migrated: never point it at data you keep.
Runs with DEBUG on (no collected static files needed).
"""

import argparse
import os
import statistics
import sys
import tempfile
import time
from pathlib import Path
from urllib.parse import urlsplit, urlunsplit

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))


def recreate(url: str) -> None:
    parts = urlsplit(url)
    if parts.scheme == "sqlite":
        path = Path(parts.path[1:])  # sqlite:////abs.db -> /abs.db, sqlite:///rel.db -> rel.db
        for suffix in ("", "-wal", "-shm"):
            Path(f"{path}{suffix}").unlink(missing_ok=True)
        return
    import psycopg

    name = parts.path.lstrip("/")
    admin = urlunsplit(parts._replace(path="/postgres", query=""))
    with psycopg.connect(admin, autocommit=True) as conn:
        conn.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
        conn.execute(f'CREATE DATABASE "{name}"')


def percentile(values: list[float], q: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, round(q * (len(ordered) - 1)))]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("database_url", nargs="?", help="default: a throwaway SQLite file")
    parser.add_argument("--rows", type=int, nargs="+", default=[1, 15], help="rows per history")
    parser.add_argument("--runs", type=int, default=30, help="timed requests per case")
    args = parser.parse_args()
    tmp = tempfile.TemporaryDirectory()
    url = args.database_url or f"sqlite:///{tmp.name}/case_page.sqlite3"
    recreate(url)
    os.environ.update(DATABASE_URL=url, DEBUG="1", ALLOWED_HOSTS="testserver")
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "config.settings")
    import django

    django.setup()
    from django.core.management import call_command
    from django.db import connection
    from django.test import Client
    from django.urls import reverse

    from tests.factories import build_people, build_tree, file_case
    from tests.relief.inline_rows import long_history

    call_command("migrate", verbosity=0, interactive=False)
    people = build_people(build_tree())
    cases = {rows: long_history(file_case(people.alice), people, rows) for rows in args.rows}

    client = Client()
    client.force_login(people.carol)
    print(f"{connection.vendor}, {args.runs} runs per case")
    print(f"{'rows':>5} {'queries':>8} {'p50 ms':>8} {'p95 ms':>8}")
    for rows, case in cases.items():
        url = reverse("admin:relief_application_change", args=[case.pk])
        for _ in range(3):
            response = client.get(url)
            if response.status_code != 200:
                raise SystemExit(f"{url} answered {response.status_code}")
        counted = []

        def count(execute, sql, params, many, context, counted=counted):
            counted.append(sql)
            return execute(sql, params, many, context)

        with connection.execute_wrapper(count):
            client.get(url)
        times = []
        for _ in range(args.runs):
            started = time.perf_counter()
            client.get(url)
            times.append((time.perf_counter() - started) * 1000)
        print(
            f"{rows:>5} {len(counted):>8} {statistics.median(times):>8.0f} "
            f"{percentile(times, 0.95):>8.0f}"
        )
    tmp.cleanup()


if __name__ == "__main__":
    main()
