"""Dashboard and /funds/ before and after the monthly totals, on a generated PostgreSQL data set.

    createdb relief_totals_bench
    DEBUG=1 DATABASE_URL=postgres://postgres@127.0.0.1:5432/relief_totals_bench \
        .venv/bin/python manage.py migrate
    DEBUG=1 DATABASE_URL=... .venv/bin/python scripts/bench_totals.py --payouts 200000

Fills an empty, migrated database with SQL generate_series (1 district, 20 towns, 2,000
grassroots unions skewed so that one town holds a third of the cases, workers helped in several
years, 2017–2026, 2 % of payouts reversed), rebuilds the totals (check_totals --repair, timed),
then times each page's figures both ways: aggregated from every payout (before) and read from
the totals (after), median of --runs.
"""

import argparse
import os
import statistics
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))
os.environ.setdefault("DJANGO_SETTINGS_MODULE", "config.settings")

import django

django.setup()

from django.db import connection, transaction  # noqa: E402

GENERATE = """
INSERT INTO unions_union (id, code, name, level, kind, is_active, path, parent_id, phone)
VALUES (1, 'BD', '测试区总工会', 'district', '', true, '00000001/', NULL, '');
INSERT INTO unions_union (id, code, name, level, kind, is_active, path, parent_id, phone)
SELECT 1 + t, 'T' || t, '测试镇' || t || '总工会', 'town', '', true,
       '00000001/' || lpad((1 + t)::text, 8, '0') || '/', 1, ''
FROM generate_series(1, 20) t;
INSERT INTO unions_union (id, code, name, level, kind, is_active, path, parent_id, phone)
SELECT 100 + g, 'G' || g, '测试基层工会' || g, 'grassroots', 'community', true,
       '00000001/' || lpad((2 + (g - 1) / 100)::text, 8, '0') || '/'
       || lpad((100 + g)::text, 8, '0') || '/',
       2 + (g - 1) / 100, ''
FROM generate_series(1, 2000) g;
SELECT setval(pg_get_serial_sequence('unions_union', 'id'), 5000);
-- split --
INSERT INTO relief_worker (id, name, id_number, phone, employer, address, hukou, health,
    realname_verified, bank_name, bank_branch, bank_card, notes, created_at, updated_at, union_id)
SELECT w, '职工' || w, lpad(w::text, 17, '0') || 'X', '', '', '', '', '', false, '', '', '', '',
       now(), now(), 100 + 1 + (w % 2000)
FROM generate_series(1, %(workers)s) w;
-- Cases: a third in town 1's unions (skew), the rest spread; one payout each.
CREATE TEMP TABLE gen AS
SELECT i,
       CASE WHEN i % 3 = 0 THEN 101 + (i % 100) ELSE 101 + (i % 2000) END AS union_id,
       (1 + (i * 7919) % %(workers)s)::bigint AS worker_id,
       (DATE '2017-01-01' + ((i * 104729) % 3560)::int) AS applied,
       (500 + (i * 31) % 9500)::numeric(12, 2) AS amount,
       (ARRAY['district', 'town', 'donation'])[1 + i % 3] AS source
FROM generate_series(1::bigint, %(payouts)s) i;
INSERT INTO relief_application (id, reference, narrative, household_monthly_income,
    monthly_medical_expenses, requested_amount, recommended_amount,
    approved_amount, paid_amount, application_date, state, version, created_at, updated_at,
    disbursed_at, created_by_id, union_id, policy_id, worker_id, payout_bank_branch,
    payout_bank_name, payout_card, grassroots_opinion)
SELECT i, 'B-' || i, '生成的案件', 1500, 800, amount, amount, amount, amount, applied,
       'disbursed', 1, now(), now(), now(), %(user)s, union_id, %(policy)s, worker_id,
       '', '', '', ''
FROM gen;
INSERT INTO relief_application_categories (application_id, hardshipcategory_id)
SELECT i, c.id FROM gen JOIN relief_hardshipcategory c ON c.id = 1 + i % 6;
INSERT INTO relief_application_categories (application_id, hardshipcategory_id)
SELECT i, c.id FROM gen JOIN relief_hardshipcategory c ON c.id = 1 + (i + 2) % 6 WHERE i % 5 = 0;
INSERT INTO relief_fundaccount (town_id, source, year, income_total, paid_total)
SELECT u.parent_id, source, extract(year FROM applied + 10)::int, sum(amount), sum(amount)
FROM gen JOIN unions_union u ON u.id = gen.union_id GROUP BY 1, 2, 3;
INSERT INTO relief_fundincome (amount, received_on, document_no, note, recorded_at, account_id,
    recorded_by_id)
SELECT income_total, make_date(year, 1, 1), '生成', '', now(), id, %(user)s FROM relief_fundaccount;
INSERT INTO relief_disbursement (id, amount, paid_on, method, fund_source, voucher_no,
    recorded_at, application_id, recorded_by_id, fund_year, reason, reverses_id, town_id, notes)
SELECT i, amount, applied + 10, 'bank', source, '', now(), i, %(user)s,
       extract(year FROM applied + 10)::int, '', NULL, u.parent_id, ''
FROM gen JOIN unions_union u ON u.id = gen.union_id;
-- 2 % reversed a few days later (the account gets the money back, the case owes it again).
INSERT INTO relief_disbursement (id, amount, paid_on, method, fund_source, voucher_no,
    recorded_at, application_id, recorded_by_id, fund_year, reason, reverses_id, town_id, notes)
SELECT %(payouts)s + d.id, -d.amount, d.paid_on + 3, d.method, d.fund_source, '', now(),
       d.application_id, d.recorded_by_id, d.fund_year, '银行退回', d.id, d.town_id, ''
FROM relief_disbursement d WHERE d.id % 50 = 7 AND d.id <= 150000;
UPDATE relief_application a SET paid_amount = 0, state = 'approved'
WHERE a.id % 50 = 7 AND a.id <= 150000;
UPDATE relief_fundaccount f SET paid_total = s.paid FROM (
  SELECT town_id, fund_source, fund_year, sum(amount) AS paid FROM relief_disbursement
  GROUP BY 1, 2, 3) s
WHERE s.town_id = f.town_id AND s.fund_source = f.source AND s.fund_year = f.year;
SELECT setval(pg_get_serial_sequence('relief_application', 'id'), 10000000);
SELECT setval(pg_get_serial_sequence('relief_disbursement', 'id'), 10000000);
SELECT setval(pg_get_serial_sequence('relief_worker', 'id'), 10000000);
"""


def timed(fn, runs):
    times = []
    for _ in range(runs):
        started = time.perf_counter()
        fn()
        times.append((time.perf_counter() - started) * 1000)
    return statistics.median(times), max(times)


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("--payouts", type=int, default=200_000)
    parser.add_argument("--runs", type=int, default=7)
    parser.add_argument("--no-generate", action="store_true")
    parser.add_argument("--pages-only", action="store_true", help="time the pages only")
    args = parser.parse_args()
    assert connection.vendor == "postgresql", "PostgreSQL only"
    from django.contrib.auth import get_user_model
    from django.core.management import call_command
    from django.test import Client

    from relief.models import Policy
    from reports import figures
    from reports.figures import Period
    from unions.models import Role, Union

    User = get_user_model()
    if not args.no_generate:
        started = time.perf_counter()
        with transaction.atomic():
            unions, rest = GENERATE.split("-- split --")
            with connection.cursor() as cursor:
                cursor.execute(unions)
            user = User.objects.create_user(
                "bench", password="bench-pass", role=Role.DISTRICT_OFFICER, union_id=1
            )
            params = {
                "workers": args.payouts * 3 // 4,
                "payouts": args.payouts,
                "user": user.pk,
                "policy": Policy.objects.order_by("pk").first().pk,
            }
            with connection.cursor() as cursor:
                for name, value in params.items():
                    rest = rest.replace(f"%({name})s", str(value))
                cursor.execute(rest)
        print(f"generated {args.payouts} payouts in {time.perf_counter() - started:.1f} s")
        with connection.cursor() as cursor:
            cursor.execute("ANALYZE")
        started = time.perf_counter()
        call_command("check_totals", "--repair", verbosity=0)
        print(f"check_totals --repair (rebuild): {time.perf_counter() - started:.1f} s")
        with connection.cursor() as cursor:
            cursor.execute("ANALYZE")
    started = time.perf_counter()
    if not args.pages_only:
        call_command("check_totals")
    print(f"check_totals (compare): {time.perf_counter() - started:.1f} s")
    district = Union.objects.get(code="BD")
    town = Union.objects.get(code="T1")  # the big town
    this_year = 2026
    for label, unit in () if args.pages_only else (("district", district), ("town T1", town)):
        for period in (Period(this_year - 4, this_year), Period(2024, 2024)):
            old = figures.summary_from_ledger(unit, period)
            new = figures.summary(unit, period)
            assert (old.count, old.persons, old.total, old.largest) == (
                new.count,
                new.persons,
                new.total,
                new.largest,
            ), (old, new)
            b = timed(lambda u=unit, p=period: figures.summary_from_ledger(u, p), args.runs)
            a = timed(lambda u=unit, p=period: figures.summary(u, p), args.runs)
            print(
                f"{label} {period.label()}: {new.count} payouts; ledger p50 {b[0]:.0f} ms "
                f"(max {b[1]:.0f}), totals p50 {a[0]:.0f} ms (max {a[1]:.0f})"
            )
    client = Client(SERVER_NAME="localhost")
    client.force_login(User.objects.get(username="bench"))
    for url in ("/reports/dashboard/", "/reports/dashboard/?unit=T1", "/funds/"):
        response = client.get(url)
        assert response.status_code == 200, (url, response.status_code)
        page = timed(lambda u=url: client.get(u), args.runs)
        print(f"GET {url}: p50 {page[0]:.0f} ms (max {page[1]:.0f}), {len(response.content)} bytes")


if __name__ == "__main__":
    main()
