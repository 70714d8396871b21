"""Time `manage.py import_ledger` on a generated ledger, on PostgreSQL.

    .venv/bin/python bench/bench_import_ledger.py                     # 10,000 rows, csv + xlsx
    .venv/bin/python bench/bench_import_ledger.py --rows 10000 --runs 3 --formats csv

Each run starts from a freshly created database (DROP/CREATE DATABASE, migrate, the demo union
tree from fixtures/demo_unions.csv, one superuser), then times the command as a person runs
it (a new process: Django start-up, reading the file, checking every row, writing). A second,
in-process pass splits the time into reading, checking and writing.

The database is BENCH_DATABASE_URL (default postgres://postgres@127.0.0.1:5432/relief_bench);
it is dropped and created again, so never point it at data you want to keep.
"""

import argparse
import os
import resource
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from urllib.parse import urlsplit

ROOT = Path(__file__).resolve().parent.parent
PY = sys.executable
DEFAULT_URL = "postgres://postgres@127.0.0.1:5432/relief_bench"


def manage(*args, env, check=True):
    return subprocess.run(
        [PY, "manage.py", *args], cwd=ROOT, env=env, check=check, capture_output=True, text=True
    )


def reset_database(url: str) -> None:
    import psycopg

    parts = urlsplit(url)
    name = parts.path.lstrip("/")
    admin = parts._replace(path="/postgres").geturl()
    with psycopg.connect(admin, autocommit=True) as conn:
        conn.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
        conn.execute(f'CREATE DATABASE "{name}"')


def prepare(url: str, env: dict) -> None:
    reset_database(url)
    manage("migrate", "--noinput", env=env)
    manage("import_unions", "fixtures/demo_unions.csv", env=env)
    manage(
        "shell",
        "-c",
        "from unions.models import User; "
        "User.objects.create_superuser('bench', password='bench-pass-2024')",
        env=env,
    )


def time_command(path: Path, env: dict) -> tuple[float, float, str]:
    """Wall time, and the CPU time of the command's own process (not PostgreSQL's)."""
    before = resource.getrusage(resource.RUSAGE_CHILDREN)
    start = time.perf_counter()
    done = manage("import_ledger", str(path), env=env, check=False)
    elapsed = time.perf_counter() - start
    after = resource.getrusage(resource.RUSAGE_CHILDREN)
    if done.returncode != 0:
        sys.exit(f"import_ledger failed:\n{done.stdout}\n{done.stderr[:3000]}")
    cpu = (after.ru_utime - before.ru_utime) + (after.ru_stime - before.ru_stime)
    return elapsed, cpu, done.stdout.strip()


PHASES = """
import os, time, json
from pathlib import Path
from django.db import connection
from unions.models import User
from tabular.tables import read_table
from relief.services.ledger import ledger_import
path = Path({path!r})
user = User.objects.get(username="bench")
t0 = time.perf_counter(); table = read_table(path); t1 = time.perf_counter()
checked = ledger_import(table=table, user=user, file_name=path.name, dry_run=True)
t2 = time.perf_counter()
assert not checked.errors, checked.errors[:5]
with connection.cursor() as c:
    c.execute("SELECT pg_backend_pid()")
    backend = c.fetchone()[0]
def ticks(pid):  # user + system CPU of a process, from /proc (same machine)
    fields = open(f"/proc/{{pid}}/stat").read().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")
pg0, py0 = ticks(backend), time.process_time()
t2w = time.perf_counter()
ledger_import(table=table, user=user, file_name=path.name)
t3 = time.perf_counter()
pg1, py1 = ticks(backend), time.process_time()
print(json.dumps({{"read": t1 - t0, "check": t2 - t1, "check+write": t3 - t2w,
                  "python_cpu": py1 - py0, "postgres_cpu": pg1 - pg0}}))
"""


def phases(path: Path, env: dict) -> dict:
    import json

    done = manage("shell", "-c", PHASES.format(path=str(path)), env=env)
    return json.loads(done.stdout.strip().splitlines()[-1])


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rows", type=int, default=10_000)
    parser.add_argument("--runs", type=int, default=3)
    parser.add_argument("--formats", default="csv,xlsx")
    args = parser.parse_args()
    url = os.environ.get("BENCH_DATABASE_URL", DEFAULT_URL)
    if not url.startswith("postgres"):
        sys.exit("BENCH_DATABASE_URL must be a postgres:// URL")
    env = {**os.environ, "DATABASE_URL": url, "DEBUG": "1"}
    work = Path(tempfile.mkdtemp(prefix="ledger-bench-"))
    print(f"PostgreSQL: {urlsplit(url)._replace(netloc=urlsplit(url).hostname or '').geturl()}")
    print(f"cores: {os.cpu_count()}, rows: {args.rows}, runs: {args.runs}")
    for fmt in args.formats.split(","):
        path = work / f"ledger-{args.rows}.{fmt}"
        subprocess.run(
            [PY, "bench/make_ledger.py", "--rows", str(args.rows), "--out", str(path)],
            cwd=ROOT,
            check=True,
            capture_output=True,
        )
        times, cpus = [], []
        for run in range(1, args.runs + 1):
            prepare(url, env)
            load = os.getloadavg()[0]
            elapsed, cpu, output = time_command(path, env)
            times.append(elapsed)
            cpus.append(cpu)
            print(
                f"{fmt} run {run}: {elapsed:.2f} s wall, {cpu:.2f} s CPU in the command, "
                f"load average {load:.1f}  ({output})"
            )
        prepare(url, env)
        split = phases(path, env)
        print(
            f"{fmt}: median {statistics.median(times):.2f} s, best {min(times):.2f} s, "
            f"worst {max(times):.2f} s (command CPU median {statistics.median(cpus):.2f} s); "
            f"in-process: read {split['read']:.2f} s, "
            f"check {split['check']:.2f} s, check+write {split['check+write']:.2f} s "
            f"(CPU: Python {split['python_cpu']:.2f} s, PostgreSQL backend "
            f"{split['postgres_cpu']:.2f} s)"
        )


if __name__ == "__main__":
    main()
