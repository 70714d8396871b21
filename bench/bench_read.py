"""Reading speed of the spreadsheet reader: python-calamine (after tabular.precheck) against
the hand-written XLSX reader it replaced (tabular/xlsx.py at commit c13c796, taken from git).

    .venv/bin/python bench/make_ledger.py --rows 10000 --out /tmp/ledger.xlsx
    .venv/bin/python bench/bench_read.py /tmp/ledger.xlsx --runs 7

Each reader reads the whole file into header + rows (tabular.tables.read_table_bytes, which
converts the cells the same way for both); wall and CPU time (process_time) per run, median.
"""

import argparse
import datetime as dt
import importlib.util
import os
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
os.environ.setdefault("DJANGO_SETTINGS_MODULE", "config.settings_test")

import django  # noqa: E402

django.setup()

from tabular import tables  # noqa: E402

OLD_COMMIT = "c13c796"


def old_reader():
    """The replaced module, loaded from git history."""
    source = subprocess.run(
        ["git", "show", f"{OLD_COMMIT}:tabular/xlsx.py"],
        cwd=ROOT,
        check=True,
        capture_output=True,
        text=True,
    ).stdout
    path = Path(tempfile.mkdtemp()) / "old_xlsx.py"
    path.write_text(source)
    spec = importlib.util.spec_from_file_location("old_xlsx", path)
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def timed(read, data, runs):
    walls, cpus = [], []
    for _ in range(runs):
        wall, cpu = time.perf_counter(), time.process_time()
        rows = read(data)
        walls.append(time.perf_counter() - wall)
        cpus.append(time.process_time() - cpu)
    return rows, walls, cpus


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("file", type=Path)
    parser.add_argument("--runs", type=int, default=5)
    args = parser.parse_args()
    data = args.file.read_bytes()
    old = old_reader()

    def read_old(data):
        limits = old.Limits(
            max_rows=tables.MAX_ROWS,
            max_columns=tables.MAX_COLUMNS,
            deadline=time.monotonic() + 60,
        )
        return old.read_first_sheet(data, limits)

    def read_new(data):
        limits = tables.Limits(
            max_rows=tables.MAX_ROWS,
            max_columns=tables.MAX_COLUMNS,
            deadline=time.monotonic() + 60,
        )
        return tables._read_workbook(data, ".xlsx", limits)

    def precheck_only(data):
        limits = tables.Limits(
            max_rows=tables.MAX_ROWS,
            max_columns=tables.MAX_COLUMNS,
            deadline=time.monotonic() + 60,
        )
        return tables.precheck.check_workbook(data, ".xlsx", limits)

    print(f"{args.file} ({len(data) / 1e6:.2f} MB), {args.runs} runs, medians:")
    results = {}
    for name, read in [
        ("old reader (ElementTree)", read_old),
        ("precheck alone", precheck_only),
        ("precheck + calamine", read_new),
        ("read_table_bytes (all of it)", lambda d: tables.read_table_bytes(d, "x.xlsx").rows),
    ]:
        rows, walls, cpus = timed(read, data, args.runs)
        results[name] = rows
        print(
            f"  {name:30} wall {statistics.median(walls):.3f} s "
            f"(best {min(walls):.3f})  CPU {statistics.median(cpus):.3f} s"
            + (f"  rows {len(rows)}" if rows is not None else "")
        )

    def cells(rows):
        # The old reader gave a date cell as a datetime at midnight, calamine as a date: the
        # import takes the day of either.
        return [
            [
                v.date() if isinstance(v, dt.datetime) and v.time() == dt.time() else v
                for v in map(tables._cell_text, r)
            ]
            for r in rows
        ]

    same = cells(results["old reader (ElementTree)"]) == cells(results["precheck + calamine"])
    print(f"  same cells from both readers (dates as days): {same}")


if __name__ == "__main__":
    main()
