"""The two long jobs of issue 16 on the scale data set: the busiest year's PDF and a ledger import.

    DATABASE_URL=postgres://postgres@127.0.0.1:5432/relief_scale SECRET_KEY=<32+ chars> \\
        .venv/bin/python bench/bench_scale_jobs.py --results bench/RESULTS.md --label session-28

On the database bench/generate_scale.py filled (read only; nothing may be connected to it
while the copy is made):

1. The yearly payout PDF (年度临时救助金发放汇总表) of the district for the year with the most
   payouts on file: `manage.py payout_report --unit <district> --year <year>` in a child
   process, its wall time and peak memory (the child's own rusage) against 60 s / 500 MB.
2. A 10,000-row historical ledger (bench/make_ledger.py's rows, their unions mapped onto the
   data set's grassroots unions by code) imported into a copy of the database (CREATE
   DATABASE … TEMPLATE, dropped afterwards unless --keep-copy) by `manage.py import_ledger
   --user officer-1`, against 8 s; then `manage.py check_totals` on the copy. Where a generated
   ID number already belongs to one of the million workers, the row takes that worker's name
   (they are helped again), as the import would otherwise, rightly, refuse the whole file.

Prints a line per job; --results writes a section to bench/RESULTS.md (replaced when the label
is run again). Exit status 1 when a job fails or misses its target.
"""

import argparse
import contextlib
import json
import os
import re
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from urllib.parse import urlsplit, urlunsplit

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from bench.bench_pages import load_average, machine, write_results  # noqa: E402
from bench.make_ledger import COLUMNS, rows, write_csv  # noqa: E402

PDF_SECONDS, PDF_MB, IMPORT_SECONDS = 60, 500, 8
BEGIN = "<!-- scale-jobs:{label}:begin -->"
END = "<!-- scale-jobs:{label}:end -->"
UNION_COLUMN = COLUMNS.index("基层工会")


def connect(url: str):
    import psycopg

    return psycopg.connect(url, autocommit=True)


def with_database(url: str, name: str) -> str:
    parts = urlsplit(url)
    return urlunsplit(parts._replace(path=f"/{name}"))


def run(args: list[str], database_url: str) -> dict:
    """A manage.py command in a child process: its wall time, peak RSS, exit status, output."""
    env = {**os.environ, "DATABASE_URL": database_url}
    started = time.perf_counter()
    with tempfile.TemporaryFile() as out:
        child = subprocess.Popen(
            [sys.executable, "manage.py", *args, "--lang", "en"],
            cwd=ROOT,
            env=env,
            stdout=out,
            stderr=subprocess.STDOUT,
        )
        _pid, status, usage = os.wait4(child.pid, 0)
        seconds = time.perf_counter() - started
        child.returncode = os.waitstatus_to_exitcode(status)
        out.seek(0)
        output = out.read().decode("utf-8", "replace")
    return {
        "seconds": round(seconds, 1),
        "peak_mb": round(usage.ru_maxrss / 1024),  # kilobytes on Linux
        "exit": child.returncode,
        "output": output.strip(),
    }


def busiest_year(conn) -> tuple[str, int, int]:
    """The district's code and the calendar year with the most payouts, with their number."""
    (code,) = conn.execute(
        "SELECT code FROM unions_union WHERE level = 'district' ORDER BY id LIMIT 1"
    ).fetchone()
    year, count = conn.execute(
        "SELECT EXTRACT(YEAR FROM paid_on)::int, COUNT(*) FROM relief_disbursement "
        "GROUP BY 1 ORDER BY 2 DESC, 1 DESC LIMIT 1"
    ).fetchone()
    return code, year, count


def pdf_job(url: str, unit: str, year: int, out_dir: Path) -> dict:
    target = out_dir / f"payout_report_{unit}_{year}.pdf"
    result = run(["payout_report", "--unit", unit, "--year", str(year), "-o", str(target)], url)
    found = re.search(r"(\d+) payouts, (\d+) pages", result["output"])
    result.update(
        rows=int(found[1]) if found else None,
        pages=int(found[2]) if found else None,
        bytes=target.stat().st_size if target.exists() else 0,
        met=result["exit"] == 0
        and result["seconds"] <= PDF_SECONDS
        and result["peak_mb"] <= PDF_MB,
    )
    return result


def ledger_file(conn, count: int, seed: int, path: Path) -> dict:
    """bench/make_ledger.py's rows on this data set's unions and workers."""
    data = list(rows(count, seed))
    unions = [
        code
        for (code,) in conn.execute(
            "SELECT code FROM unions_union WHERE level = 'grassroots' ORDER BY id LIMIT 40"
        )
    ]
    names = sorted({row[UNION_COLUMN] for row in data})
    mapped = {name: unions[i % len(unions)] for i, name in enumerate(names)}
    numbers = sorted({row[1] for row in data})
    known = dict(
        conn.execute(
            "SELECT id_number, name FROM relief_worker WHERE id_number = ANY(%s)", [numbers]
        ).fetchall()
    )
    for row in data:
        row[UNION_COLUMN] = mapped[row[UNION_COLUMN]]
        if row[1] in known:
            row[0] = known[row[1]]
    write_csv(path, data)
    return {
        "rows": len(data),
        "unions": len(set(mapped.values())),
        "existing_workers": len(known),
    }


def ledger_job(url: str, copy: str, count: int, seed: int, out_dir: Path, keep: bool) -> dict:
    source = urlsplit(url).path.lstrip("/")
    with connect(with_database(url, "postgres")) as admin:
        admin.execute(f'DROP DATABASE IF EXISTS "{copy}"')
        started = time.perf_counter()
        admin.execute(f'CREATE DATABASE "{copy}" TEMPLATE "{source}"')
        copied = round(time.perf_counter() - started, 1)
    copy_url = with_database(url, copy)
    try:
        path = out_dir / "ledger_scale.csv"
        with connect(copy_url) as conn:
            made = ledger_file(conn, count, seed, path)
        result = run(["import_ledger", str(path), "--user", "officer-1"], copy_url)
        totals = run(["check_totals"], copy_url)
    finally:
        if not keep:
            with connect(with_database(url, "postgres")) as admin:
                admin.execute(f'DROP DATABASE IF EXISTS "{copy}" WITH (FORCE)')
    result.update(
        made,
        copy_seconds=copied,
        totals_seconds=totals["seconds"],
        totals_exit=totals["exit"],
        totals_output=totals["output"].splitlines()[-1] if totals["output"] else "",
        met=result["exit"] == 0 and totals["exit"] == 0 and result["seconds"] <= IMPORT_SECONDS,
    )
    return result


def markdown(result: dict, label: str) -> str:
    pdf, ledger = result["pdf"], result["ledger"]
    yes = {True: "yes", False: "**no**"}
    return "\n".join(
        [
            BEGIN.format(label=label),
            f"### The long jobs at scale: {label} ({result['when']})",
            "",
            f"`{result['command']}`",
            "",
            f"Machine: {result['machine']}; load average at the start {result['load_start']}, "
            f"at the end {result['load_end']}. Each job is a child process; peak memory is its "
            "own maximum resident set.",
            "",
            "| job | wall s | peak MB | target | met | what it did |",
            "|---|---|---|---|---|---|",
            f"| yearly PDF, {result['unit']} {result['year']} | {pdf['seconds']} | "
            f"{pdf['peak_mb']} | {PDF_SECONDS} s / {PDF_MB} MB | {yes[pdf['met']]} | "
            f"{pdf['rows'] or 0:,} payouts, {pdf['pages']} pages, {pdf['bytes'] / 2**20:.1f} MiB |",
            f"| ledger import, {ledger['rows']:,} rows | {ledger['seconds']} | "
            f"{ledger['peak_mb']} | {IMPORT_SECONDS} s | {yes[ledger['met']]} | "
            f"{ledger['output'].splitlines()[-1] if ledger['output'] else '-'} "
            f"(its unions: {ledger['unions']} of the data set's) |",
            "",
            f"The copy of the database took {ledger['copy_seconds']} s; `check_totals` on it "
            f"after the import: {ledger['totals_output'] or '-'} ({ledger['totals_seconds']} s, "
            f"exit {ledger['totals_exit']}).",
            END.format(label=label),
        ]
    )


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--database-url", default=os.environ.get("DATABASE_URL", ""))
    parser.add_argument("--year", type=int, help="default: the year with the most payouts")
    parser.add_argument("--unit", help="a union code; default: the district")
    parser.add_argument("--rows", type=int, default=10_000, help="ledger rows")
    parser.add_argument("--seed", type=int, default=2024)
    parser.add_argument("--copy", help="the copy's database name; default: <database>_ledger")
    parser.add_argument("--keep-copy", action="store_true")
    parser.add_argument("--skip", choices=["pdf", "ledger"], action="append", default=[])
    parser.add_argument("--json", type=Path)
    parser.add_argument("--results", type=Path, help="bench/RESULTS.md: write a section there")
    parser.add_argument("--label", default="scale-jobs")
    args = parser.parse_args(argv)
    url = args.database_url
    if not url.startswith("postgres"):
        parser.error("--database-url (or DATABASE_URL) must name the PostgreSQL scale database")
    os.environ.setdefault("SECRET_KEY", "bench-" + "0123456789abcdef" * 3)
    copy = args.copy or f"{urlsplit(url).path.lstrip('/')}_ledger"
    with connect(url) as conn:
        unit, year, payouts = busiest_year(conn)
    unit, year = args.unit or unit, args.year or year
    result = {
        "when": time.strftime("%Y-%m-%d %H:%M UTC", time.gmtime()),
        "command": "bench/bench_scale_jobs.py " + " ".join(argv or sys.argv[1:]),
        "machine": machine(),
        "load_start": load_average(),
        "unit": unit,
        "year": year,
        "pdf": {},
        "ledger": {},
    }
    with tempfile.TemporaryDirectory() as tmp:
        if "pdf" not in args.skip:
            print(f"PDF: {unit} {year} ({payouts:,} payouts on file) ...", flush=True)
            result["pdf"] = pdf_job(url, unit, year, Path(tmp))
            r = result["pdf"]
            print(f"  {r['seconds']} s, {r['peak_mb']} MB, {r['pages']} pages, exit {r['exit']}")
        if "ledger" not in args.skip:
            print(f"ledger import: {args.rows:,} rows into {copy} ...", flush=True)
            result["ledger"] = ledger_job(
                url, copy, args.rows, args.seed, Path(tmp), args.keep_copy
            )
            r = result["ledger"]
            print(f"  {r['seconds']} s, {r['peak_mb']} MB, exit {r['exit']}; {r['totals_output']}")
    result["load_end"] = load_average()
    failed = [name for name in ("pdf", "ledger") if result[name] and not result[name]["met"]]
    for name in failed:
        print(f"{name}: failed or missed its target\n{result[name]['output'][-2000:]}")
    if args.json:
        args.json.write_text(json.dumps(result, ensure_ascii=False, indent=1))
    if args.results and result["pdf"] and result["ledger"]:
        write_results(args.results, markdown(result, args.label), args.label, BEGIN, END)
    return 1 if failed else 0


if __name__ == "__main__":
    with contextlib.suppress(KeyboardInterrupt):
        sys.exit(main())
