"""Benchmark: yearly payout report PDF and ledger exports at growing sizes.

    .venv/bin/python bench/report_bench.py                  # 100, 1000, 5000 rows; exports at 20000
    .venv/bin/python bench/report_bench.py --sizes 100 1000 5000 20000 --export-size 20000

Builds its data in its own database (default: SQLite file /tmp/relief_bench.sqlite3; set
DATABASE_URL to use PostgreSQL), one district per size with 3 towns x 8 grassroots unions and
one payout per case (a third of the workers paid twice). The data is written in bulk, not
through the services: it is benchmark data, and 20,000 cases through the services take long.
Each measurement runs in a fresh child process, which reports its own wall time and peak RSS.
"""

import argparse
import datetime as dt
import json
import os
import random
import subprocess
import sys
import time
from decimal import Decimal
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
os.environ.setdefault("DATABASE_URL", "sqlite:////tmp/relief_bench.sqlite3")
os.environ.setdefault("DJANGO_SETTINGS_MODULE", "config.settings")
os.environ.setdefault("DEBUG", "1")  # a development run: DEBUG is off unless set
YEAR = 2024
SURNAMES = "梁陈李黄何张罗冯区潘陆邓杜吴林周"
GIVEN = "志明丽华建国美娟伟强秀珍永康家俊嘉怡国华少芳"


def setup_django():
    import django

    django.setup()


def build(size: int) -> str:
    """District BN<size> with `size` payouts in YEAR; returns its code (idempotent)."""
    from django.core.management import call_command
    from django.db import transaction

    from relief.idcard import check_digit
    from relief.models import Application, Disbursement, HardshipCategory, Policy, Worker
    from unions.models import Kind, Level, Union, User
    from unions.services import union_create

    call_command("migrate", verbosity=0)
    code = f"BN{size}"
    district = Union.objects.filter(code=code).first()
    if (
        district
        and Disbursement.objects.filter(application__union__path__startswith=district.path).count()
        == size
    ):
        return code
    rng = random.Random(size)
    with transaction.atomic():
        if district is None:
            district = union_create(code=code, name=f"基准{size}区总工会", level=Level.DISTRICT)
            for t in range(3):
                town = union_create(
                    code=f"{code}-T{t}",
                    name=f"基准第{t + 1}镇总工会",
                    level=Level.TOWN,
                    parent=district,
                )
                for g in range(8):
                    union_create(
                        code=f"{code}-T{t}-G{g}",
                        name=f"基准第{t + 1}镇第{g + 1}社区工会",
                        level=Level.GRASSROOTS,
                        kind=Kind.COMMUNITY,
                        parent=town,
                    )
        grassroots = list(Union.objects.filter(path__startswith=district.path, level="grassroots"))
        user, _ = User.objects.get_or_create(username="bench", defaults={"full_name": "基准"})
        policy = Policy.objects.order_by("effective_from").first()
        cats = list(HardshipCategory.objects.all())
        workers = []
        n_workers = max(1, size * 3 // 4)
        area = f"44{size % 10000:04d}"  # one area code per size: ID numbers never collide
        for i in range(n_workers):
            born = dt.date(1960, 1, 1) + dt.timedelta(days=i // 1000)
            first17 = f"{area}{born:%Y%m%d}{i % 1000:03d}"
            workers.append(
                Worker(
                    name=rng.choice(SURNAMES) + rng.choice(GIVEN) + rng.choice(GIVEN),
                    id_number=first17 + check_digit(first17),
                    union=grassroots[i % len(grassroots)],
                )
            )
        unique = workers
        Worker.objects.bulk_create(unique, batch_size=2000)
        workers = list(Worker.objects.filter(union__in=grassroots).order_by("pk"))
        apps = []
        for i in range(size):
            worker = workers[i % len(workers)]
            amount = Decimal(rng.choice([1000, 2000, 3000, 5000, 8000, 10000]))
            apps.append(
                Application(
                    reference=f"{code}-{YEAR}-{i:05d}",
                    worker=worker,
                    union=worker.union,
                    narrative="肾病透析，家庭困难。",
                    requested_amount=amount,
                    recommended_amount=amount,
                    approved_amount=amount,
                    paid_amount=amount,
                    policy=policy,
                    application_date=dt.date(YEAR, 1 + i % 12, 1),
                    state="closed",
                    created_by=user,
                    approved_at=dt.datetime(YEAR, 1 + i % 12, 2, tzinfo=dt.UTC),
                )
            )
        Application.objects.bulk_create(apps, batch_size=2000)
        apps = list(
            Application.objects.filter(union__in=grassroots).select_related("union").order_by("pk")
        )
        through = Application.categories.through
        through.objects.bulk_create(
            [
                through(application_id=a.pk, hardshipcategory_id=cats[a.pk % len(cats)].pk)
                for a in apps
            ],
            batch_size=5000,
        )
        sources = ["district", "town", "donation"]
        Disbursement.objects.bulk_create(
            [
                Disbursement(
                    application=a,
                    amount=a.approved_amount,
                    paid_on=dt.date(YEAR, 1 + i % 12, 10 + i % 15),
                    method="bank",
                    fund_source=sources[i % 3],
                    town_id=a.union.parent_id,
                    fund_year=YEAR,
                    voucher_no=f"PZ-{i:06d}",
                    recorded_by=user,
                )
                for i, a in enumerate(apps)
            ],
            batch_size=2000,
        )
    return code


def child(argv):
    """Run one measurement in this process; print a JSON line with wall time and peak RSS."""
    setup_django()
    kind, code = argv[0], argv[1]
    started = time.monotonic()
    out = {}
    if kind == "pdf":
        from reports import pdf
        from reports.figures import Period
        from unions.models import Union

        result = pdf.render_payout_report(
            Union.objects.get(code=code),
            Period(YEAR, YEAR),
            f"/tmp/bench_{code}.pdf",
            processes=int(argv[2]),
        )
        out = {
            "rows": result["rows"],
            "pages": result["pages"],
            "worker_mb": result["worker_peak_mb"],
        }
        out["mb"] = round(Path(f"/tmp/bench_{code}.pdf").stat().st_size / 2**20, 1)
    else:
        from reports import exports
        from reports.figures import Period
        from unions.models import Union

        unit = Union.objects.get(code=code)
        if kind == "csv":
            with open(f"/tmp/bench_{code}.csv", "w", encoding="utf-8", newline="") as fh:
                out["rows"] = exports.write_csv(unit, Period(YEAR, YEAR), fh)
        else:
            out["rows"] = exports.write_xlsx(unit, Period(YEAR, YEAR), f"/tmp/bench_{code}.xlsx")
    out["seconds"] = round(time.monotonic() - started, 2)
    # VmHWM, not ru_maxrss: Linux carries ru_maxrss over exec from the forking parent.
    from reports.engine import peak_rss_mb

    out["peak_mb"] = peak_rss_mb()
    print(json.dumps(out))


def measure(kind: str, code: str, processes: int = 1) -> dict:
    proc = subprocess.run(
        [sys.executable, __file__, "--child", kind, code, str(processes)],
        capture_output=True,
        text=True,
        check=True,
    )
    return json.loads(proc.stdout.strip().splitlines()[-1])


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("--sizes", type=int, nargs="*", default=[100, 1000, 5000])
    parser.add_argument("--export-size", type=int, default=20000)
    parser.add_argument("--processes", type=int, nargs="*", default=[1, 2])
    parser.add_argument("--child", nargs="+")
    args = parser.parse_args()
    if args.child:
        return child(args.child)
    setup_django()
    print(
        "| document | processes | rows | pages | wall (s) | peak RSS parent (MB) "
        "| peak RSS per worker (MB) | file (MB) |"
    )
    print("|---|---:|---:|---:|---:|---:|---:|---:|")
    for size in args.sizes:
        code = build(size)
        for processes in args.processes:
            r = measure("pdf", code, processes)
            worker = f"{r['worker_mb']:,}" if processes > 1 and r["worker_mb"] else "–"
            cells = [processes, r["rows"], r["pages"], r["seconds"], r["peak_mb"]]
            print(
                "| payout report PDF | "
                + " | ".join(f"{c:,}" for c in cells)
                + f" | {worker} | {r['mb']} |",
                flush=True,
            )
    if args.export_size:
        code = build(args.export_size)
        for kind in ("xlsx", "csv"):
            r = measure(kind, code)
            cells = [1, f"{r['rows']:,}", "–", r["seconds"], f"{r['peak_mb']:,}", "–", "–"]
            print(f"| ledger {kind.upper()} | " + " | ".join(map(str, cells)) + " |", flush=True)


if __name__ == "__main__":
    main()
