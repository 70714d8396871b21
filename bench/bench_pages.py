"""Every page of issue 16's table, served by gunicorn -w 2 from bench/generate_scale.py's data.

    DATABASE_URL=postgres://postgres@127.0.0.1:5432/relief_scale \\
        .venv/bin/python bench/bench_pages.py --port 8103 --runs 30 --results bench/RESULTS.md

Starts `gunicorn config.wsgi -w 2` as the README's production form (DEBUG off, its own secret
key, collected static files) but with bench/pages/settings.py: the production settings plus a
bench-only middleware that counts each request's SQL queries and returns the count in a
response header, so the counts come from the very requests that are timed. Signs in through
the login form as the caseworker of the largest union, the reviewer of the largest town and a
district officer (the generator's users, password bench.generate_scale.BENCH_PASSWORD).

Per page: one unmeasured request (warms the worker's caches), then --runs requests one after
the other (a slow page stops after 10 once it has taken --max-seconds): p50, p95, max,
throughput (requests per second of wall time) and the query count (the fewest seen, the
steady state: a worker's first requests fill caches; a page whose count varies between
requests is flagged with its largest). Searches are typed as a user does: the search box
POSTs the term and the page is read at the `?s=<token>`
address it answers with; that GET is what is timed.

Then the mixed load: --clients threads read pages of all three roles in a loop while one
caseworker files a new case (the intake form, as a draft) and submits it (a transition), one
after the other, for --seconds; the figures are p50/p95 of filing and submitting under that
load, and of the readers' requests.

Writes JSON (--json) and, with --results, a section of bench/RESULTS.md between markers (one
section per --label, replaced on a re-run): machine, load average before and after each page,
data size, each figure against its target. The database is only read, except for the cases
filed in the mixed load (new workers with the area code 440199; nothing else changes).
"""

import argparse
import contextlib
import datetime as dt
import http.cookiejar
import json
import os
import platform
import random
import re
import secrets
import signal
import socket
import subprocess
import sys
import tempfile
import threading
import time
import urllib.error
import urllib.parse
import urllib.request
from html import unescape
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
BIN = Path(sys.executable).parent
sys.path.insert(0, str(ROOT))
from bench.generate_scale import BENCH_PASSWORD, check_digit  # noqa: E402

DEEP_ROW = 4000  # the caseworker's deep page starts after this row of the list

# (key, role, label in the table, target p95 ms, target p50 ms or None)
PAGES = [
    ("cw_list", "caseworker", "caseworker /cases/ first page", 150, 50),
    ("cw_list_deep", "caseworker", "caseworker /cases/ deep page", 150, 50),
    ("cw_list_state", "caseworker", "caseworker /cases/ state filter", 150, 50),
    ("cw_search_id", "caseworker", "caseworker search by full ID", 100, 50),
    ("cw_search_name", "caseworker", "caseworker search by name", 150, 50),
    ("cw_search_ref", "caseworker", "caseworker search by reference", 100, 50),
    ("cw_case", "caseworker", "caseworker case page", 150, 50),
    ("town_admin_list", "reviewer", "town reviewer admin case list", 150, 50),
    ("town_admin_filtered", "reviewer", "town reviewer admin list, state+year", 150, 50),
    ("district_admin_list", "officer", "district officer admin case list", 150, 50),
    ("district_admin_filtered", "officer", "district admin list, town+state", 150, 50),
    ("admin_search_id", "officer", "admin search by ID number", 100, 50),
    ("admin_search_name", "officer", "admin search by name", 150, 50),
    ("admin_search_ref", "officer", "admin search by reference", 100, 50),
    ("admin_change_long", "officer", "admin change page, long history", 150, 50),
    ("dashboard_district", "officer", "dashboard, district", 300, None),
    ("dashboard_town", "reviewer", "dashboard, one town", 300, None),
    ("funds_district", "officer", "/funds/ for the district", 150, 50),
]
BEGIN = "<!-- page-bench:{label}:begin -->"
END = "<!-- page-bench:{label}:end -->"


class NoRedirect(urllib.request.HTTPRedirectHandler):
    def redirect_request(self, *args, **kwargs):
        return None


class Session:
    """One signed-in browser: cookies, CSRF token, no automatic redirects."""

    def __init__(self, base: str):
        self.base = base
        self.jar = http.cookiejar.CookieJar()
        self.opener = urllib.request.build_opener(
            urllib.request.HTTPCookieProcessor(self.jar), NoRedirect()
        )

    def request(self, path: str, data: dict | None = None) -> tuple[int, dict, str, float]:
        body = None
        headers = {"Accept-Language": "zh-hans", "Referer": self.base + "/"}
        if data is not None:
            data = {"csrfmiddlewaretoken": self.csrf(), **data}
            body = urllib.parse.urlencode(data, doseq=True).encode()
        req = urllib.request.Request(self.base + path, data=body, headers=headers)
        started = time.perf_counter()
        try:
            with self.opener.open(req, timeout=300) as response:
                text = response.read().decode("utf-8", "replace")
                status, head = response.status, dict(response.headers)
        except urllib.error.HTTPError as error:
            text = error.read().decode("utf-8", "replace")
            status, head = error.code, dict(error.headers)
        return status, head, text, (time.perf_counter() - started) * 1000

    def csrf(self) -> str:
        for cookie in self.jar:
            if cookie.name == "csrftoken":
                return cookie.value
        return ""

    def sign_in(self, username: str) -> None:
        self.request("/login/")
        status, _head, _text, _ms = self.request(
            "/login/", {"username": username, "password": BENCH_PASSWORD, "next": "/"}
        )
        if status != 302:
            raise SystemExit(f"sign-in of {username} answered {status}")

    def search(self, path: str, term: str, admin: bool) -> str:
        """The search box: POST the term, answer 303 to the list at ?s=<token>."""
        data = {"q": term, "_search": "1"} if admin else {"q": term}
        status, head, _text, _ms = self.request(path, data)
        if status not in (302, 303):
            raise SystemExit(f"search on {path} answered {status}")
        location = head["Location"]
        return location.removeprefix(self.base)


def field(page: str, name: str) -> str:
    match = re.search(rf'name="{name}"[^>]*value="([^"]*)"', page) or re.search(
        rf'value="([^"]*)"[^>]*name="{name}"', page
    )
    if not match:
        raise LookupError(f"no field {name} on the page")
    return unescape(match.group(1))


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def load_average() -> str:
    return " ".join(f"{x:.2f}" for x in os.getloadavg())


def percentile(values: list[float], p: float) -> float:
    ordered = sorted(values)
    if len(ordered) == 1:
        return ordered[0]
    k = (len(ordered) - 1) * p
    lo = int(k)
    hi = min(lo + 1, len(ordered) - 1)
    return ordered[lo] + (ordered[hi] - ordered[lo]) * (k - lo)


# ---------------------------------------------------------------------- what to request
def targets(database_url: str) -> dict:
    """The users and objects the pages are about, read from the database."""
    import psycopg

    with psycopg.connect(database_url) as conn:
        one = lambda sql, *p: conn.execute(sql, p).fetchone()  # noqa: E731
        union_id, cases = one(
            "SELECT union_id, COUNT(*) FROM relief_application GROUP BY 1 ORDER BY 2 DESC, 1 "
            "LIMIT 1"
        )
        caseworker = one(
            "SELECT username FROM unions_user WHERE union_id = %s AND role = 'caseworker' "
            "ORDER BY id LIMIT 1",
            union_id,
        )[0]
        town_id, town_code, town_cases = one(
            "SELECT t.id, t.code, COUNT(*) FROM relief_application a "
            "JOIN unions_union u ON u.id = a.union_id JOIN unions_union t ON t.id = u.parent_id "
            "GROUP BY 1, 2 ORDER BY 3 DESC, 1 LIMIT 1"
        )
        reviewer = one(
            "SELECT username FROM unions_user WHERE union_id = %s AND role = 'town_reviewer' "
            "ORDER BY id LIMIT 1",
            town_id,
        )[0]
        officer = one(
            "SELECT username FROM unions_user WHERE role = 'district_officer' ORDER BY id LIMIT 1"
        )[0]
        # A case of the caseworker's union with a few years behind its worker.
        case_id, reference, id_number, name = one(
            "SELECT a.id, a.reference, w.id_number, w.name FROM relief_application a "
            "JOIN relief_worker w ON w.id = a.worker_id WHERE a.union_id = %s "
            "ORDER BY (SELECT COUNT(*) FROM relief_application b WHERE b.worker_id = w.id) DESC, "
            "a.id LIMIT 1",
            union_id,
        )
        # The case of the largest town with the longest audit trail.
        long_id, long_entries = one(
            "SELECT e.application_id, COUNT(*) FROM relief_auditentry e "
            "JOIN relief_application a ON a.id = e.application_id "
            "JOIN unions_union u ON u.id = a.union_id WHERE u.parent_id = %s "
            "GROUP BY 1 ORDER BY 2 DESC, 1 LIMIT 1",
            town_id,
        )
        size = {
            "workers": one("SELECT COUNT(*) FROM relief_worker")[0],
            "cases": one("SELECT COUNT(*) FROM relief_application")[0],
            "payouts": one("SELECT COUNT(*) FROM relief_disbursement")[0],
            "audit entries": one(
                "SELECT reltuples::bigint FROM pg_class WHERE relname = %s", "relief_auditentry"
            )[0],
            "unions": one("SELECT COUNT(*) FROM unions_union")[0],
            "largest union's cases": cases,
            "largest town's cases": town_cases,
            "database": one("SELECT pg_size_pretty(pg_database_size(current_database()))")[0],
        }
        year = one(
            "SELECT MAX(EXTRACT(YEAR FROM application_date))::int - 1 FROM relief_application"
        )[0]
        # The deep page: the caseworker's list after its 4,000th case (the old ?page=200), by
        # the list's keyset link `?after=<date>.<pk>` (relief.paging); the list's last page
        # when it is shorter.
        deep = one(
            "SELECT application_date, id FROM relief_application WHERE union_id = %s "
            "ORDER BY application_date DESC, id DESC OFFSET %s LIMIT 1",
            union_id,
            min(DEEP_ROW, cases - 1) - 1,
        )
    return {
        "users": {"caseworker": caseworker, "reviewer": reviewer, "officer": officer},
        "union_id": union_id,
        "town_id": town_id,
        "town_code": town_code,
        "case_id": case_id,
        "reference": reference,
        "id_number": id_number,
        "name": name,
        "long_case": long_id,
        "long_entries": long_entries,
        "year": year,
        "deep_after": f"{deep[0].isoformat()}.{deep[1]}" if deep else "",
        "size": size,
    }


def page_paths(t: dict, sessions: dict) -> dict:
    """key -> path to GET (searches are typed into their box first)."""
    cw, off = sessions["caseworker"], sessions["officer"]
    admin = "/admin/relief/application/"
    return {
        "cw_list": "/cases/",
        "cw_list_deep": f"/cases/?after={t['deep_after']}" if t["deep_after"] else "/cases/",
        "cw_list_state": "/cases/?state=closed",
        "cw_search_id": cw.search("/cases/", t["id_number"], admin=False),
        "cw_search_name": cw.search("/cases/", t["name"], admin=False),
        "cw_search_ref": cw.search("/cases/", t["reference"], admin=False),
        "cw_case": f"/cases/{t['case_id']}/",
        "town_admin_list": admin,
        "town_admin_filtered": f"{admin}?state__exact=closed&year={t['year']}",
        "district_admin_list": admin,
        "district_admin_filtered": f"{admin}?union__parent__id__exact={t['town_id']}"
        "&state__exact=submitted",
        "admin_search_id": off.search(admin, t["id_number"], admin=True),
        "admin_search_name": off.search(admin, t["name"], admin=True),
        "admin_search_ref": off.search(admin, t["reference"], admin=True),
        "admin_change_long": f"{admin}{t['long_case']}/change/",
        "dashboard_district": "/reports/dashboard/",
        "dashboard_town": f"/reports/dashboard/?unit={t['town_code']}",
        "funds_district": "/funds/",
    }


# ---------------------------------------------------------------------- measuring
def measure(session: Session, path: str, runs: int, max_seconds: float = 0) -> dict:
    load_before = load_average()
    status, head, _page, _ms = session.request(path)  # warm-up, not counted
    if status != 200:
        raise SystemExit(f"{path} answered {status}")
    times, counts, db_ms = [], [], []
    started = time.perf_counter()
    for i in range(runs):
        if max_seconds and i >= 10 and time.perf_counter() - started > max_seconds:
            break  # a slow page: at least 10 requests, then no more than max_seconds
        status, head, _page, ms = session.request(path)
        if status != 200:
            raise SystemExit(f"{path} answered {status}")
        times.append(ms)
        counts.append(int(head.get("X-Bench-Queries", "-1")))
        db_ms.append(float(head.get("X-Bench-Query-Ms", "0")))
    wall = time.perf_counter() - started
    return {
        "path": path,
        "runs": len(times),
        "p50": round(percentile(times, 0.5), 1),
        "p95": round(percentile(times, 0.95), 1),
        "max": round(max(times), 1),
        "rps": round(runs / wall, 2),
        # The fewest: a gunicorn worker's first requests fill caches (content types, ...).
        "queries": min(counts),
        "queries_max": max(counts),
        "queries_vary": min(counts) != max(counts),
        "db_ms_p50": round(percentile(db_ms, 0.5), 1),
        "load_before": load_before,
        "load_after": load_average(),
    }


class Intake:
    """A caseworker filing new cases (as drafts) and submitting them, one after the other."""

    def __init__(self, session: Session, seed: int):
        self.session = session
        self.n = seed
        self.file_ms: list[float] = []
        self.submit_ms: list[float] = []
        self.errors: list[str] = []

    def id_number(self) -> str:
        self.n += 1
        born = dt.date(1966, 1, 1) + dt.timedelta(days=(self.n // 900) % 12000)
        first17 = f"440199{born:%Y%m%d}{self.n % 900 + 100:03d}"
        return first17 + check_digit(first17)

    def once(self) -> None:
        s = self.session
        number = self.id_number()
        status, _h, page, _ms = s.request("/cases/new/", {"id_number": number})
        if status != 200:
            self.errors.append(f"intake step 1: {status}")
            return
        category = re.search(r'name="categories" value="(\d+)"', page)
        if category is None:
            self.errors.append("intake step 2 without categories (worker already in progress?)")
            return
        data = {
            "step": "file",
            "id_number": number,
            "action": "draft",
            "name": f"压测{self.n}",
            "phone": "13912345678",
            "employer": "压测工厂",
            "address": "压测地址 8 号",
            "hukou": "广西玉林",
            "health": "",
            "bank_name": "农商银行",
            "bank_branch": "西樵支行",
            "new_bank_card": "6228480000000000009",
            "notes": "",
            "categories": category.group(1),
            "narrative": "本人确诊白血病，需长期化疗。",
            "household_monthly_income": "1500",
            "monthly_medical_expenses": "4000",
            "requested_amount": "6000",
            "attach-kind": "diagnosis",
            "household-TOTAL_FORMS": "0",
            "household-INITIAL_FORMS": "0",
            "household-MIN_NUM_FORMS": "0",
            "household-MAX_NUM_FORMS": "1000",
        }
        status, head, page, ms = s.request("/cases/new/", data)
        if status not in (302, 303):
            self.errors.append(f"filing answered {status}")
            return
        self.file_ms.append(ms)
        case_path = head["Location"].removeprefix(s.base)
        status, _h, page, _ms = s.request(case_path)
        match = re.search(r"/cases/(\d+)/", case_path)
        version = field(page, "version")
        status, head, _page, ms = s.request(
            f"/cases/{match.group(1)}/submit/", {"version": version}
        )
        if status not in (302, 303):
            self.errors.append(f"submit answered {status}")
            return
        self.submit_ms.append(ms)


def mixed_load(base: str, t: dict, paths: dict, clients: int, seconds: float) -> dict:
    stop = time.monotonic() + seconds
    reader_ms: list[float] = []
    errors: list[str] = []
    lock = threading.Lock()
    keys = [k for k, *_ in PAGES if k in paths]
    roles = {k: role for k, role, *_ in PAGES}

    def reader(i: int):
        sessions = {}
        n = i
        while time.monotonic() < stop:
            key = keys[n % len(keys)]
            n += 1
            role = roles[key]
            if role not in sessions:
                sessions[role] = Session(base)
                sessions[role].sign_in(t["users"][role])
            path = paths[key]
            if key.startswith(("cw_search", "admin_search")):
                continue  # tokens belong to the session that made them
            status, _h, _p, ms = sessions[role].request(path)
            with lock:
                reader_ms.append(ms)
                if status != 200:
                    errors.append(f"{path}: {status}")

    intake_session = Session(base)
    intake_session.sign_in(t["users"]["caseworker"])
    # New ID numbers each run (10.8 M to draw from), so a re-run meets no worker of an earlier.
    intake = Intake(intake_session, seed=random.randrange(10_000_000))
    threads = [threading.Thread(target=reader, args=(i,)) for i in range(clients)]
    started = time.perf_counter()
    for thread in threads:
        thread.start()
    while time.monotonic() < stop:
        intake.once()
    for thread in threads:
        thread.join()
    wall = time.perf_counter() - started

    def fig(values):
        if not values:
            return {"n": 0}
        return {
            "n": len(values),
            "p50": round(percentile(values, 0.5), 1),
            "p95": round(percentile(values, 0.95), 1),
        }

    return {
        "clients": clients,
        "seconds": round(wall, 1),
        "readers": {**fig(reader_ms), "rps": round(len(reader_ms) / wall, 2)},
        "file": fig(intake.file_ms),
        "submit": fig(intake.submit_ms),
        "errors": (errors + intake.errors)[:10],
        "error_count": len(errors) + len(intake.errors),
        "load_after": load_average(),
    }


# ---------------------------------------------------------------------- the server
@contextlib.contextmanager
def gunicorn(database_url: str, port: int, workers: int, static_root: Path | None = None):
    folder = Path(tempfile.mkdtemp(prefix="relief-pagebench-"))
    static_root = static_root or folder / "static"
    env = {
        **os.environ,
        "DATABASE_URL": database_url,
        "DEBUG": "0",
        "SECRET_KEY": secrets.token_urlsafe(48),
        "ALLOWED_HOSTS": "127.0.0.1,localhost",
        "SECURE_SSL_REDIRECT": "0",
        "SECURE_COOKIES": "0",
        "SECURE_HSTS_SECONDS": "0",
        "MEDIA_ROOT": str(folder / "media"),
        "STATIC_ROOT": str(static_root),
        "PYTHONPATH": str(ROOT),
        "DJANGO_SETTINGS_MODULE": "bench.pages.settings",
    }
    subprocess.run(
        [str(BIN / "python"), "manage.py", "collectstatic", "--noinput", "-v0"],
        env=env,
        cwd=ROOT,
        check=True,
    )
    log = (folder / "gunicorn.log").open("w")
    cmd = [str(BIN / "gunicorn"), "config.wsgi", "-w", str(workers)]
    cmd += ["-b", f"127.0.0.1:{port}", "--timeout", "300"]
    process = subprocess.Popen(
        cmd, env=env, cwd=ROOT, stdout=subprocess.DEVNULL, stderr=log, start_new_session=True
    )
    base = f"http://127.0.0.1:{port}"
    try:
        for _ in range(120):
            if process.poll() is not None:
                raise SystemExit(f"gunicorn stopped: {folder / 'gunicorn.log'}")
            try:
                urllib.request.urlopen(base + "/healthz", timeout=10)
                break
            except urllib.error.HTTPError:
                break
            except OSError:
                time.sleep(0.5)
        yield base
    finally:
        if process.poll() is None:
            os.killpg(process.pid, signal.SIGTERM)
            try:
                process.wait(30)
            except subprocess.TimeoutExpired:
                os.killpg(process.pid, signal.SIGKILL)
        log.close()


# ---------------------------------------------------------------------- results
def machine() -> str:
    cpu = ""
    with contextlib.suppress(OSError):
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                cpu = line.split(":", 1)[1].strip()
                break
    mem = ""
    with contextlib.suppress(OSError):
        kb = int(Path("/proc/meminfo").read_text().split()[1])
        mem = f", {kb / 2**20:.0f} GiB RAM"
    return f"{os.cpu_count()} cores ({cpu}){mem}, {platform.system()} {platform.release()}"


def markdown(result: dict, label: str) -> str:
    t = result["targets"]
    size = ", ".join(
        f"{k} {v:,}" if isinstance(v, int) else f"{k} {v}" for k, v in t["size"].items()
    )
    lines = [
        BEGIN.format(label=label),
        f"### Pages at scale: {label} ({result['when']})",
        "",
        f"`{result['command']}`",
        "",
        f"Machine: {result['machine']}; PostgreSQL {result['postgres']}; gunicorn -w "
        f"{result['workers']} sync, DEBUG off; up to {result['runs']} sequential requests per "
        "page after one warm-up (a slow page stops after 10 once it has taken --max-seconds). "
        "Load average (1/5/15 min) at the start: "
        f"{result['load_start']}; other sessions shared the machine.",
        "",
        f"Data: {size}. Users: {t['users']['caseworker']} (largest union), "
        f"{t['users']['reviewer']} (largest town), {t['users']['officer']}; the long case "
        f"has {t['long_entries']} audit entries.",
        "",
        "| page | p50 ms | p95 ms | max ms | req/s | queries | DB ms p50 | target p95 (p50) | "
        "met | requests | load before → after |",
        "|---|---|---|---|---|---|---|---|---|---|---|",
    ]
    for key, _role, title, p95, p50 in PAGES:
        if key not in result["pages"]:
            continue  # not measured (--pages)
        r = result["pages"][key]
        met = r["p95"] <= p95 and (p50 is None or r["p50"] <= p50)
        queries = f"{r['queries']}" + (f" (≤{r['queries_max']})" if r["queries_vary"] else "")
        target = f"{p95}" + (f" ({p50})" if p50 else "")
        lines.append(
            f"| {title} | {r['p50']:,} | {r['p95']:,} | {r['max']:,} | {r['rps']} | {queries} | "
            f"{r['db_ms_p50']:,} | {target} | {'yes' if met else '**no**'} | {r['runs']} | "
            f"{r['load_before'].split()[0]} → {r['load_after'].split()[0]} |"
        )
    m = result.get("mixed")
    if m:
        lines += [
            "",
            f"Mixed load: {m['clients']} reader threads cycling through the pages above (three "
            f"roles) for {m['seconds']} s while one caseworker files a case and submits it, "
            f"one after the other. Readers: {m['readers'].get('n', 0)} requests, p50 "
            f"{m['readers'].get('p50', '-')} ms, p95 {m['readers'].get('p95', '-')} ms, "
            f"{m['readers']['rps']} req/s. Filing (intake form, draft): "
            f"{m['file'].get('n', 0)} cases, p50 {m['file'].get('p50', '-')} ms, p95 "
            f"{m['file'].get('p95', '-')} ms; submitting (transition): p50 "
            f"{m['submit'].get('p50', '-')} ms, p95 {m['submit'].get('p95', '-')} ms. Errors: "
            f"{m['error_count']}. Load average after: {m['load_after']}.",
        ]
    lines.append(END.format(label=label))
    return "\n".join(lines)


def write_results(path: Path, section: str, label: str, begin=BEGIN, end=END) -> None:
    """Put `section` between its label's markers, replacing an earlier run's, or append it."""
    text = path.read_text() if path.exists() else ""
    begin, end = begin.format(label=label), end.format(label=label)
    if begin in text and end in text:
        head, rest = text.split(begin, 1)
        text = head + section + rest.split(end, 1)[1]
    else:
        text = text.rstrip("\n") + "\n\n" + section + "\n"
    path.write_text(text)


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--database-url", default=os.environ.get("DATABASE_URL", ""))
    parser.add_argument("--port", type=int, default=0, help="default: a free port")
    parser.add_argument("--workers", type=int, default=2)
    parser.add_argument("--runs", type=int, default=30)
    parser.add_argument(
        "--max-seconds", type=float, default=60, help="per page, after 10 requests (0: none)"
    )
    parser.add_argument("--clients", type=int, default=4, help="readers in the mixed load")
    parser.add_argument("--seconds", type=float, default=60, help="0: no mixed load")
    parser.add_argument("--json", type=Path)
    parser.add_argument("--results", type=Path, help="bench/RESULTS.md: write a section there")
    parser.add_argument("--label", default="baseline")
    parser.add_argument("--static-root", type=Path, help="collected static files (kept)")
    parser.add_argument(
        "--pages",
        help="comma-separated keys of the pages to measure (default: all): "
        + ", ".join(key for key, *_ in PAGES),
    )
    args = parser.parse_args(argv)
    keys = [key for key, *_ in PAGES]
    only = set(args.pages.split(",")) if args.pages else set(keys)
    if only - set(keys):
        parser.error(f"--pages: unknown {', '.join(sorted(only - set(keys)))}")
    if not args.database_url.startswith("postgres"):
        raise SystemExit("--database-url (or DATABASE_URL) must name the generated PostgreSQL DB")
    t = targets(args.database_url)
    import psycopg

    with psycopg.connect(args.database_url) as conn:
        pg_version = conn.execute("SHOW server_version").fetchone()[0]
    result = {
        "when": time.strftime("%Y-%m-%d %H:%M %Z"),
        "command": " ".join(["bench/bench_pages.py", *(argv or sys.argv[1:])]),
        "machine": machine(),
        "postgres": pg_version,
        "workers": args.workers,
        "runs": args.runs,
        "load_start": load_average(),
        "targets": t,
        "pages": {},
    }
    port = args.port or free_port()
    with gunicorn(args.database_url, port, args.workers, args.static_root) as base:
        sessions = {}
        for role, username in t["users"].items():
            sessions[role] = Session(base)
            sessions[role].sign_in(username)
        paths = {k: v for k, v in page_paths(t, sessions).items() if k in only}
        for key, role, title, *_ in PAGES:
            if key not in only:
                continue
            r = measure(sessions[role], paths[key], args.runs, args.max_seconds)
            result["pages"][key] = r
            print(
                f"{title:42} p50 {r['p50']:8.1f} p95 {r['p95']:8.1f} ms  {r['queries']:3} queries"
                f"{' (varies)' if r['queries_vary'] else ''}  load {r['load_after']}",
                flush=True,
            )
        if args.seconds > 0:
            result["mixed"] = mixed_load(base, t, paths, args.clients, args.seconds)
            print(json.dumps(result["mixed"], ensure_ascii=False), flush=True)
    if args.json:
        args.json.write_text(json.dumps(result, ensure_ascii=False, indent=1, default=str))
    if args.results:
        write_results(args.results, markdown(result, args.label), args.label)
    errors = result.get("mixed", {}).get("error_count", 0)
    return 1 if errors else 0


if __name__ == "__main__":
    sys.exit(main())
