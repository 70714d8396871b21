"""How long a payout waits while a ledger import runs (issue 12, findings 5 and 6).

    BENCH_DATABASE_URL=postgres://postgres@127.0.0.1:5432/relief_bench \\
        .venv/bin/python bench/bench_import_payouts.py --rows 10000 --runs 3
    BENCH_DATABASE_URL=sqlite:////tmp/relief_bench_payouts.sqlite3 \\
        .venv/bin/python bench/bench_import_payouts.py --rows 10000 --runs 3

Each run starts from a fresh database (PostgreSQL: DROP/CREATE DATABASE; SQLite: a new file),
`migrate`, `load_demo` (unions, users, an approved case at 西樵), and a district allocation to
西樵's 2024 account, which the generated ledger's rows draw on too. Then a payer process records
payouts of 1.00 yuan on that case from that account through the service
(`disbursement_record`, as the payout forms do) one after the other, 50 ms apart, and times
each call. After a few seconds alone, `manage.py import_ledger` runs on a generated ledger in
its own process. A payout counts as "during the import" when its call overlaps the command's
run. The figures: payout latency p50 and max alone and during the import, the import's wall
time, and how many payouts went through meanwhile.

The database named by BENCH_DATABASE_URL is dropped (or the SQLite file deleted): never point
it at data you want to keep.
"""

import argparse
import json
import os
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from urllib.parse import urlsplit

ROOT = Path(__file__).resolve().parent.parent
PY = sys.executable
ALONE_SECONDS = 4.0
BENCH_SECRET_KEY = "bench-only-secret-key-0123456789abcdefghijkl"

SETUP = """
import datetime as dt
from decimal import Decimal
from relief import services
from unions.models import Union, User
services.fund_income_record(
    user=User.objects.get(username="nh-officer"), town=Union.objects.get(code="XQ"),
    source="district", year=2024, amount=Decimal("100000.00"),
    received_on=dt.date(2024, 1, 15), document_no="bench", note="bench",
)
"""

PAYER = """
import datetime as dt, json, os, time
from decimal import Decimal
from django.db import OperationalError
from relief import services
from relief.models import Application
from unions.models import User
officer = User.objects.get(username="nh-officer")
case = Application.objects.get(state="approved", union__code="XQ-V02")
stop = {stop!r}
samples = []
while not os.path.exists(stop):
    start, ok = time.time(), True
    try:
        services.disbursement_record(
            application=Application.objects.get(pk=case.pk), user=officer,
            amount=Decimal("1.00"), paid_on=dt.date.today(), method="cash",
            fund_source="district", fund_year=2024,
        )
    except OperationalError:  # the lock wait ran out (RELIEF_LOCK_TIMEOUT_MS): refused
        ok = False
    samples.append((start, time.time(), ok))
    time.sleep(0.05)
print(json.dumps(samples))
"""


def manage(*args, env, check=True):
    return subprocess.run(
        [PY, "manage.py", *args], cwd=ROOT, env=env, check=check, capture_output=True, text=True
    )


def reset_database(url: str) -> None:
    parts = urlsplit(url)
    if parts.scheme == "sqlite":
        path = Path(parts.path[1:] if parts.path.startswith("//") else parts.path)
        for suffix in ("", "-wal", "-shm"):
            Path(f"{path}{suffix}").unlink(missing_ok=True)
        return
    import psycopg

    name = parts.path.lstrip("/")
    admin = parts._replace(path="/postgres").geturl()
    with psycopg.connect(admin, autocommit=True) as conn:
        conn.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
        conn.execute(f'CREATE DATABASE "{name}"')


def prepare(url: str, env: dict) -> None:
    reset_database(url)
    manage("migrate", "--noinput", env=env)
    manage("load_demo", "--verbosity", "0", env=env)
    manage("shell", "-c", SETUP, env=env)


def one_run(url: str, env: dict, ledger: Path, work: Path) -> dict:
    prepare(url, env)
    stop = work / "stop"
    stop.unlink(missing_ok=True)
    payer = subprocess.Popen(
        [PY, "manage.py", "shell", "-c", PAYER.format(stop=str(stop))],
        cwd=ROOT,
        env=env,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )
    time.sleep(ALONE_SECONDS + 2)  # Django start-up, then payouts alone
    started = time.time()
    done = manage("import_ledger", str(ledger), "--user", "nh-officer", env=env, check=False)
    ended = time.time()
    time.sleep(1.0)
    stop.touch()
    out, err = payer.communicate(timeout=120)
    if done.returncode != 0 or payer.returncode != 0:
        sys.exit(f"failed:\n{done.stdout}\n{done.stderr[-3000:]}\n{err[-3000:]}")
    samples = json.loads(out.strip().splitlines()[-1])
    alone = [b - a for a, b, _ok in samples if b < started]
    during = [b - a for a, b, _ok in samples if b > started and a < ended]
    refused = sum(1 for a, b, ok in samples if not ok)
    return {"import": ended - started, "alone": alone, "during": during, "refused": refused}


def summary(values: list[float]) -> str:
    if not values:
        return "none"
    return (
        f"p50 {statistics.median(values) * 1000:.0f} ms, max {max(values) * 1000:.0f} ms "
        f"({len(values)} payouts)"
    )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rows", type=int, default=10_000)
    parser.add_argument("--runs", type=int, default=3)
    args = parser.parse_args()
    url = os.environ.get("BENCH_DATABASE_URL", "postgres://postgres@127.0.0.1:5432/relief_bench")
    # A long lock wait, so that the figures show the whole delay rather than the 5 s after
    # which a page gives up (set RELIEF_LOCK_TIMEOUT_MS to measure with the default).
    # DEBUG off, as in production: with it on, Django quotes every query's parameters for its
    # query log (on SQLite one more SELECT per query), which lengthened the import's write.
    env = {
        "RELIEF_LOCK_TIMEOUT_MS": "60000",
        **os.environ,
        "SECRET_KEY": os.environ.get("SECRET_KEY") or BENCH_SECRET_KEY,
        "DATABASE_URL": url,
        "DEBUG": "0",
    }
    work = Path(tempfile.mkdtemp(prefix="payout-bench-"))
    ledger = work / f"ledger-{args.rows}.csv"
    subprocess.run(
        [PY, "bench/make_ledger.py", "--rows", str(args.rows), "--out", str(ledger)],
        cwd=ROOT,
        check=True,
        capture_output=True,
    )
    print(f"database: {urlsplit(url).scheme}, rows: {args.rows}, cores: {os.cpu_count()}")
    alone, during, worst = [], [], []
    for run in range(1, args.runs + 1):
        load = os.getloadavg()[0]
        result = one_run(url, env, ledger, work)
        alone += result["alone"]
        during += result["during"]
        worst.append(max(result["during"], default=0))
        print(
            f"run {run} (load {load:.1f}): import {result['import']:.2f} s; "
            f"alone {summary(result['alone'])}; during the import {summary(result['during'])}; "
            f"refused after the lock wait ran out: {result['refused']}"
        )
    print(f"all runs: alone {summary(alone)}; during the import {summary(during)}")
    print(f"worst payout per run during the import: {', '.join(f'{w:.2f} s' for w in worst)}")


if __name__ == "__main__":
    main()
