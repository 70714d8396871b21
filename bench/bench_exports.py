"""Export speed and memory: the ledger (reports) and the admin's case export, on PostgreSQL.

    BENCH_DATABASE_URL=postgres://postgres@127.0.0.1:5432/relief_bench \\
        .venv/bin/python bench/bench_exports.py --runs 5

Prepares the database once (DROP/CREATE, migrate, the demo union tree, one superuser, then
`import_ledger` of bench/make_ledger.py's 10,000 rows: 10,000 cases with one payout each),
then, in one process, times each export as a person gets it (Django's test client, the
response consumed to the last byte): the district's ledger of 2018-2024 as CSV and XLSX from
the reports page, and the admin's "export selected" of all 10,000 cases as CSV and XLSX. The
ledger writers of the previous commit (openpyxl write-only, loaded from git) are timed on the
same rows for comparison. Then 100,000 rows (the district's ledger read ten times over, in one
generator) are written to CSV and XLSX while tracemalloc records the peak of Python memory:
it must stay flat, not grow with the file.

The database is dropped and created again, so never point it at data you want to keep.
"""

import argparse
import importlib.util
import itertools
import os
import statistics
import subprocess
import sys
import tempfile
import time
import tracemalloc
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(ROOT / "bench"))
DEFAULT_URL = "postgres://postgres@127.0.0.1:5432/relief_bench"
OLD_COMMIT = "1cb5556"  # the last commit with the openpyxl ledger writer


def setup(url: str, rows: int) -> None:
    from bench_import_ledger import manage, prepare

    env = {**os.environ, "DATABASE_URL": url, "DEBUG": "1"}
    prepare(url, env)
    path = Path(tempfile.mkdtemp(prefix="export-bench-")) / "ledger.csv"
    subprocess.run(
        [sys.executable, "bench/make_ledger.py", "--rows", str(rows), "--out", str(path)],
        cwd=ROOT,
        check=True,
        capture_output=True,
    )
    manage("import_ledger", str(path), env=env)


def old_exports():
    source = subprocess.run(
        ["git", "show", f"{OLD_COMMIT}:reports/exports.py"],
        cwd=ROOT,
        check=True,
        capture_output=True,
        text=True,
    ).stdout
    path = Path(tempfile.mkdtemp()) / "old_exports.py"
    path.write_text(source)
    spec = importlib.util.spec_from_file_location("old_exports", path)
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def timed(fn, runs: int) -> tuple[float, float, float, object]:
    """Median wall, best wall, median CPU, last result."""
    walls, cpus = [], []
    result = None
    for _ in range(runs):
        wall, cpu = time.perf_counter(), time.process_time()
        result = fn()
        walls.append(time.perf_counter() - wall)
        cpus.append(time.process_time() - cpu)
    return statistics.median(walls), min(walls), statistics.median(cpus), result


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rows", type=int, default=10_000)
    parser.add_argument("--runs", type=int, default=5)
    parser.add_argument("--skip-setup", action="store_true")
    args = parser.parse_args()
    url = os.environ.get("BENCH_DATABASE_URL", DEFAULT_URL)
    if not url.startswith("postgres"):
        sys.exit("BENCH_DATABASE_URL must be a postgres:// URL")
    if not args.skip_setup:
        setup(url, args.rows)
    os.environ.update(DATABASE_URL=url, DEBUG="1", DJANGO_SETTINGS_MODULE="config.settings")
    import django

    django.setup()
    from django.conf import settings
    from django.test import Client
    from django.urls import reverse

    from relief.models import Application
    from reports import exports
    from reports.figures import Period
    from tabular import writers
    from unions.models import Union, User

    settings.ALLOWED_HOSTS = ["*"]
    settings.EXPORTS_DIRECT_MAX_ROWS = 10**9  # time the direct path
    user = User.objects.get(username="bench")
    client = Client()
    client.force_login(user)
    district = Union.objects.get(code="NH")
    period = Period(2018, 2024)
    cases = Application.objects.count()
    print(f"cores {os.cpu_count()}, load {os.getloadavg()[0]:.1f}, {cases} cases, {args.runs} runs")

    def through_view(fmt):
        def run():
            response = client.get(
                reverse("reports:ledger"),
                {"unit": "NH", "first_year": 2018, "last_year": 2024, "format": fmt},
            )
            assert response.status_code == 200, response.status_code
            return len(b"".join(response.streaming_content))

        return run

    def admin_selection(action):
        def run():
            response = client.post(
                reverse("admin:relief_application_changelist"),
                {"action": action, "select_across": "1", "index": "0", "_selected_action": [1]},
            )
            assert response.status_code == 200, response.status_code
            return len(b"".join(response.streaming_content))

        return run

    old = old_exports()

    def old_ledger(fmt):
        def run():
            if fmt == "csv":
                return len(old.csv_bytes(district, period))
            with tempfile.TemporaryFile() as fh:
                old.write_xlsx(district, period, fh)
                return fh.tell()

        return run

    cases_list = [
        ("ledger CSV, reports page (streamed)", through_view("csv")),
        ("ledger XLSX, reports page (xlsxwriter)", through_view("xlsx")),
        ("cases CSV, admin export selected", admin_selection("export_csv")),
        ("cases XLSX, admin export selected", admin_selection("export_xlsx")),
        ("before: ledger CSV (old writer, in-process)", old_ledger("csv")),
        ("before: ledger XLSX (openpyxl write-only)", old_ledger("xlsx")),
    ]
    for name, fn in cases_list:
        median, best, cpu, size = timed(fn, args.runs)
        print(f"  {name:44} {median:.3f} s median ({best:.3f} best), CPU {cpu:.3f} s, {size:,} B")

    def hundred_thousand(fmt):
        rows = itertools.chain.from_iterable(
            exports.ledger_rows(district, period) for _ in range(10)
        )
        tracemalloc.start()
        wall = time.perf_counter()
        with tempfile.TemporaryFile() as fh:
            if fmt == "csv":
                n = 0
                for chunk in writers.csv_chunks(exports.LEDGER_COLUMNS, rows):
                    fh.write(chunk)
                n = cases * 10
            else:
                n = writers.write_xlsx(fh, exports.LEDGER_COLUMNS, rows, sheet="台账")
            size = fh.tell()
        seconds = time.perf_counter() - wall
        peak = tracemalloc.get_traced_memory()[1]
        tracemalloc.stop()
        print(
            f"  {n:,} rows {fmt.upper()}: {seconds:.2f} s, file {size / 1e6:.1f} MB, "
            f"Python peak {peak / 1e6:.1f} MB"
        )

    hundred_thousand("csv")
    hundred_thousand("xlsx")


if __name__ == "__main__":
    main()
