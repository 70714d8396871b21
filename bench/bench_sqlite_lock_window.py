"""How long a ledger import holds SQLite's one write lock (issue 12, finding 6).

    .venv/bin/python bench/bench_sqlite_lock_window.py --rows 10000 --runs 2

Each run: a fresh SQLite file prepared as bench_import_payouts.py does (migrate, load_demo, a
district allocation), then `import_ledger` of make_ledger.py's rows in this process, with the
SQLite backend's BEGIN (IMMEDIATE: the write lock is taken there, config.env.sqlite_options)
and COMMIT/ROLLBACK timed. Prints the command's whole run and each write transaction's
window; the longest window is what a payout recorded meanwhile can wait at most. The file
given by --db is deleted first: never point it at data you want to keep.
"""

import argparse
import os
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(ROOT / "bench"))

from bench_import_payouts import BENCH_SECRET_KEY, prepare  # noqa: E402


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rows", type=int, default=10_000)
    parser.add_argument("--runs", type=int, default=2)
    parser.add_argument("--db", default="/tmp/relief_bench_lock_window.sqlite3")
    args = parser.parse_args()
    url = f"sqlite:///{args.db}"
    # DEBUG off, as in production (see bench_import_payouts.py).
    env = {
        **os.environ,
        "SECRET_KEY": os.environ.get("SECRET_KEY") or BENCH_SECRET_KEY,
        "DATABASE_URL": url,
        "DEBUG": "0",
    }
    work = Path(tempfile.mkdtemp(prefix="lock-window-"))
    ledger = work / f"ledger-{args.rows}.csv"
    subprocess.run(
        [sys.executable, "bench/make_ledger.py", "--rows", str(args.rows), "--out", str(ledger)],
        cwd=ROOT,
        check=True,
        capture_output=True,
    )

    os.environ.update(env)
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "config.settings")
    import django

    windows: list[tuple[float, float]] = []
    for run in range(1, args.runs + 1):
        prepare(url, env)
        django.setup()
        from django.core.management import call_command
        from django.db import connections

        connection = connections["default"]

        connection.close()
        windows.clear()
        _instrument(connection, windows)
        load = os.getloadavg()[0]
        started = time.perf_counter()
        call_command("import_ledger", str(ledger), "--user", "nh-officer", verbosity=0)
        whole = time.perf_counter() - started
        spans = sorted((end - begin for begin, end in windows), reverse=True)
        print(
            f"run {run} (load {load:.1f}): import {whole:.2f} s; write lock held "
            f"{spans[0]:.2f} s in its longest transaction ({len(spans)} transactions, "
            f"{sum(spans):.2f} s in all)"
        )
        connection.close()


def _instrument(connection, windows: list) -> None:
    """Record (BEGIN, COMMIT/ROLLBACK) times of each outermost transaction."""
    wrapper = type(connection)
    if getattr(wrapper, "_bench_timed", False):
        return
    begin = wrapper._start_transaction_under_autocommit
    commit, rollback = wrapper._commit, wrapper._rollback
    state = {}

    def timed_begin(self):
        state["begin"] = time.perf_counter()
        return begin(self)

    def ended(original):
        def end(self):
            try:
                return original(self)
            finally:
                if "begin" in state:
                    windows.append((state.pop("begin"), time.perf_counter()))

        return end

    wrapper._start_transaction_under_autocommit = timed_begin
    wrapper._commit, wrapper._rollback = ended(commit), ended(rollback)
    wrapper._bench_timed = True


if __name__ == "__main__":
    main()
