"""Issue 12's load test: the findings' scenarios against two gunicorn processes, then every
money invariant checked in the database.

    .venv/bin/python bench/load/run.py                     # full form: 50 users per race
    .venv/bin/python bench/load/run.py --ci                # CI form: a few hundred requests
    .venv/bin/python bench/load/run.py --results bench/RESULTS.md   # also write the figures there

Steps: a database of its own (re-created: `--database-url`, default relief_load on the local
PostgreSQL; a sqlite:/// address works too), migrate, collectstatic, `load_demo`, the
scenarios' cases (bench/load/seed.py), a ledger file (bench/make_ledger.py). Then for each
variant (`gunicorn -w 2` sync, and `-w 2 --threads 4`) a server on a free port with production
settings (DEBUG off, its own SECRET_KEY, the manifest static storage, the connection pool),
locust headless once per scenario (bench/load/locustfile.py), the ledger import started by
`manage.py import_ledger` while payouts run; then bench/load/check.py. Everything started is
stopped and the database dropped at the end, also after a failure or Ctrl-C (`--keep` keeps
the database and the run folder).

Exit status 1 on any 5xx, any refusal without an explanation, a replay that wrote again, or a
broken invariant.
"""

import argparse
import contextlib
import json
import os
import secrets
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import time
import urllib.error
import urllib.parse
import urllib.request
from collections import Counter
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
BIN = Path(sys.executable).parent
SCENARIOS = [
    ("Approve", "approve", "50 simultaneous approvals of one case (admin case page)"),
    ("PayoutAdmin", "payout_admin", "simultaneous full payouts of one case (admin payout page)"),
    ("PayoutCase", "payout_case", "simultaneous full payouts of one case (case page)"),
    ("Partial", "partial", "simultaneous 100-yuan payouts of one 2,000-yuan case (both pages)"),
    ("EmptyFund", "empty_fund", "payouts racing on an account holding five of them"),
    ("FileTwice", "file_twice", "two unions filing for one new worker at once"),
    ("Replay", "replay", "a payout's answer lost, the form sent again, then a double click"),
    ("ImportPayouts", "import", "10-yuan payouts while a ledger import writes to their account"),
]
VARIANTS = {"sync": ["-w", "2"], "threads": ["-w", "2", "--threads", "4"]}
BEGIN, END = "<!-- load-test:begin -->", "<!-- load-test:end -->"


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def percentile(values: list[float], p: float) -> float:
    if not values:
        return 0.0
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, round(p / 100 * (len(ordered) - 1)))]


class Database:
    """The run's own database: created empty, dropped at the end."""

    def __init__(self, url: str):
        self.url = url
        parsed = urllib.parse.urlsplit(url)
        self.postgres = parsed.scheme.startswith("postgres")
        self.name = parsed.path.lstrip("/")
        if self.postgres and self.name in ("", "relief", "postgres"):
            sys.exit(f"refusing to re-create database {self.name!r}: give the load test its own")
        self.parsed = parsed

    def psql(self, sql: str):
        subprocess.run(
            [
                "psql",
                "-X",
                "-q",
                "-h",
                self.parsed.hostname or "127.0.0.1",
                "-p",
                str(self.parsed.port or 5432),
                "-U",
                self.parsed.username or "postgres",
                "-d",
                "postgres",
                "-c",
                sql,
            ],
            check=True,
            env={**os.environ, "PGPASSWORD": self.parsed.password or ""},
            timeout=120,
        )

    def create(self):
        if self.postgres:
            self.drop()
            self.psql(f'CREATE DATABASE "{self.name}"')
        else:
            self.drop()

    def drop(self):
        if self.postgres:
            self.psql(f'DROP DATABASE IF EXISTS "{self.name}" WITH (FORCE)')
        else:
            for suffix in ("", "-wal", "-shm"):
                Path("/" + self.name + suffix).unlink(missing_ok=True)


class Run:
    def __init__(self, args):
        self.args = args
        self.folder = Path(tempfile.mkdtemp(prefix="relief-load-"))
        self.db = Database(args.database_url)
        self.processes: list[subprocess.Popen] = []
        self.env = {
            **os.environ,
            "DATABASE_URL": args.database_url,
            "DEBUG": "0",
            "SECRET_KEY": secrets.token_urlsafe(48),
            "ALLOWED_HOSTS": "127.0.0.1,localhost",
            # Plain HTTP on the loopback: no HTTPS redirect, cookies not marked Secure.
            "SECURE_SSL_REDIRECT": "0",
            "SECURE_COOKIES": "0",
            "SECURE_HSTS_SECONDS": "0",
            "MEDIA_ROOT": str(self.folder / "media"),
            "STATIC_ROOT": str(self.folder / "static"),
            "PYTHONPATH": str(ROOT),
        }
        self.env.pop("DJANGO_SETTINGS_MODULE", None)
        self.log = self.folder / "requests.jsonl"

    # -- helpers ---------------------------------------------------------------------------

    def say(self, text: str):
        print(f"[{time.strftime('%H:%M:%S')}] {text}", flush=True)

    def python(self, *args, capture=False, timeout=900):
        return subprocess.run(
            [str(BIN / "python"), *args],
            env=self.env,
            cwd=ROOT,
            check=True,
            timeout=timeout,
            capture_output=capture,
            text=True,
        )

    def start(self, cmd, **kwargs) -> subprocess.Popen:
        # A process group of its own, so stopping it stops its children (gunicorn's workers).
        process = subprocess.Popen(cmd, env=self.env, cwd=ROOT, start_new_session=True, **kwargs)
        self.started(process)
        return process

    def started(self, process: subprocess.Popen):
        self.processes.append(process)
        # For a caller's cleanup should this runner itself be killed (.ci/run's trap): the
        # ids of the process groups it started, one a line.
        if os.environ.get("LOAD_PID_FILE"):
            with open(os.environ["LOAD_PID_FILE"], "a") as f:
                f.write(f"{process.pid}\n")

    def stop(self, process: subprocess.Popen, sig=signal.SIGTERM):
        if process.poll() is None:
            with contextlib.suppress(ProcessLookupError):
                os.killpg(process.pid, sig)
            try:
                process.wait(30)
            except subprocess.TimeoutExpired:
                with contextlib.suppress(ProcessLookupError):
                    os.killpg(process.pid, signal.SIGKILL)
                process.wait(10)

    def cleanup(self):
        for process in self.processes:
            self.stop(process)
        if not self.args.keep:
            with contextlib.suppress(subprocess.CalledProcessError):
                self.db.drop()
            shutil.rmtree(self.folder, ignore_errors=True)
        else:
            self.say(f"kept: database {self.args.database_url}, folder {self.folder}")

    # -- the steps -------------------------------------------------------------------------

    def prepare(self):
        a = self.args
        self.say(f"database {self.db.name}: re-created, migrated, demo data, scenario data")
        self.db.create()
        self.python("manage.py", "migrate", "--noinput", "-v0")
        self.python("manage.py", "collectstatic", "--noinput", "-v0")
        self.python("manage.py", "load_demo", "-v0")
        self.plan = self.folder / "plan.json"
        self.python(
            "bench/load/seed.py",
            "--users",
            str(a.users),
            "--runs",
            str(len(a.variants)),
            "--out",
            str(self.plan),
        )
        for i in range(len(a.variants)):
            self.python(
                "bench/make_ledger.py",
                "--rows",
                str(a.import_rows),
                "--seed",
                str(2024 + i),
                "--out",
                str(self.folder / f"ledger{i}.csv"),
                capture=True,
            )

    def serve(self, variant: str) -> tuple[subprocess.Popen, str]:
        port = free_port()
        errors = (self.folder / f"gunicorn-{variant}.log").open("w")
        process = self.start(
            [
                str(BIN / "gunicorn"),
                "config.wsgi",
                *VARIANTS[variant],
                "-b",
                f"127.0.0.1:{port}",
                "--timeout",
                "120",
            ],
            stdout=subprocess.DEVNULL,
            stderr=errors,
        )
        base = f"http://127.0.0.1:{port}"
        for _ in range(120):
            if process.poll() is not None:
                break
            try:
                urllib.request.urlopen(base + "/healthz", timeout=10)
                return process, base
            except urllib.error.HTTPError:
                return process, base  # it answers (503 before the background worker is seen)
            except OSError:
                time.sleep(0.5)
        raise SystemExit("gunicorn did not start:\n" + errors.name)

    def locust(self, cls: str, users: int, base: str, run: int, stop_file: Path):
        cmd = [
            str(BIN / "locust"),
            "-f",
            str(ROOT / "bench/load/locustfile.py"),
            "--headless",
            "--only-summary",
            "--skip-log-setup",
            "-u",
            str(users),
            "-r",
            str(users),
            "--run-time",
            f"{self.args.max_seconds}s",
            "-H",
            base,
            cls,
        ]
        env = {
            "RELIEF_LOAD_PLAN": str(self.plan),
            "RELIEF_LOAD_RUN": str(run),
            "RELIEF_LOAD_LOG": str(self.log),
            "RELIEF_LOAD_STOP": str(stop_file),
            "RELIEF_LOAD_VARIANT": "",
        }
        out = (self.folder / f"locust-{cls}-{run}.log").open("w")
        return subprocess.Popen(
            cmd,
            env={**self.env, **env},
            cwd=ROOT,
            stdout=out,
            stderr=subprocess.STDOUT,
            start_new_session=True,
        )

    def scenario(self, cls: str, key: str, variant: str, run: int, base: str) -> dict:
        users = min(self.args.users, self.args.import_users) if key == "import" else self.args.users
        stop_file = self.folder / f"stop-{run}"
        marker = self.log.stat().st_size if self.log.exists() else 0
        started = time.time()
        process = self.locust(cls, users, base, run, stop_file)
        self.started(process)
        window = None
        if key == "import":
            time.sleep(self.args.baseline_seconds)  # payouts alone first
            t0 = time.time()
            self.python(
                "manage.py",
                "import_ledger",
                str(self.folder / f"ledger{run}.csv"),
                "--user",
                "nh-officer",
                "-v0",
                timeout=600,
            )
            t1 = time.time()
            window = (t0, t1)
            time.sleep(self.args.baseline_seconds)  # and after
            stop_file.touch()
        try:
            process.wait(self.args.max_seconds + 60)
        except subprocess.TimeoutExpired:
            self.stop(process)
        records = []
        with self.log.open(encoding="utf-8") as f:
            f.seek(marker)
            records = [json.loads(line) for line in f if line.strip()]
        return {
            "class": cls,
            "key": key,
            "variant": variant,
            "users": users,
            "seconds": time.time() - started,
            "records": records,
            "import": window,
        }

    def check(self) -> list[dict]:
        done = subprocess.run(
            [str(BIN / "python"), "bench/load/check.py", "--plan", str(self.plan)],
            env=self.env,
            cwd=ROOT,
            capture_output=True,
            text=True,
            timeout=600,
        )
        if done.returncode not in (0, 1):
            raise SystemExit(done.stderr)
        return json.loads(done.stdout)

    def go(self) -> int:
        a = self.args
        begun = time.time()
        self.prepare()
        results = []
        for run, variant in enumerate(a.variants):
            process, base = self.serve(variant)
            self.say(f"gunicorn {' '.join(VARIANTS[variant])} on {base}")
            for cls, key, _title in SCENARIOS:
                if a.scenarios and cls not in a.scenarios:
                    continue
                result = self.scenario(cls, key, variant, run, base)
                results.append(result)
                self.say(f"  {cls}: {summary_line(result)}")
            self.stop(process)
        checks = self.check()
        report = Report(a, results, checks, time.time() - begun)
        print(report.markdown())
        if a.results:
            report.write(a.results)
        (self.folder / "figures.json").write_text(json.dumps(report.figures(), indent=1))
        return report.failures()


def summary_line(result: dict) -> str:
    requests = [r for r in result["records"] if r["kind"] == "request"]
    outcomes = Counter(r["outcome"] for r in result["records"] if r["kind"] == "outcome")
    statuses = Counter(r["status"] // 100 for r in requests)
    return (
        f"{len(requests)} requests "
        f"({', '.join(f'{k}xx {v}' for k, v in sorted(statuses.items()))}), {dict(outcomes)}"
    )


class Report:
    def __init__(self, args, results, checks, seconds):
        self.args, self.results, self.checks, self.seconds = args, results, checks, seconds

    def rows(self):
        for result in self.results:
            requests = [r for r in result["records"] if r["kind"] == "request"]
            outcomes = [r for r in result["records"] if r["kind"] == "outcome"]
            posts = [
                r["ms"] for r in requests if r["method"] == "POST" and "login" not in r["name"]
            ]
            counted = Counter(r["outcome"] for r in outcomes if r["outcome"] != "lost")
            messages = Counter(
                r["message"] for r in outcomes if r["outcome"] in ("refused", "replayed")
            )
            yield result, requests, outcomes, posts, counted, messages

    def figures(self) -> dict:
        out = {"checks": self.checks, "scenarios": []}
        for result, requests, _outcomes, posts, counted, messages in self.rows():
            out["scenarios"].append(
                {
                    "scenario": result["class"],
                    "variant": result["variant"],
                    "users": result["users"],
                    "requests": len(requests),
                    "status": dict(Counter(r["status"] for r in requests)),
                    "outcomes": dict(counted),
                    "messages": messages.most_common(3),
                    "post_ms": {
                        "p50": percentile(posts, 50),
                        "p95": percentile(posts, 95),
                        "p99": percentile(posts, 99),
                        "max": max(posts, default=0),
                    },
                    "import": self.import_delay(result),
                }
            )
        return out

    @staticmethod
    def import_delay(result):
        if not result["import"]:
            return None
        t0, t1 = result["import"]
        posts = [
            r
            for r in result["records"]
            if r["kind"] == "request" and r["method"] == "POST" and r["name"] == "import: post"
        ]
        during = [r["ms"] for r in posts if t0 <= r["start"] <= t1]
        outside = [r["ms"] for r in posts if not t0 <= r["start"] <= t1]
        return {
            "import_seconds": round(t1 - t0, 2),
            "payouts_during": len(during),
            "during_p50": percentile(during, 50),
            "during_p95": percentile(during, 95),
            "during_max": max(during, default=0),
            "outside_p50": percentile(outside, 50),
            "outside_p95": percentile(outside, 95),
            "outside_max": max(outside, default=0),
        }

    def problems(self) -> list[str]:
        found = []
        for result, requests, _o, _p, counted, _m in self.rows():
            name = f"{result['class']} ({result['variant']})"
            errors = [r for r in requests if r["status"] >= 500 or not r["status"]]
            if errors:
                found.append(f"{name}: {len(errors)} requests answered 5xx or failed")
            if counted.get("bare"):
                found.append(f"{name}: {counted['bare']} refusals without an explanation")
            if counted.get("duplicate"):
                found.append(f"{name}: {counted['duplicate']} replays wrote again")
            if not requests:
                found.append(f"{name}: no request made")
        found += [
            f"invariant broken: {c['check']}: {c['examples']}" for c in self.checks if c["broken"]
        ]
        return found

    def failures(self) -> int:
        problems = self.problems()
        for problem in problems:
            print("FAILED:", problem)
        return 1 if problems else 0

    def markdown(self) -> str:
        a = self.args
        lines = [
            f"Command: `{' '.join(['.venv/bin/python', 'bench/load/run.py', *sys.argv[1:]])}`",
            "",
            f"{time.strftime('%Y-%m-%d')}, {a.database_url.split('://')[0]}, "
            f"{a.users} simulated users per race ({a.import_users} during the import), "
            f"{a.import_rows:,}-row ledger import; machine load at the end "
            f"{os.getloadavg()[0]:.1f}; whole run {self.seconds:.0f} s.",
            "",
            "| scenario | gunicorn | requests | 2xx/3xx | 4xx | 5xx or no answer | success "
            "| refused (with message) | replayed | bare 4xx | POST p50 / p95 / p99 / max (ms) |",
            "|---|---|---:|---:|---:|---:|---:|---:|---:|---:|---|",
        ]
        total = Counter()
        for result, requests, _outcomes, posts, counted, _messages in self.rows():
            status = Counter(r["status"] // 100 for r in requests)
            ok = status[2] + status[3]
            total.update(
                requests=len(requests),
                ok=ok,
                c4=status[4],
                c5=status[5] + status[0],
                success=counted["success"],
                refused=counted["refused"],
                replayed=counted["replayed"],
                bare=counted["bare"],
            )
            lines.append(
                f"| {result['class']} | {result['variant']} | {len(requests)} | {ok} | "
                f"{status[4]} | {status[5] + status[0]} | {counted['success']} | "
                f"{counted['refused']} | {counted['replayed']} | {counted['bare']} | "
                f"{percentile(posts, 50):.0f} / {percentile(posts, 95):.0f} / "
                f"{percentile(posts, 99):.0f} / {max(posts, default=0):.0f} |"
            )
        lines.append(
            f"| **all** | | **{total['requests']}** | {total['ok']} | {total['c4']} | "
            f"**{total['c5']}** | {total['success']} | {total['refused']} | "
            f"{total['replayed']} | {total['bare']} | |"
        )
        lines += ["", "What the refused users were told (most frequent per scenario):", ""]
        seen = set()
        for result, _r, _o, _p, _c, messages in self.rows():
            if result["class"] in seen:
                continue
            seen.add(result["class"])
            for message, n in messages.most_common(2):
                lines.append(f"- {result['class']} ({n}×): {message[:160]}")
        lines += ["", "Payout delay during the ledger import (same town, source and year):", ""]
        for result, *_rest in self.rows():
            delay = self.import_delay(result)
            if delay:
                lines.append(
                    f"- {result['variant']}: import of {a.import_rows:,} rows took "
                    f"{delay['import_seconds']} s; {delay['payouts_during']} payouts during it: "
                    f"p50 {delay['during_p50']:.0f} ms, p95 {delay['during_p95']:.0f} ms, max "
                    f"{delay['during_max']:.0f} ms (without the import: p50 "
                    f"{delay['outside_p50']:.0f} ms, p95 {delay['outside_p95']:.0f} ms, max "
                    f"{delay['outside_max']:.0f} ms)"
                )
        lines += ["", "Invariants checked in the database afterwards:", ""]
        for c in self.checks:
            verdict = "held" if not c["broken"] else f"**BROKEN** ({c['broken']}: {c['examples']})"
            lines.append(f"- {c['check']}: {verdict} ({c['examined']} rows examined)")
        problems = self.problems()
        lines += ["", "Result: " + ("passed" if not problems else "FAILED: " + "; ".join(problems))]
        return "\n".join(lines)

    def write(self, path: Path):
        text = path.read_text() if path.exists() else ""
        block = f"{BEGIN}\n{self.markdown()}\n{END}"
        if BEGIN in text and END in text:
            head, rest = text.split(BEGIN, 1)
            text = head + block + rest.split(END, 1)[1]
        else:
            text = text.rstrip("\n") + "\n\n" + block + "\n"
        path.write_text(text)


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument(
        "--database-url",
        default=os.environ.get(
            "LOAD_DATABASE_URL", "postgres://postgres@127.0.0.1:5432/relief_load"
        ),
        help="the run's own database, dropped and re-created (never plain 'relief')",
    )
    parser.add_argument("--users", type=int, default=50, help="simulated users per race")
    parser.add_argument("--import-users", type=int, default=10)
    parser.add_argument("--import-rows", type=int, default=5000)
    parser.add_argument("--baseline-seconds", type=float, default=5)
    parser.add_argument("--max-seconds", type=int, default=300, help="bound of each locust run")
    parser.add_argument("--variants", nargs="+", default=list(VARIANTS), choices=list(VARIANTS))
    parser.add_argument("--scenarios", nargs="*", help="locust classes (default: all)")
    parser.add_argument("--ci", action="store_true", help="the small form: 10 users, 500 rows")
    parser.add_argument("--results", type=Path, help="write the figures into this Markdown file")
    parser.add_argument("--keep", action="store_true", help="keep the database and run folder")
    args = parser.parse_args()
    if args.ci:
        args.users, args.import_users, args.import_rows = 10, 4, 500
        args.baseline_seconds, args.max_seconds = 2, 120
    run = Run(args)
    # A TERM (CI's timeout, kill) unwinds like Ctrl-C, so the cleanup below runs.
    signal.signal(signal.SIGTERM, lambda *_: sys.exit(143))
    try:
        status = run.go()
    finally:
        run.cleanup()
    sys.exit(status)


if __name__ == "__main__":
    main()
